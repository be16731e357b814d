/* SPDX-License-Identifier: BSD-2-Clause */
/* FreeBSD routing-message layout; see bsd_rtmsg.h for the model. */
#include "nalias-compat.h"
#include "net/if_dl.h"
#include "bsd_rtmsg.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static uint8_t
bsd_link_type(enum nalias_link_type type)
{
	switch (type) {
	case NALIAS_LINK_ETHER:
		return IFT_ETHER;
	case NALIAS_LINK_LOOPBACK:
		return IFT_LOOP;
	case NALIAS_LINK_PPP:
		return IFT_PPP;
	case NALIAS_LINK_TUNNEL:
		return IFT_TUNNEL;
	case NALIAS_LINK_OTHER:
		break;
	}
	return IFT_OTHER;
}

size_t
nalias_rtmsg_ifinfo(const struct nalias_iface *iface, void *out, size_t cap)
{
	struct if_msghdr ifm;
	struct sockaddr_dl sdl;
	size_t name_len = strnlen(iface->name, sizeof iface->name);
	size_t ll_len = iface->lladdr_len;
	size_t total = sizeof ifm + SA_SIZE(&(struct sockaddr){.sa_family = AF_LINK});

	if (total > cap)
		return total;
	/* The name and the address share sdl_data; a name always fits
	 * (IF_NAMESIZE < 46), the address is cut to what remains. */
	if (ll_len > sizeof sdl.sdl_data - name_len)
		ll_len = sizeof sdl.sdl_data - name_len;

	memset(&ifm, 0, sizeof ifm);
	ifm.ifm_msglen = (u_short)total;
	ifm.ifm_version = RTM_VERSION;
	ifm.ifm_type = RTM_IFINFO;
	ifm.ifm_addrs = RTA_IFP;
	ifm.ifm_flags = (int)iface->flags;
	ifm.ifm_index = (u_short)iface->index;
	ifm.ifm_data.ifi_type = bsd_link_type(iface->type);
	ifm.ifm_data.ifi_addrlen = (uint8_t)ll_len;
	ifm.ifm_data.ifi_link_state = (iface->flags & IFF_RUNNING) ?
	    LINK_STATE_UP : LINK_STATE_DOWN;
	ifm.ifm_data.ifi_datalen = sizeof ifm.ifm_data;
	ifm.ifm_data.ifi_mtu = iface->mtu;
	ifm.ifm_data.ifi_ipackets = iface->ipackets;
	ifm.ifm_data.ifi_opackets = iface->opackets;
	ifm.ifm_data.ifi_ibytes = iface->ibytes;
	ifm.ifm_data.ifi_obytes = iface->obytes;
	ifm.ifm_data.ifi_ierrors = iface->ierrors;
	ifm.ifm_data.ifi_oerrors = iface->oerrors;
	ifm.ifm_data.ifi_iqdrops = iface->iqdrops;
	ifm.ifm_data.ifi_oqdrops = iface->oqdrops;
	ifm.ifm_data.ifi_imcasts = iface->imcasts;

	memset(&sdl, 0, sizeof sdl);
	sdl.sdl_family = AF_LINK;
	sdl.sdl_len = sizeof sdl;
	sdl.sdl_index = (u_short)iface->index;
	sdl.sdl_type = ifm.ifm_data.ifi_type;
	sdl.sdl_nlen = (u_char)name_len;
	sdl.sdl_alen = (u_char)ll_len;
	memcpy(sdl.sdl_data, iface->name, name_len);
	memcpy(sdl.sdl_data + name_len, iface->lladdr, ll_len);

	memset(out, 0, total);
	memcpy(out, &ifm, sizeof ifm);
	memcpy((char *)out + sizeof ifm, &sdl, sizeof sdl);
	return total;
}

/* Appends one sockaddr of `family` holding `bytes` at *cursor. */
static void
put_sockaddr(char **cursor, int family, const void *bytes)
{
	if (family == AF_INET) {
		struct sockaddr_in sin;

		memset(&sin, 0, sizeof sin);
		sin.sin_family = AF_INET;
		memcpy(&sin.sin_addr, bytes, sizeof sin.sin_addr);
		memcpy(*cursor, &sin, sizeof sin);
		*cursor += SA_SIZE(&sin);
	} else {
		struct sockaddr_in6 sin6;

		memset(&sin6, 0, sizeof sin6);
		sin6.sin6_family = AF_INET6;
		memcpy(&sin6.sin6_addr, bytes, sizeof sin6.sin6_addr);
		memcpy(*cursor, &sin6, sizeof sin6);
		*cursor += SA_SIZE(&sin6);
	}
}

static void
prefix_to_mask(int family, unsigned prefix_len, unsigned char *mask)
{
	unsigned bytes = family == AF_INET ? 4 : 16;
	unsigned i;

	for (i = 0; i < bytes; i++) {
		unsigned bits = prefix_len > 8 * i ? prefix_len - 8 * i : 0;

		mask[i] = bits >= 8 ? 0xff : (unsigned char)(0xff00 >> bits);
	}
}

size_t
nalias_rtmsg_ifaddr(enum nalias_rtmsg_kind kind,
    const struct nalias_iface_addr *ifaddr, void *out, size_t cap)
{
	struct ifa_msghdr ifam;
	struct sockaddr probe = {.sa_family = (sa_family_t)ifaddr->family};
	size_t sa_len = SA_SIZE(&probe);
	int with_brd = ifaddr->family == AF_INET && ifaddr->has_broadcast;
	size_t total = sizeof ifam + sa_len * (with_brd ? 3 : 2);
	unsigned char mask[16];
	char *cursor;

	if (total > cap)
		return total;
	memset(&ifam, 0, sizeof ifam);
	ifam.ifam_msglen = (u_short)total;
	ifam.ifam_version = RTM_VERSION;
	ifam.ifam_type = kind == NALIAS_RTMSG_DELADDR ? RTM_DELADDR : RTM_NEWADDR;
	/* Sockaddrs follow in RTAX order: netmask (2), ifa (5), brd (7). */
	ifam.ifam_addrs = RTA_NETMASK | RTA_IFA | (with_brd ? RTA_BRD : 0);
	ifam.ifam_flags = (int)ifaddr->flags;
	ifam.ifam_index = (u_short)ifaddr->index;

	memset(out, 0, total);
	memcpy(out, &ifam, sizeof ifam);
	cursor = (char *)out + sizeof ifam;
	prefix_to_mask(ifaddr->family, ifaddr->prefix_len, mask);
	put_sockaddr(&cursor, ifaddr->family, mask);
	put_sockaddr(&cursor, ifaddr->family, &ifaddr->addr);
	if (with_brd)
		put_sockaddr(&cursor, ifaddr->family, &ifaddr->broadcast);
	return total;
}

int
nalias_iface_lookup(unsigned index, struct nalias_iface *iface)
{
	struct ifreq ifr;
	int fd;

	memset(iface, 0, sizeof *iface);
	iface->index = index;
	if (if_indextoname(index, iface->name) == NULL)
		return -1;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof ifr);
	memcpy(ifr.ifr_name, iface->name, sizeof ifr.ifr_name);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0)
		iface->flags = (unsigned short)ifr.ifr_flags;
	if (ioctl(fd, SIOCGIFMTU, &ifr) == 0)
		iface->mtu = (unsigned)ifr.ifr_mtu;
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) == 0) {
		/* ARPHRD_* values from <net/if_arp.h>, spelled out to keep this
		 * translation unit free of Linux-only headers. */
		switch (ifr.ifr_hwaddr.sa_family) {
		case 1:		/* ARPHRD_ETHER */
			iface->type = NALIAS_LINK_ETHER;
			iface->lladdr_len = 6;
			memcpy(iface->lladdr, ifr.ifr_hwaddr.sa_data, 6);
			break;
		case 772:	/* ARPHRD_LOOPBACK */
			iface->type = NALIAS_LINK_LOOPBACK;
			break;
		case 512:	/* ARPHRD_PPP */
			iface->type = NALIAS_LINK_PPP;
			break;
		case 65534:	/* ARPHRD_NONE (tun) */
			iface->type = NALIAS_LINK_TUNNEL;
			break;
		default:
			iface->type = NALIAS_LINK_OTHER;
			break;
		}
	}
	close(fd);
	return 0;
}
