/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The BSD routing socket (PF_ROUTE) on rtnetlink.  The descriptor is an
 * rtnetlink socket subscribed to link and IPv4 address events, so select()
 * and poll() wake when the kernel reports a change; each read hands out one
 * FreeBSD-format message (RTM_IFINFO, RTM_NEWADDR or RTM_DELADDR, laid out
 * by compat/src/bsd_rtmsg.c), as a BSD routing socket does.
 *
 * Translation: RTM_NEWLINK/RTM_DELLINK -> RTM_IFINFO (flags, MTU, link
 * address as rtnetlink reports them); RTM_NEWADDR/RTM_DELADDR (IPv4) ->
 * RTM_NEWADDR/RTM_DELADDR with netmask, address and broadcast.  Messages of
 * one datagram beyond the first wait in a small queue and are returned by
 * the next reads; the kernel sends one notification per datagram, so a
 * select() loop never waits on a queued message in practice.  Writes
 * (route add/delete requests) are not emulated (EOPNOTSUPP).
 */
#define _GNU_SOURCE 1
#include "shim.h"
#include "bsd_rtmsg.h"

#include <errno.h>
#include <linux/if_arp.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Translated messages waiting to be read, and the largest one's size
 * (if_msghdr + sockaddr_dl is the biggest, well under this). */
#define ROUTE_QUEUE_MAX 32
#define ROUTE_MESSAGE_MAX 512

/* One rtnetlink datagram; notifications are a few hundred bytes. */
#define ROUTE_NETLINK_BUF 16384

struct route_message {
	size_t		len;
	unsigned char	bytes[ROUTE_MESSAGE_MAX];
};

struct route_socket {
	int			fd;
	unsigned		head, count;
	struct route_message	queue[ROUTE_QUEUE_MAX];
	unsigned char		netlink_buf[ROUTE_NETLINK_BUF];
};

int
route_open(struct emulated_fd *out)
{
	struct route_socket *rs = calloc(1, sizeof *rs);
	struct sockaddr_nl local;

	if (rs == NULL)
		return -1;
	rs->fd = libc.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (rs->fd < 0) {
		free(rs);
		return -1;
	}
	memset(&local, 0, sizeof local);
	local.nl_family = AF_NETLINK;
	local.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR;
	if (libc.bind(rs->fd, (const struct sockaddr *)&local, sizeof local) != 0) {
		int saved = errno;

		libc.close(rs->fd);
		free(rs);
		errno = saved;
		return -1;
	}
	/* A BSD routing socket loses messages silently on overrun; so does
	 * this one instead of failing the next read with ENOBUFS. */
	(void)setsockopt(rs->fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &(int){1}, sizeof(int));
	out->kind = EMULATED_ROUTE;
	out->u.route = rs;
	return rs->fd;
}

static struct route_message *
queue_slot(struct route_socket *rs)
{
	if (rs->count == ROUTE_QUEUE_MAX)
		return NULL;	/* a burst beyond the queue is lost, as on BSD */
	return &rs->queue[(rs->head + rs->count++) % ROUTE_QUEUE_MAX];
}

static enum nalias_link_type
link_type(unsigned short arphrd)
{
	switch (arphrd) {
	case ARPHRD_ETHER:
		return NALIAS_LINK_ETHER;
	case ARPHRD_LOOPBACK:
		return NALIAS_LINK_LOOPBACK;
	case ARPHRD_PPP:
		return NALIAS_LINK_PPP;
	case ARPHRD_NONE:
	case ARPHRD_TUNNEL:
		return NALIAS_LINK_TUNNEL;
	default:
		return NALIAS_LINK_OTHER;
	}
}

static void
translate_link(struct route_socket *rs, const struct nlmsghdr *nlh)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(nlh);
	const struct rtattr *rta;
	struct nalias_iface iface;
	struct route_message *slot;
	int rest;

	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof *ifi))
		return;
	memset(&iface, 0, sizeof iface);
	iface.index = (unsigned)ifi->ifi_index;
	iface.flags = ifi->ifi_flags;
	iface.type = link_type(ifi->ifi_type);
	rest = (int)(nlh->nlmsg_len - NLMSG_LENGTH(sizeof *ifi));
	for (rta = IFLA_RTA(ifi); RTA_OK(rta, rest); rta = RTA_NEXT(rta, rest)) {
		size_t payload = RTA_PAYLOAD(rta);

		if (rta->rta_type == IFLA_IFNAME && payload > 0) {
			size_t n = payload < sizeof iface.name ? payload : sizeof iface.name - 1;

			memcpy(iface.name, RTA_DATA(rta), n);
			iface.name[sizeof iface.name - 1] = '\0';
		} else if (rta->rta_type == IFLA_MTU && payload >= sizeof(unsigned)) {
			memcpy(&iface.mtu, RTA_DATA(rta), sizeof iface.mtu);
		} else if (rta->rta_type == IFLA_ADDRESS && payload <= sizeof iface.lladdr) {
			memcpy(iface.lladdr, RTA_DATA(rta), payload);
			iface.lladdr_len = (unsigned)payload;
		}
	}
	slot = queue_slot(rs);
	if (slot != NULL)
		slot->len = nalias_rtmsg_ifinfo(&iface, slot->bytes, sizeof slot->bytes);
}

static void
translate_addr(struct route_socket *rs, const struct nlmsghdr *nlh)
{
	const struct ifaddrmsg *ifa = NLMSG_DATA(nlh);
	const struct rtattr *rta;
	struct nalias_iface_addr ifaddr;
	struct route_message *slot;
	int have_local = 0, have_address = 0, rest;
	struct in_addr local = {0}, address = {0};

	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof *ifa) || ifa->ifa_family != AF_INET)
		return;
	memset(&ifaddr, 0, sizeof ifaddr);
	ifaddr.index = ifa->ifa_index;
	ifaddr.family = AF_INET;
	ifaddr.prefix_len = ifa->ifa_prefixlen;
	rest = (int)(nlh->nlmsg_len - NLMSG_LENGTH(sizeof *ifa));
	for (rta = IFA_RTA(ifa); RTA_OK(rta, rest); rta = RTA_NEXT(rta, rest)) {
		if (RTA_PAYLOAD(rta) < sizeof(struct in_addr))
			continue;
		if (rta->rta_type == IFA_LOCAL) {
			memcpy(&local, RTA_DATA(rta), sizeof local);
			have_local = 1;
		} else if (rta->rta_type == IFA_ADDRESS) {
			memcpy(&address, RTA_DATA(rta), sizeof address);
			have_address = 1;
		} else if (rta->rta_type == IFA_BROADCAST) {
			memcpy(&ifaddr.broadcast.v4, RTA_DATA(rta), sizeof ifaddr.broadcast.v4);
			ifaddr.has_broadcast = 1;
		}
	}
	/* IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer's
	 * on point-to-point links and equal to IFA_LOCAL elsewhere. */
	if (!have_local && !have_address)
		return;
	ifaddr.addr.v4 = have_local ? local : address;
	slot = queue_slot(rs);
	if (slot != NULL)
		slot->len = nalias_rtmsg_ifaddr(nlh->nlmsg_type == RTM_DELADDR ?
		    NALIAS_RTMSG_DELADDR : NALIAS_RTMSG_NEWADDR, &ifaddr, slot->bytes,
		    sizeof slot->bytes);
}

static void
translate_datagram(struct route_socket *rs, size_t len)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)rs->netlink_buf;
	unsigned rest = (unsigned)len;

	for (; NLMSG_OK(nlh, rest); nlh = NLMSG_NEXT(nlh, rest)) {
		switch (nlh->nlmsg_type) {
		case RTM_NEWLINK:
		case RTM_DELLINK:
			translate_link(rs, nlh);
			break;
		case RTM_NEWADDR:
		case RTM_DELADDR:
			translate_addr(rs, nlh);
			break;
		default:
			break;
		}
	}
}

ssize_t
route_recv(struct route_socket *rs, void *buf, size_t len, int flags)
{
	const struct route_message *message;
	size_t copy;

	while (rs->count == 0) {
		ssize_t got = libc.recv(rs->fd, rs->netlink_buf, sizeof rs->netlink_buf,
		    flags & MSG_DONTWAIT);

		if (got < 0)
			return -1;
		translate_datagram(rs, (size_t)got);
	}
	message = &rs->queue[rs->head];
	copy = message->len < len ? message->len : len;
	memcpy(buf, message->bytes, copy);
	if (!(flags & MSG_PEEK)) {
		rs->head = (rs->head + 1) % ROUTE_QUEUE_MAX;
		rs->count--;
	}
	return (ssize_t)copy;
}

void
route_close(struct route_socket *rs)
{
	libc.close(rs->fd);
	free(rs);
}
