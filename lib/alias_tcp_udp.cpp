// SPDX-License-Identifier: BSD-2-Clause
//
// TCP and UDP translation (libalias's TcpAliasOut/In, UdpAliasOut/In).
//
// Order of work per packet, as libalias: proxy check, link lookup (or
// creation), TCP state, the protocol handler chain (which sees the packet
// before its addresses change), then the address/port rewrite with
// incremental checksum updates, then the TCP sequence/ack delta for streams
// a handler resized.
#include "handler.hpp"
#include "proxy.hpp"
#include "translate.hpp"

#include <netinet/ip.h>

#include <algorithm>

namespace nalias {

namespace {

using namespace wire;

struct L4 {
    uint8_t* hdr;
    uint8_t* cksum;
    bool udp;
    uint16_t sport() const noexcept { return load16(hdr + tcp::kSrcPort); }
    uint16_t dport() const noexcept { return load16(hdr + tcp::kDstPort); }
};

[[gnu::always_inline]] inline bool l4_view(const Datagram& d, L4& v) noexcept {
    if (d.proto == IPPROTO_TCP) {
        if (d.l4_len() < tcp::kMinHeader) return false;
        const std::size_t off = static_cast<std::size_t>(d.l4()[tcp::kDataOffset] >> 4) * 4;
        if (off < tcp::kMinHeader || off > d.l4_len()) return false;
        v = {d.l4(), d.l4() + tcp::kChecksum, false};
        return true;
    }
    // A UDP length beyond an unfragmented datagram is a mangled packet, as
    // libalias checks; a header fragment carries only part of the datagram
    // (FreeBSD EN-22:06 fixed the check refusing those).
    if (d.l4_len() < udp::kHeader) return false;
    if (!d.more_fragments() && get_be16(d.l4() + udp::kLength) > d.l4_len()) return false;
    v = {d.l4(), d.l4() + udp::kChecksum, true};
    return true;
}

constexpr int kHandlerBrokePacket = -(1 << 29);

uint16_t clamp_max(std::size_t max) noexcept { return static_cast<uint16_t>(std::min<std::size_t>(max, 0xffff)); }

// Runs the handler chain (the part past the port pre-filter).
[[gnu::noinline]] int run_chain(Instance& la, Datagram& d, int16_t dir, uint8_t cls, Link* l, uint32_t& oaddr,
                                uint32_t& aaddr, uint16_t& aport, L4& v) noexcept {
    uint16_t sport = v.sport(), dport = v.dport();
    in_addr o{oaddr}, a{aaddr};
    alias_data ad{l, &o, &a, &aport, &sport, &dport, clamp_max(d.max)};
    const int r = run_handlers(&la, dir, cls, reinterpret_cast<struct ip*>(d.ip), &ad);
    oaddr = o.s_addr;
    aaddr = a.s_addr;
    // A handler that left the datagram inconsistent (length beyond the
    // buffer, transport header no longer fitting) gets the packet refused.
    if (!d.refresh_length() || !l4_view(d, v)) return kHandlerBrokePacket;
    return r;
}

// Runs the handler chain; returns the chain's result or kNoHandler.  The
// pre-filter is inline: most packets stop there.
inline int dispatch(Instance& la, Datagram& d, int16_t dir, uint8_t cls, Link* l, uint32_t& oaddr, uint32_t& aaddr,
                    uint16_t& aport, L4& v) noexcept {
    if (!handlers_may_want(cls, v.sport(), v.dport())) return kNoHandler;
    return run_chain(la, d, dir, cls, l, oaddr, aaddr, aport, v);
}

}  // namespace

namespace {

// The outbound prelude TCP and UDP share (libalias's Tcp/UdpAliasOut): the
// proxy rule, the link lookup or creation, and the proxy bookkeeping.
// Returns 0 with `l` set when translation goes on, else the final result.
inline int outbound_link(Instance& la, Datagram& d, L4& v, uint8_t proto, bool create, Link*& l) noexcept {
    const bool udp = proto == IPPROTO_UDP;
    // libalias consults TCP proxy rules only when it may create the link;
    // LibAliasOutTry's probe leaves a TCP packet as it found it.
    const bool consult_proxy = la.proxy && (create || udp);
    const ProxyTarget proxy = consult_proxy ? proxy_check(la, d.src(), d.dst(), v.dport(), proto) : ProxyTarget{};
    if (proxy.type == kProxyNone && (la.mode & PKT_ALIAS_PROXY_ONLY)) return PKT_ALIAS_OK;
    const uint32_t orig_dst = d.dst();
    const uint16_t orig_dport = v.dport();
    if (proxy.type != kProxyNone) {
        if (proxy.server_port) set_l4_port(v.hdr + tcp::kDstPort, proxy.server_port, v.cksum, udp);
        set_addr_with_l4(d, ip::kDst, proxy.server_addr, v.cksum, udp);
    }
    l = find_udp_tcp_out(la, d.src(), d.dst(), v.sport(), v.dport(), proto, create);
    if (!l) return la.create_failed ? PKT_ALIAS_ERROR : PKT_ALIAS_IGNORED;
    use_link(la, *l);
    if (proxy.type != kProxyNone) {
        if (LinkExtra* e = l->ensure_extra()) {
            e->proxy_addr = orig_dst;
            e->proxy_port = orig_dport;
        }
        // encode_ip_hdr applies to UDP too, as in libalias's UdpAliasOut.
        proxy_modify(la, *l, d, proxy.type);
        if (!d.refresh_length() || !l4_view(d, v)) return PKT_ALIAS_IGNORED;
    }
    return 0;
}

// The inbound rewrites TCP and UDP share after the handlers: a transparent
// proxy's original destination becomes the source again, and the inside
// address the destination.
[[gnu::always_inline]] inline void restore_inbound_addresses(Datagram& d, const L4& v, const Link& l, uint32_t inside,
                                                             csum::BatchedUpdate& l4) noexcept {
    static_assert(tcp::kSrcPort == udp::kSrcPort);
    if (const LinkExtra* e = l.extra()) {
        if (e->proxy_port) set_l4_port(v.hdr + tcp::kSrcPort, e->proxy_port, l4);
        if (e->proxy_addr) set_addr_with_l4(d, ip::kSrc, e->proxy_addr, l4);
    }
    set_addr_with_l4(d, ip::kDst, inside, l4);
}

}  // namespace

int tcp_alias_out(Instance& la, Datagram& d, bool create) noexcept {
    L4 v;
    if (!l4_view(d, v)) return PKT_ALIAS_IGNORED;
    Link* l = nullptr;
    if (const int r = outbound_link(la, d, v, IPPROTO_TCP, create, l)) return r;
    uint32_t oaddr = d.src();
    uint32_t aaddr = effective_alias(la, *l);
    uint16_t aport = l->alias_port;
    tcp_monitor_out(la, *l, v.hdr[tcp::kFlags]);
    if (dispatch(la, d, kDirOut, kClassTcp, l, oaddr, aaddr, aport, v) == kHandlerBrokePacket) return PKT_ALIAS_IGNORED;

    // Port and address share one checksum update; the sequence delta after
    // it gives the same sum (one's-complement addition commutes).
    csum::BatchedUpdate l4(v.cksum);
    set_l4_port(v.hdr + tcp::kSrcPort, aport, l4);
    set_addr_with_l4(d, ip::kSrc, aaddr, l4);
    l4.commit(false);
    if (l->flags & kAckModified) {
        const uint32_t seq = get_be32(v.hdr + tcp::kSeq);
        const int delta = delta_seq_out(*l, seq);
        if (delta != 0) csum::patch32(v.hdr + tcp::kSeq, v.cksum, htonl(seq + static_cast<uint32_t>(delta)));
    }
    return PKT_ALIAS_OK;
}

int tcp_alias_in(Instance& la, Datagram& d) noexcept {
    L4 v;
    if (!l4_view(d, v)) return PKT_ALIAS_IGNORED;
    const bool create = !(la.mode & PKT_ALIAS_PROXY_ONLY);
    bool for_host = false;
    Link* l = find_udp_tcp_in(la, d.src(), d.dst(), v.sport(), v.dport(), IPPROTO_TCP, create, &for_host);
    if (!l) return for_host ? PKT_ALIAS_OK : la.create_failed ? PKT_ALIAS_ERROR : PKT_ALIAS_IGNORED;
    use_link(la, *l);
    uint32_t aaddr = effective_alias(la, *l);
    uint32_t oaddr = original_address(la, *l);
    uint16_t aport = v.dport();
    // The handler sees the destination port already restored, so the chain
    // is asked about that port.  Without a chain, every rewrite below shares
    // one checksum update; with one, the handler must find the sum right.
    const bool chain = handlers_may_want(kClassTcp, v.sport(), l->src_port);
    csum::BatchedUpdate l4(v.cksum);
    set_l4_port(v.hdr + tcp::kDstPort, l->src_port, l4);
    if (chain) {
        l4.commit(false);
        if (run_chain(la, d, kDirIn, kClassTcp, l, oaddr, aaddr, aport, v) == kHandlerBrokePacket) return PKT_ALIAS_IGNORED;
        l4 = csum::BatchedUpdate(v.cksum);
    }
    restore_inbound_addresses(d, v, *l, oaddr, l4);
    l4.commit(false);
    if (l->flags & kAckModified) {
        const uint32_t ack = get_be32(v.hdr + tcp::kAck);
        const int delta = delta_ack_in(*l, ack);
        if (delta != 0) csum::patch32(v.hdr + tcp::kAck, v.cksum, htonl(ack - static_cast<uint32_t>(delta)));
    }
    tcp_monitor_in(la, *l, v.hdr[tcp::kFlags]);
    return PKT_ALIAS_OK;
}

int udp_alias_out(Instance& la, Datagram& d, bool create) noexcept {
    L4 v;
    if (!l4_view(d, v)) return PKT_ALIAS_IGNORED;
    Link* l = nullptr;
    if (const int r = outbound_link(la, d, v, IPPROTO_UDP, create, l)) return r;
    uint32_t oaddr = d.src();
    uint32_t aaddr = effective_alias(la, *l);
    uint16_t aport = l->alias_port;
    if (dispatch(la, d, kDirOut, kClassUdp, l, oaddr, aaddr, aport, v) == kHandlerBrokePacket) return PKT_ALIAS_IGNORED;
    csum::BatchedUpdate l4(v.cksum);
    set_l4_port(v.hdr + udp::kSrcPort, aport, l4);
    set_addr_with_l4(d, ip::kSrc, aaddr, l4);
    l4.commit(true);
    return PKT_ALIAS_OK;
}

int udp_alias_in(Instance& la, Datagram& d) noexcept {
    L4 v;
    if (!l4_view(d, v)) return PKT_ALIAS_IGNORED;
    const bool create = !(la.mode & PKT_ALIAS_PROXY_ONLY);
    bool for_host = false;
    Link* l = find_udp_tcp_in(la, d.src(), d.dst(), v.sport(), v.dport(), IPPROTO_UDP, create, &for_host);
    if (!l) return for_host ? PKT_ALIAS_OK : la.create_failed ? PKT_ALIAS_ERROR : PKT_ALIAS_IGNORED;
    use_link(la, *l);
    uint32_t aaddr = effective_alias(la, *l);
    uint32_t oaddr = original_address(la, *l);
    uint16_t aport = v.dport();
    // As in tcp_alias_in: one checksum update unless a handler looks between.
    const bool chain = handlers_may_want(kClassUdp, v.sport(), l->src_port);
    csum::BatchedUpdate l4(v.cksum);
    set_l4_port(v.hdr + udp::kDstPort, l->src_port, l4);
    if (chain) {
        l4.commit(true);
        const int r = run_chain(la, d, kDirIn, kClassUdp, l, oaddr, aaddr, aport, v);
        if (r != kNoHandler && r < 0) return PKT_ALIAS_IGNORED;
        l4 = csum::BatchedUpdate(v.cksum);
    }
    restore_inbound_addresses(d, v, *l, oaddr, l4);
    l4.commit(true);
    return PKT_ALIAS_OK;
}

}  // namespace nalias
