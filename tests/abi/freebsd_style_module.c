/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * A protocol module written the way FreeBSD's are (module_t event handler,
 * moduledata_t alias_mod, a handlers array ending in EOH, the alias.h and
 * alias_mod.h names only), to show that such source builds against nalias's
 * headers with -Wall -Wextra -Werror and loads.  Its handler counts the UDP
 * packets to port 7 it sees, in both directions.
 */
#include <sys/types.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <errno.h>
#include <stddef.h>

#include "alias.h"
#include "alias_mod.h"

int fbsd_style_seen = 0;
static char scratch[LIBALIAS_BUF_SIZE];

static int
fingerprint(struct libalias *la, struct alias_data *ah)
{
	(void)la;
	if (ah->dport == NULL || ah->sport == NULL || ah->lnk == NULL)
		return (-1);
	if (ntohs(*ah->dport) == 7 || ntohs(*ah->sport) == 7)
		return (0);
	return (-1);
}

static int
protohandler(struct libalias *la, struct ip *pip, struct alias_data *ah)
{
	(void)la;
	(void)pip;
	(void)ah;
	scratch[fbsd_style_seen % LIBALIAS_BUF_SIZE] = 1;
	fbsd_style_seen++;
	return (0);
}

struct proto_handler handlers[] = {
	{
	  .pri = 777,
	  .dir = IN|OUT,
	  .proto = UDP,
	  .fingerprint = &fingerprint,
	  .protohandler = &protohandler
	},
	{ EOH }
};

static int
mod_handler(module_t mod, int type, void *data)
{
	(void)mod;
	(void)data;
	switch (type) {
	case MOD_LOAD:
		return (0);
	case MOD_UNLOAD:
		return (0);
	case MOD_SHUTDOWN:
	case MOD_QUIESCE:
	default:
		return (EINVAL);
	}
}

moduledata_t alias_mod = {
	"alias_fbsd_style", mod_handler, NULL
};
