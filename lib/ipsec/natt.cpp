// SPDX-License-Identifier: BSD-2-Clause
//
// NAT-T on UDP 4500 (RFC 3947, RFC 3948): IKE behind a non-ESP marker and
// UDP-encapsulated ESP already carry their own demultiplexing (each client
// gets its own alias port), so the payload passes untouched.  The module
// only keeps the client's source port as alias port when nobody else holds
// it toward that peer, and gives the link a lifetime that outlives the 20 s
// keep-alives (kNattExpireSeconds) instead of the 60 s UDP default.
#include "ike_parse.hpp"
#include "ipsec.hpp"
#include "link_ops.hpp"

#include "../handler.hpp"

namespace nalias::ipsec_detail {

namespace {

void count(IpsecState& s, struct ip* pip, const alias_data* ad) noexcept {
    UdpView v;
    if (!udp_view(pip, ad->maxpktsize, v)) return;
    switch (ike::classify_natt(v.payload, v.avail, v.payload_len)) {
    case ike::NattKind::kIke: ++s.counters.natt_ike; break;
    case ike::NattKind::kEsp: ++s.counters.natt_esp; break;
    case ike::NattKind::kKeepalive: ++s.counters.natt_keepalive; break;
    case ike::NattKind::kOther: break;
    }
}

void keep_alive_longer(Instance& la, Link& l) noexcept {
    if (!l.permanent() && la.links.timeout_of(l) != kNattExpireSeconds)
        set_expire(la, l, static_cast<int>(kNattExpireSeconds));
}

}  // namespace

// As for IKE (ike.cpp): with the module off, 4500 is plain UDP.
int natt_fingerprint_out(struct libalias* la, struct alias_data* ad) {
    if (!la || !ad || !ad->lnk || !ad->dport || !ad->aport || !ad->aaddr) return -1;
    return ntohs(*ad->dport) == kNattPort && ipsec_enabled(*la) ? 0 : -1;
}

int natt_fingerprint_in(struct libalias* la, struct alias_data* ad) {
    if (!la || !ad || !ad->lnk || !ad->sport) return -1;
    return ntohs(*ad->sport) == kNattPort && ipsec_enabled(*la) ? 0 : -1;
}

int natt_out(struct libalias* la, struct ip* pip, struct alias_data* ad) {
    IpsecState* s = ipsec_active(*la);
    if (!s) return kNoHandler;
    count(*s, pip, ad);
    Link& l = *ad->lnk;
    // Only a link's first packet may change its alias port: the peer must
    // never see one client's port move.
    const bool first_packet = la->links.timeout_of(l) != kNattExpireSeconds;
    if (first_packet && l.alias_port != l.src_port && move_alias_port(*la, l, ad->aaddr->s_addr, l.src_port))
        *ad->aport = l.alias_port;
    keep_alive_longer(*la, l);
    return 0;
}

int natt_in(struct libalias* la, struct ip* pip, struct alias_data* ad) {
    IpsecState* s = ipsec_active(*la);
    if (!s) return kNoHandler;
    count(*s, pip, ad);
    keep_alive_longer(*la, *ad->lnk);
    return 0;
}

}  // namespace nalias::ipsec_detail
