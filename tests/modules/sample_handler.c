/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * sample_handler.c: a third-party protocol module, written the way modules
 * for FreeBSD's libalias are written, built as its own shared object from C
 * against the installed headers only (<alias.h>, <alias_mod.h>), and not
 * linked against libalias: every libalias function it calls is resolved
 * from the process when LibAliasLoadModule() dlopens it.
 *
 * It speaks a toy protocol on UDP port 5555 (outbound):
 *   "MARK" + 6 bytes  ->  "SEEN" + alias address (4) + alias port (2),
 *                        the UDP checksum patched with DifferentialChecksum;
 *   "OPEN" + port (2) ->  AddLink() opens a data link from the inside host's
 *                        `port` to any port of the peer, and the allocated
 *                        alias port replaces the 2 bytes (as FTP's PORT).
 * Build variants (for the loader's error paths): SAMPLE_VARIANT_TWIN has the
 * same module name; SAMPLE_VARIANT_NO_HANDLERS exports no `handlers`;
 * SAMPLE_VARIANT_STRICT (another name) returns its MOD_LOAD attach's result,
 * as a module written for the kernel's libalias does.
 */
#include <sys/types.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <alias.h>
#include <alias_mod.h>

#define SAMPLE_PORT	5555
#define SAMPLE_MARK_LEN	10	/* tag (4) + address (4) + port (2) */
#define SAMPLE_OPEN_LEN	6	/* tag (4) + port (2) */
#define SAMPLE_DATA_LINK_SECONDS 30

/* The UDP payload of a datagram the core has validated, if it holds `need` bytes. */
static unsigned char *
udp_payload(struct ip *pip, size_t need, size_t maxpktsize)
{
	unsigned char *p = (unsigned char *)pip;
	size_t hl = (size_t)(p[0] & 0x0f) * 4;
	size_t len = ((size_t)p[2] << 8) | p[3];

	if (len > maxpktsize || hl + sizeof(struct udphdr) + need > len)
		return (NULL);
	return (p + hl + sizeof(struct udphdr));
}

static int
fingerprint(struct libalias *la, struct alias_data *ah)
{
	(void)la;
	if (ah->dport == NULL || ah->lnk == NULL)
		return (-1);
	return (*ah->dport == htons(SAMPLE_PORT) ? 0 : -1);
}

static void
patch_udp(struct ip *pip, unsigned char *field, const unsigned char *value, int words)
{
	unsigned char *p = (unsigned char *)pip;
	unsigned char *sum = p + (size_t)(p[0] & 0x0f) * 4 + 6;
	u_short cksum;

	memcpy(&cksum, sum, 2);
	if (cksum != 0) {
		/* A zero checksum means "none" and stays zero. */
		DifferentialChecksum(&cksum, (void *)value, field, words);
		memcpy(sum, &cksum, 2);
	}
	memcpy(field, value, (size_t)words * 2);
}

static int
protohandler(struct libalias *la, struct ip *pip, struct alias_data *ah)
{
	unsigned char *data;
	unsigned char repl[SAMPLE_MARK_LEN];

	if ((data = udp_payload(pip, SAMPLE_OPEN_LEN, ah->maxpktsize)) == NULL)
		return (-1);
	if (memcmp(data, "MARK", 4) == 0) {
		struct in_addr alias;
		u_short aport;

		if (udp_payload(pip, SAMPLE_MARK_LEN, ah->maxpktsize) == NULL)
			return (-1);
		alias = GetAliasAddress(ah->lnk);
		aport = GetAliasPort(ah->lnk);
		memcpy(repl, "SEEN", 4);
		memcpy(repl + 4, &alias.s_addr, 4);
		memcpy(repl + 8, &aport, 2);
		patch_udp(pip, data, repl, SAMPLE_MARK_LEN / 2);
		return (0);
	}
	if (memcmp(data, "OPEN", 4) == 0) {
		struct alias_link *data_link;
		u_short port, aport;

		memcpy(&port, data + 4, 2);
		data_link = AddLink(la, GetOriginalAddress(ah->lnk),
		    GetDestAddress(ah->lnk), GetAliasAddress(ah->lnk), port, 0,
		    GET_ALIAS_PORT, IPPROTO_UDP);
		if (data_link == NULL)
			return (-1);
		SetExpire(data_link, SAMPLE_DATA_LINK_SECONDS);
		aport = GetAliasPort(data_link);
		memcpy(repl, "OPEN", 4);
		memcpy(repl + 4, &aport, 2);
		patch_udp(pip, data, repl, SAMPLE_OPEN_LEN / 2);
		return (0);
	}
	return (-1);
}

#ifndef SAMPLE_VARIANT_NO_HANDLERS
struct proto_handler handlers[] = {
	{
	  .pri = 500,
	  .dir = OUT,
	  .proto = UDP,
	  .fingerprint = &fingerprint,
	  .protohandler = &protohandler
	},
	{ EOH }
};
#else
static struct proto_handler unused_handlers[] = {
	{ .pri = 500, .dir = OUT, .proto = UDP, .fingerprint = &fingerprint,
	  .protohandler = &protohandler },
	{ EOH }
};
#endif

/* Events go to the file named by NALIAS_SAMPLE_EVENTS, for the tests. */
static void
record_event(const char *what)
{
	const char *path = getenv("NALIAS_SAMPLE_EVENTS");
	FILE *f;

	if (path == NULL || (f = fopen(path, "a")) == NULL)
		return;
	fprintf(f, "%s\n", what);
	fclose(f);
}

static int
mod_handler(module_t mod, int type, void *data)
{
	(void)mod;
	(void)data;
	switch (type) {
	case MOD_LOAD:
		record_event("load");
#ifndef SAMPLE_VARIANT_NO_HANDLERS
		/* What FreeBSD's stock modules do; a no-op after the loader's attach. */
#ifdef SAMPLE_VARIANT_STRICT
		return (LibAliasAttachHandlers(handlers));
#else
		LibAliasAttachHandlers(handlers);
#endif
#else
		(void)unused_handlers;
#endif
		return (0);
	case MOD_UNLOAD:
		record_event("unload");
		return (0);
	default:
		return (EINVAL);
	}
}

moduledata_t alias_mod = {
#ifdef SAMPLE_VARIANT_STRICT
	"alias_sample_strict", mod_handler, NULL
#else
	"alias_sample", mod_handler, NULL
#endif
};
