// SPDX-License-Identifier: BSD-2-Clause
//
// describe.hpp: one-line, tcpdump-like text for an IPv4 datagram, as the
// per-packet table shows it before and after translation.
//
// The text names what a NAT touches: addresses, TCP/UDP ports, ICMP query
// ids, the header quoted inside an ICMP error, the ESP SPI.  It reads only
// the `len` bytes given and says "truncated" rather than guess past them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace replay {

struct PacketText {
    std::string kind;       // "TCP S", "UDP", "ICMP echo", "ESP", ...
    std::string endpoints;  // "10.0.0.10:49152 > 198.51.100.80:80"
};

PacketText describe(const uint8_t* ip, std::size_t len);

// Offset of the transport payload (past the TCP/UDP header) or 0 when the
// datagram has none that an ALG could rewrite.
std::size_t payload_offset(const uint8_t* ip, std::size_t len);

}  // namespace replay
