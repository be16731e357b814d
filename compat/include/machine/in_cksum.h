/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * <machine/in_cksum.h> for Linux (nalias compat).  natd only includes it;
 * the few helpers FreeBSD declares here are given as plain C so other
 * libalias users that call them also build.  All values are one's-complement
 * sums over 16-bit words in network byte order (RFC 1071); in_cksum_hdr()
 * returns the checksum to store, the others return partial sums.
 */
#ifndef NALIAS_COMPAT_MACHINE_IN_CKSUM_H
#define NALIAS_COMPAT_MACHINE_IN_CKSUM_H

#include "nalias-compat.h"
#include <netinet/ip.h>
#include <string.h>

static inline u_short
nalias_compat_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (u_short)sum;
}

/* a + b in one's-complement arithmetic. */
static inline u_short
in_addword(u_short a, u_short b)
{
	return nalias_compat_fold((uint64_t)a + b);
}

/* Sum of three 32-bit words, as used for pseudo-headers. */
static inline u_short
in_pseudo(uint32_t a, uint32_t b, uint32_t c)
{
	uint64_t sum = (uint64_t)a + b + c;

	return nalias_compat_fold((sum & 0xffffffff) + (sum >> 32));
}

/* Checksum of an IPv4 header of ip_hl words, to store in ip_sum. */
static inline u_short
in_cksum_hdr(const struct ip *ip)
{
	const unsigned char *bytes = (const unsigned char *)ip;
	size_t len = (size_t)ip->ip_hl << 2;
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2) {
		uint16_t word;

		memcpy(&word, bytes + i, sizeof word);
		sum += word;
	}
	return (u_short)~nalias_compat_fold(sum);
}

#endif /* NALIAS_COMPAT_MACHINE_IN_CKSUM_H */
