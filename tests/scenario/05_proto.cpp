// SPDX-License-Identifier: BSD-2-Clause
// Other IP protocols (GRE, ESP, AH, SCTP in userland, anything else) go
// through generic protocol links: keyed on (protocol, inside host, peer) out
// and (protocol, alias, peer) in, no ports, so a peer's traffic returns to
// the inside host that most recently talked to it with that protocol.
// RedirectProto pins a protocol (optionally from one remote) to a host.
#include <catch2/catch.hpp>

#include "packet.hpp"

using namespace test;

namespace {

bool same(in_addr a, in_addr b) { return a.s_addr == b.s_addr; }

Packet proto_packet(uint8_t proto, in_addr src, in_addr dst) {
    Packet p = ip_packet(proto, src, dst, 32);
    for (std::size_t i = 20; i < 52; ++i) p.buf[i] = static_cast<uint8_t>(i * 7);
    fix_checksums(p);
    return p;
}

bool payload_intact(const Packet& p) {
    for (std::size_t i = 20; i < 52; ++i)
        if (p.buf[i] != static_cast<uint8_t>(i * 7)) return false;
    return true;
}

constexpr uint8_t kGre = 47, kEsp = 50, kAh = 51, kSctp = 132, kExperimental = 253;

}  // namespace

TEST_CASE("generic protocols are aliased out and back", "[proto]") {
    for (uint8_t proto : {kGre, kEsp, kAh, kSctp, kExperimental}) {
        DYNAMIC_SECTION("protocol " << int(proto)) {
            Nat nat(masq);
            Packet out = proto_packet(proto, prv1, ext);
            REQUIRE(nat.out(out) == PKT_ALIAS_OK);
            CHECK(same(out.src(), masq));
            CHECK(same(out.dst(), ext));
            CHECK(out.proto() == proto);
            CHECK(payload_intact(out));
            CHECK(checksums_ok(out));

            Packet back = proto_packet(proto, ext, masq);
            REQUIRE(nat.in(back) == PKT_ALIAS_OK);
            CHECK(same(back.src(), ext));
            CHECK(same(back.dst(), prv1));
            CHECK(payload_intact(back));
            CHECK(checksums_ok(back));
        }
    }
}

TEST_CASE("a peer's protocol traffic returns to the host that last talked to it", "[proto]") {
    // (ESP has its own handler for several clients, see 4x_ipsec; a generic protocol here.)
    Nat nat(masq);
    Packet a = proto_packet(kExperimental, prv1, ext);
    REQUIRE(nat.out(a) == PKT_ALIAS_OK);
    Packet b = proto_packet(kExperimental, prv2, ext);
    REQUIRE(nat.out(b) == PKT_ALIAS_OK);
    Packet back = proto_packet(kExperimental, ext, masq);
    REQUIRE(nat.in(back) == PKT_ALIAS_OK);
    CHECK(same(back.dst(), prv2));
    // Another peer is still tied to prv1 only if prv1 talked to it.
    Packet c = proto_packet(kExperimental, prv1, ext2);
    REQUIRE(nat.out(c) == PKT_ALIAS_OK);
    Packet back2 = proto_packet(kExperimental, ext2, masq);
    REQUIRE(nat.in(back2) == PKT_ALIAS_OK);
    CHECK(same(back2.dst(), prv1));
    // Other protocols from the same peer are separate links.
    LibAliasSetMode(nat.la, PKT_ALIAS_DENY_INCOMING, PKT_ALIAS_DENY_INCOMING);
    Packet gre = proto_packet(kGre, ext, masq);
    CHECK(nat.in(gre) == PKT_ALIAS_IGNORED);
}

TEST_CASE("unsolicited protocol traffic: for the NAT host, or refused with DENY_INCOMING", "[proto]") {
    Nat nat(masq);
    Packet p = proto_packet(kGre, ext, masq);
    const Packet before = p;
    CHECK(nat.in(p) == PKT_ALIAS_OK);
    CHECK(p.buf == before.buf);
    LibAliasSetMode(nat.la, PKT_ALIAS_DENY_INCOMING, PKT_ALIAS_DENY_INCOMING);
    Packet q = proto_packet(kEsp, ext2, masq);
    const Packet qb = q;
    CHECK(nat.in(q) == PKT_ALIAS_IGNORED);
    CHECK(q.buf == qb.buf);
}

TEST_CASE("RedirectProto sends a protocol to an inside host", "[proto][redirect]") {
    Nat nat(masq, PKT_ALIAS_DENY_INCOMING, PKT_ALIAS_DENY_INCOMING);
    alias_link* any_peer = LibAliasRedirectProto(nat.la, prv2, any_addr, masq, kEsp);
    REQUIRE(any_peer != nullptr);
    alias_link* one_peer = LibAliasRedirectProto(nat.la, prv1, ext2, masq, kAh);
    REQUIRE(one_peer != nullptr);

    for (in_addr peer : {ext, ext2}) {
        Packet esp = proto_packet(kEsp, peer, masq);
        REQUIRE(nat.in(esp) == PKT_ALIAS_OK);
        CHECK(same(esp.dst(), prv2));
        CHECK(checksums_ok(esp));
    }
    Packet ah = proto_packet(kAh, ext2, masq);
    REQUIRE(nat.in(ah) == PKT_ALIAS_OK);
    CHECK(same(ah.dst(), prv1));
    Packet ah_other = proto_packet(kAh, ext, masq);
    CHECK(nat.in(ah_other) == PKT_ALIAS_IGNORED);

    // The inside host's answers leave from the alias address.
    Packet reply = proto_packet(kEsp, prv2, ext);
    REQUIRE(nat.out(reply) == PKT_ALIAS_OK);
    CHECK(same(reply.src(), masq));
    CHECK(checksums_ok(reply));

    // Deleted: refused again (the flows it created are cleared with the table).
    LibAliasRedirectDelete(nat.la, one_peer);
    LibAliasSetAddress(nat.la, pub);
    LibAliasSetAddress(nat.la, masq);
    Packet ah2 = proto_packet(kAh, ext2, masq);
    CHECK(nat.in(ah2) == PKT_ALIAS_IGNORED);
}

TEST_CASE("RedirectProto on another public address", "[proto][redirect]") {
    Nat nat(masq);
    REQUIRE(LibAliasRedirectProto(nat.la, prv3, any_addr, pub, kGre) != nullptr);
    Packet gre = proto_packet(kGre, ext, pub);
    REQUIRE(nat.in(gre) == PKT_ALIAS_OK);
    CHECK(same(gre.dst(), prv3));
    Packet out = proto_packet(kGre, prv3, ext);
    REQUIRE(nat.out(out) == PKT_ALIAS_OK);
    CHECK(same(out.src(), pub));
}

TEST_CASE("OutTry with create=0 leaves unknown protocol flows alone", "[proto]") {
    Nat nat(masq);
    Packet p = proto_packet(kEsp, prv1, ext);
    const Packet before = p;
    CHECK(LibAliasOutTry(nat.la, p.data(), p.capacity(), 0) == PKT_ALIAS_IGNORED);
    CHECK(p.buf == before.buf);
    REQUIRE(LibAliasOutTry(nat.la, p.data(), p.capacity(), 1) == PKT_ALIAS_OK);
    CHECK(same(p.src(), masq));
}
