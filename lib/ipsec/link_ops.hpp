// SPDX-License-Identifier: BSD-2-Clause
//
// link_ops.hpp: what the IKE and NAT-T handlers need from a UDP packet and
// its link, kept in one place so the two handlers agree.
//
// A UdpView is the UDP header and the part of its payload present in this
// datagram (all of it, or the head of a first fragment), bounded by the IP
// total length, which the core has already checked against maxpacketsize.
#pragma once

#include "../db.hpp"

#include <cstddef>
#include <cstdint>

struct ip;

namespace nalias::ipsec_detail {

struct UdpView {
    uint8_t* ip = nullptr;
    uint8_t* udp = nullptr;
    const uint8_t* payload = nullptr;
    std::size_t avail = 0;        // payload bytes in this datagram
    std::size_t payload_len = 0;  // payload bytes by the UDP length field
};
bool udp_view(struct ip* pip, std::size_t maxpktsize, UdpView& v) noexcept;

// Re-keys a link to another alias port (network order) in the in index,
// when no other link, exact or wildcard, would claim that port for the
// link's remote.  The link must be an ordinary dynamic UDP/TCP link, so the
// move keeps every link-table invariant.  Returns whether it moved.
bool move_alias_port(Instance& la, Link& l, uint32_t alias, uint16_t port) noexcept;

}  // namespace nalias::ipsec_detail
