/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * compat_selftest: checks the BSD compatibility layer from the outside, as a
 * FreeBSD program built with nalias-compat sees it: sysctl(NET_RT_IFLIST)
 * records for the loopback interface against what Linux reports, the
 * sysctlbyname() failure natd relies on, fgetln(), SA_SIZE(), FreeBSD
 * ualarm() semantics, and the divert/routing socket life cycle of
 * libnalias-divert.  No network namespace needed; the divert bind checks
 * run only with CAP_NET_ADMIN.  Exit status 0 iff every check passed.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/sysctl.h>
#include <sys/select.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <net/if.h>
#include <net/if_dl.h>
#include <net/route.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A divert port (= NFQUEUE queue number) no test rule ever feeds. */
#define UNUSED_DIVERT_PORT 64999

static int passed, failed;

#define CHECK(cond)                                                           \
	do {                                                                  \
		if (cond) {                                                   \
			passed++;                                             \
		} else {                                                      \
			failed++;                                             \
			fprintf(stderr, "%s:%d: check failed: %s (errno %d)\n", \
			    __FILE__, __LINE__, #cond, errno);                \
		}                                                             \
	} while (0)

static unsigned
loopback_mtu(void)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	unsigned mtu = 0;

	memset(&ifr, 0, sizeof ifr);
	strcpy(ifr.ifr_name, "lo");
	if (fd >= 0 && ioctl(fd, SIOCGIFMTU, &ifr) == 0)
		mtu = (unsigned)ifr.ifr_mtu;
	if (fd >= 0)
		close(fd);
	return mtu;
}

static void
test_iflist(void)
{
	int mib[6] = {CTL_NET, PF_ROUTE, 0, AF_INET, NET_RT_IFLIST, 0};
	unsigned lo_index = if_nametoindex("lo");
	size_t needed = 0, len, small;
	char *buf, *next, *end;
	int saw_ifinfo = 0, saw_addr = 0, records = 0;

	CHECK(sysctl(mib, 6, NULL, &needed, NULL, 0) == 0);
	CHECK(needed >= sizeof(struct if_msghdr));
	buf = malloc(needed);
	len = needed;
	CHECK(sysctl(mib, 6, buf, &len, NULL, 0) == 0);
	CHECK(len <= needed);
	end = buf + len;
	for (next = buf; next < end;) {
		struct if_msghdr *ifm = (struct if_msghdr *)next;

		CHECK(ifm->ifm_version == RTM_VERSION);
		if (ifm->ifm_msglen == 0 || ifm->ifm_version != RTM_VERSION)
			break;
		records++;
		next += ifm->ifm_msglen;
		if (ifm->ifm_type == RTM_IFINFO && ifm->ifm_index == lo_index) {
			struct sockaddr_dl *sdl = (struct sockaddr_dl *)(ifm + 1);

			saw_ifinfo = 1;
			CHECK(ifm->ifm_addrs == RTA_IFP);
			CHECK(sdl->sdl_family == AF_LINK);
			CHECK(sdl->sdl_nlen == 2 && memcmp(sdl->sdl_data, "lo", 2) == 0);
			CHECK(sdl->sdl_index == lo_index);
			CHECK(ifm->ifm_data.ifi_mtu == loopback_mtu());
			CHECK(ifm->ifm_data.ifi_type == IFT_LOOP);
			CHECK((ifm->ifm_flags & IFF_LOOPBACK) != 0);
			CHECK(ifm->ifm_msglen == sizeof *ifm + SA_SIZE(sdl));
		} else if (ifm->ifm_type == RTM_NEWADDR) {
			struct ifa_msghdr *ifam = (struct ifa_msghdr *)ifm;
			struct sockaddr_in *mask = (struct sockaddr_in *)(ifam + 1);
			struct sockaddr_in *ifa = (struct sockaddr_in *)((char *)mask + SA_SIZE(mask));

			CHECK((ifam->ifam_addrs & (RTA_NETMASK | RTA_IFA)) == (RTA_NETMASK | RTA_IFA));
			CHECK(ifa->sin_family == AF_INET);
			if (ifam->ifam_index == lo_index && ifa->sin_addr.s_addr == htonl(INADDR_LOOPBACK)) {
				saw_addr = 1;
				CHECK(mask->sin_family == AF_INET);
				CHECK(mask->sin_addr.s_addr == htonl(0xff000000));
			}
		}
	}
	CHECK(next == end);
	CHECK(saw_ifinfo);
	CHECK(saw_addr);

	/* Too small: whole records only, then ENOMEM. */
	small = sizeof(struct if_msghdr) + 8;
	len = small;
	errno = 0;
	CHECK(sysctl(mib, 6, buf, &len, NULL, 0) == -1 && errno == ENOMEM);
	CHECK(len < small);
	if (records > 0)
		CHECK(len == 0 || ((struct if_msghdr *)buf)->ifm_msglen == len);

	/* Only one interface when the last name component is its index. */
	mib[5] = (int)lo_index;
	len = needed;
	CHECK(sysctl(mib, 6, buf, &len, NULL, 0) == 0);
	CHECK(len > 0 && ((struct if_msghdr *)buf)->ifm_index == lo_index);
	for (next = buf; next < buf + len; next += ((struct if_msghdr *)next)->ifm_msglen)
		CHECK(((struct if_msghdr *)next)->ifm_index == lo_index);
	free(buf);

	errno = 0;
	mib[4] = NET_RT_DUMP;
	CHECK(sysctl(mib, 6, NULL, &needed, NULL, 0) == -1 && errno == ENOENT);
}

/* Counts NEWADDR records by family in {CTL_NET, PF_ROUTE, 0, family,
 * NET_RT_IFLIST, lo}; sets *saw_v6_loopback when ::1 is among them. */
static void
count_addresses(int family, int *v4, int *v6, int *saw_v6_loopback)
{
	int mib[6] = {CTL_NET, PF_ROUTE, 0, family, NET_RT_IFLIST, (int)if_nametoindex("lo")};
	size_t len = 0;
	char *buf, *next;

	*v4 = *v6 = *saw_v6_loopback = 0;
	CHECK(sysctl(mib, 6, NULL, &len, NULL, 0) == 0);
	buf = malloc(len);
	CHECK(sysctl(mib, 6, buf, &len, NULL, 0) == 0);
	for (next = buf; next < buf + len; next += ((struct if_msghdr *)next)->ifm_msglen) {
		struct ifa_msghdr *ifam = (struct ifa_msghdr *)next;
		struct sockaddr *mask = (struct sockaddr *)(ifam + 1);
		struct sockaddr *ifa = (struct sockaddr *)((char *)mask + SA_SIZE(mask));

		if (ifam->ifam_type != RTM_NEWADDR)
			continue;
		if (ifa->sa_family == AF_INET)
			(*v4)++;
		if (ifa->sa_family == AF_INET6) {
			(*v6)++;
			CHECK(SA_SIZE(ifa) == 32);
			if (IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)ifa)->sin6_addr))
				*saw_v6_loopback = 1;
		}
	}
	free(buf);
}

/* The family in the MIB selects the address records, as on FreeBSD. */
static void
test_iflist_families(void)
{
	int v4, v6, v6_loopback;

	count_addresses(AF_INET, &v4, &v6, &v6_loopback);
	CHECK(v4 >= 1 && v6 == 0);
	count_addresses(AF_INET6, &v4, &v6, &v6_loopback);
	CHECK(v4 == 0);
	if (v6 > 0)
		CHECK(v6_loopback);
	else
		printf("compat_selftest: no IPv6 on lo, AF_INET6 records not checked\n");
	count_addresses(0, &v4, &v6, &v6_loopback);
	CHECK(v4 >= 1);
}

static void
test_sysctlbyname(void)
{
	unsigned rule = 0;
	size_t len = sizeof rule;

	errno = 0;
	CHECK(sysctlbyname("net.inet.ip.fw.default_rule", &rule, &len, NULL, 0) == -1);
	CHECK(errno == ENOENT);
}

static void
test_fgetln(void)
{
	FILE *f = tmpfile();
	size_t len = 0;
	char *line;

	fputs("alpha\n\nno-newline", f);
	rewind(f);
	line = fgetln(f, &len);
	CHECK(line != NULL && len == 6 && memcmp(line, "alpha\n", 6) == 0);
	line = fgetln(f, &len);
	CHECK(line != NULL && len == 1 && line[0] == '\n');
	line = fgetln(f, &len);
	CHECK(line != NULL && len == 10 && memcmp(line, "no-newline", 10) == 0);
	CHECK(fgetln(f, &len) == NULL);
	fclose(f);
}

static void
test_sa_size(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};
	struct sockaddr_dl sdl = {.sdl_family = AF_LINK};

	CHECK(SA_SIZE(&sin) == 16);
	CHECK(SA_SIZE(&sin6) == 32);
	CHECK(SA_SIZE(&sdl) == sizeof sdl);
	CHECK(SA_SIZE(NULL) == sizeof(long));
}

/* natd arms its exit with ualarm(exit_delay_ms * 1000): 10 s by default. */
static void
test_ualarm(void)
{
	struct itimerval now;
	useconds_t left;

	errno = 0;
	CHECK(ualarm(30 * 1000000u, 0) == 0);
	CHECK(getitimer(ITIMER_REAL, &now) == 0);
	CHECK(now.it_value.tv_sec >= 20 && now.it_value.tv_sec <= 30);
	CHECK(now.it_value.tv_usec < 1000000);
	left = ualarm(0, 0);	/* cancels, returns what was left */
	CHECK(left > 20 * 1000000u && left <= 30 * 1000000u);
	CHECK(getitimer(ITIMER_REAL, &now) == 0);
	CHECK(now.it_value.tv_sec == 0 && now.it_value.tv_usec == 0);
}

static void
test_divert_socket(void)
{
	struct sockaddr_in addr = {.sin_family = AF_INET};
	struct timeval no_wait = {0, 0};
	char buf[64];
	fd_set readable;
	int fd, second, bound;

	fd = socket(PF_INET, SOCK_RAW, IPPROTO_DIVERT);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	errno = 0;
	CHECK(recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, NULL, NULL) == -1 && errno == ENOTCONN);
	addr.sin_port = htons(UNUSED_DIVERT_PORT);
	bound = bind(fd, (struct sockaddr *)&addr, sizeof addr);
	if (geteuid() == 0) {
		CHECK(bound == 0);
		FD_ZERO(&readable);
		FD_SET(fd, &readable);
		CHECK(select(fd + 1, &readable, NULL, NULL, &no_wait) == 0);
		errno = 0;
		CHECK(recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, NULL, NULL) == -1 && errno == EAGAIN);
		/* One queue, one reader: a second bind to the port fails. */
		second = socket(PF_INET, SOCK_RAW, IPPROTO_DIVERT);
		CHECK(second >= 0);
		CHECK(bind(second, (struct sockaddr *)&addr, sizeof addr) == -1);
		CHECK(close(second) == 0);
		/* A second bind of a bound socket fails as for any socket. */
		CHECK(bind(fd, (struct sockaddr *)&addr, sizeof addr) == -1 && errno == EINVAL);
	} else {
		printf("compat_selftest: not root, divert bind checks skipped\n");
	}
	CHECK(close(fd) == 0);
	/* The descriptor is really gone, not just forgotten by the shim. */
	CHECK(fcntl(fd, F_GETFD) == -1 && errno == EBADF);
}

static void
test_route_socket(void)
{
	char buf[256];
	int fd = socket(PF_ROUTE, SOCK_RAW, 0);

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	errno = 0;
	CHECK(recv(fd, buf, sizeof buf, MSG_DONTWAIT) == -1 && errno == EAGAIN);
	errno = 0;
	CHECK(write(fd, buf, sizeof buf) == -1 && errno == EOPNOTSUPP);
	CHECK(close(fd) == 0);
}

int
main(void)
{
	test_iflist();
	test_iflist_families();
	test_sysctlbyname();
	test_fgetln();
	test_sa_size();
	test_ualarm();
	test_divert_socket();
	test_route_socket();
	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
