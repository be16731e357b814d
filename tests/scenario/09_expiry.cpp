// SPDX-License-Identifier: BSD-2-Clause
// Link lifetimes on a simulated clock (LibAliasSetClock): libalias's
// timeouts (UDP/ICMP/other 60 s, TCP 300 s before both sides sent SYN,
// 86400 s established, 90 s after one side closed, 10 s after both,
// fragment ids 10 s, saved fragments 30 s).  Links live while used and go
// when idle; redirects never expire.  Probes are sent with DENY_INCOMING so
// a missing link shows as PKT_ALIAS_IGNORED.
#include <catch2/catch.hpp>

#include "packet.hpp"

#include <cstdlib>

using namespace test;

namespace {

bool same(in_addr a, in_addr b) { return a.s_addr == b.s_addr; }

struct Clocked {
    Nat nat{masq, PKT_ALIAS_DENY_INCOMING, PKT_ALIAS_DENY_INCOMING};
    FakeClock clock;
    Clocked() { clock.attach(nat.la); }
    void advance(unsigned s) { clock.now += s; }
};

bool udp_reply_ok(Nat& nat, uint16_t aport) {
    Packet r = udp_packet(ext, 53, masq, aport);
    return nat.in(r) == PKT_ALIAS_OK && same(r.dst(), prv1);
}

bool tcp_in_ok(Nat& nat, uint16_t aport, uint8_t flags) {
    Packet r = tcp_packet(ext, 80, masq, aport, flags);
    return nat.in(r) == PKT_ALIAS_OK && same(r.dst(), prv1);
}

uint16_t tcp_out(Nat& nat, uint8_t flags) {
    Packet p = tcp_packet(prv1, 3000, ext, 80, flags);
    REQUIRE(nat.out(p) == PKT_ALIAS_OK);
    return p.sport();
}

}  // namespace

TEST_CASE("UDP links live 60 s after their last use", "[expiry]") {
    Clocked c;
    Packet o = udp_packet(prv1, 5000, ext, 53);
    REQUIRE(c.nat.out(o) == PKT_ALIAS_OK);
    const uint16_t aport = o.sport();
    for (int i = 0; i < 20; ++i) {  // used every 59 s for almost 20 minutes
        c.advance(59);
        REQUIRE(udp_reply_ok(c.nat, aport));
    }
    c.advance(61);
    CHECK_FALSE(udp_reply_ok(c.nat, aport));
}

TEST_CASE("ICMP and other protocol links live 60 s", "[expiry]") {
    Clocked c;
    Packet ping = icmp_echo(prv1, ext, 0x10, 1);
    REQUIRE(c.nat.out(ping) == PKT_ALIAS_OK);
    Packet esp = ip_packet(50, prv1, ext, 20);
    REQUIRE(c.nat.out(esp) == PKT_ALIAS_OK);
    c.advance(59);
    Packet pong = icmp_echo(ext, masq, ping.icmp_id(), 1, true);
    CHECK(c.nat.in(pong) == PKT_ALIAS_OK);
    Packet esp_in = ip_packet(50, ext, masq, 20);
    CHECK(c.nat.in(esp_in) == PKT_ALIAS_OK);
    c.advance(61);
    Packet pong2 = icmp_echo(ext, masq, ping.icmp_id(), 2, true);
    CHECK(c.nat.in(pong2) == PKT_ALIAS_IGNORED);
    Packet esp_in2 = ip_packet(50, ext, masq, 20);
    CHECK(c.nat.in(esp_in2) == PKT_ALIAS_IGNORED);
}

TEST_CASE("TCP: 300 s until both sides have sent SYN", "[expiry][tcp]") {
    Clocked c;
    const uint16_t aport = tcp_out(c.nat, kSyn);
    c.advance(299);
    CHECK(tcp_in_ok(c.nat, aport, kAck));  // not a SYN: the link stays half-open
    c.advance(301);
    CHECK_FALSE(tcp_in_ok(c.nat, aport, kSyn | kAck));
}

TEST_CASE("TCP: established connections live a day", "[expiry][tcp]") {
    Clocked c;
    const uint16_t aport = tcp_out(c.nat, kSyn);
    REQUIRE(tcp_in_ok(c.nat, aport, kSyn | kAck));
    c.advance(86000);
    CHECK(tcp_in_ok(c.nat, aport, kAck));
    c.advance(86401);
    CHECK_FALSE(tcp_in_ok(c.nat, aport, kAck));
}

TEST_CASE("TCP: 90 s after one side closes, 10 s after both", "[expiry][tcp]") {
    SECTION("one FIN") {
        Clocked c;
        const uint16_t aport = tcp_out(c.nat, kSyn);
        REQUIRE(tcp_in_ok(c.nat, aport, kSyn | kAck));
        tcp_out(c.nat, kFin | kAck);
        c.advance(89);
        CHECK(tcp_in_ok(c.nat, aport, kAck));
        c.advance(91);
        CHECK_FALSE(tcp_in_ok(c.nat, aport, kAck));
    }
    SECTION("FIN both ways") {
        Clocked c;
        const uint16_t aport = tcp_out(c.nat, kSyn);
        REQUIRE(tcp_in_ok(c.nat, aport, kSyn | kAck));
        tcp_out(c.nat, kFin | kAck);
        REQUIRE(tcp_in_ok(c.nat, aport, kFin | kAck));
        c.advance(9);
        CHECK(tcp_in_ok(c.nat, aport, kAck));
        c.advance(11);
        CHECK_FALSE(tcp_in_ok(c.nat, aport, kAck));
    }
    SECTION("RST from outside on an established connection") {
        Clocked c;
        const uint16_t aport = tcp_out(c.nat, kSyn);
        REQUIRE(tcp_in_ok(c.nat, aport, kSyn | kAck));
        REQUIRE(tcp_in_ok(c.nat, aport, kRst));
        c.advance(89);
        CHECK(tcp_in_ok(c.nat, aport, kAck));
        c.advance(91);
        CHECK_FALSE(tcp_in_ok(c.nat, aport, kAck));
    }
    SECTION("RST answering a SYN: the inside side had opened, so 90 s") {
        Clocked c;
        const uint16_t aport = tcp_out(c.nat, kSyn);
        REQUIRE(tcp_in_ok(c.nat, aport, kRst | kAck));
        c.advance(89);
        CHECK(tcp_in_ok(c.nat, aport, kAck));
        c.advance(91);
        CHECK_FALSE(tcp_in_ok(c.nat, aport, kAck));
    }
    SECTION("RST both ways before any SYN was seen: 10 s") {
        Clocked c;
        Packet rst = tcp_packet(prv1, 3000, ext, 80, kRst);
        REQUIRE(c.nat.out(rst) == PKT_ALIAS_OK);
        const uint16_t aport = rst.sport();
        REQUIRE(tcp_in_ok(c.nat, aport, kRst));
        c.advance(9);
        CHECK(tcp_in_ok(c.nat, aport, kAck));
        c.advance(11);
        CHECK_FALSE(tcp_in_ok(c.nat, aport, kAck));
    }
}

TEST_CASE("redirects never expire, the flows they create do", "[expiry][redirect]") {
    Clocked c;
    // Static address mappings open no new inbound flows under DENY_INCOMING.
    LibAliasSetMode(c.nat.la, 0, PKT_ALIAS_DENY_INCOMING);
    REQUIRE(LibAliasRedirectPort(c.nat.la, prv1, htons(53), any_addr, 0, masq, htons(53), IPPROTO_UDP) != nullptr);
    REQUIRE(LibAliasRedirectAddr(c.nat.la, prv2, pub) != nullptr);
    REQUIRE(LibAliasRedirectProto(c.nat.la, prv3, any_addr, masq, 50) != nullptr);
    for (int day = 0; day < 3; ++day) {
        c.advance(86400 * 7);
        Packet q = udp_packet(ext, 40000, masq, 53);
        REQUIRE(c.nat.in(q) == PKT_ALIAS_OK);
        CHECK(same(q.dst(), prv1));
        Packet m = ip_packet(253, ext, pub, 20);
        REQUIRE(c.nat.in(m) == PKT_ALIAS_OK);
        CHECK(same(m.dst(), prv2));
        Packet esp = ip_packet(50, ext2, masq, 20);
        REQUIRE(c.nat.in(esp) == PKT_ALIAS_OK);
        CHECK(same(esp.dst(), prv3));
    }
    alias_stats st{};
    REQUIRE(LibAliasGetStats(c.nat.la, &st) == 0);
    const unsigned with_flows = st.total;
    // After a quiet minute (plus a few packets to drive housekeeping) only
    // the three redirects are left.
    c.advance(120);
    for (int i = 0; i < 4; ++i) {
        Packet tick = udp_packet(prv3, static_cast<uint16_t>(7000 + i), ext, 9);
        REQUIRE(c.nat.out(tick) == PKT_ALIAS_OK);
        c.advance(61);
    }
    Packet last = udp_packet(ext, 9, masq, 9);
    (void)c.nat.in(last);
    REQUIRE(LibAliasGetStats(c.nat.la, &st) == 0);
    CHECK(st.total < with_flows);
    CHECK(st.total <= 4);
    CHECK(st.expired > 0);
}

TEST_CASE("housekeeping removes idle links without them being looked up", "[expiry]") {
    Clocked c;
    for (uint16_t i = 0; i < 200; ++i) {
        Packet o = udp_packet(prv1, static_cast<uint16_t>(10000 + i), ext, 53);
        REQUIRE(c.nat.out(o) == PKT_ALIAS_OK);
    }
    alias_stats st{};
    REQUIRE(LibAliasGetStats(c.nat.la, &st) == 0);
    CHECK(st.udp == 200);
    c.advance(61);
    for (int i = 0; i < 20; ++i) {
        Packet tick = icmp_echo(prv2, ext, static_cast<uint16_t>(i), 1);
        REQUIRE(c.nat.out(tick) == PKT_ALIAS_OK);
    }
    REQUIRE(LibAliasGetStats(c.nat.la, &st) == 0);
    CHECK(st.udp == 0);
    CHECK(st.icmp == 20);
    CHECK(st.expired >= 200);
}

// A lookup that meets an overdue link before the sweep does (a 300 s TCP
// link sits in a 5 s wheel bucket) removes it; the statistics must count
// that as an expiry too, so that created - expired is what is left.
TEST_CASE("a link a lookup finds overdue counts as expired, like the sweep's", "[expiry]") {
    Clocked c;
    Packet syn = tcp_packet(prv1, 3000, ext, 80, kSyn);
    REQUIRE(c.nat.out(syn) == PKT_ALIAS_OK);
    const uint16_t aport = syn.sport();
    c.advance(302);  // idle for more than 300 s; its bucket falls due at 304 s
    CHECK_FALSE(tcp_in_ok(c.nat, aport, kSyn | kAck));
    alias_stats st{};
    REQUIRE(LibAliasGetStats(c.nat.la, &st) == 0);
    CHECK(st.total == 0);
    CHECK(st.expired == 1);
    CHECK(st.created - st.expired == st.total);
}

TEST_CASE("fragment ids live 10 s after their last use", "[expiry][fragments]") {
    Clocked c;
    LibAliasSetMode(c.nat.la, 0, PKT_ALIAS_DENY_INCOMING);
    Packet head = udp_packet(ext, 53, masq, 9999);
    head.put16(4, 0xabc);
    head.put16(6, 0x2000);
    fix_checksums(head);
    REQUIRE(c.nat.in(head) == PKT_ALIAS_FOUND_HEADER_FRAGMENT);
    auto tail = [&] {
        Packet t = ip_packet(IPPROTO_UDP, ext, masq, 24);
        t.put16(4, 0xabc);
        t.put16(6, 3);
        t.put16(10, 0);
        t.put16(10, checksum(t.data(), 20));
        return c.nat.in(t);
    };
    c.advance(9);
    CHECK(tail() == PKT_ALIAS_OK);
    c.advance(9);
    CHECK(tail() == PKT_ALIAS_OK);
    c.advance(11);
    CHECK(tail() == PKT_ALIAS_UNRESOLVED_FRAGMENT);
}

TEST_CASE("saved fragments are dropped after 30 s", "[expiry][fragments]") {
    Clocked c;
    Packet t = ip_packet(IPPROTO_UDP, ext, masq, 24);
    t.put16(4, 0x77);
    t.put16(6, 3);
    void* copy = std::malloc(t.len());
    std::memcpy(copy, t.data(), t.len());
    REQUIRE(LibAliasSaveFragment(c.nat.la, copy) == PKT_ALIAS_OK);
    c.advance(29);
    Packet probe = udp_packet(ext, 53, masq, 1);
    (void)c.nat.in(probe);
    alias_stats st{};
    REQUIRE(LibAliasGetStats(c.nat.la, &st) == 0);
    CHECK(st.frag_ptr == 1);
    c.advance(2);
    Packet probe2 = udp_packet(ext, 53, masq, 1);
    (void)c.nat.in(probe2);
    REQUIRE(LibAliasGetStats(c.nat.la, &st) == 0);
    CHECK(st.frag_ptr == 0);
    CHECK(LibAliasGetFragment(c.nat.la, t.data()) == nullptr);
}
