/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Loads freebsd_style_module.so (path in argv[1]) through LibAliasLoadModule
 * and checks that its handler sees a UDP datagram to port 7 going out and
 * its answer coming back, and that the packets are still translated.
 */
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "alias.h"

static void
udp_datagram(unsigned char *p, const char *src, unsigned short sport, const char *dst, unsigned short dport)
{
	struct in_addr a;
	memset(p, 0, 28);
	p[0] = 0x45;
	p[3] = 28;
	p[8] = 64;
	p[9] = IPPROTO_UDP;
	inet_pton(AF_INET, src, &a);
	memcpy(p + 12, &a, 4);
	inet_pton(AF_INET, dst, &a);
	memcpy(p + 16, &a, 4);
	p[20] = (unsigned char)(sport >> 8);
	p[21] = (unsigned char)sport;
	p[22] = (unsigned char)(dport >> 8);
	p[23] = (unsigned char)dport;
	p[25] = 8;
}

int
main(int argc, char **argv)
{
	unsigned char out[1500], in[1500];
	struct libalias *la;
	struct in_addr alias;
	void *self;
	int *seen;
	unsigned short aport;
	int failures = 0;

	if (argc != 2)
		return (2);
	if (LibAliasLoadModule(argv[1]) != 0) {
		fprintf(stderr, "LibAliasLoadModule(%s) failed\n", argv[1]);
		return (1);
	}
	self = dlopen(argv[1], RTLD_NOW | RTLD_NOLOAD);
	seen = self ? (int *)dlsym(self, "fbsd_style_seen") : NULL;
	if (seen == NULL) {
		fprintf(stderr, "module not resident\n");
		return (1);
	}
	la = LibAliasInit(NULL);
	inet_pton(AF_INET, "85.214.10.12", &alias);
	LibAliasSetAddress(la, alias);

	udp_datagram(out, "10.0.0.1", 40000, "12.20.30.40", 7);
	if (LibAliasOut(la, out, sizeof out) != PKT_ALIAS_OK || memcmp(out + 12, &alias, 4) != 0)
		failures++;
	aport = (unsigned short)(out[20] << 8 | out[21]);
	udp_datagram(in, "12.20.30.40", 7, "85.214.10.12", aport);
	if (LibAliasIn(la, in, sizeof in) != PKT_ALIAS_OK || in[16] != 10 || in[19] != 1)
		failures++;
	if (*seen != 2) {
		fprintf(stderr, "handler saw %d packets, expected 2\n", *seen);
		failures++;
	}
	LibAliasUninit(la);
	LibAliasUnLoadAllModule();
	dlclose(self);
	return (failures ? 1 : 0);
}
