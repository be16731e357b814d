/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The libc entry points libnalias-divert replaces.  Each one checks whether
 * the descriptor (or, for socket(), the arguments) is one the shim emulates
 * and otherwise forwards to libc unchanged; see shim.h for the model.
 */
#define _GNU_SOURCE 1
#include "shim.h"

#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SHIM_EXPORT __attribute__((visibility("default")))

/* Set to "off" to leave socket(PF_ROUTE, SOCK_RAW, 0) to the kernel, for a
 * program that wants a real rtnetlink socket and opens it without flags. */
#define ROUTE_SOCKET_ENV "NALIAS_ROUTE_SOCKET"

struct libc_calls libc;
__thread int shim_passthrough;

static _Atomic(struct emulated_fd *) fd_table[SHIM_MAX_FD];
static pthread_mutex_t fd_table_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void *
must_resolve(const char *name)
{
	void *fn = dlsym(RTLD_NEXT, name);

	if (fn == NULL) {
		/* Nothing sensible can run without libc's own calls. */
		fprintf(stderr, "libnalias-divert: cannot resolve %s: %s\n", name, dlerror());
		abort();
	}
	return fn;
}

static void
resolve_libc(void)
{
	libc.socket = must_resolve("socket");
	libc.bind = must_resolve("bind");
	libc.recvfrom = must_resolve("recvfrom");
	libc.recv = must_resolve("recv");
	libc.read = must_resolve("read");
	libc.sendto = must_resolve("sendto");
	libc.send = must_resolve("send");
	libc.write = must_resolve("write");
	libc.close = must_resolve("close");
	libc.setitimer = must_resolve("setitimer");
}

void
shim_init(void)
{
	pthread_once(&init_once, resolve_libc);
}

__attribute__((constructor)) static void
shim_constructor(void)
{
	shim_init();
}

struct emulated_fd *
fd_lookup(int fd)
{
	if (fd < 0 || fd >= SHIM_MAX_FD || shim_passthrough)
		return NULL;
	return atomic_load_explicit(&fd_table[fd], memory_order_acquire);
}

int
fd_register(int fd, struct emulated_fd *emulated)
{
	if (fd < 0 || fd >= SHIM_MAX_FD) {
		errno = EMFILE;
		return -1;
	}
	pthread_mutex_lock(&fd_table_lock);
	atomic_store_explicit(&fd_table[fd], emulated, memory_order_release);
	pthread_mutex_unlock(&fd_table_lock);
	return 0;
}

struct emulated_fd *
fd_unregister(int fd)
{
	struct emulated_fd *emulated;

	if (fd < 0 || fd >= SHIM_MAX_FD)
		return NULL;
	pthread_mutex_lock(&fd_table_lock);
	emulated = atomic_exchange_explicit(&fd_table[fd], NULL, memory_order_acq_rel);
	pthread_mutex_unlock(&fd_table_lock);
	return emulated;
}

static int
route_socket_enabled(void)
{
	const char *setting = getenv(ROUTE_SOCKET_ENV);

	return setting == NULL || strcmp(setting, "off") != 0;
}

static int
open_emulated(int (*opener)(struct emulated_fd *))
{
	struct emulated_fd *emulated = calloc(1, sizeof *emulated);
	int fd;

	if (emulated == NULL)
		return -1;
	fd = opener(emulated);
	if (fd < 0) {
		free(emulated);
		return -1;
	}
	if (fd_register(fd, emulated) != 0) {
		int saved = errno;

		if (emulated->kind == EMULATED_DIVERT)
			divert_close(emulated->u.divert);
		else
			route_close(emulated->u.route);
		free(emulated);
		errno = saved;
		return -1;
	}
	return fd;
}

SHIM_EXPORT int
socket(int domain, int type, int protocol)
{
	shim_init();
	if (domain == PF_INET && type == SOCK_RAW && protocol == SHIM_IPPROTO_DIVERT)
		return open_emulated(divert_open);
	/* glibc's PF_ROUTE is PF_NETLINK: the BSD call below would otherwise
	 * open an rtnetlink socket that delivers nothing BSD code can parse.
	 * Only the exact BSD spelling (no SOCK_* flags) is taken over. */
	if (domain == PF_ROUTE && type == SOCK_RAW && protocol == 0 && route_socket_enabled())
		return open_emulated(route_open);
	return libc.socket(domain, type, protocol);
}

SHIM_EXPORT int
bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct emulated_fd *emulated = fd_lookup(fd);

	shim_init();
	if (emulated == NULL)
		return libc.bind(fd, addr, len);
	if (emulated->kind == EMULATED_DIVERT)
		return divert_bind(emulated->u.divert, addr, len);
	return 0;	/* a BSD routing socket is never bound */
}

static ssize_t
emulated_recv(struct emulated_fd *emulated, void *buf, size_t len, int flags,
    struct sockaddr *from, socklen_t *fromlen)
{
	if (emulated->kind == EMULATED_DIVERT)
		return divert_recv(emulated->u.divert, buf, len, flags, from, fromlen);
	if (from != NULL && fromlen != NULL)
		*fromlen = 0;
	return route_recv(emulated->u.route, buf, len, flags);
}

SHIM_EXPORT ssize_t
recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from, socklen_t *fromlen)
{
	struct emulated_fd *emulated = fd_lookup(fd);

	shim_init();
	if (emulated == NULL)
		return libc.recvfrom(fd, buf, len, flags, from, fromlen);
	return emulated_recv(emulated, buf, len, flags, from, fromlen);
}

SHIM_EXPORT ssize_t
recv(int fd, void *buf, size_t len, int flags)
{
	struct emulated_fd *emulated = fd_lookup(fd);

	shim_init();
	if (emulated == NULL)
		return libc.recv(fd, buf, len, flags);
	return emulated_recv(emulated, buf, len, flags, NULL, NULL);
}

SHIM_EXPORT ssize_t
read(int fd, void *buf, size_t len)
{
	struct emulated_fd *emulated = fd_lookup(fd);

	shim_init();
	if (emulated == NULL)
		return libc.read(fd, buf, len);
	return emulated_recv(emulated, buf, len, 0, NULL, NULL);
}

SHIM_EXPORT ssize_t
sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to, socklen_t tolen)
{
	struct emulated_fd *emulated = fd_lookup(fd);

	shim_init();
	if (emulated == NULL)
		return libc.sendto(fd, buf, len, flags, to, tolen);
	if (emulated->kind == EMULATED_DIVERT)
		return divert_send(emulated->u.divert, buf, len, to, tolen);
	errno = EOPNOTSUPP;	/* routing-socket writes (route add ...) */
	return -1;
}

SHIM_EXPORT ssize_t
send(int fd, const void *buf, size_t len, int flags)
{
	struct emulated_fd *emulated = fd_lookup(fd);

	shim_init();
	if (emulated == NULL)
		return libc.send(fd, buf, len, flags);
	return sendto(fd, buf, len, flags, NULL, 0);
}

SHIM_EXPORT ssize_t
write(int fd, const void *buf, size_t len)
{
	struct emulated_fd *emulated = fd_lookup(fd);

	shim_init();
	if (emulated == NULL)
		return libc.write(fd, buf, len);
	return sendto(fd, buf, len, 0, NULL, 0);
}

SHIM_EXPORT int
close(int fd)
{
	struct emulated_fd *emulated;

	shim_init();
	emulated = fd_lookup(fd) ? fd_unregister(fd) : NULL;
	if (emulated == NULL)
		return libc.close(fd);
	if (emulated->kind == EMULATED_DIVERT)
		divert_close(emulated->u.divert);	/* closes fd */
	else
		route_close(emulated->u.route);		/* closes fd */
	free(emulated);
	return 0;
}

/*
 * ualarm(3) with FreeBSD's semantics: any number of microseconds, split into
 * seconds and microseconds for setitimer(ITIMER_REAL).  glibc's version puts
 * the whole value in it_value.tv_usec, so setitimer() rejects anything from
 * one second up (EINVAL) -- natd's default 10 s exit delay then never fires
 * and SIGTERM is ignored.  Returns the microseconds that were left on the
 * previous timer, saturated to useconds_t.
 */
SHIM_EXPORT useconds_t
ualarm(useconds_t usecs, useconds_t interval)
{
	const useconds_t per_second = 1000000;
	struct itimerval next, previous;
	unsigned long long left;

	shim_init();
	next.it_value.tv_sec = usecs / per_second;
	next.it_value.tv_usec = usecs % per_second;
	next.it_interval.tv_sec = interval / per_second;
	next.it_interval.tv_usec = interval % per_second;
	if (libc.setitimer(ITIMER_REAL, &next, &previous) != 0)
		return (useconds_t)-1;
	left = (unsigned long long)previous.it_value.tv_sec * per_second +
	    (unsigned long long)previous.it_value.tv_usec;
	return left > (useconds_t)-1 ? (useconds_t)-1 : (useconds_t)left;
}
