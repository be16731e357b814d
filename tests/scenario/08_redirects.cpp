// SPDX-License-Identifier: BSD-2-Clause
// Redirect API details beyond 03_natin: argument checks, SetTarget for
// unsolicited inbound traffic, CheckNewLink, UnaliasOut and OutTry.
#include <catch2/catch.hpp>

#include "packet.hpp"

using namespace test;

namespace {

bool same(in_addr a, in_addr b) { return a.s_addr == b.s_addr; }
const in_addr none_addr = addr("255.255.255.255");

}  // namespace

TEST_CASE("RedirectPort accepts TCP, UDP and SCTP only", "[redirect]") {
    Nat nat(masq);
    CHECK(LibAliasRedirectPort(nat.la, prv1, htons(1), any_addr, 0, masq, htons(2), IPPROTO_TCP) != nullptr);
    CHECK(LibAliasRedirectPort(nat.la, prv1, htons(1), any_addr, 0, masq, htons(2), IPPROTO_UDP) != nullptr);
    CHECK(LibAliasRedirectPort(nat.la, prv1, htons(1), any_addr, 0, masq, htons(2), IPPROTO_SCTP) != nullptr);
    CHECK(LibAliasRedirectPort(nat.la, prv1, htons(1), any_addr, 0, masq, htons(2), IPPROTO_ICMP) == nullptr);
    CHECK(LibAliasRedirectPort(nat.la, prv1, htons(1), any_addr, 0, masq, htons(2), 47) == nullptr);
}

TEST_CASE("a redirect on a second public address", "[redirect]") {
    Nat nat(masq, PKT_ALIAS_DENY_INCOMING, PKT_ALIAS_DENY_INCOMING);
    REQUIRE(LibAliasRedirectPort(nat.la, prv2, htons(443), any_addr, 0, pub, htons(443), IPPROTO_TCP) != nullptr);
    Packet syn = tcp_packet(ext, 50000, pub, 443, kSyn);
    REQUIRE(nat.in(syn) == PKT_ALIAS_OK);
    CHECK(same(syn.dst(), prv2));
    CHECK(checksums_ok(syn));
    Packet wrong = tcp_packet(ext, 50000, masq, 443, kSyn);
    CHECK(nat.in(wrong) == PKT_ALIAS_IGNORED);
    Packet reply = tcp_packet(prv2, 443, ext, 50000, kSyn | kAck);
    REQUIRE(nat.out(reply) == PKT_ALIAS_OK);
    CHECK(same(reply.src(), pub));
    CHECK(reply.sport() == 443);
    CHECK(checksums_ok(reply));
}

TEST_CASE("SetTarget decides where unsolicited inbound traffic goes", "[redirect][target]") {
    SECTION("0.0.0.0 (the default): the destination stays, the packet is for the NAT host") {
        Nat nat(masq);
        LibAliasSetTarget(nat.la, any_addr);
        Packet p = udp_packet(ext, 53, masq, 5000);
        const Packet before = p;
        CHECK(nat.in(p) == PKT_ALIAS_OK);
        CHECK(p.buf == before.buf);
    }
    SECTION("255.255.255.255: the alias address") {
        Nat nat(masq);
        LibAliasSetTarget(nat.la, none_addr);
        Packet p = udp_packet(ext, 53, pub, 5000);  // addressed to another public address
        REQUIRE(nat.in(p) == PKT_ALIAS_OK);
        CHECK(same(p.dst(), masq));
        CHECK(p.dport() == 5000);
        CHECK(checksums_ok(p));
    }
    SECTION("an address: everything unsolicited goes to that host") {
        Nat nat(masq);
        LibAliasSetTarget(nat.la, prv3);
        Packet p = udp_packet(ext, 53, masq, 5000, "hello");
        REQUIRE(nat.in(p) == PKT_ALIAS_OK);
        CHECK(same(p.dst(), prv3));
        CHECK(p.dport() == 5000);
        CHECK(checksums_ok(p));
        CHECK(LibAliasCheckNewLink(nat.la) == 1);
        Packet syn = tcp_packet(ext, 40000, masq, 22, kSyn);
        REQUIRE(nat.in(syn) == PKT_ALIAS_OK);
        CHECK(same(syn.dst(), prv3));
        Packet ping = icmp_echo(ext, masq, 77, 1);
        REQUIRE(nat.in(ping) == PKT_ALIAS_OK);
        CHECK(same(ping.dst(), prv3));
        Packet gre = ip_packet(47, ext, masq, 20);
        REQUIRE(nat.in(gre) == PKT_ALIAS_OK);
        CHECK(same(gre.dst(), prv3));
        // The target's reply leaves through the link that was made.
        Packet reply = udp_packet(prv3, 5000, ext, 53);
        REQUIRE(nat.out(reply) == PKT_ALIAS_OK);
        CHECK(same(reply.src(), masq));
        CHECK(reply.sport() == 5000);
        CHECK(LibAliasCheckNewLink(nat.la) == 0);
        // A reply on the existing link made no new default link either.
        Packet again = udp_packet(ext, 53, masq, 5000);
        REQUIRE(nat.in(again) == PKT_ALIAS_OK);
        CHECK(LibAliasCheckNewLink(nat.la) == 0);
        // A static address mapping takes precedence over the target.
        REQUIRE(LibAliasRedirectAddr(nat.la, prv1, pub) != nullptr);
        Packet mapped = udp_packet(ext, 53, pub, 5001);
        REQUIRE(nat.in(mapped) == PKT_ALIAS_OK);
        CHECK(same(mapped.dst(), prv1));
        CHECK(LibAliasCheckNewLink(nat.la) == 0);
    }
}

TEST_CASE("UnaliasOut restores an aliased outbound packet", "[redirect][unalias]") {
    Nat nat(masq, 0, ~0u);
    Packet u = udp_packet(prv1, 1234, ext, 53, "x");
    REQUIRE(nat.out(u) == PKT_ALIAS_OK);
    REQUIRE(LibAliasUnaliasOut(nat.la, u.data(), u.capacity()) == PKT_ALIAS_OK);
    CHECK(same(u.src(), prv1));
    CHECK(u.sport() == 1234);
    CHECK(checksums_ok(u));

    Packet t = tcp_packet(prv2, 2345, ext, 80, kSyn);
    REQUIRE(nat.out(t) == PKT_ALIAS_OK);
    REQUIRE(LibAliasUnaliasOut(nat.la, t.data(), t.capacity()) == PKT_ALIAS_OK);
    CHECK(same(t.src(), prv2));
    CHECK(t.sport() == 2345);
    CHECK(checksums_ok(t));

    Packet i = icmp_echo(prv3, ext, 0x3131, 1);
    REQUIRE(nat.out(i) == PKT_ALIAS_OK);
    REQUIRE(LibAliasUnaliasOut(nat.la, i.data(), i.capacity()) == PKT_ALIAS_OK);
    CHECK(same(i.src(), prv3));
    CHECK(i.icmp_id() == 0x3131);
    CHECK(checksums_ok(i));

    // Nothing known: ignored and untouched; other protocols are not handled.
    Packet unknown = udp_packet(masq, 999, ext, 53);
    const Packet before = unknown;
    CHECK(LibAliasUnaliasOut(nat.la, unknown.data(), unknown.capacity()) == PKT_ALIAS_IGNORED);
    CHECK(unknown.buf == before.buf);
    Packet gre = ip_packet(47, masq, ext, 20);
    CHECK(LibAliasUnaliasOut(nat.la, gre.data(), gre.capacity()) == PKT_ALIAS_IGNORED);
    // It creates nothing.
    alias_stats st{};
    REQUIRE(LibAliasGetStats(nat.la, &st) == 0);
    CHECK(st.total == 3);
}

TEST_CASE("OutTry with create=0 translates known flows only", "[redirect][outtry]") {
    Nat nat(masq, 0, ~0u);
    Packet fresh = udp_packet(prv1, 1111, ext, 53);
    const Packet before = fresh;
    CHECK(LibAliasOutTry(nat.la, fresh.data(), fresh.capacity(), 0) == PKT_ALIAS_IGNORED);
    CHECK(fresh.buf == before.buf);
    Packet syn = tcp_packet(prv1, 1112, ext, 80, kSyn);
    CHECK(LibAliasOutTry(nat.la, syn.data(), syn.capacity(), 0) == PKT_ALIAS_IGNORED);
    Packet ping = icmp_echo(prv1, ext, 5, 1);
    CHECK(LibAliasOutTry(nat.la, ping.data(), ping.capacity(), 0) == PKT_ALIAS_IGNORED);
    alias_stats st{};
    REQUIRE(LibAliasGetStats(nat.la, &st) == 0);
    CHECK(st.total == 0);

    Packet first = udp_packet(prv1, 1111, ext, 53);
    REQUIRE(LibAliasOutTry(nat.la, first.data(), first.capacity(), 1) == PKT_ALIAS_OK);
    Packet second = udp_packet(prv1, 1111, ext, 53);
    REQUIRE(LibAliasOutTry(nat.la, second.data(), second.capacity(), 0) == PKT_ALIAS_OK);
    CHECK(same(second.src(), masq));
    CHECK(second.sport() == first.sport());
    CHECK(checksums_ok(second));
    // A flow that matches a redirect is known too.
    REQUIRE(LibAliasRedirectPort(nat.la, prv2, htons(80), any_addr, 0, masq, htons(8080), IPPROTO_TCP) != nullptr);
    Packet srv = tcp_packet(prv2, 80, ext, 40000, kSyn | kAck);
    REQUIRE(LibAliasOutTry(nat.la, srv.data(), srv.capacity(), 0) == PKT_ALIAS_OK);
    CHECK(srv.sport() == 8080);
}

TEST_CASE("redirect handles from another instance are ignored", "[redirect]") {
    Nat a(masq), b(masq);
    alias_link* l = LibAliasRedirectPort(a.la, prv1, htons(1), any_addr, 0, masq, htons(2), IPPROTO_UDP);
    REQUIRE(l != nullptr);
    CHECK(LibAliasAddServer(b.la, l, prv2, htons(3)) == -1);
    CHECK(LibAliasRedirectDynamic(b.la, l) == -1);
    LibAliasRedirectDelete(b.la, l);
    // Still alive in its own instance.
    LibAliasSetMode(a.la, PKT_ALIAS_DENY_INCOMING, PKT_ALIAS_DENY_INCOMING);
    Packet p = udp_packet(ext, 9, masq, 2);
    REQUIRE(a.in(p) == PKT_ALIAS_OK);
    CHECK(same(p.dst(), prv1));
}
