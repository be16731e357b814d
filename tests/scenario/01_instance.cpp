// SPDX-License-Identifier: BSD-2-Clause
// Instance life cycle: creation, reset in place, defaults, independence of
// instances, and harmless handling of NULL or foreign instance pointers.
// (The semantics of FreeBSD's tests/sys/netinet/libalias/1_instance.c, plus
// the defaults libalias(3) documents.)
#include <catch2/catch.hpp>

#include "packet.hpp"

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

using namespace test;

namespace {

constexpr unsigned kDefaultMode = PKT_ALIAS_SAME_PORTS | PKT_ALIAS_USE_SOCKETS | PKT_ALIAS_RESET_ON_ADDR_CHANGE;

unsigned probe_mode(libalias* la) { return LibAliasSetMode(la, 0, 0); }

// LibAliasInit on a live instance: the same pointer, the default mode, no
// links; then the alias address again, which the reset cleared.
void reinit_in_place(libalias* la) {
    REQUIRE(LibAliasInit(la) == la);
    CHECK(probe_mode(la) == kDefaultMode);
    alias_stats st{};
    REQUIRE(LibAliasGetStats(la, &st) == 0);
    CHECK(st.total == 0);
    LibAliasSetAddress(la, masq);
}

}  // namespace

TEST_CASE("LibAliasInit(NULL) creates an instance with libalias's defaults", "[instance]") {
    libalias* la = LibAliasInit(nullptr);
    REQUIRE(la != nullptr);
    CHECK(probe_mode(la) == kDefaultMode);

    // No alias address yet: an outbound packet keeps its source.
    Packet p = udp_packet(prv1, 5000, ext, 53);
    CHECK(LibAliasOut(la, p.data(), p.capacity()) == PKT_ALIAS_OK);
    CHECK(p.src().s_addr == prv1.s_addr);
    CHECK(checksums_ok(p));

    // Default port range 0x8000-0xffff once SAME_PORTS is off.
    LibAliasSetAddress(la, masq);
    LibAliasSetMode(la, 0, PKT_ALIAS_SAME_PORTS);
    for (uint16_t sport = 1000; sport < 1100; ++sport) {
        Packet q = udp_packet(prv1, sport, ext, 53);
        REQUIRE(LibAliasOut(la, q.data(), q.capacity()) == PKT_ALIAS_OK);
        CHECK(q.sport() >= 0x8000);
    }
    LibAliasUninit(la);
}

TEST_CASE("re-initialising an instance keeps the pointer and restores defaults", "[instance]") {
    libalias* la = LibAliasInit(nullptr);
    REQUIRE(la != nullptr);
    for (int i = 0; i < 30; ++i) {
        libalias* again = LibAliasInit(la);
        REQUIRE(again == la);
    }

    // Change every setting and fill the table ...
    LibAliasSetAddress(la, masq);
    LibAliasSetMode(la, PKT_ALIAS_DENY_INCOMING | PKT_ALIAS_UNREGISTERED_ONLY, ~0u);
    LibAliasSetAliasPortRange(la, 4000, 4001);
    LibAliasSetTarget(la, prv2);
    REQUIRE(LibAliasRedirectPort(la, prv1, htons(80), any_addr, 0, masq, htons(8080), IPPROTO_TCP) != nullptr);
    Packet o = udp_packet(prv1, 5000, ext, 53);
    REQUIRE(LibAliasOut(la, o.data(), o.capacity()) == PKT_ALIAS_OK);
    const uint16_t aport = o.sport();
    CHECK((aport == 4000 || aport == 4001));

    // ... then reset: same pointer, defaults back, table empty.
    reinit_in_place(la);
    // The redirect is gone and DENY_INCOMING is off: the SYN is for the NAT host.
    Packet syn = tcp_packet(ext, 40000, masq, 8080, kSyn);
    CHECK(LibAliasIn(la, syn.data(), syn.capacity()) == PKT_ALIAS_OK);
    CHECK(syn.dst().s_addr == masq.s_addr);
    // The old UDP link is gone: its reply is not sent to prv1.
    Packet r = udp_packet(ext, 53, masq, aport);
    CHECK(LibAliasIn(la, r.data(), r.capacity()) == PKT_ALIAS_OK);
    CHECK(r.dst().s_addr == masq.s_addr);
    // The port range is the default one again.
    LibAliasSetMode(la, 0, PKT_ALIAS_SAME_PORTS);
    Packet n = udp_packet(prv1, 5001, ext, 53);
    REQUIRE(LibAliasOut(la, n.data(), n.capacity()) == PKT_ALIAS_OK);
    CHECK(n.sport() >= 0x8000);
    LibAliasUninit(la);
}

TEST_CASE("re-initialising an instance keeps the proxy rules and the Skinny port, as libalias does", "[instance]") {
    // libalias's LibAliasInit(la) drops the links and resets addresses, port
    // range and mode, but leaves the proxy list, the Skinny port and the
    // firewall range alone; natd sets them once and never again.
    const in_addr proxy_server = addr("10.0.0.9");
    libalias* la = LibAliasInit(nullptr);
    REQUIRE(la != nullptr);
    LibAliasSetAddress(la, masq);
    REQUIRE(LibAliasProxyRule(la, "port 80 server 10.0.0.9:3128") == 0);
    LibAliasSetSkinnyPort(la, 2443);
    LibAliasSetFWBase(la, 1000, 100);  // not observable on Linux; kept like the rest
    Packet before = tcp_packet(prv1, 40000, ext, 80, kSyn);
    REQUIRE(LibAliasOut(la, before.data(), before.capacity()) == PKT_ALIAS_OK);
    REQUIRE(before.dst().s_addr == proxy_server.s_addr);

    reinit_in_place(la);

    // The proxy rule still sends a new web flow to the server.
    Packet web = tcp_packet(prv2, 40001, ext, 80, kSyn);
    REQUIRE(LibAliasOut(la, web.data(), web.capacity()) == PKT_ALIAS_OK);
    CHECK(web.src().s_addr == masq.s_addr);
    CHECK(web.dst().s_addr == proxy_server.s_addr);
    CHECK(web.dport() == 3128);
    CHECK(checksums_ok(web));

    // The Skinny handler still listens on 2443: a phone's Register gets the
    // alias address in place of its own (48 bytes: header 12, name 16, ...).
    auto le32 = [](uint32_t v) {
        return std::string{static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16),
                           static_cast<char>(v >> 24)};
    };
    const std::string phone(reinterpret_cast<const char*>(&prv1), 4);
    const std::string reg = le32(40) + le32(0) + le32(0x0001) + std::string("SEP001122AABBCC\0", 16) + le32(0) +
                            le32(1) + phone + le32(7) + le32(5);
    Packet sk = tcp_packet(prv1, 51000, ext, 2443, kAck | kPsh, 100, 1, reg);
    REQUIRE(LibAliasOut(la, sk.data(), sk.capacity()) == PKT_ALIAS_OK);
    in_addr announced;
    std::memcpy(&announced, &sk.buf[40 + 36], 4);
    CHECK(announced.s_addr == masq.s_addr);
    CHECK(checksums_ok(sk));

    // The kept rule is an ordinary rule: it can still be deleted.
    REQUIRE(LibAliasProxyRule(la, "delete 0") == 0);
    Packet direct = tcp_packet(prv3, 40002, ext, 80, kSyn);
    REQUIRE(LibAliasOut(la, direct.data(), direct.capacity()) == PKT_ALIAS_OK);
    CHECK(direct.dst().s_addr == ext.s_addr);
    CHECK(direct.dport() == 80);
    LibAliasUninit(la);
}

TEST_CASE("hundreds of instances are created and destroyed in random order", "[instance]") {
    std::vector<libalias*> all;
    for (int i = 0; i < 300; ++i) {
        libalias* la = LibAliasInit(nullptr);
        REQUIRE(la != nullptr);
        all.push_back(la);
    }
    std::mt19937 rng(0x5ac4);
    std::shuffle(all.begin(), all.end(), rng);
    for (libalias* la : all) LibAliasUninit(la);
}

TEST_CASE("instances are independent", "[instance]") {
    Nat a(masq), b(pub);
    Packet pa = udp_packet(prv1, 7000, ext, 53);
    Packet pb = udp_packet(prv1, 7000, ext, 53);
    REQUIRE(a.out(pa) == PKT_ALIAS_OK);
    REQUIRE(b.out(pb) == PKT_ALIAS_OK);
    CHECK(pa.src().s_addr == masq.s_addr);
    CHECK(pb.src().s_addr == pub.s_addr);
    // A reply through the wrong instance finds no link there.
    LibAliasSetMode(b.la, PKT_ALIAS_DENY_INCOMING, PKT_ALIAS_DENY_INCOMING);
    Packet wrong = udp_packet(ext, 53, masq, pa.sport());
    CHECK(b.in(wrong) == PKT_ALIAS_IGNORED);
    Packet right = udp_packet(ext, 53, masq, pa.sport());
    CHECK(a.in(right) == PKT_ALIAS_OK);
    CHECK(right.dst().s_addr == prv1.s_addr);
}

TEST_CASE("NULL and foreign instance pointers are refused without a crash", "[instance]") {
    // libalias dereferences them; nalias fails the call the way libalias
    // fails it for a bad argument.
    alignas(16) static unsigned char junk[4096];
    std::memset(junk, 0xa5, sizeof junk);
    for (libalias* bad : {static_cast<libalias*>(nullptr), reinterpret_cast<libalias*>(junk)}) {
        Packet p = udp_packet(prv1, 5000, ext, 53);
        const Packet before = p;
        CHECK(LibAliasOut(bad, p.data(), p.capacity()) == PKT_ALIAS_ERROR);
        CHECK(LibAliasOutTry(bad, p.data(), p.capacity(), 1) == PKT_ALIAS_ERROR);
        CHECK(LibAliasIn(bad, p.data(), p.capacity()) == PKT_ALIAS_ERROR);
        CHECK(LibAliasUnaliasOut(bad, p.data(), p.capacity()) == PKT_ALIAS_ERROR);
        CHECK(p.buf == before.buf);
        CHECK(LibAliasSetMode(bad, PKT_ALIAS_LOG, PKT_ALIAS_LOG) == static_cast<unsigned>(-1));
        LibAliasSetAddress(bad, masq);
        LibAliasSetAliasPortRange(bad, 1000, 2000);
        LibAliasSetFWBase(bad, 1, 2);
        LibAliasSetSkinnyPort(bad, 2000);
        LibAliasSetTarget(bad, masq);
        CHECK(LibAliasRedirectPort(bad, prv1, 1, ext, 2, masq, 3, IPPROTO_UDP) == nullptr);
        CHECK(LibAliasRedirectAddr(bad, prv1, masq) == nullptr);
        CHECK(LibAliasRedirectProto(bad, prv1, ext, masq, 50) == nullptr);
        CHECK(LibAliasRedirectDynamic(bad, nullptr) == -1);
        LibAliasRedirectDelete(bad, nullptr);
        CHECK(LibAliasAddServer(bad, nullptr, prv1, 1) == -1);
        CHECK(LibAliasSaveFragment(bad, nullptr) == PKT_ALIAS_ERROR);
        CHECK(LibAliasGetFragment(bad, p.data()) == nullptr);
        LibAliasFragmentIn(bad, p.data(), p.data());
        CHECK(LibAliasCheckNewLink(bad) == 0);
        CHECK(LibAliasProxyRule(bad, "port 80 server 10.0.0.1") == -1);
        alias_stats st;
        CHECK(LibAliasGetStats(bad, &st) == -1);
        CHECK(LibAliasInit(bad == nullptr ? reinterpret_cast<libalias*>(junk) : bad) == nullptr);
        LibAliasUninit(bad);
    }
    // A foreign pointer is left as it was.
    for (unsigned char c : junk) REQUIRE(c == 0xa5);
}

TEST_CASE("LibAliasInternetChecksum is the RFC 1071 checksum", "[instance]") {
    Nat nat;
    Packet p = udp_packet(prv1, 1, ext, 2, "abc");
    // Over a header with a valid checksum the result is 0.
    CHECK(LibAliasInternetChecksum(nat.la, reinterpret_cast<unsigned short*>(p.data()), 20) == 0);
    const uint16_t stored = p.be16(10);
    p.put16(10, 0);
    const uint16_t computed = LibAliasInternetChecksum(nat.la, reinterpret_cast<unsigned short*>(p.data()), 20);
    CHECK(ntohs(computed) == stored);
}
