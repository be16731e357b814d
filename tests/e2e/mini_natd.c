/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mini_natd: the smallest daemon that drives nalias the way FreeBSD's natd
 * does, for the end-to-end suite.  It is built with the compat flags
 * (nalias::compat: -include nalias-compat.h) and linked with
 * libnalias-divert, and uses only the BSD interfaces natd uses:
 *
 *   socket(PF_INET, SOCK_RAW, IPPROTO_DIVERT) + bind(port)   divert socket
 *   select() on it, recvfrom() -> LibAliasIn/Out -> sendto() one packet
 *   direction from the source address: INADDR_ANY = outgoing
 *   sysctl({CTL_NET, PF_ROUTE, 0, AF_INET, NET_RT_IFLIST, 0})  -n ifname
 *   socket(PF_ROUTE, SOCK_RAW, 0)                               -dynamic
 *   SIGTERM -> ualarm(exit_delay ms) -> SIGALRM -> exit         -exit_delay
 *
 * Options (a subset of natd(8)'s, same spelling):
 *   -a addr | -n ifname [-dynamic]   alias address
 *   -p port                          divert port (= NFQUEUE queue number)
 *   -redirect_port tcp|udp local_addr:port public_port
 *   -redirect_proto proto local_addr
 *   -deny_incoming                   drop inbound packets libalias ignores
 *   -exit_delay ms                   as natd; default natd's 10000
 *   -log file                        one line per event (for the tests)
 * On exit it prints "mini_natd: out=N in=N dropped=N" on stdout.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/sysctl.h>
#include <sys/select.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <net/if.h>
#include <net/if_dl.h>
#include <net/route.h>
#include <arpa/inet.h>

#include <alias.h>
#include <err.h>
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* natd's default delay between SIGTERM and exit (natd.h EXIT_DELAY, ms). */
#define DEFAULT_EXIT_DELAY_MS 10000

static volatile sig_atomic_t running = 1;
static int exit_delay_ms = DEFAULT_EXIT_DELAY_MS;
static FILE *event_log;
static struct libalias *la;
static const char *if_name;
static unsigned if_index;
static int addr_from_interface_pending;

static void
log_event(const char *fmt, ...)
{
	va_list ap;

	if (event_log == NULL)
		return;
	va_start(ap, fmt);
	vfprintf(event_log, fmt, ap);
	va_end(ap);
	fputc('\n', event_log);
	fflush(event_log);
}

static void
on_alarm(int sig)
{
	(void)sig;
	running = 0;
}

/* As natd's InitiateShutdown: a delayed exit, armed with ualarm(); natd
 * exits at once when the delay is 0. */
static void
on_term(int sig)
{
	(void)sig;
	if (exit_delay_ms == 0)
		running = 0;
	else if (ualarm((useconds_t)exit_delay_ms * 1000, 1000) == (useconds_t)-1)
		log_event("ualarm failed: %s", strerror(errno));
}

static void
install_handler(int sig, void (*handler)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL) != 0)
		err(1, "sigaction");
}

static struct in_addr
parse_addr(const char *text)
{
	struct in_addr addr;

	if (inet_aton(text, &addr) == 0)
		errx(2, "bad address %s", text);
	return addr;
}

/* The alias address from the interface list, walked as natd does. */
static int
alias_from_interface(const char *name)
{
	int mib[6] = {CTL_NET, PF_ROUTE, 0, AF_INET, NET_RT_IFLIST, 0};
	size_t needed = 0;
	char *buf, *next, *end;

	if (sysctl(mib, 6, NULL, &needed, NULL, 0) == -1)
		err(1, "sysctl estimate");
	if ((buf = malloc(needed)) == NULL)
		err(1, "malloc");
	if (sysctl(mib, 6, buf, &needed, NULL, 0) == -1 && errno != ENOMEM)
		err(1, "sysctl iflist");
	if_index = 0;
	end = buf + needed;
	for (next = buf; next < end;) {
		struct if_msghdr *ifm = (struct if_msghdr *)next;

		next += ifm->ifm_msglen;
		if (ifm->ifm_version != RTM_VERSION || ifm->ifm_msglen == 0)
			break;
		if (ifm->ifm_type == RTM_IFINFO) {
			struct sockaddr_dl *sdl = (struct sockaddr_dl *)(ifm + 1);

			if_index = 0;
			if (strlen(name) == sdl->sdl_nlen &&
			    strncmp(name, sdl->sdl_data, sdl->sdl_nlen) == 0) {
				if_index = ifm->ifm_index;
				log_event("iflist %s index=%u mtu=%u", name, if_index,
				    (unsigned)ifm->ifm_data.ifi_mtu);
			}
		} else if (ifm->ifm_type == RTM_NEWADDR && if_index != 0) {
			struct ifa_msghdr *ifam = (struct ifa_msghdr *)ifm;
			char *cp = (char *)(ifam + 1);
			int bit;

			if (!(ifam->ifam_addrs & RTA_IFA))
				continue;
			for (bit = 1; bit < RTA_IFA; bit <<= 1)
				if (ifam->ifam_addrs & bit)
					cp += SA_SIZE((struct sockaddr *)cp);
			if (((struct sockaddr *)cp)->sa_family == AF_INET) {
				struct in_addr addr = ((struct sockaddr_in *)cp)->sin_addr;

				LibAliasSetAddress(la, addr);
				log_event("alias %s", inet_ntoa(addr));
				free(buf);
				return 0;
			}
		}
	}
	free(buf);
	log_event("no address on %s", name);
	return -1;
}

static void
add_port_redirect(const char *proto_name, const char *local, const char *public_port)
{
	char host[64];
	const char *colon = strchr(local, ':');
	int proto = strcmp(proto_name, "udp") == 0 ? IPPROTO_UDP : IPPROTO_TCP;
	struct in_addr any = {INADDR_ANY};

	if (colon == NULL || (size_t)(colon - local) >= sizeof host)
		errx(2, "redirect_port: want local_addr:port");
	memcpy(host, local, (size_t)(colon - local));
	host[colon - local] = '\0';
	if (LibAliasRedirectPort(la, parse_addr(host), htons((u_short)atoi(colon + 1)), any, 0,
	    any, htons((u_short)atoi(public_port)), (u_char)proto) == NULL)
		errx(1, "LibAliasRedirectPort failed");
}

static void
add_proto_redirect(const char *proto_name, const char *local)
{
	struct protoent *pe = getprotobyname(proto_name);
	struct in_addr any = {INADDR_ANY};
	int proto = pe ? pe->p_proto : atoi(proto_name);

	if (proto <= 0)
		errx(2, "redirect_proto: unknown protocol %s", proto_name);
	if (LibAliasRedirectProto(la, parse_addr(local), any, any, (u_char)proto) == NULL)
		errx(1, "LibAliasRedirectProto failed");
}

static int
open_divert(unsigned port)
{
	struct sockaddr_in addr;
	int fd = socket(PF_INET, SOCK_RAW, IPPROTO_DIVERT);

	if (fd == -1)
		err(1, "divert socket");
	memset(&addr, 0, sizeof addr);
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = INADDR_ANY;
	addr.sin_port = htons((u_short)port);
	if (bind(fd, (struct sockaddr *)&addr, sizeof addr) == -1)
		err(1, "bind divert port %u", port);
	return fd;
}

static void
handle_routing_message(int fd)
{
	char buf[512];
	struct if_msghdr *ifm = (struct if_msghdr *)buf;
	ssize_t got = read(fd, buf, sizeof buf);

	if (got < (ssize_t)offsetof(struct if_msghdr, ifm_addrs) || ifm->ifm_version != RTM_VERSION) {
		log_event("route: unreadable message (%zd bytes)", got);
		return;
	}
	/* ifm_index sits at the same offset in if_msghdr and ifa_msghdr. */
	log_event("route: type=0x%x index=%u", ifm->ifm_type, ifm->ifm_index);
	if ((ifm->ifm_type == RTM_NEWADDR || ifm->ifm_type == RTM_IFINFO) &&
	    ifm->ifm_index == if_index)
		addr_from_interface_pending = 1;
}

int
main(int argc, char **argv)
{
	unsigned long count_out = 0, count_in = 0, count_dropped = 0;
	unsigned port = 8668;	/* natd's service port */
	int deny_incoming = 0, dynamic = 0, divert_fd, route_fd = -1, i;
	int have_alias = 0;
	static char packet[IP_MAXPACKET];

	la = LibAliasInit(NULL);
	if (la == NULL)
		errx(1, "LibAliasInit failed");
	for (i = 1; i < argc; i++) {
		const char *opt = argv[i];
		int left = argc - i - 1;

		if (strcmp(opt, "-a") == 0 && left >= 1) {
			LibAliasSetAddress(la, parse_addr(argv[++i]));
			have_alias = 1;
		} else if (strcmp(opt, "-n") == 0 && left >= 1) {
			if_name = argv[++i];
		} else if (strcmp(opt, "-dynamic") == 0) {
			dynamic = 1;
		} else if (strcmp(opt, "-p") == 0 && left >= 1) {
			port = (unsigned)atoi(argv[++i]);
		} else if (strcmp(opt, "-redirect_port") == 0 && left >= 3) {
			add_port_redirect(argv[i + 1], argv[i + 2], argv[i + 3]);
			i += 3;
		} else if (strcmp(opt, "-redirect_proto") == 0 && left >= 2) {
			add_proto_redirect(argv[i + 1], argv[i + 2]);
			i += 2;
		} else if (strcmp(opt, "-deny_incoming") == 0) {
			deny_incoming = 1;
		} else if (strcmp(opt, "-exit_delay") == 0 && left >= 1) {
			exit_delay_ms = atoi(argv[++i]);
		} else if (strcmp(opt, "-log") == 0 && left >= 1) {
			event_log = fopen(argv[++i], "a");
			if (event_log == NULL)
				err(1, "%s", argv[i]);
		} else {
			errx(2, "unknown or incomplete option %s", opt);
		}
	}
	if (!have_alias && if_name == NULL)
		errx(2, "need -a addr or -n ifname");
	LibAliasSetMode(la, deny_incoming ? PKT_ALIAS_DENY_INCOMING : 0, PKT_ALIAS_DENY_INCOMING);

	divert_fd = open_divert(port);
	if (if_name != NULL) {
		if (dynamic) {
			route_fd = socket(PF_ROUTE, SOCK_RAW, 0);
			if (route_fd == -1)
				err(1, "routing socket");
		}
		/* The index is needed for routing messages even before the
		 * interface has an address. */
		(void)alias_from_interface(if_name);
	}
	/* natd's signal(...) + siginterrupt(..., 1), spelled with sigaction:
	 * no SA_RESTART, so select() returns EINTR and the loop sees `running`. */
	install_handler(SIGALRM, on_alarm);
	install_handler(SIGTERM, on_term);
	log_event("ready port=%u", port);

	while (running) {
		struct sockaddr_in from;
		socklen_t fromlen = sizeof from;
		fd_set readable;
		ssize_t got;
		int maxfd = divert_fd > route_fd ? divert_fd : route_fd, status;

		FD_ZERO(&readable);
		FD_SET(divert_fd, &readable);
		if (route_fd != -1)
			FD_SET(route_fd, &readable);
		if (select(maxfd + 1, &readable, NULL, NULL, NULL) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "select");
		}
		if (route_fd != -1 && FD_ISSET(route_fd, &readable))
			handle_routing_message(route_fd);
		if (addr_from_interface_pending) {
			addr_from_interface_pending = 0;
			(void)alias_from_interface(if_name);
		}
		if (!FD_ISSET(divert_fd, &readable))
			continue;
		got = recvfrom(divert_fd, packet, sizeof packet, 0, (struct sockaddr *)&from, &fromlen);
		if (got == -1) {
			if (errno != EINTR)
				warn("recvfrom");
			continue;
		}
		if (from.sin_addr.s_addr == INADDR_ANY) {
			count_out++;
			LibAliasOut(la, packet, IP_MAXPACKET);
		} else {
			count_in++;
			status = LibAliasIn(la, packet, IP_MAXPACKET);
			if (status == PKT_ALIAS_IGNORED && deny_incoming) {
				count_dropped++;
				continue;	/* never written back: the shim drops it */
			}
		}
		got = ntohs(((struct ip *)packet)->ip_len);
		if (sendto(divert_fd, packet, (size_t)got, 0, (struct sockaddr *)&from, sizeof from) != got)
			warn("sendto");
	}
	printf("mini_natd: out=%lu in=%lu dropped=%lu\n", count_out, count_in, count_dropped);
	log_event("exit out=%lu in=%lu dropped=%lu", count_out, count_in, count_dropped);
	close(divert_fd);
	if (route_fd != -1)
		close(route_fd);
	LibAliasUninit(la);
	return 0;
}
