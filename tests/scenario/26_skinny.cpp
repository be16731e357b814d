// SPDX-License-Identifier: BSD-2-Clause
// Cisco Skinny (SCCP): an IP phone behind the NAT registers with a Call
// Manager outside on TCP 2000.  Its Register, IpPort and
// OpenReceiveChannelAck messages carry its own address and ports, which must
// name the alias endpoint; the media port announced in the ack must be
// reachable through the NAT.  Malformed message walks must not crash.
#include <catch2/catch.hpp>

#include "packet.hpp"

#include <cstring>
#include <random>
#include <string>

using namespace test;

namespace {

constexpr uint16_t kSkinny = 2000;
constexpr std::size_t kPayload = 40;  // IP 20 + TCP 20

std::string le32(uint32_t v) {
    return std::string{static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16),
                       static_cast<char>(v >> 24)};
}
std::string raw_addr(in_addr a) { return std::string(reinterpret_cast<const char*>(&a), 4); }
// length | reserved | message id | body; length counts from the id on.
std::string message(uint32_t id, const std::string& body) { return le32(4 + body.size()) + le32(0) + le32(id) + body; }

std::string register_msg(in_addr phone) {
    std::string name("SEP001122AABBCC\0", 16);
    return message(0x0001, name + le32(0) + le32(1) + raw_addr(phone) + std::string{'\x07', 0, 0, 0} + le32(5));
}
std::string ip_port_msg(uint32_t port) { return message(0x0002, le32(port)); }
std::string orc_ack(in_addr phone, uint32_t port) {
    return message(0x0022, le32(0) + raw_addr(phone) + le32(port) + le32(0x1001));
}
std::string start_media(in_addr remote, uint32_t port) {
    return message(0x008a, le32(7) + le32(0x1001) + raw_addr(remote) + le32(port) + le32(20) + le32(4) + le32(0) +
                               le32(0) + le32(1) + le32(0));
}

uint32_t le32_at(const Packet& p, std::size_t off) {
    return uint32_t{p.buf[off]} | (uint32_t{p.buf[off + 1]} << 8) | (uint32_t{p.buf[off + 2]} << 16) |
           (uint32_t{p.buf[off + 3]} << 24);
}
in_addr addr_at(const Packet& p, std::size_t off) {
    in_addr a;
    std::memcpy(&a, &p.buf[off], 4);
    return a;
}
bool same(in_addr a, in_addr b) { return a.s_addr == b.s_addr; }

struct Phone {
    libalias* la;
    in_addr addr = prv1;
    uint16_t port = 51000;
    uint16_t cm_port = kSkinny;
    uint32_t seq = 100;

    Packet send(const std::string& payload) {
        Packet p = tcp_packet(addr, port, ext, cm_port, kAck | kPsh, seq, 1, payload);
        seq += static_cast<uint32_t>(payload.size());
        REQUIRE(LibAliasOut(la, p.data(), p.capacity()) == PKT_ALIAS_OK);
        CHECK(same(p.src(), masq));
        CHECK(checksums_ok(p));
        return p;
    }
};

}  // namespace

TEST_CASE("a Skinny phone registers with the alias endpoint and gets its media", "[skinny]") {
    Nat nat(masq, 0, PKT_ALIAS_SAME_PORTS);  // alias ports differ from the phone's
    Phone phone{nat.la};

    // Register and IpPort usually travel in one segment.
    Packet reg = phone.send(register_msg(prv1) + ip_port_msg(phone.port));
    CHECK(same(addr_at(reg, kPayload + 12 + 24), masq));
    const std::size_t ip_port_at = kPayload + 48;  // after the 48-byte Register
    CHECK(le32_at(reg, ip_port_at + 12) == reg.sport());
    CHECK(reg.sport() != phone.port);

    // The Call Manager's OpenReceiveChannel passes untouched.
    const std::string orc = message(0x0105, le32(7) + le32(0x1001) + le32(20) + le32(4) + le32(0));
    Packet in = tcp_packet(ext, kSkinny, masq, reg.sport(), kAck | kPsh, 1, phone.seq, orc);
    REQUIRE(nat.in(in) == PKT_ALIAS_OK);
    CHECK(same(in.dst(), prv1));
    CHECK(in.payload() == orc);

    // The phone acknowledges with its RTP endpoint, after some other message.
    const std::string keepalive = message(0x0000, "");
    Packet ack = phone.send(keepalive + orc_ack(prv1, 24576));
    const std::size_t at = kPayload + keepalive.size();
    CHECK(same(addr_at(ack, at + 16), masq));
    const uint32_t media = le32_at(ack, at + 20);
    CHECK(media != 24576);
    CHECK(media >= 0x8000);
    CHECK(media <= 0xffff);

    // Media from the other party reaches the phone's RTP port...
    Packet rtp_in = udp_packet(ext2, 30000, masq, static_cast<uint16_t>(media), "\x80\x00rtp");
    REQUIRE(nat.in(rtp_in) == PKT_ALIAS_OK);
    CHECK(same(rtp_in.dst(), prv1));
    CHECK(rtp_in.dport() == 24576);
    CHECK(checksums_ok(rtp_in));
    // ... and the phone's media leaves from the announced alias port.
    Packet rtp_out = udp_packet(prv1, 24576, ext2, 30000, "\x80\x00rtp");
    REQUIRE(nat.out(rtp_out) == PKT_ALIAS_OK);
    CHECK(rtp_out.sport() == media);

    // StartMediaTransmission names the remote party: nothing to translate.
    const std::string smt = start_media(ext2, 30000);
    Packet sm = tcp_packet(ext, kSkinny, masq, reg.sport(), kAck | kPsh, 2, phone.seq, smt);
    REQUIRE(nat.in(sm) == PKT_ALIAS_OK);
    CHECK(sm.payload() == smt);
}

TEST_CASE("LibAliasSetSkinnyPort moves the Skinny handler to another port", "[skinny]") {
    Nat nat;
    LibAliasSetSkinnyPort(nat.la, 2443);
    Phone moved{nat.la};
    moved.cm_port = 2443;
    Packet p = moved.send(register_msg(prv1));
    CHECK(same(addr_at(p, kPayload + 36), masq));
    // Port 2000 is now just TCP.
    Phone plain{nat.la};
    plain.port = 51001;
    const std::string msg = register_msg(prv1);
    Packet q = plain.send(msg);
    CHECK(q.payload() == msg);
}

TEST_CASE("Skinny from an outside phone and foreign addresses pass untouched", "[skinny]") {
    Nat nat;
    // A Call Manager behind the NAT, published on 2000.
    REQUIRE(LibAliasRedirectPort(nat.la, prv3, htons(kSkinny), any_addr, 0, masq, htons(kSkinny), IPPROTO_TCP));
    const std::string msg = register_msg(ext) + ip_port_msg(40000);
    Packet in = tcp_packet(ext, 40000, masq, kSkinny, kAck | kPsh, 1, 1, msg);
    REQUIRE(nat.in(in) == PKT_ALIAS_OK);
    CHECK(same(in.dst(), prv3));
    CHECK(in.payload() == msg);
    // A Register naming some other address than the phone's own.
    Phone phone{nat.la};
    const std::string other = register_msg(prv2);
    Packet p = phone.send(other);
    CHECK(p.payload() == other);
}

TEST_CASE("malformed Skinny segments are survived", "[skinny][malformed]") {
    Nat nat;
    Phone phone{nat.la};
    auto send = [&](const std::string& payload) {
        Packet p = tcp_packet(prv1, phone.port, ext, kSkinny, kAck | kPsh, 1, 1, payload, kPayload + payload.size());
        const int r = nat.out(p);
        CHECK((r == PKT_ALIAS_OK || r == PKT_ALIAS_IGNORED));
        if (r == PKT_ALIAS_OK) CHECK(checksums_ok(p));
        return p;
    };
    const std::string full = register_msg(prv1) + ip_port_msg(phone.port) + orc_ack(prv1, 16384);

    SECTION("truncated at every offset") {
        for (std::size_t n = 0; n <= full.size(); ++n) {
            Packet p = send(full.substr(0, n));
            // A Register cut short is not rewritten.
            if (n < 48) CHECK(p.payload() == full.substr(0, n));
        }
    }
    SECTION("absurd and lying length fields") {
        for (uint32_t length : {0u, 1u, 3u, 4u, 39u, 41u, 1000u, 0x7fffffffu, 0xffffffffu}) {
            std::string m = full;
            m.replace(0, 4, le32(length));
            Packet p = send(m);
            if (length < 40) CHECK(p.payload() == m);  // Register too short to hold its fields
        }
        // A malformed second message leaves the whole segment alone.
        std::string m = full;
        m.replace(48, 4, le32(2));
        Packet p = send(m);
        CHECK(p.payload() == m);
    }
    SECTION("many tiny messages") {
        std::string many;
        for (int i = 0; i < 80; ++i) many += ip_port_msg(1);  // 16 bytes each
        Packet p = send(many);
        // The walk stops after a bounded number of messages.
        CHECK(le32_at(p, kPayload + 12) == phone.port);
        CHECK(le32_at(p, kPayload + 79 * 16 + 12) == 1);
    }
    SECTION("random bytes, both directions") {
        std::mt19937 rng(2000);
        for (int i = 0; i < 3000; ++i) {
            std::string m = full;
            for (int k = 1 + rng() % 6; k > 0; --k) m[rng() % m.size()] = static_cast<char>(rng());
            m.resize(rng() % (m.size() + 1));
            if (i % 2) {
                send(m);
            } else {
                Packet p = tcp_packet(ext, kSkinny, masq, phone.port, kAck | kPsh, 1, 1, m, kPayload + m.size());
                const int r = nat.in(p);
                CHECK((r == PKT_ALIAS_OK || r == PKT_ALIAS_IGNORED));
            }
        }
    }

    // The handler still rewrites a good Register.
    Packet p = phone.send(register_msg(prv1));
    CHECK(same(addr_at(p, kPayload + 36), masq));
}
