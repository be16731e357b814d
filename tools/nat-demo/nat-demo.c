/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * nat-demo: drives libalias through a short built-in scenario and prints each
 * translation as a table, so an admin can see what the library does without
 * any configuration.  Plain C99 against the public header only: it doubles as
 * the smallest example of a third-party program using nalias.
 *
 * Scenario: an inside LAN 10.0.0.0/24 behind the alias address 203.0.113.1;
 * TCP and UDP flows out and their replies, an ICMP echo and reply, and a port
 * redirect (203.0.113.1:8080 -> 10.0.0.20:80) reached from outside.
 */
#include <alias.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define DEMO_BUF 256

static uint16_t sum16(const uint8_t *p, size_t n, uint32_t acc)
{
	size_t i;
	for (i = 0; i + 1 < n; i += 2)
		acc += (uint32_t)((p[i] << 8) | p[i + 1]);
	if (n & 1)
		acc += (uint32_t)(p[n - 1] << 8);
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static uint16_t get16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }

/* Builds an IPv4 datagram with a TCP, UDP or ICMP echo header; checksums valid. */
static void build(uint8_t *b, uint8_t proto, const char *src, uint16_t sport,
    const char *dst, uint16_t dport, uint8_t tcp_flags)
{
	size_t l4 = proto == IPPROTO_TCP ? 20 : 8;
	uint32_t pseudo = 0;
	size_t i;
	memset(b, 0, DEMO_BUF);
	b[0] = 0x45;
	put16(b + 2, (uint16_t)(20 + l4));
	b[8] = 64;
	b[9] = proto;
	inet_pton(AF_INET, src, b + 12);
	inet_pton(AF_INET, dst, b + 16);
	put16(b + 10, sum16(b, 20, 0));
	if (proto == IPPROTO_ICMP) {
		b[20] = (uint8_t)tcp_flags; /* ICMP type */
		put16(b + 24, sport);       /* identifier */
		put16(b + 26, 1);
		put16(b + 22, sum16(b + 20, l4, 0));
		return;
	}
	put16(b + 20, sport);
	put16(b + 22, dport);
	if (proto == IPPROTO_TCP) {
		b[32] = 5 << 4;
		b[33] = tcp_flags;
		put16(b + 34, 65535);
	} else {
		put16(b + 24, (uint16_t)l4);
	}
	for (i = 12; i < 20; i += 2)
		pseudo += get16(b + i);
	pseudo += proto + (uint32_t)l4;
	put16(b + 20 + (proto == IPPROTO_TCP ? 16 : 6), sum16(b + 20, l4, pseudo));
}

static const char *code_name(int r)
{
	switch (r) {
	case PKT_ALIAS_OK: return "OK";
	case PKT_ALIAS_IGNORED: return "IGNORED";
	case PKT_ALIAS_ERROR: return "ERROR";
	case PKT_ALIAS_UNRESOLVED_FRAGMENT: return "UNRESOLVED_FRAGMENT";
	case PKT_ALIAS_FOUND_HEADER_FRAGMENT: return "FOUND_HEADER_FRAGMENT";
	}
	return "?";
}

static void endpoint(char *out, size_t n, const uint8_t *b, int source)
{
	char a[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, b + (source ? 12 : 16), a, sizeof a);
	if (b[9] == IPPROTO_ICMP)
		snprintf(out, n, "%s id %u", a, get16(b + 24));
	else
		snprintf(out, n, "%s:%u", a, get16(b + 20 + (source ? 0 : 2)));
}

static int step(struct libalias *la, int outbound, const char *what, uint8_t *b)
{
	char s0[40], d0[40], s1[40], d1[40];
	int r;
	endpoint(s0, sizeof s0, b, 1);
	endpoint(d0, sizeof d0, b, 0);
	r = outbound ? LibAliasOut(la, b, DEMO_BUF) : LibAliasIn(la, b, DEMO_BUF);
	endpoint(s1, sizeof s1, b, 1);
	endpoint(d1, sizeof d1, b, 0);
	printf("%-3s %-22s %-21s > %-21s  =>  %-21s > %-21s %s\n", outbound ? "out" : "in",
	    what, s0, d0, s1, d1, code_name(r));
	return r;
}

int main(void)
{
	struct libalias *la = LibAliasInit(NULL);
	struct in_addr alias, server, any;
	struct alias_stats st;
	uint8_t b[DEMO_BUF];
	uint16_t aport;
	int failures = 0;

	if (la == NULL) {
		fprintf(stderr, "nat-demo: LibAliasInit failed\n");
		return 1;
	}
	inet_pton(AF_INET, "203.0.113.1", &alias);
	inet_pton(AF_INET, "10.0.0.20", &server);
	any.s_addr = INADDR_ANY;
	LibAliasSetAddress(la, alias);
	LibAliasSetMode(la, 0, PKT_ALIAS_SAME_PORTS | PKT_ALIAS_USE_SOCKETS);
	if (LibAliasRedirectPort(la, server, htons(80), any, 0, alias, htons(8080), IPPROTO_TCP) == NULL)
		failures++;

	printf("nalias %u.%u.%u demo: LAN 10.0.0.0/24 behind 203.0.113.1, redirect :8080 -> 10.0.0.20:80\n\n",
	    NALIAS_VERSION_MAJOR, NALIAS_VERSION_MINOR, NALIAS_VERSION_PATCH);
	printf("%-3s %-22s %-45s      %-45s %s\n", "dir", "what", "before", "after", "result");

	build(b, IPPROTO_TCP, "10.0.0.5", 51000, "198.51.100.7", 443, 0x02);
	failures += step(la, 1, "TCP SYN (HTTPS)", b) != PKT_ALIAS_OK;
	aport = get16(b + 20);
	build(b, IPPROTO_TCP, "198.51.100.7", 443, "203.0.113.1", aport, 0x12);
	failures += step(la, 0, "TCP SYN+ACK reply", b) != PKT_ALIAS_OK;

	build(b, IPPROTO_UDP, "10.0.0.6", 40000, "192.0.2.53", 53, 0);
	failures += step(la, 1, "UDP DNS query", b) != PKT_ALIAS_OK;
	aport = get16(b + 20);
	build(b, IPPROTO_UDP, "192.0.2.53", 53, "203.0.113.1", aport, 0);
	failures += step(la, 0, "UDP DNS answer", b) != PKT_ALIAS_OK;

	build(b, IPPROTO_ICMP, "10.0.0.5", 0x1d2c, "198.51.100.9", 0, 8);
	failures += step(la, 1, "ICMP echo request", b) != PKT_ALIAS_OK;
	aport = get16(b + 24);
	build(b, IPPROTO_ICMP, "198.51.100.9", aport, "203.0.113.1", 0, 0);
	failures += step(la, 0, "ICMP echo reply", b) != PKT_ALIAS_OK;

	build(b, IPPROTO_TCP, "198.51.100.77", 60000, "203.0.113.1", 8080, 0x02);
	failures += step(la, 0, "TCP SYN to redirect", b) != PKT_ALIAS_OK;
	build(b, IPPROTO_TCP, "10.0.0.20", 80, "198.51.100.77", 60000, 0x12);
	failures += step(la, 1, "server's SYN+ACK", b) != PKT_ALIAS_OK;

	build(b, IPPROTO_UDP, "198.51.100.66", 5000, "203.0.113.1", 9999, 0);
	LibAliasSetMode(la, PKT_ALIAS_DENY_INCOMING, PKT_ALIAS_DENY_INCOMING);
	failures += step(la, 0, "unsolicited (deny_in)", b) != PKT_ALIAS_IGNORED;

	LibAliasGetStats(la, &st);
	printf("\nlinks alive: tcp=%u udp=%u icmp=%u total=%u (created %llu)\n", st.tcp, st.udp, st.icmp,
	    st.total, st.created);
	LibAliasUninit(la);
	if (failures)
		printf("nat-demo: %d step(s) did not translate as expected\n", failures);
	return failures ? 1 : 0;
}
