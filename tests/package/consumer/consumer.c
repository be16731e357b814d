/* SPDX-License-Identifier: BSD-2-Clause
 *
 * consumer: a program built against an installed nalias, the way a user
 * builds one.  It checks that it runs on the library under the expected
 * root (argv[1]), that header and library versions agree, and that a UDP
 * packet sent out is translated with a valid checksum.  Exit 0 on success.
 */
#define _GNU_SOURCE
#include <alias.h>

#include <arpa/inet.h>
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

static unsigned short sum16(const unsigned char *p, int n)
{
	unsigned long s = 0;
	int i;

	for (i = 0; i + 1 < n; i += 2)
		s += (unsigned long)(p[i] << 8 | p[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (unsigned short)s;
}

int main(int argc, char **argv)
{
	/* 10.0.0.1:5000 -> 198.51.100.1:53, UDP, 4 bytes of payload. */
	unsigned char pkt[1500] = {
		0x45, 0, 0, 32, 0x12, 0x34, 0, 0, 64, 17, 0, 0,
		10, 0, 0, 1, 198, 51, 100, 1,
		0x13, 0x88, 0, 53, 0, 12, 0, 0, 'n', 'a', 't', '!'
	};
	struct in_addr alias;
	struct libalias *la;
	Dl_info info;
	int rc;

	if (argc < 2) {
		fprintf(stderr, "usage: consumer ROOT\n");
		return 2;
	}
	if (!dladdr((void *)LibAliasInit, &info) || !info.dli_fname ||
	    strncmp(info.dli_fname, argv[1], strlen(argv[1])) != 0) {
		fprintf(stderr, "libalias came from %s, not from under %s\n",
		    info.dli_fname ? info.dli_fname : "?", argv[1]);
		return 1;
	}
	if (LibAliasVersionNumber() != NALIAS_VERSION_NUMBER) {
		fprintf(stderr, "header %u, library %u\n", NALIAS_VERSION_NUMBER,
		    LibAliasVersionNumber());
		return 1;
	}
	pkt[10] = 0, pkt[11] = 0;
	{
		unsigned short c = (unsigned short)~sum16(pkt, 20);
		pkt[10] = (unsigned char)(c >> 8), pkt[11] = (unsigned char)c;
	}
	la = LibAliasInit(NULL);
	inet_pton(AF_INET, "203.0.113.1", &alias);
	LibAliasSetAddress(la, alias);
	rc = LibAliasOut(la, pkt, sizeof(pkt));
	if (rc != PKT_ALIAS_OK || memcmp(pkt + 12, &alias, 4) != 0 ||
	    sum16(pkt, 20) != 0xffff) {
		fprintf(stderr, "LibAliasOut: rc %d, source %u.%u.%u.%u, header sum %04x\n",
		    rc, pkt[12], pkt[13], pkt[14], pkt[15], sum16(pkt, 20));
		LibAliasUninit(la);
		return 1;
	}
	LibAliasUninit(la);
	printf("ok: %s, nalias %u\n", info.dli_fname, LibAliasVersionNumber());
	return 0;
}
