// SPDX-License-Identifier: BSD-2-Clause
// CU-SeeMe (UDP 7648): a client behind the NAT talks to a reflector.  Its
// packets name it in the header's sender address, which must become the
// alias address; the reflector's Open Continue packets name the client by
// the alias address (destination, and one of the client records), which
// must become the inside address.  Short or lying packets must not crash.
#include <catch2/catch.hpp>

#include "packet.hpp"

#include <cstring>
#include <random>
#include <string>

using namespace test;

namespace {

constexpr uint16_t kCu = 7648;
constexpr std::size_t kPayload = 28;  // IP 20 + UDP 8

std::string be16(uint16_t v) { return std::string{static_cast<char>(v >> 8), static_cast<char>(v)}; }
std::string be32(uint32_t v) { return be16(static_cast<uint16_t>(v >> 16)) + be16(static_cast<uint16_t>(v)); }
std::string raw_addr(in_addr a) { return std::string(reinterpret_cast<const char*>(&a), 4); }

// The 28-byte header as libalias lays it out (26 bytes of fields, 2 of padding).
std::string header(in_addr dest, in_addr sender, uint16_t data_type, uint16_t packet_len) {
    return be16(2) + be16(kCu) + raw_addr(dest) + be16(2) + be16(kCu) + raw_addr(sender) + be32(0x0100) +
           be16(1) + be16(data_type) + be16(packet_len) + be16(0);
}
// An Open Continue packet listing `clients`.
std::string open_continue(in_addr dest, in_addr sender, std::initializer_list<in_addr> clients,
                          uint16_t count_field) {
    std::string oc = be16(count_field) + be16(0) + be32(77) + std::string("reflector\0\0\0\0\0\0\0\0\0\0\0", 20) +
                     std::string(4, '\0');
    for (in_addr c : clients) oc += raw_addr(c) + std::string(8, '\x01');
    return header(dest, sender, 101, static_cast<uint16_t>(28 + oc.size())) + oc;
}

in_addr addr_at(const Packet& p, std::size_t off) {
    in_addr a;
    std::memcpy(&a, &p.buf[off], 4);
    return a;
}
bool same(in_addr a, in_addr b) { return a.s_addr == b.s_addr; }

}  // namespace

TEST_CASE("CU-SeeMe: the client's address is the alias outside and its own inside", "[cuseeme]") {
    Nat nat;
    const std::string hello = header(ext, prv1, 1, 28) + "video";
    Packet out = udp_packet(prv1, kCu, ext, kCu, hello);
    REQUIRE(nat.out(out) == PKT_ALIAS_OK);
    CHECK(same(out.src(), masq));
    CHECK(same(addr_at(out, kPayload + 12), masq));
    CHECK(same(addr_at(out, kPayload + 4), ext));  // the destination is outside already
    CHECK(checksums_ok(out));

    // The reflector's Open Continue names us by the alias address.
    const std::string oc = open_continue(masq, ext, {ext2, masq, pub}, 3);
    Packet in = udp_packet(ext, kCu, masq, out.sport(), oc);
    REQUIRE(nat.in(in) == PKT_ALIAS_OK);
    CHECK(same(in.dst(), prv1));
    CHECK(same(addr_at(in, kPayload + 4), prv1));
    CHECK(same(addr_at(in, kPayload + 60), ext2));
    CHECK(same(addr_at(in, kPayload + 72), prv1));
    CHECK(same(addr_at(in, kPayload + 84), pub));
    CHECK(same(addr_at(in, kPayload + 12), ext));
    CHECK(checksums_ok(in));

    // As libalias, the client's port 7648 is open to the reflector's other ports.
    Packet other = udp_packet(ext, 5555, masq, out.sport(), "x");
    REQUIRE(nat.in(other) == PKT_ALIAS_OK);
    CHECK(same(other.dst(), prv1));
    CHECK(other.dport() == kCu);
}

TEST_CASE("malformed CU-SeeMe packets are survived", "[cuseeme][malformed]") {
    Nat nat;
    Packet first = udp_packet(prv1, kCu, ext, kCu, header(ext, prv1, 1, 28));
    REQUIRE(nat.out(first) == PKT_ALIAS_OK);
    const uint16_t aport = first.sport();
    auto in = [&](const std::string& payload) {
        Packet p = udp_packet(ext, kCu, masq, aport, payload, kPayload + payload.size());
        const int r = nat.in(p);
        CHECK((r == PKT_ALIAS_OK || r == PKT_ALIAS_IGNORED));
        if (r == PKT_ALIAS_OK) CHECK(checksums_ok(p));
        return p;
    };

    SECTION("truncated at every offset") {
        const std::string oc = open_continue(masq, ext, {ext2, pub, masq}, 3);
        for (std::size_t n = 0; n <= oc.size(); ++n) {
            Packet p = in(oc.substr(0, n));
            if (n < 28) CHECK(p.payload() == oc.substr(0, n));
            // The record holding the alias address is rewritten only when whole.
            if (n < 28 + 32 + 36) CHECK(p.payload().substr(std::min<std::size_t>(n, 28)) ==
                                        oc.substr(std::min<std::size_t>(n, 28), n - std::min<std::size_t>(n, 28)));
        }
        const std::string hello = header(ext, prv1, 1, 28);
        for (std::size_t n = 0; n < hello.size(); ++n) {
            Packet p = udp_packet(prv1, kCu, ext, kCu, hello.substr(0, n), kPayload + n);
            nat.out(p);
            CHECK(p.payload() == hello.substr(0, n));
        }
    }
    SECTION("client counts that lie") {
        for (uint16_t count : {0, 1, 2, 200, 0xffff}) {
            Packet p = in(open_continue(masq, ext, {ext2, masq}, count));
            // Only records that are listed and present are looked at.
            CHECK(same(addr_at(p, kPayload + 72), count >= 2 ? prv1 : masq));
        }
        // A UDP length field longer than the datagram is refused.
        Packet p = udp_packet(ext, kCu, masq, aport, open_continue(masq, ext, {masq}, 1));
        p.put16(p.hl() + 4, static_cast<uint16_t>(p.l4_len() + 12));
        fix_checksums(p);
        nat.in(p);
        CHECK(same(addr_at(p, kPayload + 60), masq));
    }
    SECTION("random bytes") {
        std::mt19937 rng(7648);
        const std::string seed = open_continue(masq, ext, {ext2, masq, pub}, 3);
        for (int i = 0; i < 3000; ++i) {
            std::string m = seed;
            for (int k = 1 + rng() % 6; k > 0; --k) m[rng() % m.size()] = static_cast<char>(rng());
            m.resize(rng() % (m.size() + 16), '\0');
            in(m);
        }
    }

    const std::string oc = open_continue(masq, ext, {masq}, 1);
    Packet p = in(oc);
    CHECK(same(p.dst(), prv1));
    CHECK(same(addr_at(p, kPayload + 60), prv1));
}
