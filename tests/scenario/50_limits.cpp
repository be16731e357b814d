// SPDX-License-Identifier: BSD-2-Clause
// Limits: the per-instance link limit (refuse new links, keep established
// ones, recover after expiry), and a million flows behind one alias address.
#include <catch2/catch.hpp>

#include "inspect.hpp"
#include "packet.hpp"

#include <set>

using namespace test;

namespace {

constexpr unsigned kUdpIdleSeconds = 60;  // libalias's UDP link lifetime

// Opens UDP flow i from prv1 and returns the alias port it got (host order).
uint16_t open_udp(Nat& nat, uint16_t i) {
    Packet p = udp_packet(prv1, static_cast<uint16_t>(2000 + i), ext, 53, "q");
    REQUIRE(nat.out(p) == PKT_ALIAS_OK);
    REQUIRE(p.src().s_addr == masq.s_addr);
    return p.sport();
}

void check_udp_both_ways(Nat& nat, uint16_t i, uint16_t alias_port) {
    Packet o = udp_packet(prv1, static_cast<uint16_t>(2000 + i), ext, 53, "again");
    REQUIRE(nat.out(o) == PKT_ALIAS_OK);
    CHECK(o.src().s_addr == masq.s_addr);
    CHECK(o.sport() == alias_port);
    CHECK(checksums_ok(o));
    Packet r = udp_packet(ext, 53, masq, alias_port, "answer");
    REQUIRE(nat.in(r) == PKT_ALIAS_OK);
    CHECK(r.dst().s_addr == prv1.s_addr);
    CHECK(r.dport() == 2000 + i);
    CHECK(checksums_ok(r));
}

}  // namespace

TEST_CASE("link limit defaults to LIBALIAS_DEFAULT_LINK_LIMIT and refuses 0", "[limits]") {
    Nat nat;
    CHECK(LibAliasGetLinkLimit(nat.la) == LIBALIAS_DEFAULT_LINK_LIMIT);
    CHECK(LibAliasSetLinkLimit(nat.la, 0) == -1);
    CHECK(LibAliasGetLinkLimit(nat.la) == LIBALIAS_DEFAULT_LINK_LIMIT);
    CHECK(LibAliasSetLinkLimit(nat.la, 1234) == 0);
    CHECK(LibAliasGetLinkLimit(nat.la) == 1234);
    CHECK(LibAliasSetLinkLimit(nullptr, 10) == -1);
    CHECK(LibAliasGetLinkLimit(nullptr) == 0);
}

TEST_CASE("a full table refuses new flows, keeps established ones, recovers after expiry", "[limits]") {
    constexpr unsigned kLimit = 64;
    Nat nat(masq, 0, PKT_ALIAS_SAME_PORTS | PKT_ALIAS_USE_SOCKETS);
    FakeClock clock;
    clock.attach(nat.la);
    REQUIRE(LibAliasSetLinkLimit(nat.la, kLimit) == 0);

    std::vector<uint16_t> alias_port;
    for (uint16_t i = 0; i < kLimit; ++i) alias_port.push_back(open_udp(nat, i));
    CHECK(stats_of(nat.la).total == kLimit);
    CHECK(stats_of(nat.la).refused == 0);

    // Full: a new outbound flow is refused and the packet left as it was.
    Packet fresh = udp_packet(prv2, 5000, ext2, 53, "new");
    const Packet fresh_before = fresh;
    CHECK(nat.out(fresh) == PKT_ALIAS_ERROR);
    CHECK(fresh.buf == fresh_before.buf);
    Packet syn = tcp_packet(prv2, 5001, ext2, 80, kSyn);
    CHECK(nat.out(syn) == PKT_ALIAS_ERROR);
    CHECK(stats_of(nat.la).refused == 2);
    CHECK(stats_of(nat.la).total == kLimit);

    // Established flows keep translating both ways while the table is full.
    clock.now += kUdpIdleSeconds / 2;
    for (uint16_t i = 0; i < kLimit; ++i) check_udp_both_ways(nat, i, alias_port[i]);
    CHECK(stats_of(nat.la).total == kLimit);

    // Redirects do not count against the limit.
    alias_link* redir = LibAliasRedirectPort(nat.la, prv3, htons(8080), any_addr, 0, masq, htons(80), IPPROTO_TCP);
    CHECK(redir != nullptr);

    // Once the flows have been idle past their lifetime, new flows fit again.
    clock.now += kUdpIdleSeconds + 1;
    Packet later = udp_packet(prv2, 5000, ext2, 53, "new");
    REQUIRE(nat.out(later) == PKT_ALIAS_OK);
    CHECK(later.src().s_addr == masq.s_addr);
    CHECK(checksums_ok(later));
    Packet reply = udp_packet(ext2, 53, masq, later.sport(), "ok");
    REQUIRE(nat.in(reply) == PKT_ALIAS_OK);
    CHECK(reply.dst().s_addr == prv2.s_addr);
    CHECK(reply.dport() == 5000);
    CHECK(checksums_ok(reply));
    const alias_stats after = stats_of(nat.la);
    CHECK(after.refused == 2);
    CHECK(after.expired >= 1);
    CHECK(after.total <= kLimit + 1);  // the redirect is the one above the limit
}

TEST_CASE("at the limit, unsolicited inbound that would need a link is refused", "[limits]") {
    constexpr unsigned kLimit = 8;
    Nat nat(masq, 0, PKT_ALIAS_SAME_PORTS | PKT_ALIAS_USE_SOCKETS);
    FakeClock clock;
    clock.attach(nat.la);
    LibAliasSetTarget(nat.la, prv3);  // unsolicited traffic goes to prv3: needs a link
    REQUIRE(LibAliasSetLinkLimit(nat.la, kLimit) == 0);
    std::vector<uint16_t> alias_port;
    for (uint16_t i = 0; i < kLimit; ++i) alias_port.push_back(open_udp(nat, i));

    Packet probe = udp_packet(ext2, 4444, masq, 7777, "probe");
    CHECK(nat.in(probe) == PKT_ALIAS_ERROR);
    CHECK(probe.dst().s_addr == masq.s_addr);
    CHECK(stats_of(nat.la).refused == 1);
    for (uint16_t i = 0; i < kLimit; ++i) check_udp_both_ways(nat, i, alias_port[i]);

    // Lowering the limit below the live count keeps the live flows.
    REQUIRE(LibAliasSetLinkLimit(nat.la, 2) == 0);
    for (uint16_t i = 0; i < kLimit; ++i) check_udp_both_ways(nat, i, alias_port[i]);
    Packet more = udp_packet(prv2, 9000, ext, 53, "q");
    CHECK(nat.out(more) == PKT_ALIAS_ERROR);
}

TEST_CASE("a million concurrent flows share one alias address", "[limits][scale]") {
    // More flows than alias ports (0x8000-0xffff): ports must be reused
    // across distinct remote endpoints, as Linux conntrack allows.
    constexpr uint32_t kFlows = 1000000;
    Nat nat(masq, 0, PKT_ALIAS_SAME_PORTS | PKT_ALIAS_USE_SOCKETS);
    FakeClock clock;
    clock.attach(nat.la);
    std::vector<uint16_t> alias_port(kFlows);
    std::vector<bool> port_seen(65536);
    uint32_t distinct_ports = 0, bad = 0;
    Packet p = udp_packet(prv1, 1, ext, 443);
    auto remote_of = [](uint32_t i) { return in_addr{htonl(0x0c000000u + i)}; };
    for (uint32_t i = 0; i < kFlows; ++i) {
        p = udp_packet(i % 2 ? prv1 : prv2, static_cast<uint16_t>(1024 + i % 16), remote_of(i), 443);
        if (nat.out(p) != PKT_ALIAS_OK || p.src().s_addr != masq.s_addr) ++bad;
        alias_port[i] = p.sport();
        if (!port_seen[p.sport()]) {
            port_seen[p.sport()] = true;
            ++distinct_ports;
        }
    }
    REQUIRE(bad == 0);
    CHECK(stats_of(nat.la).udp == kFlows);
    CHECK(distinct_ports <= 0x8000);
    CHECK(checksums_ok(p));
    for (uint32_t i = 0; i < kFlows; ++i) {
        p = udp_packet(remote_of(i), 443, masq, alias_port[i]);
        if (nat.in(p) != PKT_ALIAS_OK || p.dst().s_addr != (i % 2 ? prv1 : prv2).s_addr || p.dport() != 1024 + i % 16)
            ++bad;
    }
    CHECK(bad == 0);
    CHECK(checksums_ok(p));
}
