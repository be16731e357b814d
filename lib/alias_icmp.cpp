// SPDX-License-Identifier: BSD-2-Clause
//
// ICMP translation (libalias's IcmpAliasOut/In and their 1/2 halves).
//
// Queries (echo, timestamp) and their replies are keyed by the ICMP
// identifier, which is aliased like a port.  Errors (unreachable, source
// quench, time exceeded, parameter problem) carry the head of the datagram
// that caused them; that embedded header is translated back (inbound) or
// forward (outbound) and every checksum it touches is updated: the embedded
// IP header checksum, the embedded UDP/TCP/ICMP checksum when it lies inside
// the message, and the outer ICMP checksum, which covers all of them.
#include "translate.hpp"

#include <netinet/in.h>

namespace nalias {

namespace {

using namespace wire;

bool is_error(uint8_t type) noexcept {
    return type == icmp::kUnreachable || type == icmp::kSourceQuench || type == icmp::kTimeExceeded ||
           type == icmp::kParamProblem;
}

// The datagram quoted in an ICMP error, bounded by the ICMP message.
struct Embedded {
    uint8_t* ip;
    std::size_t hl;
    uint8_t proto;
    uint8_t* l4;
    std::size_t l4_avail;  // bytes of the quoted transport header present
    uint32_t src() const noexcept { return load32(ip + wire::ip::kSrc); }
    uint32_t dst() const noexcept { return load32(ip + wire::ip::kDst); }
    uint16_t sport() const noexcept { return load16(l4); }
    uint16_t dport() const noexcept { return load16(l4 + 2); }
    // The quoted transport checksum, when it was quoted.
    uint8_t* l4_cksum() const noexcept {
        if (proto == IPPROTO_UDP && l4_avail >= udp::kHeader) return l4 + udp::kChecksum;
        if (proto == IPPROTO_TCP && l4_avail >= tcp::kChecksum + 2) return l4 + tcp::kChecksum;
        if (proto == IPPROTO_ICMP && l4_avail >= icmp::kHeader) return l4 + icmp::kChecksum;
        return nullptr;
    }
};

bool embedded_view(const Datagram& d, Embedded& e) noexcept {
    const std::size_t icmp_len = d.l4_len();
    if (icmp_len < icmp::kEmbedded + wire::ip::kMinHeader) return false;
    uint8_t* eip = d.l4() + icmp::kEmbedded;
    const std::size_t ehl = static_cast<std::size_t>(eip[0] & 0x0f) * 4;
    if ((eip[0] >> 4) != 4 || ehl < wire::ip::kMinHeader) return false;
    // RFC 792 quotes the header plus 64 bits of data; the ports or id are
    // within those 8 bytes, and nothing is read beyond what is present.
    if (icmp_len < icmp::kEmbedded + ehl + 8) return false;
    e = {eip, ehl, eip[wire::ip::kProtocol], eip + ehl, icmp_len - icmp::kEmbedded - ehl};
    return true;
}

// Writes a 16-bit word inside the ICMP payload, fixing the checksums that
// cover it: up to two inner ones (embedded IP header, embedded transport)
// and the outer ICMP checksum, which also covers the inner checksums.
void patch_quoted16(uint8_t* field, uint16_t value, uint8_t* inner_a, uint8_t* inner_b, bool inner_b_is_udp,
                    uint8_t* icmp_cksum) noexcept {
    const uint16_t old = load16(field);
    if (old == value) return;
    store16(field, value);
    csum::adjust16(icmp_cksum, old, value);
    auto fix_inner = [&](uint8_t* c, bool udp) {
        if (!c) return;
        const uint16_t before = load16(c);
        if (udp && before == 0) return;
        uint16_t after = csum::update16(before, old, value);
        if (udp && after == 0) after = 0xffff;
        store16(c, after);
        csum::adjust16(icmp_cksum, before, after);
    };
    fix_inner(inner_a, false);
    fix_inner(inner_b, inner_b_is_udp);
}

void patch_quoted32(uint8_t* field, uint32_t value, uint8_t* inner_a, uint8_t* inner_b, bool inner_b_is_udp,
                    uint8_t* icmp_cksum) noexcept {
    uint16_t halves[2];
    std::memcpy(halves, &value, 4);
    patch_quoted16(field, halves[0], inner_a, inner_b, inner_b_is_udp, icmp_cksum);
    patch_quoted16(field + 2, halves[1], inner_a, inner_b, inner_b_is_udp, icmp_cksum);
}

// The quoted address is in the quoted transport pseudo-header only for UDP/TCP.
uint8_t* pseudo_header_cksum(const Embedded& e) noexcept {
    return (e.proto == IPPROTO_UDP || e.proto == IPPROTO_TCP) ? e.l4_cksum() : nullptr;
}

// Query or reply outbound: alias the identifier and the source.
int icmp_query_out(Instance& la, Datagram& d, bool create, bool is_reply) noexcept {
    uint8_t* ic = d.l4();
    const uint16_t id = load16(ic + icmp::kId);
    Link* l = find_icmp_out(la, d.src(), d.dst(), id, create && !is_reply);
    if (!l) {
        // LibAliasOutTry(create = 0) translates only what has a link, replies too (libalias's IcmpAliasOut1).
        if (!is_reply || !create) return la.create_failed ? PKT_ALIAS_ERROR : PKT_ALIAS_IGNORED;
        // A reply to a query that reached the host or a static mapping
        // unsolicited: keep the identifier the peer chose, alias the source.
        d.set_src(find_alias_address(la, d.src()));
        return PKT_ALIAS_OK;
    }
    use_link(la, *l);
    csum::patch16(ic + icmp::kId, ic + icmp::kChecksum, l->alias_port);
    d.set_src(effective_alias(la, *l));
    return PKT_ALIAS_OK;
}

int icmp_query_in(Instance& la, Datagram& d) noexcept {
    uint8_t* ic = d.l4();
    bool for_host = false;
    Link* l = find_icmp_in(la, d.src(), d.dst(), load16(ic + icmp::kId), true, &for_host);
    if (!l) return for_host ? PKT_ALIAS_OK : PKT_ALIAS_IGNORED;
    use_link(la, *l);
    csum::patch16(ic + icmp::kId, ic + icmp::kChecksum, l->src_port);
    d.set_dst(original_address(la, *l));
    return PKT_ALIAS_OK;
}

// Error outbound: the inside host reports on a datagram it received from a
// remote peer (quoted src = peer, dst = inside host, after de-aliasing).
int icmp_error_out(Instance& la, Datagram& d) noexcept {
    Embedded e;
    if (!embedded_view(d, e)) return PKT_ALIAS_IGNORED;
    uint8_t* icsum = d.l4() + icmp::kChecksum;
    Link* l = nullptr;
    if (e.proto == IPPROTO_UDP || e.proto == IPPROTO_TCP)
        l = find_udp_tcp_out(la, e.dst(), e.src(), e.dport(), e.sport(), e.proto, false);
    else if (e.proto == IPPROTO_ICMP)
        l = find_icmp_out(la, e.dst(), e.src(), load16(e.l4 + icmp::kId), false);
    else
        l = find_link_out(la, e.proto, e.dst(), 0, e.src(), 0, false);
    if (!l) {
        // The NAT host reporting on unsolicited traffic it received itself
        // (a closed port, a traceroute probe): libalias has a link for that
        // traffic whose translation is the identity; nalias keeps no such
        // link (docs/differences.md), so it passes the error unchanged.
        const bool from_host = la.alias_addr != 0 && d.src() == la.alias_addr && e.dst() == la.alias_addr;
        return from_host ? PKT_ALIAS_OK : PKT_ALIAS_IGNORED;
    }
    const uint32_t alias = effective_alias(la, *l);
    uint8_t* eipsum = e.ip + wire::ip::kChecksum;
    patch_quoted32(e.ip + wire::ip::kDst, alias, eipsum, pseudo_header_cksum(e), e.proto == IPPROTO_UDP, icsum);
    if (e.proto == IPPROTO_UDP || e.proto == IPPROTO_TCP)
        patch_quoted16(e.l4 + 2, l->alias_port, nullptr, e.l4_cksum(), e.proto == IPPROTO_UDP, icsum);
    else if (e.proto == IPPROTO_ICMP)
        patch_quoted16(e.l4 + icmp::kId, l->alias_port, e.l4_cksum(), nullptr, false, icsum);
    // RFC 5508 REQ-5: the error leaves with the NAT's public address, also
    // when an inside router (not the quoted host) generated it.
    d.set_src(alias);
    return PKT_ALIAS_OK;
}

// Error inbound: a remote router or host reports on a datagram we aliased
// (quoted src = alias endpoint, dst = remote peer).
int icmp_error_in(Instance& la, Datagram& d) noexcept {
    Embedded e;
    if (!embedded_view(d, e)) return PKT_ALIAS_IGNORED;
    uint8_t* icsum = d.l4() + icmp::kChecksum;
    Link* l = nullptr;
    if (e.proto == IPPROTO_UDP || e.proto == IPPROTO_TCP)
        l = find_udp_tcp_in(la, e.dst(), e.src(), e.dport(), e.sport(), e.proto, false);
    else if (e.proto == IPPROTO_ICMP)
        l = find_icmp_in(la, e.dst(), e.src(), load16(e.l4 + icmp::kId), false);
    else
        l = find_link_in(la, e.proto, e.src(), 0, e.dst(), 0, false);
    if (!l) return PKT_ALIAS_IGNORED;
    uint8_t* eipsum = e.ip + wire::ip::kChecksum;
    const uint32_t inside = original_address(la, *l);
    patch_quoted32(e.ip + wire::ip::kSrc, inside, eipsum, pseudo_header_cksum(e), e.proto == IPPROTO_UDP, icsum);
    if (e.proto == IPPROTO_UDP || e.proto == IPPROTO_TCP)
        patch_quoted16(e.l4, l->src_port, nullptr, e.l4_cksum(), e.proto == IPPROTO_UDP, icsum);
    else if (e.proto == IPPROTO_ICMP)
        patch_quoted16(e.l4 + icmp::kId, l->src_port, e.l4_cksum(), nullptr, false, icsum);
    d.set_dst(inside);
    return PKT_ALIAS_OK;
}

}  // namespace

int icmp_alias_out(Instance& la, Datagram& d, bool create) noexcept {
    if (la.mode & PKT_ALIAS_PROXY_ONLY) return PKT_ALIAS_OK;  // proxy rules are TCP/UDP only
    if (d.l4_len() < icmp::kHeader) return PKT_ALIAS_IGNORED;
    const uint8_t type = d.l4()[icmp::kType];
    const uint8_t code = d.l4()[icmp::kCode];
    if (type == icmp::kEcho || type == icmp::kTimestamp)
        return code == 0 ? icmp_query_out(la, d, create, false) : PKT_ALIAS_IGNORED;
    if (type == icmp::kEchoReply || type == icmp::kTimestampReply) return icmp_query_out(la, d, create, true);
    if (is_error(type)) return icmp_error_out(la, d);
    return PKT_ALIAS_IGNORED;
}

int icmp_alias_in(Instance& la, Datagram& d) noexcept {
    if (la.mode & PKT_ALIAS_PROXY_ONLY) return PKT_ALIAS_OK;
    if (d.l4_len() < icmp::kHeader) return PKT_ALIAS_IGNORED;
    const uint8_t type = d.l4()[icmp::kType];
    const uint8_t code = d.l4()[icmp::kCode];
    if (type == icmp::kEchoReply || type == icmp::kTimestampReply)
        return code == 0 ? icmp_query_in(la, d) : PKT_ALIAS_IGNORED;
    if (type == icmp::kEcho || type == icmp::kTimestamp) return icmp_query_in(la, d);
    if (is_error(type)) return icmp_error_in(la, d);
    return PKT_ALIAS_IGNORED;
}

}  // namespace nalias
