/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * divert(4) sockets on NFQUEUE.  See shim.h for the model; the mapping:
 *
 *   socket(PF_INET, SOCK_RAW, IPPROTO_DIVERT)  nfq_open(); the descriptor
 *                                              returned is the handle's
 *                                              netlink socket
 *   bind({sin_port = N})                       attach to NFQUEUE queue N,
 *                                              copy whole packets
 *   recvfrom() -> packet, from                 next queued packet; `from`
 *                                              says where it was met
 *   sendto(packet)                             NF_ACCEPT the packet awaiting
 *                                              write-back, with these bytes
 *   (never written back)                       NF_DROP when the next packet
 *                                              is read or the socket closed
 *
 * Direction, as libalias users read it from `from` (divert(4)): packets the
 * kernel queued on the receive side (hooks PREROUTING and INPUT) come with
 * sin_addr = the first IPv4 address of the interface they arrived on and
 * that interface's name in sin_zero, as FreeBSD does; packets queued on the
 * send side (FORWARD, OUTPUT, POSTROUTING) come with sin_addr = INADDR_ANY.
 * natd therefore wants its rules in PREROUTING (-i outside) and POSTROUTING
 * (-o outside); docs/natd-on-linux.md has them.
 *
 * A sendto() with no packet awaiting write-back injects a new packet through
 * a raw IP socket whose packets carry SHIM_INJECT_MARK, so rules can let
 * them pass instead of queueing them again.
 */
#define _GNU_SOURCE 1
#include "shim.h"

/* glibc's <netinet/in.h> must precede the Linux uapi headers that
 * libnetfilter_queue pulls in, so they skip their own struct in_addr. */
#include <netinet/in.h>
#include <netinet/ip.h>
#include <net/if.h>
#include <errno.h>
#include <pthread.h>
#include <linux/netfilter.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

/* Largest IPv4 packet, and room for the netlink/NFQUEUE attributes around
 * one in a single datagram. */
#define DIVERT_MAX_PACKET 65535
#define DIVERT_NETLINK_OVERHEAD 4096

/* Kernel-side queue length: packets waiting for the program before the
 * kernel drops new ones (it never passes them untranslated: no fail-open). */
#define DIVERT_QUEUE_MAXLEN 4096

/* Receive buffer for the queue's netlink socket; a burst beyond it is
 * dropped by the kernel like a full queue. */
#define DIVERT_RCVBUF_BYTES (4 * 1024 * 1024)

/* Packets one netlink datagram may carry before the rest are dropped; the
 * kernel sends one per datagram, so this only guards against surprises. */
#define DIVERT_BATCH_MAX 64

/* Interface addresses are cached this long: the lookup is two ioctls, and
 * an address change is picked up within this delay. */
#define IFADDR_CACHE_SECONDS 1
#define IFADDR_CACHE_SLOTS 64

/* fwmark on packets injected by sendto() without a pending packet. */
#define SHIM_INJECT_MARK 0x4e41

/* Netfilter hook numbers (enum nf_inet_hooks): the receive side. */
#define HOOK_PRE_ROUTING 0
#define HOOK_LOCAL_IN 1

struct queued_packet {
	uint32_t		id;
	const unsigned char	*bytes;		/* points into netlink_buf */
	size_t			len;
	struct sockaddr_in	from;
};

struct divert_socket {
	struct nfq_handle	*handle;
	struct nfq_q_handle	*queue;
	int			fd;
	int			inject_fd;	/* raw socket, opened on demand */

	/* Packets parsed from the last datagram and not yet handed out. */
	struct queued_packet	batch[DIVERT_BATCH_MAX];
	unsigned		batch_next, batch_count;

	/* The packet handed out and not yet written back. */
	int			awaiting;
	uint32_t		awaiting_id;

	unsigned char		netlink_buf[DIVERT_MAX_PACKET + DIVERT_NETLINK_OVERHEAD];
};

struct ifaddr_cache_slot {
	unsigned	index;
	time_t		fetched;
	struct in_addr	addr;
	char		name[IF_NAMESIZE];
};

/* Shared by every divert socket of the process, hence the lock; a socket
 * itself, like natd's, is used from one thread at a time. */
static struct ifaddr_cache_slot ifaddr_cache[IFADDR_CACHE_SLOTS];
static pthread_mutex_t ifaddr_cache_lock = PTHREAD_MUTEX_INITIALIZER;

static time_t
monotonic_seconds(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec;
}

static void
refresh_slot(struct ifaddr_cache_slot *slot, unsigned index, time_t now)
{
	struct ifreq ifr;
	int fd;

	memset(slot, 0, sizeof *slot);
	slot->index = index;
	slot->fetched = now;
	if (if_indextoname(index, slot->name) == NULL)
		return;
	fd = libc.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	memset(&ifr, 0, sizeof ifr);
	memcpy(ifr.ifr_name, slot->name, sizeof ifr.ifr_name);
	if (ioctl(fd, SIOCGIFADDR, &ifr) == 0)
		slot->addr = ((const struct sockaddr_in *)&ifr.ifr_addr)->sin_addr;
	libc.close(fd);
}

/* The first IPv4 address of interface `index` (INADDR_ANY if it has none)
 * and its name, cached for IFADDR_CACHE_SECONDS.  Returns a copy. */
static struct ifaddr_cache_slot
interface_address(unsigned index)
{
	struct ifaddr_cache_slot *slot = &ifaddr_cache[index % IFADDR_CACHE_SLOTS];
	struct ifaddr_cache_slot copy;
	time_t now = monotonic_seconds();

	pthread_mutex_lock(&ifaddr_cache_lock);
	if (slot->index != index || now - slot->fetched >= IFADDR_CACHE_SECONDS)
		refresh_slot(slot, index, now);
	copy = *slot;
	pthread_mutex_unlock(&ifaddr_cache_lock);
	return copy;
}

static int
on_packet(struct nfq_q_handle *queue, struct nfgenmsg *msg, struct nfq_data *data, void *opaque)
{
	struct divert_socket *ds = opaque;
	struct nfqnl_msg_packet_hdr *header = nfq_get_msg_packet_hdr(data);
	struct queued_packet *packet;
	unsigned char *bytes;
	int len;

	(void)msg;
	if (header == NULL)
		return 0;
	len = nfq_get_payload(data, &bytes);
	if (ds->batch_count == DIVERT_BATCH_MAX || len < 0) {
		nfq_set_verdict(queue, ntohl(header->packet_id), NF_DROP, 0, NULL);
		return 0;
	}
	packet = &ds->batch[ds->batch_count++];
	memset(packet, 0, sizeof *packet);
	packet->id = ntohl(header->packet_id);
	packet->bytes = bytes;
	packet->len = (size_t)len;
	packet->from.sin_family = AF_INET;
	if (header->hook == HOOK_PRE_ROUTING || header->hook == HOOK_LOCAL_IN) {
		struct ifaddr_cache_slot iface = interface_address(nfq_get_indev(data));

		packet->from.sin_addr = iface.addr;
		/* sin_zero holds at most 8 name bytes, unterminated if longer,
		 * exactly as FreeBSD's divert(4) fills it. */
		memcpy(packet->from.sin_zero, iface.name,
		    strnlen(iface.name, sizeof packet->from.sin_zero));
	} else {
		packet->from.sin_addr.s_addr = htonl(INADDR_ANY);
	}
	return 0;
}

int
divert_open(struct emulated_fd *out)
{
	struct divert_socket *ds = calloc(1, sizeof *ds);
	int on = 1;

	if (ds == NULL)
		return -1;
	++shim_passthrough;
	ds->handle = nfq_open();
	if (ds->handle != NULL)
		(void)nfq_bind_pf(ds->handle, AF_INET);	/* a no-op since Linux 3.8 */
	--shim_passthrough;
	if (ds->handle == NULL) {
		int saved = errno ? errno : EPROTONOSUPPORT;

		free(ds);
		errno = saved;
		return -1;
	}
	ds->fd = nfq_fd(ds->handle);
	ds->inject_fd = -1;
	(void)nfnl_rcvbufsiz(nfq_nfnlh(ds->handle), DIVERT_RCVBUF_BYTES);
	/* Overruns must not surface as ENOBUFS from recvfrom(): natd would
	 * log every one; the packets are simply gone, as on a full queue. */
	(void)setsockopt(ds->fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &on, sizeof on);
	out->kind = EMULATED_DIVERT;
	out->u.divert = ds;
	return ds->fd;
}

int
divert_bind(struct divert_socket *ds, const struct sockaddr *addr, socklen_t len)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)addr;
	int failed;

	if (addr == NULL || len < sizeof *sin || sin->sin_family != AF_INET) {
		errno = EINVAL;
		return -1;
	}
	if (ds->queue != NULL) {
		errno = EINVAL;	/* already bound, as for any socket */
		return -1;
	}
	++shim_passthrough;
	ds->queue = nfq_create_queue(ds->handle, ntohs(sin->sin_port), on_packet, ds);
	failed = ds->queue == NULL ||
	    nfq_set_mode(ds->queue, NFQNL_COPY_PACKET, DIVERT_MAX_PACKET) < 0;
	if (!failed)
		(void)nfq_set_queue_maxlen(ds->queue, DIVERT_QUEUE_MAXLEN);
	--shim_passthrough;
	if (failed) {
		/* Queue taken by another process, or no CAP_NET_ADMIN. */
		int saved = errno == ENOENT || errno == 0 ? EADDRINUSE : errno;

		if (ds->queue != NULL) {
			++shim_passthrough;
			nfq_destroy_queue(ds->queue);
			--shim_passthrough;
			ds->queue = NULL;
		}
		errno = saved;
		return -1;
	}
	return 0;
}

static int
set_verdict(struct divert_socket *ds, uint32_t id, uint32_t verdict, size_t len, const void *bytes)
{
	int result;

	++shim_passthrough;
	result = nfq_set_verdict(ds->queue, id, verdict, (uint32_t)len, bytes);
	--shim_passthrough;
	return result < 0 ? -1 : 0;
}

/* The program read on without writing the last packet back: drop it. */
static void
drop_awaiting(struct divert_socket *ds)
{
	if (ds->awaiting) {
		(void)set_verdict(ds, ds->awaiting_id, NF_DROP, 0, NULL);
		ds->awaiting = 0;
	}
}

/* Reads datagrams until one yields a packet; -1 with errno on error,
 * EAGAIN included for non-blocking reads. */
static int
fill_batch(struct divert_socket *ds, int flags)
{
	while (ds->batch_next == ds->batch_count) {
		ssize_t got = libc.recv(ds->fd, ds->netlink_buf, sizeof ds->netlink_buf,
		    flags & MSG_DONTWAIT);

		if (got < 0)
			return -1;
		ds->batch_next = ds->batch_count = 0;
		nfq_handle_packet(ds->handle, (char *)ds->netlink_buf, (int)got);
	}
	return 0;
}

ssize_t
divert_recv(struct divert_socket *ds, void *buf, size_t len, int flags,
    struct sockaddr *from, socklen_t *fromlen)
{
	const struct queued_packet *packet;
	size_t copy;

	if (ds->queue == NULL) {
		errno = ENOTCONN;	/* never bound: no queue to read */
		return -1;
	}
	drop_awaiting(ds);
	if (fill_batch(ds, flags) != 0)
		return -1;
	packet = &ds->batch[ds->batch_next++];
	copy = packet->len < len ? packet->len : len;
	memcpy(buf, packet->bytes, copy);
	if (from != NULL && fromlen != NULL) {
		socklen_t n = *fromlen < sizeof packet->from ? *fromlen : sizeof packet->from;

		memcpy(from, &packet->from, n);
		*fromlen = sizeof packet->from;
	}
	ds->awaiting = 1;
	ds->awaiting_id = packet->id;
	return (ssize_t)copy;
}

static int
plausible_ipv4(const void *buf, size_t len)
{
	const struct ip *ip = buf;

	return len >= sizeof(struct ip) && len <= DIVERT_MAX_PACKET && ip->ip_v == 4 &&
	    (size_t)ip->ip_hl * 4 >= sizeof(struct ip) && (size_t)ip->ip_hl * 4 <= len;
}

static ssize_t
inject(struct divert_socket *ds, const void *buf, size_t len)
{
	const struct ip *ip = buf;
	struct sockaddr_in dst;

	if (ds->inject_fd < 0) {
		int mark = SHIM_INJECT_MARK, on = 1;

		ds->inject_fd = libc.socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
		if (ds->inject_fd < 0)
			return -1;
		(void)setsockopt(ds->inject_fd, IPPROTO_IP, IP_HDRINCL, &on, sizeof on);
		(void)setsockopt(ds->inject_fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark);
	}
	memset(&dst, 0, sizeof dst);
	dst.sin_family = AF_INET;
	dst.sin_addr = ip->ip_dst;
	return libc.sendto(ds->inject_fd, buf, len, 0, (const struct sockaddr *)&dst, sizeof dst);
}

ssize_t
divert_send(struct divert_socket *ds, const void *buf, size_t len,
    const struct sockaddr *to, socklen_t tolen)
{
	(void)to;
	(void)tolen;
	if (!plausible_ipv4(buf, len)) {
		errno = EINVAL;
		return -1;
	}
	if (!ds->awaiting)
		return inject(ds, buf, len);
	ds->awaiting = 0;
	if (set_verdict(ds, ds->awaiting_id, NF_ACCEPT, len, buf) != 0)
		return -1;	/* e.g. the queue was flushed meanwhile */
	return (ssize_t)len;
}

void
divert_close(struct divert_socket *ds)
{
	if (ds->queue != NULL) {
		drop_awaiting(ds);
		/* Packets parsed but never handed out would stay queued. */
		while (ds->batch_next < ds->batch_count)
			(void)set_verdict(ds, ds->batch[ds->batch_next++].id, NF_DROP, 0, NULL);
		++shim_passthrough;
		nfq_destroy_queue(ds->queue);
		--shim_passthrough;
	}
	++shim_passthrough;
	nfq_close(ds->handle);	/* closes ds->fd */
	--shim_passthrough;
	if (ds->inject_fd >= 0)
		libc.close(ds->inject_fd);
	free(ds);
}
