// SPDX-License-Identifier: BSD-2-Clause
// The legacy single-instance API (PacketAlias*), as old ppp and Apple's natd
// use it: each call forwards to one process-wide instance.
#include <catch2/catch.hpp>

#include "packet.hpp"

#include <cstdlib>

using namespace test;

namespace {
bool same(in_addr a, in_addr b) { return a.s_addr == b.s_addr; }
char* raw(Packet& p) { return reinterpret_cast<char*>(p.data()); }
}  // namespace

TEST_CASE("PacketAlias* calls before PacketAliasInit fail harmlessly", "[legacy]") {
    PacketAliasUninit();  // no instance: nothing happens
    Packet p = udp_packet(prv1, 1, ext, 2);
    const Packet before = p;
    CHECK(PacketAliasOut(raw(p), p.capacity()) == PKT_ALIAS_ERROR);
    CHECK(PacketAliasIn(raw(p), p.capacity()) == PKT_ALIAS_ERROR);
    CHECK(p.buf == before.buf);
    CHECK(PacketAliasRedirectPort(prv1, 1, ext, 2, masq, 3, IPPROTO_UDP) == nullptr);
    CHECK(PacketAliasSetMode(0, 0) == static_cast<unsigned>(-1));
    PacketAliasSetAddress(masq);
}

TEST_CASE("the legacy API translates like the instance API", "[legacy]") {
    PacketAliasInit();
    PacketAliasSetAddress(masq);
    CHECK(PacketAliasSetMode(0, 0) ==
          (PKT_ALIAS_SAME_PORTS | PKT_ALIAS_USE_SOCKETS | PKT_ALIAS_RESET_ON_ADDR_CHANGE));
    PacketAliasSetMode(PKT_ALIAS_DENY_INCOMING, PKT_ALIAS_DENY_INCOMING | PKT_ALIAS_SAME_PORTS);
    PacketAliasSetFWBase(1000, 10);
    PacketAliasSetSkinnyPort(2000);

    Packet o = udp_packet(prv1, 1234, ext, 53, "q");
    REQUIRE(PacketAliasOut(raw(o), o.capacity()) == PKT_ALIAS_OK);
    CHECK(same(o.src(), masq));
    CHECK(o.sport() >= 0x8000);
    CHECK(checksums_ok(o));
    const uint16_t aport = o.sport();

    Packet copy = o;
    REQUIRE(PacketUnaliasOut(raw(copy), copy.capacity()) == PKT_ALIAS_OK);
    CHECK(same(copy.src(), prv1));
    CHECK(copy.sport() == 1234);

    Packet r = udp_packet(ext, 53, masq, aport, "a");
    REQUIRE(PacketAliasIn(raw(r), r.capacity()) == PKT_ALIAS_OK);
    CHECK(same(r.dst(), prv1));
    CHECK(r.dport() == 1234);
    CHECK(checksums_ok(r));

    alias_link* pf = PacketAliasRedirectPort(prv2, htons(80), any_addr, 0, masq, htons(8080), IPPROTO_TCP);
    REQUIRE(pf != nullptr);
    Packet syn = tcp_packet(ext, 40000, masq, 8080, kSyn);
    REQUIRE(PacketAliasIn(raw(syn), syn.capacity()) == PKT_ALIAS_OK);
    CHECK(same(syn.dst(), prv2));
    CHECK(syn.dport() == 80);
    PacketAliasRedirectDelete(pf);

    alias_link* lsnat = PacketAliasRedirectPort(prv3, htons(53), any_addr, 0, masq, htons(5353), IPPROTO_UDP);
    REQUIRE(lsnat != nullptr);
    CHECK(PacketAliasAddServer(lsnat, prv1, htons(53)) == 0);
    alias_link* full = PacketAliasRedirectPort(prv2, htons(7), ext, htons(7), masq, htons(7), IPPROTO_UDP);
    REQUIRE(full != nullptr);
    CHECK(PacketAliasRedirectDynamic(full) == 0);

    alias_link* addr_map = PacketAliasRedirectAddr(prv3, pub);
    REQUIRE(addr_map != nullptr);
    alias_link* esp = PacketAliasRedirectProto(prv2, any_addr, masq, 50);
    REQUIRE(esp != nullptr);
    Packet e = ip_packet(50, ext, masq, 20);
    REQUIRE(PacketAliasIn(raw(e), e.capacity()) == PKT_ALIAS_OK);
    CHECK(same(e.dst(), prv2));

    PacketAliasSetMode(0, PKT_ALIAS_DENY_INCOMING);
    PacketAliasSetTarget(prv1);
    Packet u = udp_packet(ext, 1, masq, 999);
    REQUIRE(PacketAliasIn(raw(u), u.capacity()) == PKT_ALIAS_OK);
    CHECK(same(u.dst(), prv1));
    CHECK(PacketAliasCheckNewLink() == 1);

    // Fragments through the legacy calls.
    Packet tail = ip_packet(IPPROTO_UDP, ext, masq, 16);
    tail.put16(4, 0x0f0f);
    tail.put16(6, 2);
    tail.put16(10, 0);
    tail.put16(10, checksum(tail.data(), 20));
    REQUIRE(PacketAliasIn(raw(tail), tail.capacity()) == PKT_ALIAS_UNRESOLVED_FRAGMENT);
    void* saved = std::malloc(tail.len());
    std::memcpy(saved, tail.data(), tail.len());
    REQUIRE(PacketAliasSaveFragment(static_cast<char*>(saved)) == PKT_ALIAS_OK);
    Packet head = udp_packet(ext, 53, masq, aport, "12345678");
    head.put16(4, 0x0f0f);
    head.put16(6, 0x2000);
    fix_checksums(head);
    REQUIRE(PacketAliasIn(raw(head), head.capacity()) == PKT_ALIAS_FOUND_HEADER_FRAGMENT);
    char* f = PacketAliasGetFragment(raw(head));
    REQUIRE(f != nullptr);
    PacketAliasFragmentIn(raw(head), f);
    Packet got(36);
    std::memcpy(got.data(), f, 36);
    CHECK(same(got.dst(), prv1));
    CHECK(ip_checksum_ok(got));
    std::free(f);
    CHECK(PacketAliasGetFragment(raw(head)) == nullptr);

    Packet h = udp_packet(prv1, 1, ext, 2);
    CHECK(PacketAliasInternetChecksum(reinterpret_cast<unsigned short*>(h.data()), 20) == 0);
    CHECK(PacketAliasProxyRule("port 8080 server 10.0.0.9:3128") == 0);
    CHECK(PacketAliasProxyRule("not a rule") == -1);

    // Re-initialising keeps working and clears everything.
    PacketAliasInit();
    PacketAliasSetAddress(masq);
    CHECK(PacketAliasSetMode(0, 0) ==
          (PKT_ALIAS_SAME_PORTS | PKT_ALIAS_USE_SOCKETS | PKT_ALIAS_RESET_ON_ADDR_CHANGE));
    PacketAliasUninit();
    Packet after = udp_packet(prv1, 1, ext, 2);
    CHECK(PacketAliasOut(raw(after), after.capacity()) == PKT_ALIAS_ERROR);
}
