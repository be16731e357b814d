/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * <sys/sysctl.h> for Linux (nalias compat).  glibc dropped this header (and
 * Linux's binary sysctl) in 2.32; FreeBSD programs still call sysctl() with
 * a numeric MIB and sysctlbyname() with a dotted name.
 *
 * What is implemented (in libnalias-compat):
 *  - sysctl({CTL_NET, PF_ROUTE, 0, af, NET_RT_IFLIST, ifindex}): the
 *    interface list as FreeBSD returns it: per interface one RTM_IFINFO
 *    (struct if_msghdr + struct sockaddr_dl) followed by one RTM_NEWADDR
 *    (struct ifa_msghdr + netmask, address and, if any, broadcast sockaddrs)
 *    per address of family `af` (AF_INET, AF_INET6, or 0 for both);
 *    ifindex 0 means every interface.  Built from getifaddrs(3).
 *    oldp == NULL asks for the size; a too-small buffer gets the records that
 *    fit whole, then -1/ENOMEM, as on FreeBSD.
 *  - sysctlbyname(): no FreeBSD name has a Linux equivalent worth faking
 *    (natd asks for "net.inet.ip.fw.default_rule", an ipfw value), so every
 *    name fails with ENOENT and callers take their documented fallback.
 *  - Any other MIB, and every write (newp != NULL): -1 with ENOENT / EPERM.
 */
#ifndef NALIAS_COMPAT_SYS_SYSCTL_H
#define NALIAS_COMPAT_SYS_SYSCTL_H

#include "nalias-compat.h"

/* Top-level names (FreeBSD values). */
#define CTL_UNSPEC	0
#define CTL_KERN	1
#define CTL_VM		2
#define CTL_VFS		3
#define CTL_NET		4
#define CTL_DEBUG	5
#define CTL_HW		6
#define CTL_MACHDEP	7
#define CTL_USER	8
#define CTL_P1003_1B	9

#define CTL_MAXNAME	24

#ifdef __cplusplus
extern "C" {
#endif

int sysctl(const int *name, u_int namelen, void *oldp, size_t *oldlenp,
    const void *newp, size_t newlen);
int sysctlbyname(const char *name, void *oldp, size_t *oldlenp,
    const void *newp, size_t newlen);

#ifdef __cplusplus
}
#endif

#endif /* NALIAS_COMPAT_SYS_SYSCTL_H */
