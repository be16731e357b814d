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

/*
 * As in libalias: attaching stops with EEXIST (positive) at an entry whose
 * pri, dir and proto equal an attached handler's (built-in ones included),
 * the entries before it staying attached; detaching skips entries that are
 * not attached and returns 0.  nalias-only failures are negative: -EINVAL
 * for a NULL array, -ENOMEM (the chain is then unchanged).
 */
LIBALIAS_API int LibAliasAttachHandlers(struct proto_handler *);
LIBALIAS_API int LibAliasDetachHandlers(struct proto_handler *);

/*
 * Module descriptor a loadable .so exports as `alias_mod` (with `handlers`),
 * under the names FreeBSD's userland alias_mod.h gives it, so that a module
 * written for FreeBSD builds unchanged.  nalias passes MOD_LOAD and
 * MOD_UNLOAD to evhand, with a null module_t.
 */
typedef enum modeventtype {
	MOD_LOAD,
	MOD_UNLOAD,
	MOD_SHUTDOWN,
	MOD_QUIESCE
} modeventtype_t;
typedef struct module *module_t;
typedef int (*modeventhand_t)(module_t, int /* modeventtype_t */, void *);
typedef modeventhand_t libalias_modevent_t;	/* nalias's earlier name */
typedef struct moduledata {
	const char *name;
	modeventhand_t evhand;
	void *priv;
} moduledata_t;

/* Longest module name, NUL included; a loaded module's record. */
#define DLL_LEN		32
struct dll {
	char name[DLL_LEN];
	void *handle;
	TAILQ_ENTRY(dll) next;
};

/*
 * libalias-internal functions that modules import (FreeBSD declares them in
 * alias_local.h), with libalias's prototypes: addresses, ports and TCP
 * sequence numbers in network order.  Functions that take only a link and
 * need its instance (SetExpire, SetDestCallId, and the alias address of a
 * link bound to "the instance's address") work from inside a handler call.
 */
#define GET_ALIAS_PORT	-1
#define GET_ALIAS_ID	GET_ALIAS_PORT

/* Seconds on the clock of the instance whose handler is running. */
LIBALIAS_API extern int LibAliasTime;

LIBALIAS_API struct alias_link *AddLink(struct libalias *, struct in_addr _src_addr,
    struct in_addr _dst_addr, struct in_addr _alias_addr, u_short _src_port,
    u_short _dst_port, int _alias_param, int _link_type);
LIBALIAS_API struct alias_link *FindUdpTcpOut(struct libalias *, struct in_addr _src_addr,
    struct in_addr _dst_addr, u_short _src_port, u_short _dst_port, u_char _proto, int _create);
LIBALIAS_API struct alias_link *FindUdpTcpIn(struct libalias *, struct in_addr _dst_addr,
    struct in_addr _alias_addr, u_short _dst_port, u_short _alias_port, u_char _proto, int _create);
LIBALIAS_API struct alias_link *FindIcmpOut(struct libalias *, struct in_addr _src_addr,
    struct in_addr _dst_addr, u_short _id, int _create);
LIBALIAS_API struct alias_link *FindIcmpIn(struct libalias *, struct in_addr _dst_addr,
    struct in_addr _alias_addr, u_short _id_alias, int _create);
LIBALIAS_API struct alias_link *FindProtoOut(struct libalias *, struct in_addr _src_addr,
    struct in_addr _dst_addr, u_char _proto);
LIBALIAS_API struct alias_link *FindProtoIn(struct libalias *, struct in_addr _dst_addr,
    struct in_addr _alias_addr, u_char _proto);
LIBALIAS_API struct alias_link *FindRtspOut(struct libalias *, struct in_addr _src_addr,
    struct in_addr _dst_addr, u_short _src_port, u_short _alias_port, u_char _proto);
LIBALIAS_API int FindNewPortGroup(struct libalias *, struct in_addr _dst_addr,
    struct in_addr _alias_addr, u_short _src_port, u_short _dst_port, u_short _port_count,
    u_char _proto, u_char _align);
LIBALIAS_API struct in_addr FindAliasAddress(struct libalias *, struct in_addr _original_addr);
LIBALIAS_API struct in_addr FindOriginalAddress(struct libalias *, struct in_addr _alias_addr);
LIBALIAS_API struct in_addr GetDefaultAliasAddress(struct libalias *);

LIBALIAS_API struct alias_link *AddPptp(struct libalias *, struct in_addr _src_addr,
    struct in_addr _dst_addr, struct in_addr _alias_addr, uint16_t _src_call_id);
LIBALIAS_API struct alias_link *FindPptpOutByCallId(struct libalias *, struct in_addr _src_addr,
    struct in_addr _dst_addr, uint16_t _src_call_id);
LIBALIAS_API struct alias_link *FindPptpInByCallId(struct libalias *, struct in_addr _dst_addr,
    struct in_addr _alias_addr, uint16_t _dst_call_id);
LIBALIAS_API struct alias_link *FindPptpOutByPeerCallId(struct libalias *, struct in_addr _src_addr,
    struct in_addr _dst_addr, uint16_t _dst_call_id);
LIBALIAS_API struct alias_link *FindPptpInByPeerCallId(struct libalias *, struct in_addr _dst_addr,
    struct in_addr _alias_addr, uint16_t _alias_call_id);
LIBALIAS_API void SetDestCallId(struct alias_link *, uint16_t _cid);

LIBALIAS_API struct in_addr GetOriginalAddress(struct alias_link *);
LIBALIAS_API struct in_addr GetDestAddress(struct alias_link *);
LIBALIAS_API struct in_addr GetAliasAddress(struct alias_link *);
LIBALIAS_API u_short GetOriginalPort(struct alias_link *);
LIBALIAS_API u_short GetAliasPort(struct alias_link *);
LIBALIAS_API u_short GetDestPort(struct alias_link *);
LIBALIAS_API struct in_addr GetProxyAddress(struct alias_link *);
LIBALIAS_API void SetProxyAddress(struct alias_link *, struct in_addr _addr);
LIBALIAS_API u_short GetProxyPort(struct alias_link *);
LIBALIAS_API void SetProxyPort(struct alias_link *, u_short _port);
LIBALIAS_API int GetStateIn(struct alias_link *);
LIBALIAS_API int GetStateOut(struct alias_link *);
LIBALIAS_API void SetProtocolFlags(struct alias_link *, int _pflags);
LIBALIAS_API int GetProtocolFlags(struct alias_link *);
LIBALIAS_API void SetExpire(struct alias_link *, int _expire);	/* 0 delete, -1 permanent */

LIBALIAS_API void SetAckModified(struct alias_link *);
LIBALIAS_API int GetAckModified(struct alias_link *);
LIBALIAS_API int GetDeltaAckIn(u_long _ack, struct alias_link *);
LIBALIAS_API int GetDeltaSeqOut(u_long _seq, struct alias_link *);
LIBALIAS_API void AddSeq(struct alias_link *, int _delta, u_int _ip_hl, u_short _ip_len,
    u_long _th_seq, u_int _th_off);

LIBALIAS_API u_short TcpChecksum(struct ip *);
LIBALIAS_API u_short IpChecksum(struct ip *);
LIBALIAS_API void DifferentialChecksum(u_short *_cksum, void *_new, void *_old, int _n);
LIBALIAS_API void PunchFWHole(struct alias_link *);	/* no ipfw on Linux: does nothing */

#ifdef __cplusplus
}
#endif

#endif /* !_ALIAS_MOD_H_ */
