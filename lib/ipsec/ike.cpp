// SPDX-License-Identifier: BSD-2-Clause
//
// IKE on UDP 500 (RFC 2409, RFC 7296): every inside host keeps alias port
// 500 toward a peer on port 500, because peers that predate NAT-T answer
// only there.  The first host's link to the peer is moved to alias:500 and
// becomes the "anchor" that owns (alias:500, peer:500) in the link table;
// later hosts' messages leave with source port 500 too, and every inbound
// message, which the core finds through the anchor, is re-addressed here to
// the host whose IKE SPIs it carries (ipsec.hpp).  Replies with unknown
// SPIs go to the host that most recently sent IKE to the peer, and new
// exchanges the peer opens stay with the link's host; neither creates state.
#include "ike_parse.hpp"
#include "ipsec.hpp"
#include "link_ops.hpp"

#include "../handler.hpp"
#include "../translate.hpp"

namespace nalias::ipsec_detail {

namespace {

bool parse(struct ip* pip, const alias_data* ad, UdpView& v, ike::Header& h, IpsecState& s) noexcept {
    if (!udp_view(pip, ad->maxpktsize, v)) return false;
    if (ike::parse_header(v.payload, v.avail, v.payload_len, h)) return true;
    ++s.counters.ike_invalid;
    return false;
}

// Makes sure some link owns (alias:500, peer:500) and keeps it alive for as
// long as IKE to that peer is.
void anchor_port_500(Instance& la, Link& own, uint32_t alias, const IpsecState& s) noexcept {
    const uint16_t ike_port = htons(kIkePort);
    Link* anchor = nullptr;
    if (own.alias_port == ike_port) {
        anchor = &own;
    } else if (Link* holder = find_link_in(la, IPPROTO_UDP, alias, ike_port, own.dst_addr, own.dst_port, false)) {
        // A RedirectPort for udp/500 is left alone: the core relinks it for
        // the peer, and the inbound handler demultiplexes from there.
        if (!holder->partial()) anchor = holder;
    } else if (move_alias_port(la, own, alias, ike_port)) {
        anchor = &own;
    }
    if (!anchor || anchor->permanent()) return;
    use_link(la, *anchor);
    if (la.links.timeout_of(*anchor) != s.ike_idle) set_expire(la, *anchor, static_cast<int>(s.ike_idle));
}

}  // namespace

// With the module off the fingerprints decline, so the chain goes on as if
// the module were not attached and port 500 is plain UDP, as in libalias.
int ike_fingerprint_out(struct libalias* la, struct alias_data* ad) {
    if (!la || !ad || !ad->lnk || !ad->dport || !ad->aport || !ad->aaddr) return -1;
    return ntohs(*ad->dport) == kIkePort && ipsec_enabled(*la) ? 0 : -1;
}

// The core hands the inbound handler the inside port as *dport (it has
// already restored it), so the peer's source port is what identifies IKE.
int ike_fingerprint_in(struct libalias* la, struct alias_data* ad) {
    if (!la || !ad || !ad->lnk || !ad->sport || !ad->aport || !ad->oaddr || !ad->aaddr) return -1;
    return ntohs(*ad->sport) == kIkePort && ipsec_enabled(*la) ? 0 : -1;
}

// Datagrams on port 500 that are not IKE (or not IKE through alias port
// 500) answer kNoHandler: a negative result would make the core refuse a
// reply that libalias translates as ordinary UDP (docs/ipsec.md).
int ike_out(struct libalias* la, struct ip* pip, struct alias_data* ad) {
    IpsecState* s = ipsec_active(*la);
    UdpView v;
    ike::Header h;
    if (!s || !parse(pip, ad, v, h, *s)) return kNoHandler;
    Link& own = *ad->lnk;
    const uint32_t host = own.src_addr, peer = own.dst_addr, alias = ad->aaddr->s_addr;
    ++s->counters.ike_out;
    s->note_ike_out(host, own.src_port, peer, alias, h.spi_i, h.spi_r, la->now);
    if (ike::creates_child_sa(h)) s->note_sa_negotiation(host, peer, alias, la->now);
    anchor_port_500(*la, own, alias, *s);
    *ad->aport = htons(kIkePort);
    return 0;
}

int ike_in(struct libalias* la, struct ip* pip, struct alias_data* ad) {
    IpsecState* s = ipsec_active(*la);
    if (!s || *ad->aport != htons(kIkePort)) return kNoHandler;
    UdpView v;
    ike::Header h;
    if (!parse(pip, ad, v, h, *s)) return kNoHandler;
    const uint32_t peer = wire::load32(v.ip + wire::ip::kSrc), alias = ad->aaddr->s_addr;
    const IkeExchange* e = s->match_ike_in(peer, alias, h.spi_i, h.spi_r, la->now);
    if (e) {
        ++s->counters.ike_in_matched;
    } else if (h.spi_r != 0 && (e = s->latest_ike_to(peer, alias, la->now)) != nullptr) {
        // Part of an exchange no client announced (an IKE SA the peer
        // rekeyed under new SPIs): the peer's most recent IKE partner.
        ++s->counters.ike_in_fallback;
    } else {
        // A new exchange the peer opens (responder SPI 0), or nobody to
        // guess: the link's host, i.e. the anchor's client or a redirect's.
        return 0;
    }
    ad->oaddr->s_addr = e->host;
    set_l4_port(v.udp + wire::udp::kDstPort, e->host_port, v.udp + wire::udp::kChecksum, true);
    return 0;
}

}  // namespace nalias::ipsec_detail
