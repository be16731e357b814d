/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * nalias-compat.h: the forced include (`-include nalias-compat.h`) that lets
 * FreeBSD userland sources that drive libalias -- sbin/natd/natd.c and
 * icmp.c -- compile unchanged against glibc.
 *
 * Model.  Everything here is what FreeBSD declares in headers that exist on
 * Linux too (<netinet/in.h>, <net/if.h>, <net/route.h>, <sys/cdefs.h>,
 * <stdio.h>) but that glibc's versions lack: the divert protocol number, the
 * routing-message structures and constants of the BSD routing socket, the
 * BSD cdefs macros, fgetln().  Headers FreeBSD has and glibc does not
 * (<sys/sysctl.h>, <net/if_dl.h>, <machine/in_cksum.h>) live beside this
 * file under compat/include and are found through the same `-I`.
 *
 * Invariants.
 *  - Record layouts (if_msghdr, ifa_msghdr, if_data) are FreeBSD's (amd64,
 *    RTM_VERSION 5) field for field, so code that walks a NET_RT_IFLIST
 *    buffer or a routing-socket message works unchanged.  Only the sockaddrs
 *    inside those records differ: Linux's have no sa_len, so they carry a
 *    16-bit sa_family at offset 0 and SA_SIZE() derives their length from the
 *    family.  The producers (libnalias-compat's sysctl(), libnalias-divert's
 *    routing socket) use the same rule, so walkers stay in step.
 *  - Nothing here includes <linux/...> headers: their RTM_* enums (Linux
 *    rtnetlink) would clash with the BSD RTM_* macros defined here.  Code that
 *    needs both keeps them in separate translation units (see compat/src).
 *  - Every name is guarded with #ifndef so a later libc that grows one wins.
 */
#ifndef NALIAS_COMPAT_H
#define NALIAS_COMPAT_H

/* BSD sources expect u_char/u_short/u_long, siginterrupt(), daemon() and
 * syslog's facilitynames: all behind glibc's default feature set, which a
 * strict -std=c99 would otherwise hide. */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE 1
#endif

#include <sys/cdefs.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <netinet/in.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- <sys/cdefs.h> ------------------------------------------------------ */

/* FreeBSD stamps each file with its VCS id; a forward declaration keeps the
 * trailing semicolon legal at file scope without emitting anything. */
#ifndef __FBSDID
#define __FBSDID(s) struct nalias_compat_fbsdid
#endif
#ifndef __unused
#define __unused __attribute__((__unused__))
#endif
#ifndef __dead2
#define __dead2 __attribute__((__noreturn__))
#endif
#ifndef __printflike
#define __printflike(fmtarg, firstvararg) \
	__attribute__((__format__(__printf__, fmtarg, firstvararg)))
#endif

/* ---- <netinet/in.h> ---------------------------------------------------- */

/* FreeBSD's divert(4) pseudo-protocol.  On Linux a raw socket with this
 * protocol is accepted by the kernel and never receives anything, so
 * libnalias-divert intercepts socket(PF_INET, SOCK_RAW, IPPROTO_DIVERT). */
#ifndef IPPROTO_DIVERT
#define IPPROTO_DIVERT 258
#endif

/* ---- <sys/socket.h> -------------------------------------------------- */

/* Link-level sockaddrs (struct sockaddr_dl, <net/if_dl.h>).  FreeBSD's value;
 * on Linux 18 is AF_ASH, which nothing in natd's path produces, and Linux's
 * own link-level family AF_PACKET carries a different structure. */
#ifndef AF_LINK
#define AF_LINK 18
#define PF_LINK AF_LINK
#endif
/* sizeof(struct sockaddr_dl) as <net/if_dl.h> lays it out (checked there). */
#define NALIAS_COMPAT_SOCKADDR_DL_SIZE 56

/* ---- <net/if.h>: interface data as FreeBSD's routing messages carry it - */

#ifndef NALIAS_COMPAT_HAVE_IF_DATA
#define NALIAS_COMPAT_HAVE_IF_DATA 1
struct if_data {
	uint8_t		ifi_type;	/* IFT_* (if_types.h) */
	uint8_t		ifi_physical;
	uint8_t		ifi_addrlen;	/* link-level address length */
	uint8_t		ifi_hdrlen;
	uint8_t		ifi_link_state;	/* LINK_STATE_* */
	uint8_t		ifi_vhid;
	uint16_t	ifi_datalen;	/* sizeof(struct if_data) */
	uint32_t	ifi_mtu;
	uint32_t	ifi_metric;
	uint64_t	ifi_baudrate;
	uint64_t	ifi_ipackets;
	uint64_t	ifi_ierrors;
	uint64_t	ifi_opackets;
	uint64_t	ifi_oerrors;
	uint64_t	ifi_collisions;
	uint64_t	ifi_ibytes;
	uint64_t	ifi_obytes;
	uint64_t	ifi_imcasts;
	uint64_t	ifi_omcasts;
	uint64_t	ifi_iqdrops;
	uint64_t	ifi_oqdrops;
	uint64_t	ifi_noproto;
	uint64_t	ifi_hwassist;
	uint64_t	ifi_epoch;
	uint64_t	ifi_lastchange_sec;
	uint64_t	ifi_lastchange_usec;
};
#endif

#ifndef IFT_OTHER
#define IFT_OTHER	0x01
#define IFT_ETHER	0x06
#define IFT_LOOP	0x18
#define IFT_PPP		0x17
#define IFT_TUNNEL	0x83
#endif
#ifndef LINK_STATE_UNKNOWN
#define LINK_STATE_UNKNOWN	0
#define LINK_STATE_DOWN		1
#define LINK_STATE_UP		2
#endif

/* ---- <net/route.h>: the BSD routing-socket message formats ------------- */

#ifndef RTM_VERSION
#define RTM_VERSION	5	/* FreeBSD's current routing message version */
#endif

/* Message types.  Linux's rtnetlink uses the same names for different
 * numbers in <linux/rtnetlink.h>; see the invariant above. */
#ifndef RTM_ADD
#define RTM_ADD		0x1
#define RTM_DELETE	0x2
#define RTM_CHANGE	0x3
#define RTM_GET		0x4
#define RTM_LOSING	0x5
#define RTM_REDIRECT	0x6
#define RTM_MISS	0x7
#define RTM_LOCK	0x8
#define RTM_RESOLVE	0xb
#define RTM_NEWADDR	0xc
#define RTM_DELADDR	0xd
#define RTM_IFINFO	0xe
#define RTM_NEWMADDR	0xf
#define RTM_DELMADDR	0x10
#define RTM_IFANNOUNCE	0x11
#define RTM_IEEE80211	0x12
#endif

/* Bits in *_addrs saying which sockaddrs follow a header, in this order. */
#ifndef RTA_DST
#define RTA_DST		0x1
#define RTA_GATEWAY	0x2
#define RTA_NETMASK	0x4
#define RTA_GENMASK	0x8
#define RTA_IFP		0x10
#define RTA_IFA		0x20
#define RTA_AUTHOR	0x40
#define RTA_BRD		0x80
#endif
#ifndef RTAX_DST
#define RTAX_DST	0
#define RTAX_GATEWAY	1
#define RTAX_NETMASK	2
#define RTAX_GENMASK	3
#define RTAX_IFP	4
#define RTAX_IFA	5
#define RTAX_AUTHOR	6
#define RTAX_BRD	7
#define RTAX_MAX	8
#endif

/* Second-level sysctl names under {CTL_NET, PF_ROUTE, 0, af, ...}. */
#ifndef NET_RT_DUMP
#define NET_RT_DUMP	1
#define NET_RT_FLAGS	2
#define NET_RT_IFLIST	3
#define NET_RT_IFMALIST	4
#define NET_RT_IFLISTL	5
#endif

/* RTM_IFINFO: one per interface, followed by a sockaddr_dl (RTA_IFP). */
struct if_msghdr {
	u_short	ifm_msglen;	/* whole message, header and sockaddrs */
	u_char	ifm_version;	/* RTM_VERSION */
	u_char	ifm_type;	/* RTM_IFINFO */
	int	ifm_addrs;	/* RTA_* bits of the sockaddrs that follow */
	int	ifm_flags;	/* IFF_* */
	u_short	ifm_index;
	u_short	_ifm_spare1;
	struct	if_data ifm_data;
};

/* RTM_NEWADDR / RTM_DELADDR: one per address, followed by its sockaddrs. */
struct ifa_msghdr {
	u_short	ifam_msglen;
	u_char	ifam_version;
	u_char	ifam_type;
	int	ifam_addrs;
	int	ifam_flags;
	u_short	ifam_index;
	u_short	_ifam_spare1;
	int	ifam_metric;
};

/* Length of a sockaddr inside a routing message, rounded to a long as
 * FreeBSD does.  Linux sockaddrs carry no sa_len, so the length comes from
 * the family; an empty (zero-family) sockaddr still occupies one long. */
static inline size_t
nalias_compat_sa_size(const struct sockaddr *sa)
{
	size_t len;

	if (sa == NULL)
		return sizeof(long);
	switch (sa->sa_family) {
	case AF_INET:
		len = sizeof(struct sockaddr_in);
		break;
	case AF_INET6:
		len = sizeof(struct sockaddr_in6);
		break;
	case AF_LINK:
		len = NALIAS_COMPAT_SOCKADDR_DL_SIZE;
		break;
	case AF_UNSPEC:
		return sizeof(long);
	default:
		len = sizeof(struct sockaddr);
		break;
	}
	return (len + sizeof(long) - 1) & ~(sizeof(long) - 1);
}
#ifndef SA_SIZE
#define SA_SIZE(sa) nalias_compat_sa_size((const struct sockaddr *)(sa))
#endif

/* ---- <stdio.h> --------------------------------------------------------- */

/* Returns the next line (including its newline, if any), NOT
 * NUL-terminated, valid until the next call on the same stream; *len gets
 * its length.  NULL at end of file or on error.  In libnalias-compat. */
char *fgetln(FILE *stream, size_t *len);

#ifdef __cplusplus
}
#endif

#endif /* NALIAS_COMPAT_H */
