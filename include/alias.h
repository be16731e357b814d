/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * alias.h: the public C interface of nalias, a drop-in replacement for
 * FreeBSD's libalias (libalias.so.7).
 *
 * Data model.  A `struct libalias` is one NAT instance: an alias address, a
 * mode word, and a table of links.  A link (`struct alias_link`) binds an
 * inside endpoint to an alias endpoint for one remote endpoint (or for any
 * remote, when it was made by a redirect).  Outbound packets go through
 * LibAliasOut(), which finds or creates the link and rewrites the source;
 * inbound packets go through LibAliasIn(), which finds the link and
 * rewrites the destination.  Both take a pointer to an IPv4 header at the
 * start of a buffer of `maxpacketsize` bytes and rewrite it in place;
 * nothing outside those bytes is ever read or written.
 *
 * The first part of this file declares exactly FreeBSD's API: the instance
 * calls (LibAlias*), the legacy single-instance calls (PacketAlias*), the
 * PKT_ALIAS_* mode flags and return codes, all with FreeBSD's values.  The
 * last part declares nalias extensions; they carry the same prefix and are
 * marked as such.  Nothing here depends on anything but <sys/types.h> and
 * <netinet/in.h>, and the file compiles as C89 (with `long long`), C99 and C++.
 */
#ifndef _ALIAS_H_
#define _ALIAS_H_

#include <sys/types.h>
#include <netinet/in.h>

#if defined(__GNUC__) && __GNUC__ >= 4
#define LIBALIAS_API __attribute__((visibility("default")))
#else
#define LIBALIAS_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The instance and the link handle are opaque. */
struct libalias;
struct alias_link;

/* FreeBSD's size for the scratch buffers its protocol modules format
 * rewritten payload text in. */
#define LIBALIAS_BUF_SIZE 128

/* ------------------------------------------------------------------------
 * Instance API (FreeBSD 5.x and later).
 * ------------------------------------------------------------------------ */

/* Initialization and control functions. */
LIBALIAS_API struct libalias *LibAliasInit(struct libalias *);
LIBALIAS_API void LibAliasSetAddress(struct libalias *, struct in_addr _addr);
LIBALIAS_API void LibAliasSetAliasPortRange(struct libalias *,
    unsigned short _port_low, unsigned short _port_high);
LIBALIAS_API void LibAliasSetFWBase(struct libalias *, unsigned int _base,
    unsigned int _num);
LIBALIAS_API void LibAliasSetSkinnyPort(struct libalias *, unsigned int _port);
LIBALIAS_API unsigned int LibAliasSetMode(struct libalias *,
    unsigned int _flags, unsigned int _mask);
LIBALIAS_API void LibAliasUninit(struct libalias *);

/* Packet handling functions. */
LIBALIAS_API int LibAliasIn(struct libalias *, void *_ptr, int _maxpacketsize);
LIBALIAS_API int LibAliasOut(struct libalias *, void *_ptr, int _maxpacketsize);
LIBALIAS_API int LibAliasOutTry(struct libalias *, void *_ptr,
    int _maxpacketsize, int _create);
LIBALIAS_API int LibAliasUnaliasOut(struct libalias *, void *_ptr,
    int _maxpacketsize);

/* Port and address redirection functions. */
LIBALIAS_API int LibAliasAddServer(struct libalias *, struct alias_link *_lnk,
    struct in_addr _addr, unsigned short _port);
LIBALIAS_API struct alias_link *LibAliasRedirectAddr(struct libalias *,
    struct in_addr _src_addr, struct in_addr _alias_addr);
LIBALIAS_API int LibAliasRedirectDynamic(struct libalias *,
    struct alias_link *_lnk);
LIBALIAS_API void LibAliasRedirectDelete(struct libalias *,
    struct alias_link *_lnk);
LIBALIAS_API struct alias_link *LibAliasRedirectPort(struct libalias *,
    struct in_addr _src_addr, unsigned short _src_port,
    struct in_addr _dst_addr, unsigned short _dst_port,
    struct in_addr _alias_addr, unsigned short _alias_port,
    unsigned char _proto);
LIBALIAS_API struct alias_link *LibAliasRedirectProto(struct libalias *,
    struct in_addr _src_addr, struct in_addr _dst_addr,
    struct in_addr _alias_addr, unsigned char _proto);

/* Fragment handling functions. */
LIBALIAS_API void LibAliasFragmentIn(struct libalias *, void *_ptr,
    void *_ptr_fragment);
LIBALIAS_API void *LibAliasGetFragment(struct libalias *, void *_ptr);
LIBALIAS_API int LibAliasSaveFragment(struct libalias *, void *_ptr);

/* Miscellaneous functions. */
LIBALIAS_API int LibAliasCheckNewLink(struct libalias *);
LIBALIAS_API unsigned short LibAliasInternetChecksum(struct libalias *,
    unsigned short *_ptr, int _nbytes);
LIBALIAS_API void LibAliasSetTarget(struct libalias *,
    struct in_addr _target_addr);

/* Transparent proxying routines. */
LIBALIAS_API int LibAliasProxyRule(struct libalias *, const char *_cmd);

/* Module handling API (userland). */
LIBALIAS_API int LibAliasLoadModule(char *);
LIBALIAS_API int LibAliasUnLoadAllModule(void);
LIBALIAS_API int LibAliasRefreshModules(void);

/* ------------------------------------------------------------------------
 * Legacy single-instance API (FreeBSD 3.x/4.x, Apple natd, old ppp).  Each
 * call forwards to one process-wide instance.
 * ------------------------------------------------------------------------ */

LIBALIAS_API void PacketAliasInit(void);
LIBALIAS_API void PacketAliasSetAddress(struct in_addr _addr);
LIBALIAS_API void PacketAliasSetFWBase(unsigned int _base, unsigned int _num);
LIBALIAS_API void PacketAliasSetSkinnyPort(unsigned int _port);
LIBALIAS_API unsigned int PacketAliasSetMode(unsigned int _flags,
    unsigned int _mask);
LIBALIAS_API void PacketAliasUninit(void);
LIBALIAS_API int PacketAliasIn(char *_ptr, int _maxpacketsize);
LIBALIAS_API int PacketAliasOut(char *_ptr, int _maxpacketsize);
LIBALIAS_API int PacketUnaliasOut(char *_ptr, int _maxpacketsize);
LIBALIAS_API int PacketAliasAddServer(struct alias_link *_lnk,
    struct in_addr _addr, unsigned short _port);
LIBALIAS_API struct alias_link *PacketAliasRedirectAddr(
    struct in_addr _src_addr, struct in_addr _alias_addr);
LIBALIAS_API int PacketAliasRedirectDynamic(struct alias_link *_lnk);
LIBALIAS_API void PacketAliasRedirectDelete(struct alias_link *_lnk);
LIBALIAS_API struct alias_link *PacketAliasRedirectPort(
    struct in_addr _src_addr, unsigned short _src_port,
    struct in_addr _dst_addr, unsigned short _dst_port,
    struct in_addr _alias_addr, unsigned short _alias_port,
    unsigned char _proto);
LIBALIAS_API struct alias_link *PacketAliasRedirectProto(
    struct in_addr _src_addr, struct in_addr _dst_addr,
    struct in_addr _alias_addr, unsigned char _proto);
LIBALIAS_API void PacketAliasFragmentIn(char *_ptr, char *_ptr_fragment);
LIBALIAS_API char *PacketAliasGetFragment(char *_ptr);
LIBALIAS_API int PacketAliasSaveFragment(char *_ptr);
LIBALIAS_API int PacketAliasCheckNewLink(void);
LIBALIAS_API unsigned short PacketAliasInternetChecksum(unsigned short *_ptr,
    int _nbytes);
LIBALIAS_API void PacketAliasSetTarget(struct in_addr _target_addr);
LIBALIAS_API int PacketAliasProxyRule(const char *_cmd);

/* ------------------------------------------------------------------------
 * Return codes and mode flags (FreeBSD values).
 * ------------------------------------------------------------------------ */

/* Return codes. */
#define PKT_ALIAS_ERROR			-1
#define PKT_ALIAS_OK			1
#define PKT_ALIAS_IGNORED		2
#define PKT_ALIAS_UNRESOLVED_FRAGMENT	3
#define PKT_ALIAS_FOUND_HEADER_FRAGMENT	4

/* Record link creation and deletion statistics in /var/log/alias.log. */
#define PKT_ALIAS_LOG			0x01
/* Refuse new inbound flows that no link or redirect accounts for. */
#define PKT_ALIAS_DENY_INCOMING		0x02
/* Try to keep the source port as the alias port (on by default). */
#define PKT_ALIAS_SAME_PORTS		0x04
/* Bind a placeholder socket for each partially specified link's port. */
#define PKT_ALIAS_USE_SOCKETS		0x08
/* Alias only RFC 1918 sources. */
#define PKT_ALIAS_UNREGISTERED_ONLY	0x10
/* Flush dynamic links when the alias address changes (on by default). */
#define PKT_ALIAS_RESET_ON_ADDR_CHANGE	0x20
/* Apply transparent-proxy rules only; no address translation. */
#define PKT_ALIAS_PROXY_ONLY		0x40
/* Swap the meaning of LibAliasIn() and LibAliasOut(). */
#define PKT_ALIAS_REVERSE		0x80
/* Punch ipfw holes for data connections (FreeBSD ipfw only). */
#define PKT_ALIAS_PUNCH_FW		0x100
/* ipfw nat: leave this instance out of `nat global` lookups. */
#define PKT_ALIAS_SKIP_GLOBAL		0x200
/* Like UNREGISTERED_ONLY, and also alias RFC 6598 (100.64/10) sources. */
#define PKT_ALIAS_UNREGISTERED_CGN	0x400
/* UDP endpoint-independent mapping and filtering (RFC 4787 REQ-1, REQ-8). */
#define PKT_ALIAS_UDP_EIM		0x800

/* ------------------------------------------------------------------------
 * nalias extensions.  Not in FreeBSD's libalias; programs that use them
 * can test for NALIAS_VERSION_NUMBER.
 * ------------------------------------------------------------------------ */

#define NALIAS_VERSION_MAJOR	1
#define NALIAS_VERSION_MINOR	0
#define NALIAS_VERSION_PATCH	0
#define NALIAS_VERSION_NUMBER	(NALIAS_VERSION_MAJOR * 10000 + \
    NALIAS_VERSION_MINOR * 100 + NALIAS_VERSION_PATCH)

/* The library's version, NALIAS_VERSION_NUMBER of the build. */
LIBALIAS_API unsigned int LibAliasVersionNumber(void);

/*
 * Time source.  By default an instance reads the monotonic clock once per
 * packet, in seconds.  A program replaying a capture, or a test simulating
 * days of traffic, installs its own: `now` returns seconds on any fixed
 * epoch and must never go backwards.  NULL restores the default.
 */
typedef unsigned int (*libalias_clock_fn)(void *_ctx);
LIBALIAS_API void LibAliasSetClock(struct libalias *, libalias_clock_fn _now,
    void *_ctx);

/*
 * Link limit.  An instance holds at most this many dynamic links (redirects
 * do not count against it).  When it is full, expired links are reclaimed
 * first; if none is, the packet that would create a link is refused with
 * PKT_ALIAS_ERROR and nothing else changes: established flows keep working.
 * Returns 0, or -1 for a limit of 0.
 */
#define LIBALIAS_DEFAULT_LINK_LIMIT	2097152u
LIBALIAS_API int LibAliasSetLinkLimit(struct libalias *, unsigned int _max);
LIBALIAS_API unsigned int LibAliasGetLinkLimit(struct libalias *);

/* Counters: links alive now by kind (as in the LOG line), and totals. */
struct alias_stats {
	unsigned int icmp, udp, tcp, sctp, pptp, proto, frag_id, frag_ptr;
	unsigned int total;		/* links alive, redirects included */
	unsigned long long created;	/* links created since LibAliasInit */
	unsigned long long expired;	/* links removed by expiry */
	unsigned long long refused;	/* links refused at the link limit */
};
LIBALIAS_API int LibAliasGetStats(struct libalias *, struct alias_stats *);

/* One link as LibAliasForEachLink() reports it.  Ports in network order. */
#define LIBALIAS_LINK_PERMANENT	0x01	/* redirect: never expires */
#define LIBALIAS_LINK_PARTIAL	0x02	/* remote address or port unknown */
struct alias_link_info {
	unsigned char proto;		/* IP protocol; 0 for address, fragment and PPTP call links */
	unsigned char flags;		/* LIBALIAS_LINK_* */
	unsigned short src_port, dst_port, alias_port;
	struct in_addr src_addr, dst_addr, alias_addr;
	unsigned int idle;		/* seconds since last used */
	unsigned int timeout;		/* idle seconds before expiry; 0 = never */
};
/* Calls `fn` for each link until it returns non-zero; returns that value. */
typedef int (*libalias_link_fn)(const struct alias_link_info *, void *_ctx);
LIBALIAS_API int LibAliasForEachLink(struct libalias *, libalias_link_fn _fn,
    void *_ctx);

/*
 * ESP/IKE proxy (on by default): many inside IPsec clients behind one alias
 * address.  IKE to a peer's UDP 500 keeps alias port 500 for every client
 * and is demultiplexed by its SPIs; ESP is bound to its client by SPI; NAT-T
 * (UDP 4500) links live 300 s idle instead of 60 s.  See docs/ipsec.md.
 */
#define LIBALIAS_IPSEC_ESP	1	/* an ESP SA pair: spi_in, spi_out */
#define LIBALIAS_IPSEC_IKE	2	/* an IKE exchange: ike_spi_i, ike_spi_r */
struct alias_ipsec_binding {
	unsigned char kind;		/* LIBALIAS_IPSEC_* */
	unsigned short host_port;	/* IKE: the client's UDP port, network order */
	struct in_addr host;		/* inside client */
	struct in_addr peer;		/* remote IPsec gateway */
	struct in_addr alias;		/* alias address used toward the peer */
	unsigned int spi_in;		/* ESP SPI the peer sends with; 0 = not learnt yet */
	unsigned int spi_out;		/* ESP SPI the client sends with; 0 = none yet */
	unsigned long long ike_spi_i;	/* IKE initiator SPI (cookie) */
	unsigned long long ike_spi_r;	/* IKE responder SPI; 0 = no answer yet */
	unsigned int age;		/* seconds since the entry was created */
	unsigned int idle;		/* seconds since its last packet */
};
/* Turns the module on (non-zero) or off; off forgets all bindings and ESP
 * takes libalias's generic path.  Returns the previous setting, -1 on error. */
LIBALIAS_API int LibAliasIpsecSetEnabled(struct libalias *, int _on);
/* Idle timeouts in seconds; 0 restores a default (IKE 3600, SPI 7200,
 * pending claim 60), values above INT_MAX are clamped to it.  Returns 0,
 * or -1 on error. */
LIBALIAS_API int LibAliasIpsecSetTimeouts(struct libalias *,
    unsigned int _ike_idle, unsigned int _spi_idle, unsigned int _pending);
/* Copies up to `_max` live bindings to `_out` (may be NULL with 0) and
 * returns how many there are in all, or -1 on error. */
LIBALIAS_API int LibAliasIpsecGetBindings(struct libalias *,
    struct alias_ipsec_binding *_out, unsigned int _max);

#ifdef __cplusplus
}
#endif

#endif /* !_ALIAS_H_ */
