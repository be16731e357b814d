// SPDX-License-Identifier: BSD-2-Clause
//
// ESP translation.  Outbound: the source becomes the alias address and the
// (host, peer, SPI) is recorded.  Inbound: the SPI names the host, directly
// or through the claim of the host that most recently talked to the peer
// (ipsec.hpp).  ESP authenticates neither IP address (RFC 4303 3.1), and has
// no checksum over them, so the IP header checksum is the only one to fix.
#include "esp.hpp"

#include "ike_parse.hpp"
#include "ipsec.hpp"

#include <netinet/in.h>

namespace nalias {

namespace {

// The alias address libalias would give this ESP flow: a RedirectProto or a
// live protocol link for the host wins, then RedirectAddr, then the
// instance's address.  Looks only; creates nothing.
uint32_t esp_alias_for(Instance& la, uint32_t host, uint32_t peer) noexcept {
    if (Link* l = find_link_out(la, IPPROTO_ESP, host, 0, peer, 0, false)) return effective_alias(la, *l);
    return find_alias_address(la, host);
}

bool esp_header(const Datagram& d, uint32_t& spi) noexcept {
    if (d.l4_len() < ike::kEspHeader) return false;
    spi = wire::get_be32(d.l4());
    return spi != 0;
}

}  // namespace

bool ipsec_esp_out(Instance& la, Datagram& d, bool create) noexcept {
    if (la.mode & PKT_ALIAS_PROXY_ONLY) return false;
    IpsecState* s = ipsec_active(la);
    uint32_t spi;
    if (!s || !esp_header(d, spi)) return false;
    const uint32_t host = d.src(), peer = d.dst();
    // LibAliasOutTry(create = 0) translates only what is already known.
    if (!create && !s->knows_esp_out(host, peer, spi)) return false;
    const uint32_t alias = esp_alias_for(la, host, peer);
    s->note_esp_out(host, peer, alias, spi, create, la.now);
    d.set_src(alias);
    ++s->counters.esp_out;
    return true;
}

bool ipsec_esp_in(Instance& la, Datagram& d) noexcept {
    if (la.mode & PKT_ALIAS_PROXY_ONLY) return false;
    IpsecState* s = ipsec_active(la);
    uint32_t spi;
    if (!s || !esp_header(d, spi)) return false;
    const uint32_t host = s->resolve_esp_in(d.src(), d.dst(), spi, la.now);
    if (host == 0) return false;
    d.set_dst(host);
    return true;
}

}  // namespace nalias
