// SPDX-License-Identifier: BSD-2-Clause
#include "link_ops.hpp"

#include "../wire.hpp"

namespace nalias::ipsec_detail {

bool udp_view(struct ip* pip, std::size_t maxpktsize, UdpView& v) noexcept {
    auto* b = reinterpret_cast<uint8_t*>(pip);
    const std::size_t hl = static_cast<std::size_t>(b[wire::ip::kVerIhl] & 0x0f) * 4;
    const std::size_t total = wire::get_be16(b + wire::ip::kTotalLength);
    if (hl < wire::ip::kMinHeader || total > maxpktsize || total < hl + wire::udp::kHeader) return false;
    uint8_t* udp = b + hl;
    const std::size_t ulen = wire::get_be16(udp + wire::udp::kLength);
    if (ulen < wire::udp::kHeader) return false;
    v.ip = b;
    v.udp = udp;
    v.payload = udp + wire::udp::kHeader;
    v.payload_len = ulen - wire::udp::kHeader;
    const std::size_t here = total - hl - wire::udp::kHeader;
    v.avail = here < v.payload_len ? here : v.payload_len;
    return true;
}

bool move_alias_port(Instance& la, Link& l, uint32_t alias, uint16_t port) noexcept {
    if (l.alias_port == port) return true;
    if (l.permanent() || l.partial() || !(l.flags & kIndexedIn) || (l.flags & kShadowed)) return false;
    if (l.extra() && (l.extra()->shadowed || l.extra()->shadowed_by || l.extra()->sockfd >= 0)) return false;
    if (find_link_in(la, static_cast<uint16_t>(l.type), alias, port, l.dst_addr, l.dst_port, false)) return false;
    const uint16_t old = l.alias_port;
    la.links.erase_in(l);
    l.alias_port = port;
    if (la.links.insert_in(l)) return true;
    l.alias_port = old;
    la.links.insert_in(l);
    return false;
}

}  // namespace nalias::ipsec_detail
