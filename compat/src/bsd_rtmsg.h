/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * bsd_rtmsg.h: FreeBSD routing-message records from neutral interface facts
 * (internal to nalias's compat libraries; not installed).
 *
 * Data model.  Two producers describe interfaces to FreeBSD code: sysctl()
 * NET_RT_IFLIST (from getifaddrs, libnalias-compat) and the emulated
 * PF_ROUTE socket (from rtnetlink, libnalias-divert).  Both fill the plain
 * structs below and let this module lay out the bytes, so the two can never
 * disagree on a record's format.  This header deliberately uses no BSD
 * routing names: the rtnetlink side includes <linux/rtnetlink.h>, whose
 * RTM_* enums clash with the BSD RTM_* macros of nalias-compat.h.
 *
 * Invariants.  Every writer returns the full length of the record it
 * describes and writes only when that whole length fits in `cap`, so a
 * caller can size a buffer with cap == 0 and never gets half a record.
 * Interface flags are passed through unchanged: the consumer was compiled
 * against Linux's <net/if.h>, so Linux IFF_* values are the ones it tests.
 */
#ifndef NALIAS_COMPAT_BSD_RTMSG_H
#define NALIAS_COMPAT_BSD_RTMSG_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <net/if.h>

#define NALIAS_EXPORT __attribute__((visibility("default")))

/* What happened, in BSD terms; mapped to RTM_* in bsd_rtmsg.c. */
enum nalias_rtmsg_kind {
	NALIAS_RTMSG_IFINFO,	/* interface state (RTM_IFINFO) */
	NALIAS_RTMSG_NEWADDR,	/* address added/listed (RTM_NEWADDR) */
	NALIAS_RTMSG_DELADDR,	/* address removed (RTM_DELADDR) */
};

/* Link-level link types we distinguish (mapped to IFT_*). */
enum nalias_link_type {
	NALIAS_LINK_OTHER,
	NALIAS_LINK_ETHER,
	NALIAS_LINK_LOOPBACK,
	NALIAS_LINK_PPP,
	NALIAS_LINK_TUNNEL,
};

struct nalias_iface {
	unsigned		index;
	char			name[IF_NAMESIZE];
	unsigned		flags;		/* Linux IFF_* */
	unsigned		mtu;
	enum nalias_link_type	type;
	unsigned char		lladdr[32];
	unsigned		lladdr_len;
	uint64_t		ipackets, opackets, ibytes, obytes;
	uint64_t		ierrors, oerrors, iqdrops, oqdrops, imcasts;
};

struct nalias_iface_addr {
	unsigned	index;		/* interface the address is on */
	int		family;		/* AF_INET or AF_INET6 */
	unsigned	flags;		/* interface IFF_* */
	unsigned	prefix_len;
	int		has_broadcast;
	union {
		struct in_addr	v4;
		struct in6_addr	v6;
	} addr, broadcast;
};

/* RTM_IFINFO header + sockaddr_dl.  Returns the record length. */
NALIAS_EXPORT size_t nalias_rtmsg_ifinfo(const struct nalias_iface *iface,
    void *out, size_t cap);

/* RTM_NEWADDR/RTM_DELADDR header + netmask, address[, broadcast]. */
NALIAS_EXPORT size_t nalias_rtmsg_ifaddr(enum nalias_rtmsg_kind kind,
    const struct nalias_iface_addr *ifaddr, void *out, size_t cap);

/* Fills `iface` for interface `index` from the running system (name, flags,
 * MTU, link type, address).  0 on success, -1 with errno otherwise. */
NALIAS_EXPORT int nalias_iface_lookup(unsigned index, struct nalias_iface *iface);

#endif /* NALIAS_COMPAT_BSD_RTMSG_H */
