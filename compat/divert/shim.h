/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * shim.h: internals of libnalias-divert, the library that gives a Linux
 * process FreeBSD's divert(4) sockets, a BSD routing socket and FreeBSD's
 * ualarm(3), by interposing on libc (link it before libc, or LD_PRELOAD it).
 *
 * Data model.  An emulated socket is a real kernel file descriptor the
 * program holds and selects/polls on as usual, plus a `struct emulated_fd`
 * found through a table indexed by that descriptor:
 *  - a divert socket is the netlink socket of an NFQUEUE handle
 *    (libnetfilter_queue); bind(port N) attaches it to queue N, so it turns
 *    readable exactly when the kernel queued a packet;
 *  - a routing socket is an rtnetlink socket subscribed to link and IPv4
 *    address events; reads hand out FreeBSD-format translations.
 * Every interposed call first asks fd_lookup(); descriptors the shim did not
 * create go straight to libc, so the cost for other descriptors is one
 * bounds check and one atomic load.
 *
 * Invariants.
 *  - A table slot is non-NULL exactly while the descriptor is an emulated
 *    socket; slots change only under the registry lock, in fd_register()
 *    and fd_unregister() (from close()).
 *  - A divert packet handed to the program is "awaiting write-back" until
 *    sendto() returns it (verdict NF_ACCEPT with the new bytes) or until the
 *    program reads the next packet or closes the socket (verdict NF_DROP):
 *    at most one packet per socket is ever held in the kernel on the
 *    program's behalf.
 *  - The shim never includes nalias-compat.h next to <linux/...> headers:
 *    both define RTM_*; BSD records come from compat/src/bsd_rtmsg.h.
 */
#ifndef NALIAS_DIVERT_SHIM_H
#define NALIAS_DIVERT_SHIM_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/time.h>

/* FreeBSD's IPPROTO_DIVERT; spelled here because nalias-compat.h (which has
 * it) cannot be included next to the netlink headers, see above. */
#define SHIM_IPPROTO_DIVERT 258

/* Highest descriptor the shim can emulate; sockets are created early in a
 * daemon's life, so this is far more than natd's handful needs. */
#define SHIM_MAX_FD 4096

/* libc's own entry points, resolved once with dlsym(RTLD_NEXT). */
struct libc_calls {
	int (*socket)(int, int, int);
	int (*bind)(int, const struct sockaddr *, socklen_t);
	ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
	ssize_t (*recv)(int, void *, size_t, int);
	ssize_t (*read)(int, void *, size_t);
	ssize_t (*sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
	ssize_t (*send)(int, const void *, size_t, int);
	ssize_t (*write)(int, const void *, size_t);
	int (*close)(int);
	int (*setitimer)(int, const struct itimerval *, struct itimerval *);
};
extern struct libc_calls libc;
void shim_init(void);

enum emulated_kind { EMULATED_DIVERT, EMULATED_ROUTE };

struct divert_socket;
struct route_socket;

struct emulated_fd {
	enum emulated_kind kind;
	union {
		struct divert_socket *divert;
		struct route_socket *route;
	} u;
};

/* Non-zero while this thread is inside libnetfilter_queue/libnfnetlink on
 * the shim's behalf: their own recvfrom()/close() on an emulated descriptor
 * must reach the kernel, not the emulation.  Wrap such calls in
 * SHIM_PASSTHROUGH(...). */
extern __thread int shim_passthrough;
#define SHIM_PASSTHROUGH(call) \
	(++shim_passthrough, shim_passthrough_end(call))
static inline long
shim_passthrough_end(long result)
{
	--shim_passthrough;
	return result;
}

/* The emulation behind `fd`, or NULL for descriptors the shim does not own
 * (and for every descriptor while shim_passthrough is set). */
struct emulated_fd *fd_lookup(int fd);
int fd_register(int fd, struct emulated_fd *emulated);
struct emulated_fd *fd_unregister(int fd);

/* divert_socket.c: each returns what the libc call it stands for returns,
 * with errno set on failure.  `from`/`to` are struct sockaddr_in. */
int divert_open(struct emulated_fd *out);
int divert_bind(struct divert_socket *ds, const struct sockaddr *addr, socklen_t len);
ssize_t divert_recv(struct divert_socket *ds, void *buf, size_t len, int flags,
    struct sockaddr *from, socklen_t *fromlen);
ssize_t divert_send(struct divert_socket *ds, const void *buf, size_t len,
    const struct sockaddr *to, socklen_t tolen);
void divert_close(struct divert_socket *ds);

/* route_socket.c */
int route_open(struct emulated_fd *out);
ssize_t route_recv(struct route_socket *rs, void *buf, size_t len, int flags);
void route_close(struct route_socket *rs);

#endif /* NALIAS_DIVERT_SHIM_H */
