// SPDX-License-Identifier: BSD-2-Clause
//
// wire.hpp: byte-level access to packet fields.
//
// Packets arrive as untyped, possibly unaligned byte buffers.  Every field is
// read and written through these helpers, which go through memcpy so that no
// access is misaligned and no strict-aliasing rule is broken.  `load16` and
// `load32` return the raw (network-order) bit pattern; `get_be16`/`get_be32`
// return host-order values.  Header offsets are named constants here so that
// every translation file agrees on the layout.
#pragma once

#include <arpa/inet.h>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace nalias::wire {

inline uint16_t load16(const uint8_t* p) noexcept { uint16_t v; std::memcpy(&v, p, 2); return v; }
inline uint32_t load32(const uint8_t* p) noexcept { uint32_t v; std::memcpy(&v, p, 4); return v; }
inline void store16(uint8_t* p, uint16_t v) noexcept { std::memcpy(p, &v, 2); }
inline void store32(uint8_t* p, uint32_t v) noexcept { std::memcpy(p, &v, 4); }
inline uint16_t get_be16(const uint8_t* p) noexcept { return ntohs(load16(p)); }
inline uint32_t get_be32(const uint8_t* p) noexcept { return ntohl(load32(p)); }
inline void put_be16(uint8_t* p, uint16_t v) noexcept { store16(p, htons(v)); }
inline void put_be32(uint8_t* p, uint32_t v) noexcept { store32(p, htonl(v)); }

// IPv4 header (RFC 791).
namespace ip {
constexpr size_t kMinHeader = 20;
constexpr size_t kVerIhl = 0, kTos = 1, kTotalLength = 2, kId = 4, kFragment = 6,
                 kTtl = 8, kProtocol = 9, kChecksum = 10, kSrc = 12, kDst = 16;
constexpr uint16_t kMoreFragments = 0x2000, kDontFragment = 0x4000, kOffsetMask = 0x1fff;
}  // namespace ip

// TCP header (RFC 9293).
namespace tcp {
constexpr size_t kMinHeader = 20;
constexpr size_t kSrcPort = 0, kDstPort = 2, kSeq = 4, kAck = 8, kDataOffset = 12,
                 kFlags = 13, kWindow = 14, kChecksum = 16;
constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPush = 0x08, kAckFlag = 0x10;
}  // namespace tcp

// UDP header (RFC 768).
namespace udp {
constexpr size_t kHeader = 8;
constexpr size_t kSrcPort = 0, kDstPort = 2, kLength = 4, kChecksum = 6;
}  // namespace udp

// ICMP header (RFC 792).  Queries carry an identifier; errors carry the
// offending datagram's IP header plus at least 8 bytes of it after byte 8.
namespace icmp {
constexpr size_t kHeader = 8;
constexpr size_t kType = 0, kCode = 1, kChecksum = 2, kId = 4, kSeq = 6, kEmbedded = 8;
constexpr uint8_t kEchoReply = 0, kUnreachable = 3, kSourceQuench = 4, kRedirect = 5,
                  kEcho = 8, kTimeExceeded = 11, kParamProblem = 12, kTimestamp = 13,
                  kTimestampReply = 14;
}  // namespace icmp

}  // namespace nalias::wire
