// SPDX-License-Identifier: BSD-2-Clause
//
// The packet entry points: validation, REVERSE, UNREGISTERED_ONLY/CGN,
// dispatch by protocol and fragment position, header-fragment bookkeeping.
#include "translate.hpp"

#include <netinet/in.h>

namespace nalias {

using namespace wire;

bool Datagram::refresh_length() noexcept {
    const std::size_t l = get_be16(ip + ip::kTotalLength);
    if (l < hl || l > max) return false;
    len = l;
    return true;
}

namespace {

bool is_unregistered(uint32_t addr_net, bool include_cgn) noexcept {
    const uint32_t a = ntohl(addr_net);
    if ((a & 0xff000000u) == 0x0a000000u) return true;   // 10/8
    if ((a & 0xfff00000u) == 0xac100000u) return true;   // 172.16/12
    if ((a & 0xffff0000u) == 0xc0a80000u) return true;   // 192.168/16
    if (include_cgn && (a & 0xffc00000u) == 0x64400000u) return true;  // 100.64/10 (RFC 6598)
    return false;
}

// Runs `fn` with one mode bit cleared, restoring it afterwards.
template <class Fn> int without_mode(Instance& la, unsigned bit, Fn&& fn) noexcept {
    la.mode &= ~bit;
    const int r = fn();
    la.mode |= bit;
    return r;
}

}  // namespace

int alias_out(Instance& la, void* ptr, int maxpacketsize, bool create) noexcept {
    if (la.mode & PKT_ALIAS_REVERSE)
        return without_mode(la, PKT_ALIAS_REVERSE, [&] { return alias_in(la, ptr, maxpacketsize); });
    housekeeping(la);
    la.new_default_link = false;
    la.create_failed = false;
    Datagram d;
    if (!parse_datagram(ptr, maxpacketsize, d)) return PKT_ALIAS_IGNORED;

    // UNREGISTERED_ONLY/CGN: a registered source is "aliased" to itself, so
    // its links keep working if the mode changes later (libalias does so).
    // PROXY_ONLY: nothing is translated but what a proxy rule redirects, so
    // the fallback alias address (fragments, new links) is the source itself.
    const uint32_t saved_alias = la.alias_addr;
    if (la.mode & (PKT_ALIAS_UNREGISTERED_ONLY | PKT_ALIAS_UNREGISTERED_CGN)) {
        if (!is_unregistered(d.src(), la.mode & PKT_ALIAS_UNREGISTERED_CGN)) la.alias_addr = d.src();
    } else if (la.mode & PKT_ALIAS_PROXY_ONLY) {
        la.alias_addr = d.src();
    }
    int r;
    if (d.first_fragment()) {
        switch (d.proto) {
        case IPPROTO_ICMP: r = icmp_alias_out(la, d, create); break;
        case IPPROTO_UDP: r = udp_alias_out(la, d, create); break;
        case IPPROTO_TCP: r = tcp_alias_out(la, d, create); break;
        default: r = proto_alias_out(la, d, create); break;
        }
    } else {
        r = fragment_alias_out(la, d);
    }
    la.alias_addr = saved_alias;
    return r;
}

int alias_in(Instance& la, void* ptr, int maxpacketsize) noexcept {
    if (la.mode & PKT_ALIAS_REVERSE)
        return without_mode(la, PKT_ALIAS_REVERSE, [&] { return alias_out(la, ptr, maxpacketsize, true); });
    housekeeping(la);
    la.new_default_link = false;
    la.create_failed = false;
    Datagram d;
    if (!parse_datagram(ptr, maxpacketsize, d)) return PKT_ALIAS_IGNORED;

    if (!d.first_fragment()) return fragment_alias_in(la, d);
    const uint32_t alias_dst = d.dst();
    const uint32_t peer = d.src();
    const uint16_t id = d.id();
    int r;
    switch (d.proto) {
    case IPPROTO_ICMP: r = icmp_alias_in(la, d); break;
    case IPPROTO_UDP: r = udp_alias_in(la, d); break;
    case IPPROTO_TCP: r = tcp_alias_in(la, d); break;
    default: r = proto_alias_in(la, d); break;
    }
    if (d.more_fragments()) {
        // The header fragment: remember where its tail fragments must go.
        Link* l = search_in(la, kLinkFragmentId, alias_dst, id, peer, 0);
        if (!l) l = add_link(la, 0, peer, alias_dst, 0, 0, id, kLinkFragmentId);
        if (l) {
            l->src_addr = d.dst();
            use_link(la, *l);
            r = PKT_ALIAS_FOUND_HEADER_FRAGMENT;
        } else {
            r = PKT_ALIAS_ERROR;
        }
    }
    return r;
}

int unalias_out(Instance& la, void* ptr, int maxpacketsize) noexcept {
    Datagram d;
    if (!parse_datagram(ptr, maxpacketsize, d) || !d.first_fragment()) return PKT_ALIAS_IGNORED;
    uint8_t* l4 = d.l4();
    if (d.proto == IPPROTO_UDP || d.proto == IPPROTO_TCP) {
        const bool udp = d.proto == IPPROTO_UDP;
        if (d.l4_len() < (udp ? udp::kHeader : tcp::kMinHeader)) return PKT_ALIAS_IGNORED;
        Link* l = find_udp_tcp_in(la, d.dst(), d.src(), load16(l4 + 2), load16(l4), d.proto, false);
        if (!l) return PKT_ALIAS_IGNORED;
        uint8_t* cksum = l4 + (udp ? udp::kChecksum : tcp::kChecksum);
        set_l4_port(l4, l->src_port, cksum, udp);
        set_addr_with_l4(d, ip::kSrc, original_address(la, *l), cksum, udp);
        return PKT_ALIAS_OK;
    }
    if (d.proto == IPPROTO_ICMP) {
        if (d.l4_len() < icmp::kHeader) return PKT_ALIAS_IGNORED;
        Link* l = find_icmp_in(la, d.dst(), d.src(), load16(l4 + icmp::kId), false);
        if (!l) return PKT_ALIAS_IGNORED;
        csum::patch16(l4 + icmp::kId, l4 + icmp::kChecksum, l->src_port);
        d.set_src(original_address(la, *l));
        return PKT_ALIAS_OK;
    }
    return PKT_ALIAS_IGNORED;
}

}  // namespace nalias
