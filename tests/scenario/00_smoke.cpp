// SPDX-License-Identifier: BSD-2-Clause
// Smoke: one UDP and one TCP flow out and back, bytes and checksums.
#include <catch2/catch.hpp>

#include "packet.hpp"

using namespace test;

TEST_CASE("udp flow is aliased out and de-aliased back", "[smoke]") {
    Nat nat;
    Packet o = udp_packet(prv1, 1234, ext, 53, "query");
    REQUIRE(nat.out(o) == PKT_ALIAS_OK);
    CHECK(o.src().s_addr == masq.s_addr);
    CHECK(o.dst().s_addr == ext.s_addr);
    CHECK(o.sport() == 1234);  // SAME_PORTS is on by default
    CHECK(checksums_ok(o));
    CHECK(o.payload() == "query");

    Packet i = udp_packet(ext, 53, masq, o.sport(), "answer");
    REQUIRE(nat.in(i) == PKT_ALIAS_OK);
    CHECK(i.dst().s_addr == prv1.s_addr);
    CHECK(i.dport() == 1234);
    CHECK(checksums_ok(i));
}

TEST_CASE("tcp flow keeps checksums valid both ways", "[smoke]") {
    Nat nat(masq, 0, ~0u);  // no SAME_PORTS: the port is drawn from 0x8000-0xffff
    Packet syn = tcp_packet(prv1, 40000, ext, 80, kSyn);
    REQUIRE(nat.out(syn) == PKT_ALIAS_OK);
    CHECK(syn.src().s_addr == masq.s_addr);
    CHECK(syn.sport() >= 0x8000);
    CHECK(checksums_ok(syn));
    Packet synack = tcp_packet(ext, 80, masq, syn.sport(), kSyn | kAck, 5000, 1001);
    REQUIRE(nat.in(synack) == PKT_ALIAS_OK);
    CHECK(synack.dst().s_addr == prv1.s_addr);
    CHECK(synack.dport() == 40000);
    CHECK(checksums_ok(synack));
}
