/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * c_consumer.c: a plain C program against <alias.h>, built three ways by
 * tests/abi/CMakeLists.txt (gnu89, c99 -pedantic-errors, and as C++ through
 * c_consumer_cxx.cpp).  It runs one UDP round trip through the library
 * (out from an inside host, the reply back in) and one port redirect, and
 * exits non-zero if any rewritten field or checksum is wrong.  Written in
 * the subset of C that all three dialects accept.
 */
#include <alias.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static int failures = 0;

#define EXPECT(cond)                                                   \
	do {                                                           \
		if (!(cond)) {                                         \
			fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, \
			    #cond);                                    \
			failures++;                                    \
		}                                                      \
	} while (0)

static unsigned short
fold(unsigned long sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (unsigned short)sum;
}

/* Sum of 16-bit big-endian words. */
static unsigned long
sum_words(const unsigned char *p, size_t len, unsigned long sum)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (unsigned long)((p[i] << 8) | p[i + 1]);
	if (len & 1)
		sum += (unsigned long)(p[len - 1] << 8);
	return sum;
}

static void
put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static unsigned
get16(const unsigned char *p)
{
	return (unsigned)((p[0] << 8) | p[1]);
}

static unsigned long
udp_sum(const unsigned char *pkt)
{
	unsigned len = get16(pkt + 2) - 20;
	unsigned long sum = sum_words(pkt + 12, 8, 0);

	sum += 17 + len;
	return sum_words(pkt + 20, len, sum);
}

/* A UDP datagram with valid IP and UDP checksums. */
static void
build_udp(unsigned char *pkt, const char *src, unsigned sport,
    const char *dst, unsigned dport)
{
	static const char payload[] = "hello";
	struct in_addr a;

	memset(pkt, 0, 128);
	pkt[0] = 0x45;
	put16(pkt + 2, 20 + 8 + 5);
	pkt[8] = 64;
	pkt[9] = 17;
	inet_pton(AF_INET, src, &a);
	memcpy(pkt + 12, &a, 4);
	inet_pton(AF_INET, dst, &a);
	memcpy(pkt + 16, &a, 4);
	put16(pkt + 20, sport);
	put16(pkt + 22, dport);
	put16(pkt + 24, 8 + 5);
	memcpy(pkt + 28, payload, 5);
	put16(pkt + 10, (unsigned short)~fold(sum_words(pkt, 20, 0)));
	put16(pkt + 26, (unsigned short)~fold(udp_sum(pkt)));
}

static int
checksums_ok(const unsigned char *pkt)
{
	return fold(sum_words(pkt, 20, 0)) == 0xffff &&
	    fold(udp_sum(pkt)) == 0xffff;
}

static int
addr_is(const unsigned char *field, const char *dotted)
{
	struct in_addr a;

	inet_pton(AF_INET, dotted, &a);
	return memcmp(field, &a, 4) == 0;
}

int
main(void)
{
	unsigned char pkt[128];
	struct libalias *la;
	struct alias_link *lnk;
	struct in_addr masq, inside, any;
	unsigned aport;

	inet_pton(AF_INET, "85.214.10.12", &masq);
	inet_pton(AF_INET, "10.0.0.1", &inside);
	any.s_addr = INADDR_ANY;

	la = LibAliasInit(NULL);
	EXPECT(la != NULL);
	if (la == NULL)
		return 1;
	LibAliasSetAddress(la, masq);
	EXPECT(LibAliasSetMode(la, 0, 0) ==
	    (PKT_ALIAS_SAME_PORTS | PKT_ALIAS_USE_SOCKETS |
	    PKT_ALIAS_RESET_ON_ADDR_CHANGE));
	LibAliasSetMode(la, PKT_ALIAS_DENY_INCOMING,
	    PKT_ALIAS_DENY_INCOMING | PKT_ALIAS_SAME_PORTS);

	/* Out: the source becomes the alias address and a port >= 0x8000. */
	build_udp(pkt, "10.0.0.1", 5353, "12.20.30.40", 53);
	EXPECT(LibAliasOut(la, pkt, sizeof(pkt)) == PKT_ALIAS_OK);
	EXPECT(addr_is(pkt + 12, "85.214.10.12"));
	aport = get16(pkt + 20);
	EXPECT(aport >= 0x8000);
	EXPECT(checksums_ok(pkt));

	/* The reply comes back to the inside host. */
	build_udp(pkt, "12.20.30.40", 53, "85.214.10.12", aport);
	EXPECT(LibAliasIn(la, pkt, sizeof(pkt)) == PKT_ALIAS_OK);
	EXPECT(addr_is(pkt + 16, "10.0.0.1"));
	EXPECT(get16(pkt + 22) == 5353);
	EXPECT(checksums_ok(pkt));

	/* A port redirect opens one port despite DENY_INCOMING. */
	lnk = LibAliasRedirectPort(la, inside, htons(69), any, 0, masq,
	    htons(6969), IPPROTO_UDP);
	EXPECT(lnk != NULL);
	build_udp(pkt, "12.20.30.41", 40000, "85.214.10.12", 6969);
	EXPECT(LibAliasIn(la, pkt, sizeof(pkt)) == PKT_ALIAS_OK);
	EXPECT(addr_is(pkt + 16, "10.0.0.1"));
	EXPECT(get16(pkt + 22) == 69);
	EXPECT(checksums_ok(pkt));
	build_udp(pkt, "12.20.30.41", 40000, "85.214.10.12", 6970);
	EXPECT(LibAliasIn(la, pkt, sizeof(pkt)) == PKT_ALIAS_IGNORED);

	EXPECT(LibAliasVersionNumber() == NALIAS_VERSION_NUMBER);
	LibAliasUninit(la);
	if (failures == 0)
		printf("c_consumer: ok\n");
	return failures == 0 ? 0 : 1;
}
