/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * alias_mod.h: the protocol-handler (module) interface of nalias, laid out
 * as FreeBSD's libalias declares it, so that a third-party handler written
 * for libalias builds against nalias unchanged.
 *
 * Data model.  Handlers form one process-wide chain ordered by `pri` (lowest
 * first).  For each TCP or UDP packet (and each packet of another IP
 * protocol, "IP") the library walks the handlers registered for that
 * direction and protocol class; the first whose fingerprint() returns 0 has
 * its protohandler() called, and the walk stops.  `struct alias_data` gives
 * the handler the link and pointers to the addresses and ports the library is
 * about to write.  A handler may rewrite the packet in place but never past
 * `maxpktsize` bytes from the IP header.
 */
#ifndef _ALIAS_MOD_H_
#define _ALIAS_MOD_H_

#include <sys/types.h>
#include <sys/queue.h>
#include <stdint.h>
#include <netinet/in.h>

#include "alias.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ip;

/* Directions. */
#define IN	0x0001
#define OUT	0x0002
#define NODIR	0x4000	/* end-of-handlers marker */

/* Protocol classes. */
#define IP	0x01
#define TCP	0x02
#define UDP	0x04

struct alias_data {
	struct alias_link	*lnk;
	struct in_addr		*oaddr;		/* original address */
	struct in_addr		*aaddr;		/* alias address */
	uint16_t		*aport;		/* alias port */
	uint16_t		*sport, *dport;	/* source & destination port */
	uint16_t		maxpktsize;	/* max packet size */
};

struct proto_handler {
	u_int pri;				/* handler priority */
	int16_t dir;				/* flow direction */
	uint8_t proto;				/* working protocol */
	/* fingerprint: 0 when the handler takes this packet */
	int (*fingerprint)(struct libalias *, struct alias_data *);
	/* the handler itself */
	int (*protohandler)(struct libalias *, struct ip *, struct alias_data *);
	TAILQ_ENTRY(proto_handler) link;
};

/* The last element of a handler array. */
#define EOH	.dir = NODIR

LIBALIAS_API int LibAliasAttachHandlers(struct proto_handler *);
LIBALIAS_API int LibAliasDetachHandlers(struct proto_handler *);

/* Module descriptor a loadable .so exports as `alias_mod` (with `handlers`). */
typedef int (*libalias_modevent_t)(void *, int, void *);
typedef struct libalias_moduledata {
	const char *name;
	libalias_modevent_t evhand;
	void *priv;
} moduledata_t;

#define MOD_LOAD	0
#define MOD_UNLOAD	1

/* Module events libalias passes to evhand. */
#define DLL_LEN		32

#ifdef __cplusplus
}
#endif

#endif /* !_ALIAS_MOD_H_ */
