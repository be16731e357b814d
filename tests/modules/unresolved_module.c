/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * unresolved_module.c: a module whose handler calls a function the process
 * does not define, as a FreeBSD module calling a libalias-internal function
 * nalias does not export would.  Bound lazily it would load and then kill
 * the process on its first packet (TCP out to port 7000); the loader must
 * refuse it instead.
 */
#include <sys/types.h>
#include <netinet/in.h>
#include <stddef.h>

#include <alias.h>
#include <alias_mod.h>

#define UNRESOLVED_PORT 7000

/* Defined nowhere: the dynamic linker cannot bind it. */
void nalias_test_never_exported(struct libalias *, struct alias_link *);

static int
fingerprint(struct libalias *la, struct alias_data *ah)
{
	(void)la;
	return (ah->dport != NULL && *ah->dport == htons(UNRESOLVED_PORT) ? 0 : -1);
}

static int
protohandler(struct libalias *la, struct ip *pip, struct alias_data *ah)
{
	(void)pip;
	nalias_test_never_exported(la, ah->lnk);
	return (0);
}

struct proto_handler handlers[] = {
	{ .pri = 801, .dir = OUT, .proto = TCP, .fingerprint = &fingerprint,
	  .protohandler = &protohandler },
	{ EOH }
};

moduledata_t alias_mod = { "alias_unresolved", NULL, NULL };
