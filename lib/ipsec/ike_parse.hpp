// SPDX-License-Identifier: BSD-2-Clause
//
// ike_parse.hpp: recognising IKE and ESP on the wire (detection only; the
// handlers decide what to rewrite).
//
// The ISAKMP header (RFC 2408 3.1, kept by IKEv2, RFC 7296 3.1) is 28 bytes:
//   0  initiator SPI (IKEv1: cookie)   8 bytes
//   8  responder SPI                   8 bytes, 0 until the responder answers
//  16  next payload, 17 version (major << 4 | minor), 18 exchange type,
//  19  flags, 20 message id (4), 24 length of the whole message (4).
// A datagram is taken for IKE only if every field is plausible: major
// version 1 or 2, an exchange type defined for that version, a non-zero
// initiator SPI, and a length of at least the header that fits the UDP
// payload.  Anything else on port 500 is left to plain UDP translation.
//
// On UDP 4500 (RFC 3948 2.2) a payload starting with four zero bytes (the
// non-ESP marker) carries IKE, a single 0xff byte is a NAT keep-alive, and
// anything else starts with a non-zero ESP SPI.
#pragma once

#include <cstddef>
#include <cstdint>

namespace nalias::ike {

constexpr std::size_t kHeaderLength = 28;
constexpr std::size_t kSpiI = 0, kSpiR = 8, kNextPayload = 16, kVersion = 17, kExchange = 18, kFlags = 19,
                      kMessageId = 20, kLength = 24;
constexpr std::size_t kNonEspMarker = 4;  // RFC 3948 2.2
constexpr std::size_t kEspHeader = 8;     // SPI + sequence number (RFC 4303 2)

struct Header {
    uint64_t spi_i = 0, spi_r = 0;  // as 64-bit big-endian numbers
    uint8_t major = 0;
    uint8_t exchange = 0;
    uint8_t flags = 0;
    uint32_t length = 0;
};

// Parses an IKE header from the first `avail` bytes of a UDP payload whose
// full length (from the UDP header) is `udp_payload_len`; `avail` may be
// shorter for a first fragment.  Returns false if it is not plausible IKE.
bool parse_header(const uint8_t* p, std::size_t avail, std::size_t udp_payload_len, Header& h) noexcept;

// Exchanges after which new ESP SAs exist: IKEv1 Quick Mode, IKEv2
// IKE_AUTH (first child SA) and CREATE_CHILD_SA.
bool creates_child_sa(const Header& h) noexcept;

enum class NattKind { kIke, kEsp, kKeepalive, kOther };
NattKind classify_natt(const uint8_t* p, std::size_t avail, std::size_t udp_payload_len) noexcept;

}  // namespace nalias::ike
