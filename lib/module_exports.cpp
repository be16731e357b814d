// SPDX-License-Identifier: BSD-2-Clause
//
// module_exports.cpp: the libalias-internal functions that FreeBSD's protocol
// modules import from libalias.so (alias_local.h: AddLink, FindUdpTcpOut,
// SetExpire, GetAliasPort, AddSeq, DifferentialChecksum, ...), with
// libalias's prototypes, so that a module built for libalias resolves them
// against nalias at dlopen time.  Each is a thin wrapper over lib/db.hpp:
// addresses and ports stay in network order, as both sides keep them.
//
// Differences from libalias, all on inputs where libalias would crash or
// corrupt memory: a NULL link or instance is answered with NULL/0 or
// ignored; an unknown link type or alias port parameter makes AddLink fail.
#include "module_exports.hpp"

#include "c_boundary.hpp"
#include "checksum.hpp"
#include "db.hpp"

#include "../include/alias_mod.h"

#include <netinet/in.h>

#include <cstring>

namespace nalias {

namespace {

// libalias's link-type numbers for the links that are not IP protocols
// (alias_db.c: IPPROTO_MAX + 1 ... + 4, IPPROTO_MAX being 256).
constexpr int kLibaliasLinkFragmentId = 257;
constexpr int kLibaliasLinkFragmentPtr = 258;
constexpr int kLibaliasLinkAddr = 259;
constexpr int kLibaliasLinkPptp = 260;
constexpr int kLibaliasGetAliasPort = -1;
// libalias draws FindNewPortGroup bases this many times (GET_NEW_PORT_MAX_ATTEMPTS).
constexpr int kPortGroupAttempts = 20;

// 0 when the type has no nalias equivalent (saved-fragment links live in
// the FragmentStore, not in the link table).
uint16_t link_type_from_libalias(int t) noexcept {
    if (t >= 0 && t < 256) return static_cast<uint16_t>(t);
    switch (t) {
    case kLibaliasLinkFragmentId: return kLinkFragmentId;
    case kLibaliasLinkAddr: return kLinkAddress;
    case kLibaliasLinkPptp: return kLinkPptp;
    case kLibaliasLinkFragmentPtr:
    default: return 0;
    }
}

bool is_udp_tcp(u_char proto) noexcept { return proto == IPPROTO_UDP || proto == IPPROTO_TCP; }

in_addr to_in(uint32_t a) noexcept {
    in_addr r;
    r.s_addr = a;
    return r;
}

// PPTP call links are few and found by fields that are not a whole index
// key (the peer's call id arrives later), so they are found by a scan, as
// libalias scans its PPTP list.
template <class Pred> Link* find_pptp(Instance& la, Pred&& pred) noexcept {
    Link* found = nullptr;
    la.links.for_each([&](Link& l) {
        if (!found && l.type == kLinkPptp && pred(l)) found = &l;
    });
    return found;
}

// The instance a link belongs to, found from the link's own address (its
// pool chunk names the table, the table its instance), as libalias links
// point back to theirs: link-only calls work inside and outside handlers.
Instance* instance_of(const Link& l) noexcept { return static_cast<Instance*>(LinkTable::of(l).instance); }

uint32_t alias_of(const Link& l) noexcept { return effective_alias(*instance_of(l), l); }

}  // namespace

}  // namespace nalias

using namespace nalias;

extern "C" {

// Seconds on the clock of the instance whose handler is running (libalias
// shares one wall-clock value between instances; nalias has one clock per
// instance, LibAliasSetClock).
LIBALIAS_API int LibAliasTime = 0;

}  // extern "C"

namespace nalias {

void publish_handler_clock(const Instance& la) noexcept {
    // Instances on other threads write it too: an atomic store keeps that a
    // benign race (the value is only ever "a recent clock reading").
    __atomic_store_n(&LibAliasTime, static_cast<int>(la.now), __ATOMIC_RELAXED);
}

}  // namespace nalias

extern "C" {

// ----- link creation and lookup ----------------------------------------

LIBALIAS_API struct alias_link* AddLink(struct libalias* la, struct in_addr src_addr, struct in_addr dst_addr,
                                        struct in_addr alias_addr, u_short src_port, u_short dst_port,
                                        int alias_param, int link_type) {
    Instance* i = unwrap(la);
    const uint16_t type = link_type_from_libalias(link_type);
    if (!i || type == 0) return nullptr;
    if (alias_param != kLibaliasGetAliasPort && (alias_param < 0 || alias_param > 0xffff)) return nullptr;
    return add_link(*i, src_addr.s_addr, dst_addr.s_addr, alias_addr.s_addr, src_port, dst_port,
                    alias_param == kLibaliasGetAliasPort ? kGetAliasPort : alias_param, type);
}

LIBALIAS_API struct alias_link* FindUdpTcpOut(struct libalias* la, struct in_addr src_addr, struct in_addr dst_addr,
                                              u_short src_port, u_short dst_port, u_char proto, int create) {
    Instance* i = unwrap(la);
    if (!i || !is_udp_tcp(proto)) return nullptr;
    return find_udp_tcp_out(*i, src_addr.s_addr, dst_addr.s_addr, src_port, dst_port, proto, create != 0);
}

LIBALIAS_API struct alias_link* FindUdpTcpIn(struct libalias* la, struct in_addr dst_addr, struct in_addr alias_addr,
                                             u_short dst_port, u_short alias_port, u_char proto, int create) {
    Instance* i = unwrap(la);
    if (!i || !is_udp_tcp(proto)) return nullptr;
    return find_udp_tcp_in(*i, dst_addr.s_addr, alias_addr.s_addr, dst_port, alias_port, proto, create != 0);
}

LIBALIAS_API struct alias_link* FindIcmpOut(struct libalias* la, struct in_addr src_addr, struct in_addr dst_addr,
                                            u_short id, int create) {
    Instance* i = unwrap(la);
    return i ? find_icmp_out(*i, src_addr.s_addr, dst_addr.s_addr, id, create != 0) : nullptr;
}

LIBALIAS_API struct alias_link* FindIcmpIn(struct libalias* la, struct in_addr dst_addr, struct in_addr alias_addr,
                                           u_short id_alias, int create) {
    Instance* i = unwrap(la);
    return i ? find_icmp_in(*i, dst_addr.s_addr, alias_addr.s_addr, id_alias, create != 0) : nullptr;
}

LIBALIAS_API struct alias_link* FindProtoOut(struct libalias* la, struct in_addr src_addr, struct in_addr dst_addr,
                                             u_char proto) {
    Instance* i = unwrap(la);
    return i ? find_proto_out(*i, src_addr.s_addr, dst_addr.s_addr, proto) : nullptr;
}

LIBALIAS_API struct alias_link* FindProtoIn(struct libalias* la, struct in_addr dst_addr, struct in_addr alias_addr,
                                            u_char proto) {
    Instance* i = unwrap(la);
    return i ? find_proto_in(*i, dst_addr.s_addr, alias_addr.s_addr, proto) : nullptr;
}

// The link RTSP/TFTP handlers open for a reply stream: any remote port,
// with the alias port the handler chose (FindNewPortGroup).
LIBALIAS_API struct alias_link* FindRtspOut(struct libalias* la, struct in_addr src_addr, struct in_addr dst_addr,
                                            u_short src_port, u_short alias_port, u_char proto) {
    Instance* i = unwrap(la);
    if (!i || !is_udp_tcp(proto)) return nullptr;
    Link* l = find_link_out(*i, proto, src_addr.s_addr, src_port, dst_addr.s_addr, 0, true);
    if (l) return l;
    return add_link(*i, src_addr.s_addr, dst_addr.s_addr, find_alias_address(*i, src_addr.s_addr), src_port, 0,
                    alias_port, proto);
}

// A base alias port (network order) for `port_count` consecutive ports that
// no link toward (dst_addr, dst_port) uses, even when `align`; 0 if none.
LIBALIAS_API int FindNewPortGroup(struct libalias* la, struct in_addr dst_addr, struct in_addr alias_addr,
                                  u_short src_port, u_short dst_port, u_short port_count, u_char proto,
                                  u_char align) {
    Instance* i = unwrap(la);
    if (!i || !is_udp_tcp(proto) || port_count == 0) return 0;
    auto random_base = [&] { return static_cast<uint16_t>(i->port_lower + i->random.below(i->port_count)); };
    uint16_t base = (i->mode & PKT_ALIAS_SAME_PORTS) ? ntohs(src_port) : random_base();
    for (int attempt = 0; attempt < kPortGroupAttempts; ++attempt, base = random_base()) {
        if (align) base &= 0xfffe;
        if (base == 0 || uint32_t{base} + port_count - 1 > 0xffff) continue;
        bool free = true;
        for (uint32_t j = 0; j < port_count && free; ++j) {
            const uint16_t p = htons(static_cast<uint16_t>(base + j));
            free = find_link_in(*i, proto, alias_addr.s_addr, p, dst_addr.s_addr, dst_port, false) == nullptr;
        }
        if (free) return htons(base);
    }
    return 0;
}

LIBALIAS_API struct in_addr FindAliasAddress(struct libalias* la, struct in_addr original_addr) {
    Instance* i = unwrap(la);
    return i ? to_in(find_alias_address(*i, original_addr.s_addr)) : original_addr;
}

LIBALIAS_API struct in_addr FindOriginalAddress(struct libalias* la, struct in_addr alias_addr) {
    Instance* i = unwrap(la);
    return i ? to_in(find_original_address(*i, alias_addr.s_addr)) : alias_addr;
}

LIBALIAS_API struct in_addr GetDefaultAliasAddress(struct libalias* la) {
    Instance* i = unwrap(la);
    return to_in(i ? i->alias_addr : 0);
}

// ----- PPTP call links ---------------------------------------------------
// Fields as libalias uses them: src_port = the client's call id, dst_port =
// the server's call id (SetDestCallId), alias_port = the aliased call id.

LIBALIAS_API struct alias_link* AddPptp(struct libalias* la, struct in_addr src_addr, struct in_addr dst_addr,
                                        struct in_addr alias_addr, uint16_t src_call_id) {
    Instance* i = unwrap(la);
    if (!i) return nullptr;
    return add_link(*i, src_addr.s_addr, dst_addr.s_addr, alias_addr.s_addr, src_call_id, 0, kGetAliasPort,
                    kLinkPptp);
}

LIBALIAS_API struct alias_link* FindPptpOutByCallId(struct libalias* la, struct in_addr src_addr,
                                                    struct in_addr dst_addr, uint16_t src_call_id) {
    Instance* i = unwrap(la);
    if (!i) return nullptr;
    Link* l = find_pptp(*i, [&](const Link& x) {
        return x.src_addr == src_addr.s_addr && x.dst_addr == dst_addr.s_addr && x.src_port == src_call_id;
    });
    if (l) use_link(*i, *l);
    return l;
}

LIBALIAS_API struct alias_link* FindPptpOutByPeerCallId(struct libalias* la, struct in_addr src_addr,
                                                        struct in_addr dst_addr, uint16_t dst_call_id) {
    Instance* i = unwrap(la);
    if (!i) return nullptr;
    Link* l = find_pptp(*i, [&](const Link& x) {
        return x.src_addr == src_addr.s_addr && x.dst_addr == dst_addr.s_addr && x.dst_port == dst_call_id;
    });
    if (l) use_link(*i, *l);
    return l;
}

LIBALIAS_API struct alias_link* FindPptpInByCallId(struct libalias* la, struct in_addr dst_addr,
                                                   struct in_addr alias_addr, uint16_t dst_call_id) {
    Instance* i = unwrap(la);
    if (!i) return nullptr;
    Link* l = find_pptp(*i, [&](const Link& x) {
        return x.dst_port == dst_call_id && x.dst_addr == dst_addr.s_addr && effective_alias(*i, x) == alias_addr.s_addr;
    });
    if (l) use_link(*i, *l);
    return l;
}

LIBALIAS_API struct alias_link* FindPptpInByPeerCallId(struct libalias* la, struct in_addr dst_addr,
                                                       struct in_addr alias_addr, uint16_t alias_call_id) {
    Instance* i = unwrap(la);
    if (!i) return nullptr;
    return find_pptp(*i, [&](const Link& x) {
        return x.alias_port == alias_call_id && x.dst_addr == dst_addr.s_addr &&
               effective_alias(*i, x) == alias_addr.s_addr;
    });
}

// Re-keys the link with the server's call id (libalias ReLinks it, so the
// old handle is dead afterwards there too).
LIBALIAS_API void SetDestCallId(struct alias_link* lnk, uint16_t cid) {
    if (!lnk) return;
    Instance* i = instance_of(*lnk);
    relink(*i, lnk, lnk->src_addr, lnk->dst_addr, lnk->alias_addr, lnk->src_port, cid, lnk->alias_port, lnk->type);
}

// ----- link fields --------------------------------------------------------

LIBALIAS_API struct in_addr GetOriginalAddress(struct alias_link* lnk) {
    if (!lnk) return to_in(0);
    return to_in(original_address(*instance_of(*lnk), *lnk));
}

LIBALIAS_API struct in_addr GetDestAddress(struct alias_link* lnk) { return to_in(lnk ? lnk->dst_addr : 0); }
LIBALIAS_API struct in_addr GetAliasAddress(struct alias_link* lnk) { return to_in(lnk ? alias_of(*lnk) : 0); }
LIBALIAS_API u_short GetOriginalPort(struct alias_link* lnk) { return lnk ? lnk->src_port : 0; }
LIBALIAS_API u_short GetAliasPort(struct alias_link* lnk) { return lnk ? lnk->alias_port : 0; }
LIBALIAS_API u_short GetDestPort(struct alias_link* lnk) { return lnk ? lnk->dst_port : 0; }

LIBALIAS_API struct in_addr GetProxyAddress(struct alias_link* lnk) {
    return to_in(lnk && lnk->extra() ? lnk->extra()->proxy_addr : 0);
}
LIBALIAS_API void SetProxyAddress(struct alias_link* lnk, struct in_addr addr) {
    if (LinkExtra* e = lnk ? lnk->ensure_extra() : nullptr) e->proxy_addr = addr.s_addr;
}
LIBALIAS_API u_short GetProxyPort(struct alias_link* lnk) { return lnk && lnk->extra() ? lnk->extra()->proxy_port : 0; }
LIBALIAS_API void SetProxyPort(struct alias_link* lnk, u_short port) {
    if (LinkExtra* e = lnk ? lnk->ensure_extra() : nullptr) e->proxy_port = port;
}

LIBALIAS_API int GetStateIn(struct alias_link* lnk) { return lnk ? lnk->tcp_in : 0; }
LIBALIAS_API int GetStateOut(struct alias_link* lnk) { return lnk ? lnk->tcp_out : 0; }

LIBALIAS_API void SetProtocolFlags(struct alias_link* lnk, int pflags) {
    if (LinkExtra* e = lnk ? lnk->ensure_extra() : nullptr) e->protocol_flags = pflags;
}
LIBALIAS_API int GetProtocolFlags(struct alias_link* lnk) { return lnk && lnk->extra() ? lnk->extra()->protocol_flags : 0; }

// 0 ends the link, -1 makes it permanent, n > 0 sets its lifetime.
LIBALIAS_API void SetExpire(struct alias_link* lnk, int expire) {
    if (!lnk || expire < -1) return;
    Instance* i = instance_of(*lnk);
    if (expire == 0) {
        // libalias frees the link here, even the one whose packet the core
        // is still translating around the handler that asked (a use after
        // free there).  nalias makes it due instead (dynamic, if it was
        // permanent, as libalias clears LINK_PERMANENT first): no later
        // packet finds it, and the next lookup or sweep frees it.
        i->links.expire_soon(*lnk, i->now);
        return;
    }
    set_expire(*i, *lnk, expire);
}

// ----- TCP sequence tracking (all values in network order, as libalias) --

LIBALIAS_API void SetAckModified(struct alias_link* lnk) {
    if (lnk) lnk->flags |= kAckModified;
}
LIBALIAS_API int GetAckModified(struct alias_link* lnk) { return lnk && (lnk->flags & kAckModified) ? 1 : 0; }

LIBALIAS_API int GetDeltaSeqOut(u_long seq, struct alias_link* lnk) {
    return lnk ? delta_seq_out(*lnk, ntohl(static_cast<uint32_t>(seq))) : 0;
}
LIBALIAS_API int GetDeltaAckIn(u_long ack, struct alias_link* lnk) {
    return lnk ? delta_ack_in(*lnk, ntohl(static_cast<uint32_t>(ack))) : 0;
}

LIBALIAS_API void AddSeq(struct alias_link* lnk, int delta, u_int ip_hl, u_short ip_len, u_long th_seq,
                         u_int th_off) {
    if (!lnk) return;
    const int headers = static_cast<int>((ip_hl + th_off) << 2);
    const int data_len = static_cast<int>(ntohs(ip_len)) - headers;
    add_seq(*lnk, delta, ntohl(static_cast<uint32_t>(th_seq)), data_len > 0 ? static_cast<uint32_t>(data_len) : 0);
}

// ----- checksums and firewall ---------------------------------------------

// libalias's TcpChecksum sums the segment as it is, checksum field
// included: a module stores its result after zeroing th_sum, and a valid
// segment yields 0.  transport_checksum leaves the field out, so the field's
// value is added back in one's complement.
LIBALIAS_API u_short TcpChecksum(struct ip* pip) {
    if (!pip) return 0;
    const auto* p = reinterpret_cast<const uint8_t*>(pip);
    const std::size_t hl = static_cast<std::size_t>(p[wire::ip::kVerIhl] & 0x0f) * 4;
    const std::size_t len = wire::get_be16(p + wire::ip::kTotalLength);
    if (hl < wire::ip::kMinHeader || len < hl + wire::tcp::kMinHeader) return 0;
    const uint16_t without_field = csum::transport_checksum(p, hl, len, IPPROTO_TCP);
    uint32_t sum = static_cast<uint16_t>(~without_field) + uint32_t{wire::load16(p + hl + wire::tcp::kChecksum)};
    sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<u_short>(~sum);
}

LIBALIAS_API u_short IpChecksum(struct ip* pip) {
    if (!pip) return 0;
    const auto* p = reinterpret_cast<const uint8_t*>(pip);
    const std::size_t hl = static_cast<std::size_t>(p[wire::ip::kVerIhl] & 0x0f) * 4;
    if (hl < wire::ip::kMinHeader) return 0;
    return csum::internet_checksum(p, hl);
}

// Updates *cksum for `n` 16-bit words changed from `oldp` to `newp`, with
// libalias's arithmetic rather than RFC 1624's, so that a module gets the
// same bits it would from libalias: a signed running difference, folded to
// 16 bits, and complemented when it went negative.  The two differ only in
// which of 0x0000 and 0xffff stands for zero (libalias can return 0x0000,
// "no checksum" in UDP, where RFC 1624 never does); the core uses
// lib/checksum.hpp.
LIBALIAS_API void DifferentialChecksum(u_short* cksum, void* newp, void* oldp, int n) {
    if (!cksum || !newp || !oldp || n <= 0) return;
    const auto* nw = static_cast<const uint8_t*>(newp);
    const auto* ol = static_cast<const uint8_t*>(oldp);
    uint16_t start;
    std::memcpy(&start, cksum, 2);
    int64_t difference = start;  // 64 bits: n words of 0xffff cannot overflow it
    // Word offsets in size_t: a module may pass any int, and 2 * k must not overflow.
    for (std::size_t k = 0; k < static_cast<std::size_t>(n); ++k)
        difference += int64_t{wire::load16(ol + 2 * k)} - int64_t{wire::load16(nw + 2 * k)};
    const bool negative = difference < 0;
    uint64_t folded = static_cast<uint64_t>(negative ? -difference : difference);
    while (folded > 0xffff) folded = (folded >> 16) + (folded & 0xffff);
    const uint16_t result = static_cast<uint16_t>(negative ? ~folded : folded);
    std::memcpy(cksum, &result, 2);
}

// ipfw holes do not exist on Linux: PKT_ALIAS_PUNCH_FW has nothing to punch.
LIBALIAS_API void PunchFWHole(struct alias_link*) {}

}  // extern "C"
