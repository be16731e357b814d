/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sysctl() and sysctlbyname() for FreeBSD programs on Linux: the interface
 * list (NET_RT_IFLIST) built from if_nameindex(3)/getifaddrs(3); see
 * compat/include/sys/sysctl.h for the exact contract.
 */
#include "sys/sysctl.h"
#include "bsd_rtmsg.h"

#include <errno.h>
#include <ifaddrs.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <stdlib.h>
#include <string.h>

/* Headroom added to a size estimate: an address may be added between the
 * estimate and the fetch, as on FreeBSD, which pads its estimate too. */
#define IFLIST_ESTIMATE_SLACK 1024

/* Destination of records: writes a record only if it fits whole, but keeps
 * counting so the caller learns the size it would have needed. */
struct record_sink {
	char	*buf;
	size_t	cap;
	size_t	used;
	size_t	needed;
	int	truncated;
};

static void
sink_ifinfo(struct record_sink *sink, const struct nalias_iface *iface)
{
	size_t room = sink->truncated ? 0 : sink->cap - sink->used;
	size_t len = nalias_rtmsg_ifinfo(iface, sink->buf ? sink->buf + sink->used : NULL,
	    sink->buf ? room : 0);

	sink->needed += len;
	if (sink->buf && !sink->truncated && len <= room)
		sink->used += len;
	else
		sink->truncated = 1;
}

static void
sink_ifaddr(struct record_sink *sink, const struct nalias_iface_addr *ifaddr)
{
	size_t room = sink->truncated ? 0 : sink->cap - sink->used;
	size_t len = nalias_rtmsg_ifaddr(NALIAS_RTMSG_NEWADDR, ifaddr,
	    sink->buf ? sink->buf + sink->used : NULL, sink->buf ? room : 0);

	sink->needed += len;
	if (sink->buf && !sink->truncated && len <= room)
		sink->used += len;
	else
		sink->truncated = 1;
}

/* getifaddrs names IPv4 addresses by label ("eth0:1"); the interface is the
 * part before the colon. */
static int
label_is_interface(const char *label, const char *ifname)
{
	size_t len = strcspn(label, ":");

	return len == strlen(ifname) && strncmp(label, ifname, len) == 0;
}

static unsigned
mask_prefix_len(const struct sockaddr *mask)
{
	const unsigned char *bytes;
	size_t count, i;
	unsigned bits = 0;

	if (mask == NULL)
		return 0;
	if (mask->sa_family == AF_INET) {
		bytes = (const unsigned char *)&((const struct sockaddr_in *)mask)->sin_addr;
		count = 4;
	} else {
		bytes = (const unsigned char *)&((const struct sockaddr_in6 *)mask)->sin6_addr;
		count = 16;
	}
	for (i = 0; i < count; i++)
		bits += (unsigned)__builtin_popcount(bytes[i]);
	return bits;
}

static void
add_link_stats(struct nalias_iface *iface, const struct ifaddrs *all)
{
	const struct ifaddrs *ifa;

	for (ifa = all; ifa; ifa = ifa->ifa_next) {
		const struct rtnl_link_stats *stats = ifa->ifa_data;

		if (!ifa->ifa_addr || ifa->ifa_addr->sa_family != AF_PACKET || !stats ||
		    strcmp(ifa->ifa_name, iface->name) != 0)
			continue;
		iface->ipackets = stats->rx_packets;
		iface->opackets = stats->tx_packets;
		iface->ibytes = stats->rx_bytes;
		iface->obytes = stats->tx_bytes;
		iface->ierrors = stats->rx_errors;
		iface->oerrors = stats->tx_errors;
		iface->iqdrops = stats->rx_dropped;
		iface->oqdrops = stats->tx_dropped;
		iface->imcasts = stats->multicast;
		return;
	}
}

static void
add_addresses(struct record_sink *sink, const struct nalias_iface *iface,
    const struct ifaddrs *all, int family)
{
	const struct ifaddrs *ifa;

	for (ifa = all; ifa; ifa = ifa->ifa_next) {
		struct nalias_iface_addr ifaddr;
		int af;

		if (!ifa->ifa_addr || !label_is_interface(ifa->ifa_name, iface->name))
			continue;
		af = ifa->ifa_addr->sa_family;
		if ((af != AF_INET && af != AF_INET6) || (family != 0 && af != family))
			continue;
		memset(&ifaddr, 0, sizeof ifaddr);
		ifaddr.index = iface->index;
		ifaddr.family = af;
		ifaddr.flags = ifa->ifa_flags;
		ifaddr.prefix_len = mask_prefix_len(ifa->ifa_netmask);
		if (af == AF_INET) {
			ifaddr.addr.v4 = ((const struct sockaddr_in *)ifa->ifa_addr)->sin_addr;
			if ((ifa->ifa_flags & IFF_BROADCAST) && ifa->ifa_broadaddr) {
				ifaddr.has_broadcast = 1;
				ifaddr.broadcast.v4 =
				    ((const struct sockaddr_in *)ifa->ifa_broadaddr)->sin_addr;
			}
		} else {
			ifaddr.addr.v6 = ((const struct sockaddr_in6 *)ifa->ifa_addr)->sin6_addr;
		}
		sink_ifaddr(sink, &ifaddr);
	}
}

static int
iflist(int family, unsigned only_index, void *oldp, size_t *oldlenp)
{
	struct record_sink sink = {.buf = oldp, .cap = oldp ? *oldlenp : 0};
	struct if_nameindex *names, *name;
	struct ifaddrs *all = NULL;

	if (family != 0 && family != AF_INET && family != AF_INET6) {
		errno = EINVAL;
		return -1;
	}
	names = if_nameindex();
	if (names == NULL)
		return -1;
	if (getifaddrs(&all) != 0) {
		if_freenameindex(names);
		return -1;
	}
	for (name = names; name->if_index != 0; name++) {
		struct nalias_iface iface;

		if (only_index != 0 && name->if_index != only_index)
			continue;
		if (nalias_iface_lookup(name->if_index, &iface) != 0)
			continue;	/* vanished since if_nameindex() */
		add_link_stats(&iface, all);
		sink_ifinfo(&sink, &iface);
		add_addresses(&sink, &iface, all, family);
	}
	freeifaddrs(all);
	if_freenameindex(names);

	if (oldp == NULL) {
		*oldlenp = sink.needed + IFLIST_ESTIMATE_SLACK;
		return 0;
	}
	*oldlenp = sink.used;
	if (sink.truncated) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

NALIAS_EXPORT int
sysctl(const int *name, u_int namelen, void *oldp, size_t *oldlenp,
    const void *newp, size_t newlen)
{
	(void)newlen;
	if (name == NULL || namelen < 2 || (oldp != NULL && oldlenp == NULL)) {
		errno = EINVAL;
		return -1;
	}
	if (newp != NULL) {
		errno = EPERM;
		return -1;
	}
	if (name[0] == CTL_NET && name[1] == PF_ROUTE && namelen == 6 &&
	    name[2] == 0 && name[4] == NET_RT_IFLIST && oldlenp != NULL)
		return iflist(name[3], (unsigned)name[5], oldp, oldlenp);
	errno = ENOENT;
	return -1;
}

NALIAS_EXPORT int
sysctlbyname(const char *name, void *oldp, size_t *oldlenp, const void *newp,
    size_t newlen)
{
	(void)name;
	(void)oldp;
	(void)oldlenp;
	(void)newp;
	(void)newlen;
	errno = ENOENT;
	return -1;
}
