// SPDX-License-Identifier: BSD-2-Clause
//
// Other IP protocols (ESP, GRE, SCTP in userland, ...) and fragments.
//
// A protocol link has no ports: it is keyed (protocol, inside host, peer) on
// the way out and (protocol, alias, peer) on the way in, so inbound traffic
// from a peer reaches the inside host that most recently opened a link to
// it (libalias's ProtoAliasIn).  GRE goes to the handlers registered for the
// "IP" class first (PPTP), as in libalias, which runs that chain for GRE only:
// an IP-class fingerprint sees no packet, so it cannot tell GRE from anything
// else.  ESP goes to the ESP/IKE module first.
//
// Fragments: every outbound fragment gets its source aliased; an inbound
// header fragment records (peer, alias, ip_id) -> inside address, so that
// later fragments, which carry no ports, can follow it.
#include "handler.hpp"
#include "ipsec/esp.hpp"
#include "translate.hpp"

#include <netinet/ip.h>

namespace nalias {

namespace {

bool handled_by_module(Instance& la, Datagram& d, int16_t dir) noexcept {
    if (d.proto != IPPROTO_GRE) return false;
    in_addr o{dir == kDirOut ? d.src() : d.dst()}, a{la.alias_addr};
    uint16_t none = 0, sport = 0, dport = 0;
    alias_data ad{nullptr, &o, &a, &none, &sport, &dport, static_cast<uint16_t>(d.max > 0xffff ? 0xffff : d.max)};
    const int r = run_handlers(&la, dir, kClassIp, reinterpret_cast<struct ip*>(d.ip), &ad);
    if (r == kNoHandler || r != 0) return false;
    d.refresh_length();
    return true;
}

}  // namespace

int proto_alias_out(Instance& la, Datagram& d, bool create) noexcept {
    // ESP goes to the IPsec module directly: an IP-class chain entry cannot see the protocol (lib/ipsec/esp.hpp).
    if (d.proto == IPPROTO_ESP && ipsec_esp_out(la, d, create)) return PKT_ALIAS_OK;
    if (handled_by_module(la, d, kDirOut)) return PKT_ALIAS_OK;
    if (la.mode & PKT_ALIAS_PROXY_ONLY) return PKT_ALIAS_OK;  // proxy rules are TCP/UDP only
    if (!create) return PKT_ALIAS_IGNORED;
    Link* l = find_proto_out(la, d.src(), d.dst(), d.proto);
    if (!l) return la.create_failed ? PKT_ALIAS_ERROR : PKT_ALIAS_IGNORED;
    use_link(la, *l);
    d.set_src(effective_alias(la, *l));
    return PKT_ALIAS_OK;
}

int proto_alias_in(Instance& la, Datagram& d) noexcept {
    if (d.proto == IPPROTO_ESP && ipsec_esp_in(la, d)) return PKT_ALIAS_OK;
    if (handled_by_module(la, d, kDirIn)) return PKT_ALIAS_OK;
    if (la.mode & PKT_ALIAS_PROXY_ONLY) return PKT_ALIAS_OK;
    bool for_host = false;
    Link* l = find_proto_in(la, d.src(), d.dst(), d.proto, &for_host);
    if (!l) return for_host ? PKT_ALIAS_OK : la.create_failed ? PKT_ALIAS_ERROR : PKT_ALIAS_IGNORED;
    use_link(la, *l);
    d.set_dst(original_address(la, *l));
    return PKT_ALIAS_OK;
}

int fragment_alias_out(Instance& la, Datagram& d) noexcept {
    d.set_src(find_alias_address(la, d.src()));
    return PKT_ALIAS_OK;
}

int fragment_alias_in(Instance& la, Datagram& d) noexcept {
    Link* l = search_in(la, kLinkFragmentId, d.dst(), d.id(), d.src(), 0);
    if (!l) return PKT_ALIAS_UNRESOLVED_FRAGMENT;
    use_link(la, *l);  // each tail keeps the datagram's id alive, as libalias's UseLink
    d.set_dst(l->src_addr);
    return PKT_ALIAS_OK;
}

}  // namespace nalias
