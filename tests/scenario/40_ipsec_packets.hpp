// SPDX-License-Identifier: BSD-2-Clause
//
// Packet builders and probes shared by the ESP/IKE scenario files (40-49).
// IKE messages carry a real ISAKMP/IKEv2 header (RFC 2408 3.1, RFC 7296
// 3.1) followed by an opaque body, as encrypted payloads look on the wire;
// ESP packets carry SPI, sequence number and an opaque body (RFC 4303).
#pragma once

#include "packet.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace ipsec_test {

using namespace test;

constexpr uint8_t kIkeV1 = 0x10, kIkeV2 = 0x20;
constexpr uint8_t kMainMode = 2, kAggressive = 4, kInfoV1 = 5, kQuickMode = 32;
constexpr uint8_t kIkeSaInit = 34, kIkeAuth = 35, kCreateChildSa = 36, kInfoV2 = 37;
constexpr uint16_t kIke = 500, kNatt = 4500;
constexpr uint8_t kEsp = 50;

inline void put_be(std::string& s, uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// An IKE message: header plus `body` opaque bytes.
inline std::string ike_message(uint64_t spi_i, uint64_t spi_r, uint8_t exchange, uint8_t version = kIkeV1,
                               std::size_t body = 40, uint32_t msgid = 0) {
    std::string s;
    put_be(s, spi_i, 8);
    put_be(s, spi_r, 8);
    s.push_back(static_cast<char>(version == kIkeV1 ? 1 : 33));  // next payload: SA
    s.push_back(static_cast<char>(version));
    s.push_back(static_cast<char>(exchange));
    s.push_back(0);
    put_be(s, msgid, 4);
    put_be(s, 28 + body, 4);
    for (std::size_t i = 0; i < body; ++i) s.push_back(static_cast<char>(0xa0 + i % 37));
    return s;
}

inline Packet ike_packet(in_addr src, uint16_t sport, in_addr dst, uint16_t dport, uint64_t spi_i, uint64_t spi_r,
                         uint8_t exchange, uint8_t version = kIkeV1) {
    return udp_packet(src, sport, dst, dport, ike_message(spi_i, spi_r, exchange, version));
}

// IKE over NAT-T: the four-byte non-ESP marker, then the message.
inline Packet natt_ike_packet(in_addr src, uint16_t sport, in_addr dst, uint16_t dport, uint64_t spi_i,
                              uint64_t spi_r, uint8_t exchange) {
    return udp_packet(src, sport, dst, dport, std::string(4, '\0') + ike_message(spi_i, spi_r, exchange, kIkeV2));
}

inline std::string esp_body(uint32_t spi, uint32_t seq, std::size_t len = 48) {
    std::string s;
    put_be(s, spi, 4);
    put_be(s, seq, 4);
    for (std::size_t i = 0; i < len; ++i) s.push_back(static_cast<char>((spi + seq + i * 7) & 0xff));
    return s;
}

inline Packet esp_packet(in_addr src, in_addr dst, uint32_t spi, uint32_t seq = 1) {
    const std::string body = esp_body(spi, seq);
    Packet p = ip_packet(kEsp, src, dst, body.size());
    std::memcpy(p.l4(), body.data(), body.size());
    fix_checksums(p);
    return p;
}

inline std::string l4_bytes(const Packet& p) {
    return std::string(reinterpret_cast<const char*>(p.l4()), p.l4_len());
}

inline std::vector<alias_ipsec_binding> bindings(libalias* la, unsigned char kind) {
    const int n = LibAliasIpsecGetBindings(la, nullptr, 0);
    REQUIRE(n >= 0);
    std::vector<alias_ipsec_binding> all(static_cast<std::size_t>(n));
    REQUIRE(LibAliasIpsecGetBindings(la, all.data(), static_cast<unsigned>(n)) == n);
    std::vector<alias_ipsec_binding> out;
    for (const auto& b : all)
        if (b.kind == kind) out.push_back(b);
    return out;
}

inline bool same(in_addr a, in_addr b) { return a.s_addr == b.s_addr; }

// Drives one client through IKE and its first ESP pair with `peer`, in the
// natural order (client sends, peer answers), asserting each step.
struct Client {
    in_addr host;
    uint64_t ike_spi_i, ike_spi_r;
    uint32_t esp_out, esp_in;  // SPI the client sends with / the peer sends with
    uint16_t port = kIke;
};

inline void send_ike(Nat& nat, const Client& c, in_addr peer, uint8_t exchange, bool with_r = true,
                     uint8_t version = kIkeV1) {
    Packet o = ike_packet(c.host, c.port, peer, kIke, c.ike_spi_i, with_r ? c.ike_spi_r : 0, exchange, version);
    const std::string payload = o.payload();
    REQUIRE(nat.out(o) == PKT_ALIAS_OK);
    CHECK(same(o.src(), masq));
    CHECK(o.sport() == kIke);
    CHECK(o.payload() == payload);
    CHECK(checksums_ok(o));
}

inline void receive_ike(Nat& nat, const Client& c, in_addr peer, uint8_t exchange, uint8_t version = kIkeV1) {
    Packet i = ike_packet(peer, kIke, masq, kIke, c.ike_spi_i, c.ike_spi_r, exchange, version);
    const std::string payload = i.payload();
    REQUIRE(nat.in(i) == PKT_ALIAS_OK);
    CHECK(str(i.dst()) == str(c.host));
    CHECK(i.dport() == c.port);
    CHECK(i.payload() == payload);
    CHECK(checksums_ok(i));
}

inline void send_esp(Nat& nat, const Client& c, in_addr peer, uint32_t seq = 1, uint32_t spi = 0) {
    Packet o = esp_packet(c.host, peer, spi ? spi : c.esp_out, seq);
    const std::string body = l4_bytes(o);
    REQUIRE(nat.out(o) == PKT_ALIAS_OK);
    CHECK(same(o.src(), masq));
    CHECK(same(o.dst(), peer));
    CHECK(l4_bytes(o) == body);
    CHECK(checksums_ok(o));
}

inline void receive_esp(Nat& nat, const Client& c, in_addr peer, uint32_t seq = 1, uint32_t spi = 0) {
    Packet i = esp_packet(peer, masq, spi ? spi : c.esp_in, seq);
    const std::string body = l4_bytes(i);
    REQUIRE(nat.in(i) == PKT_ALIAS_OK);
    CHECK(str(i.dst()) == str(c.host));
    CHECK(same(i.src(), peer));
    CHECK(l4_bytes(i) == body);
    CHECK(checksums_ok(i));
}

// IKEv1 Main Mode + Quick Mode, then the first ESP both ways.
inline void establish_v1(Nat& nat, const Client& c, in_addr peer) {
    send_ike(nat, c, peer, kMainMode, false);
    receive_ike(nat, c, peer, kMainMode);
    send_ike(nat, c, peer, kMainMode);
    receive_ike(nat, c, peer, kMainMode);
    send_ike(nat, c, peer, kQuickMode);
    receive_ike(nat, c, peer, kQuickMode);
    send_ike(nat, c, peer, kQuickMode);
    send_esp(nat, c, peer);
    receive_esp(nat, c, peer);
}

}  // namespace ipsec_test
