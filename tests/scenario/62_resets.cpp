// SPDX-License-Identifier: BSD-2-Clause
//
// Reconfiguration in the middle of traffic.  An alias address change with
// PKT_ALIAS_RESET_ON_ADDR_CHANGE (natd's dynamic mode, the default) drops
// every dynamic link: replies to the old address then reach nobody inside,
// and new flows leave from the new address; redirects survive and, when made
// with alias address 0, follow the instance's address.  Without the flag,
// established flows keep the address they were created with (as libalias).
// LibAliasInit on a live instance returns it to its initial state between
// two packets: no link, no redirect, no saved fragment survives, handles
// from before are refused harmlessly, and the instance is usable at once.
#include <catch2/catch.hpp>

#include "inspect.hpp"
#include "packet.hpp"

#include <cstdlib>
#include <vector>

using namespace test;

namespace {

struct Flow {
    in_addr inside;
    uint16_t port;
    uint16_t alias_port = 0;
    in_addr alias{};
};

// Sends one UDP datagram of the flow out and returns where it left from.
void send_out(Nat& nat, Flow& f) {
    Packet p = udp_packet(f.inside, f.port, ext, 53, "q");
    REQUIRE(nat.out(p) == PKT_ALIAS_OK);
    CHECK(checksums_ok(p));
    f.alias_port = p.sport();
    f.alias = p.src();
}

// The reply to the flow's last datagram; true when it reached the inside host.
bool reply_reaches_inside(Nat& nat, const Flow& f) {
    Packet r = udp_packet(ext, 53, f.alias, f.alias_port, "a");
    const int res = nat.in(r);
    const bool inside = res == PKT_ALIAS_OK && r.dst().s_addr == f.inside.s_addr && r.dport() == f.port;
    if (inside) CHECK(checksums_ok(r));
    // Anything not translated is left for the NAT host itself, unchanged.
    if (!inside) CHECK(r.dst().s_addr == f.alias.s_addr);
    return inside;
}

}  // namespace

TEST_CASE("an alias address change with RESET_ON_ADDR_CHANGE drops dynamic links, keeps redirects", "[reset]") {
    Nat nat(masq, PKT_ALIAS_RESET_ON_ADDR_CHANGE, PKT_ALIAS_RESET_ON_ADDR_CHANGE | PKT_ALIAS_USE_SOCKETS);
    alias_link* follows = LibAliasRedirectPort(nat.la, prv3, htons(80), any_addr, 0, any_addr, htons(80), IPPROTO_TCP);
    alias_link* pinned = LibAliasRedirectPort(nat.la, prv3, htons(22), any_addr, 0, masq, htons(2222), IPPROTO_TCP);
    REQUIRE(follows != nullptr);
    REQUIRE(pinned != nullptr);
    std::vector<Flow> flows;
    for (uint16_t i = 0; i < 50; ++i) flows.push_back(Flow{i % 2 ? prv1 : prv2, static_cast<uint16_t>(4000 + i)});
    for (Flow& f : flows) send_out(nat, f);
    for (const Flow& f : flows) CHECK(reply_reaches_inside(nat, f));
    CHECK(stats_of(nat.la).total == 52);

    LibAliasSetAddress(nat.la, pub);
    CHECK(stats_of(nat.la).total == 2);  // only the redirects
    unsigned reached = 0;
    for (const Flow& f : flows) reached += reply_reaches_inside(nat, f);
    CHECK(reached == 0);
    // New traffic leaves from the new address and its replies come back.
    for (Flow& f : flows) {
        send_out(nat, f);
        CHECK(f.alias.s_addr == pub.s_addr);
        CHECK(reply_reaches_inside(nat, f));
    }
    // The redirect made with alias 0 follows the address, the pinned one does not move.
    Packet web = tcp_packet(ext, 40000, pub, 80, kSyn);
    REQUIRE(nat.in(web) == PKT_ALIAS_OK);
    CHECK(web.dst().s_addr == prv3.s_addr);
    Packet ssh = tcp_packet(ext, 40001, masq, 2222, kSyn);
    REQUIRE(nat.in(ssh) == PKT_ALIAS_OK);
    CHECK(ssh.dst().s_addr == prv3.s_addr);
    CHECK(ssh.dport() == 22);
    CHECK(checksums_ok(ssh));
    // Setting the same address again changes nothing.
    const unsigned before = stats_of(nat.la).total;
    LibAliasSetAddress(nat.la, pub);
    CHECK(stats_of(nat.la).total == before);
}

TEST_CASE("an alias address change without RESET_ON_ADDR_CHANGE keeps established flows", "[reset]") {
    Nat nat(masq, 0, PKT_ALIAS_RESET_ON_ADDR_CHANGE | PKT_ALIAS_USE_SOCKETS);
    std::vector<Flow> flows;
    for (uint16_t i = 0; i < 20; ++i) flows.push_back(Flow{prv1, static_cast<uint16_t>(5000 + i)});
    for (Flow& f : flows) send_out(nat, f);
    LibAliasSetAddress(nat.la, pub);
    for (Flow& f : flows) {
        // Established: still on the address it was created with.
        CHECK(reply_reaches_inside(nat, f));
        send_out(nat, f);
        CHECK(f.alias.s_addr == masq.s_addr);
    }
    Flow fresh{prv2, 6000};
    send_out(nat, fresh);
    CHECK(fresh.alias.s_addr == pub.s_addr);
    CHECK(reply_reaches_inside(nat, fresh));
}

TEST_CASE("alias address flapping under traffic never sends a reply to the wrong host", "[reset]") {
    Nat nat(masq, 0, PKT_ALIAS_USE_SOCKETS);
    FakeClock clock;
    clock.attach(nat.la);
    std::vector<Flow> flows;
    for (uint16_t i = 0; i < 30; ++i)
        flows.push_back(Flow{i % 3 == 0 ? prv1 : i % 3 == 1 ? prv2 : prv3, static_cast<uint16_t>(7000 + i)});
    // Each round moves to a different address than the last.
    const in_addr addresses[] = {pub, masq, addr("85.214.10.14"), masq};
    unsigned wrong = 0, late_translated = 0;
    for (int round = 0; round < 40; ++round) {
        for (Flow& f : flows) {
            send_out(nat, f);
            Packet r = udp_packet(ext, 53, f.alias, f.alias_port, "a");
            if (nat.in(r) == PKT_ALIAS_OK && r.dst().s_addr != f.alias.s_addr &&
                (r.dst().s_addr != f.inside.s_addr || r.dport() != f.port))
                ++wrong;
        }
        // A change between a flow's datagram and its reply: the reply is lost, never misrouted.
        LibAliasSetAddress(nat.la, addresses[round % 4]);
        for (const Flow& f : flows) {
            Packet r = udp_packet(ext, 53, f.alias, f.alias_port, "late");
            if (nat.in(r) != PKT_ALIAS_OK || r.dst().s_addr == f.alias.s_addr) continue;
            ++late_translated;
            if (r.dst().s_addr != f.inside.s_addr || r.dport() != f.port) ++wrong;
        }
        clock.now += 7;
    }
    CHECK(wrong == 0);
    CHECK(late_translated == 0);  // RESET_ON_ADDR_CHANGE dropped their links
    const alias_stats s = stats_of(nat.la);
    CHECK(s.total == s.udp);
}

TEST_CASE("LibAliasInit between two packets resets everything and the instance works at once", "[reset]") {
    Nat nat(masq, 0, PKT_ALIAS_USE_SOCKETS);
    FakeClock clock;
    clock.attach(nat.la);
    REQUIRE(LibAliasSetLinkLimit(nat.la, 5000) == 0);
    for (int cycle = 0; cycle < 10; ++cycle) {
        const unsigned before = stats_of(nat.la).total;  // the previous cycle's last probe, if any
        alias_link* redirect = LibAliasRedirectPort(nat.la, prv3, htons(80), any_addr, 0, masq, htons(8080), IPPROTO_TCP);
        REQUIRE(redirect != nullptr);
        REQUIRE(LibAliasAddServer(nat.la, redirect, prv3, htons(80)) == 0);
        REQUIRE(LibAliasProxyRule(nat.la, "port 3128 server 10.0.0.9:3128") == 0);
        std::vector<Flow> flows;
        for (uint16_t i = 0; i < 40; ++i) flows.push_back(Flow{i % 2 ? prv1 : prv2, static_cast<uint16_t>(9000 + i)});
        for (Flow& f : flows) send_out(nat, f);
        Packet syn = tcp_packet(prv1, 9999, ext, 443, kSyn);
        REQUIRE(nat.out(syn) == PKT_ALIAS_OK);
        Packet tail = ip_packet(IPPROTO_UDP, ext, masq, 40);
        tail.put16(4, static_cast<uint16_t>(cycle + 1));
        tail.put16(6, 0x0010);
        REQUIRE(LibAliasSaveFragment(nat.la, malloc_copy(tail)) == PKT_ALIAS_OK);
        CHECK(stats_of(nat.la).total == before + 42);

        REQUIRE(LibAliasInit(nat.la) == nat.la);
        const alias_stats s = stats_of(nat.la);
        CHECK(s.total == 0);
        CHECK(s.frag_ptr == 0);
        CHECK(s.created == 0);
        CHECK(LibAliasGetLinkLimit(nat.la) == 5000);  // the nalias extensions survive
        // Handles from before are refused, not followed.
        CHECK(LibAliasAddServer(nat.la, redirect, prv1, htons(80)) == -1);
        CHECK(LibAliasRedirectDynamic(nat.la, redirect) == -1);
        LibAliasRedirectDelete(nat.la, redirect);
        // Defaults are back: no alias address until it is set again.
        LibAliasSetAddress(nat.la, masq);
        LibAliasSetMode(nat.la, 0, PKT_ALIAS_USE_SOCKETS);
        unsigned reached = 0;
        for (const Flow& f : flows) reached += reply_reaches_inside(nat, f);
        CHECK(reached == 0);
        Packet web = tcp_packet(ext, 40000, masq, 8080, kSyn);
        nat.in(web);
        CHECK(web.dst().s_addr == masq.s_addr);  // the redirect is gone
        // Fresh traffic works immediately, and the clock still drives expiry.
        for (Flow& f : flows) {
            send_out(nat, f);
            CHECK(f.alias.s_addr == masq.s_addr);
            CHECK(reply_reaches_inside(nat, f));
        }
        clock.now += 61;
        for (int i = 0; i < 5; ++i) {  // housekeeping expires a bounded batch per packet
            Packet probe = udp_packet(prv1, 1, ext, 53, "x");
            REQUIRE(nat.out(probe) == PKT_ALIAS_OK);
        }
        CHECK(stats_of(nat.la).total == 1);
    }
}
