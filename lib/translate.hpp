// SPDX-License-Identifier: BSD-2-Clause
//
// translate.hpp: the packet path shared by the per-protocol files.
//
// A Datagram is an IPv4 datagram in the caller's buffer that passed the
// structural checks every path relies on: version 4, header length >= 20,
// header length <= total length <= maxpacketsize.  Each protocol path then
// checks its own header against `len` before touching it, so no read or
// write ever leaves [ip, ip + len) and no write leaves [ip, ip + max).
#pragma once

#include "checksum.hpp"
#include "db.hpp"

#include <cstddef>
#include <cstdint>

namespace nalias {

struct Datagram {
    uint8_t* ip = nullptr;
    std::size_t hl = 0;    // IP header length
    std::size_t len = 0;   // ip_len
    std::size_t max = 0;   // maxpacketsize
    uint8_t proto = 0;

    uint8_t* l4() const noexcept { return ip + hl; }
    std::size_t l4_len() const noexcept { return len - hl; }
    uint16_t fragment_field() const noexcept { return wire::get_be16(ip + wire::ip::kFragment); }
    bool first_fragment() const noexcept { return (fragment_field() & wire::ip::kOffsetMask) == 0; }
    bool more_fragments() const noexcept { return fragment_field() & wire::ip::kMoreFragments; }
    uint32_t src() const noexcept { return wire::load32(ip + wire::ip::kSrc); }
    uint32_t dst() const noexcept { return wire::load32(ip + wire::ip::kDst); }
    uint16_t id() const noexcept { return wire::load16(ip + wire::ip::kId); }
    // Rewrites an IP address, fixing the IP header checksum.
    void set_src(uint32_t a) noexcept { csum::patch32(ip + wire::ip::kSrc, ip + wire::ip::kChecksum, a); }
    void set_dst(uint32_t a) noexcept { csum::patch32(ip + wire::ip::kDst, ip + wire::ip::kChecksum, a); }
    // Re-reads the total length after a handler changed the packet.
    bool refresh_length() noexcept;
};

// Structural validation; false means PKT_ALIAS_IGNORED.  Inline because
// every packet pays for it and the call cost more than the checks.
inline bool parse_datagram(void* ptr, int maxpacketsize, Datagram& d) noexcept {
    if (!ptr || maxpacketsize < static_cast<int>(wire::ip::kMinHeader)) return false;
    auto* p = static_cast<uint8_t*>(ptr);
    if ((p[wire::ip::kVerIhl] >> 4) != 4) return false;
    const std::size_t hl = static_cast<std::size_t>(p[wire::ip::kVerIhl] & 0x0f) * 4;
    const std::size_t len = wire::get_be16(p + wire::ip::kTotalLength);
    const auto max = static_cast<std::size_t>(maxpacketsize);
    // "Defense against mangled packets": the header and the datagram must fit.
    if (hl < wire::ip::kMinHeader || hl > max || len > max || len < hl) return false;
    d.ip = p;
    d.hl = hl;
    d.len = len;
    d.max = max;
    d.proto = p[wire::ip::kProtocol];
    return true;
}

int tcp_alias_out(Instance& la, Datagram& d, bool create) noexcept;
int tcp_alias_in(Instance& la, Datagram& d) noexcept;
int udp_alias_out(Instance& la, Datagram& d, bool create) noexcept;
int udp_alias_in(Instance& la, Datagram& d) noexcept;
int icmp_alias_out(Instance& la, Datagram& d, bool create) noexcept;
int icmp_alias_in(Instance& la, Datagram& d) noexcept;
int proto_alias_out(Instance& la, Datagram& d, bool create) noexcept;
int proto_alias_in(Instance& la, Datagram& d) noexcept;
int fragment_alias_out(Instance& la, Datagram& d) noexcept;
int fragment_alias_in(Instance& la, Datagram& d) noexcept;

int alias_out(Instance& la, void* ptr, int maxpacketsize, bool create) noexcept;
int alias_in(Instance& la, void* ptr, int maxpacketsize) noexcept;
int unalias_out(Instance& la, void* ptr, int maxpacketsize) noexcept;

// Writes a TCP/UDP port and fixes the transport checksum (UDP zero stays zero).
inline void set_l4_port(uint8_t* field, uint16_t value, uint8_t* cksum, bool udp) noexcept {
    const uint16_t old = wire::load16(field);
    if (old == value) return;
    wire::store16(field, value);
    if (udp) csum::adjust16_udp(cksum, old, value);
    else csum::adjust16(cksum, old, value);
}
// Rewrites an IP address covered by a TCP/UDP pseudo-header.
inline void set_addr_with_l4(Datagram& d, std::size_t off, uint32_t value, uint8_t* cksum, bool udp) noexcept {
    const uint32_t old = wire::load32(d.ip + off);
    if (old == value) return;
    csum::patch32(d.ip + off, d.ip + wire::ip::kChecksum, value);
    if (udp) csum::adjust32_udp(cksum, old, value);
    else csum::adjust32(cksum, old, value);
}

// The same two rewrites with their transport checksum terms collected in
// `l4` (one update at l4.commit()); the IP header checksum is fixed at once.
inline void set_l4_port(uint8_t* field, uint16_t value, csum::BatchedUpdate& l4) noexcept { l4.field16(field, value); }
inline void set_addr_with_l4(Datagram& d, std::size_t off, uint32_t value, csum::BatchedUpdate& l4) noexcept {
    const uint32_t old = wire::load32(d.ip + off);
    if (old == value) return;
    csum::patch32(d.ip + off, d.ip + wire::ip::kChecksum, value);
    l4.word32(old, value);
}

}  // namespace nalias
