// SPDX-License-Identifier: BSD-2-Clause
// How late expiry may be (lib/link_table.hpp: timer wheels of 64 buckets,
// so a link with timeout T leaves at most ceil(T/63)-1 seconds after it
// became due, exactly on time for T <= 63 s; due means idle for more than T
// whole seconds, as in libalias).  Observed through the C API
// on a simulated clock: links alive (LibAliasGetStats, LibAliasForEachLink),
// links expired per packet, and flows accepted at the link limit.  Probes
// are sent with DENY_INCOMING so an inbound packet never creates a link.
#include <catch2/catch.hpp>

#include "packet.hpp"

#include <algorithm>

using namespace test;

namespace {

struct Clocked {
    Nat nat{masq, PKT_ALIAS_DENY_INCOMING, PKT_ALIAS_DENY_INCOMING};
    FakeClock clock;
    Clocked() { clock.attach(nat.la); }

    alias_stats stats() {
        alias_stats s{};
        REQUIRE(LibAliasGetStats(nat.la, &s) == 0);
        return s;
    }
    // Outbound UDP from prv:sport to ext:53; returns the alias port.
    uint16_t udp_out(in_addr prv, uint16_t sport) {
        Packet p = udp_packet(prv, sport, ext, 53);
        REQUIRE(nat.out(p) == PKT_ALIAS_OK);
        return p.sport();
    }
    // A packet that only runs housekeeping: inbound to an alias port no link
    // uses, refused without creating anything.
    void tick() {
        Packet p = udp_packet(ext2, 9, masq, 9);
        nat.in(p);
    }
};

struct Probe {
    uint8_t proto;
    uint16_t src_port;  // network order
    in_addr src;
    bool found = false;
    unsigned timeout = 0, idle = 0;
};

int probe_link(const alias_link_info* info, void* ctx) {
    auto* p = static_cast<Probe*>(ctx);
    if (info->proto == p->proto && info->src_port == p->src_port && info->src_addr.s_addr == p->src.s_addr) {
        p->found = true;
        p->timeout = info->timeout;
        p->idle = info->idle;
        return 1;
    }
    return 0;
}

bool has_link(libalias* la, uint8_t proto, in_addr src, uint16_t host_order_sport, Probe* out = nullptr) {
    Probe p{proto, htons(host_order_sport), src};
    LibAliasForEachLink(la, &probe_link, &p);
    if (out) *out = p;
    return p.found;
}

}  // namespace

TEST_CASE("a link used once after creation goes when idle for its timeout, however many links were queued after it",
          "[expiry][expiry_bound]") {
    Clocked c;
    c.udp_out(prv3, 4000);  // t=1000, an older link ahead of the one watched
    c.udp_out(prv1, 5000);  // t=1000
    c.clock.now = 1001;
    c.udp_out(prv1, 5000);  // last use
    // A younger flow every second, each filed after the first one's refresh.
    for (unsigned t = 1002; t <= 1070; ++t) {
        c.clock.now = t;
        c.udp_out(prv2, static_cast<uint16_t>(6000 + t - 1002));
        Probe p{};
        const bool alive = has_link(c.nat.la, IPPROTO_UDP, prv1, 5000, &p);
        INFO("t=" << t);
        if (t <= 1001 + 60) {
            REQUIRE(alive);
            CHECK(p.timeout == 60);
            CHECK(p.idle == t - 1001);
        } else {
            CHECK_FALSE(alive);  // UDP: 60 s <= 63 s, so exactly on time: idle for more than 60 s
        }
    }
    // Every younger link also went exactly 61 s after its creation.
    const alias_stats s = c.stats();
    CHECK(s.total == 1070 - 1010 + 1);  // created at 1010..1070
    CHECK(s.expired == 2 + (1009 - 1002 + 1));
}

TEST_CASE("a TCP link refreshed then idle goes within its lateness bound of 300 s + 4 s", "[expiry][expiry_bound]") {
    Clocked c;
    Packet older = tcp_packet(prv3, 3001, ext, 80, kSyn);
    REQUIRE(c.nat.out(older) == PKT_ALIAS_OK);
    Packet syn = tcp_packet(prv1, 3000, ext, 80, kSyn);
    REQUIRE(c.nat.out(syn) == PKT_ALIAS_OK);
    c.clock.now = 1001;
    Packet again = tcp_packet(prv1, 3000, ext, 80, kSyn);
    REQUIRE(c.nat.out(again) == PKT_ALIAS_OK);  // last use at 1001
    unsigned gone_at = 0;
    for (unsigned t = 1002; t <= 1400 && !gone_at; ++t) {
        c.clock.now = t;
        if (t < 1200) {
            Packet young = tcp_packet(prv2, static_cast<uint16_t>(6000 + t), ext, 80, kSyn);
            REQUIRE(c.nat.out(young) == PKT_ALIAS_OK);
        } else {
            c.tick();
        }
        Probe p{};
        if (!has_link(c.nat.la, IPPROTO_TCP, prv1, 3000, &p)) gone_at = t;
        else
            CHECK(p.timeout == 300);
    }
    INFO("gone at " << gone_at);
    CHECK(gone_at >= 1001 + 300 + 1);      // idle for more than 300 s
    CHECK(gone_at <= 1001 + 300 + 1 + 4);  // width ceil(300/63) = 5 s: at most 4 s late
}

TEST_CASE("at the link limit an overdue link behind younger ones is reclaimed for a new flow",
          "[expiry][expiry_bound][limits]") {
    Clocked c;
    REQUIRE(LibAliasSetLinkLimit(c.nat.la, 101) == 0);
    c.udp_out(prv3, 4000);  // t=1000, older, due at 1061 (idle for more than 60 s)
    c.udp_out(prv1, 5000);  // t=1000
    c.clock.now = 1001;
    c.udp_out(prv1, 5000);  // last use: due at 1062
    c.clock.now = 1030;
    uint16_t first_young = 0;
    for (uint16_t i = 0; i < 99; ++i) {
        const uint16_t a = c.udp_out(prv2, static_cast<uint16_t>(7000 + i));  // due at 1091
        if (i == 0) first_young = a;
    }
    REQUIRE(c.stats().total == 101);
    // Keep housekeeping running every second (a reply on a young flow).
    for (unsigned t = 1031; t <= 1061; ++t) {
        c.clock.now = t;
        Packet r = udp_packet(ext, 53, masq, first_young);
        REQUIRE(c.nat.in(r) == PKT_ALIAS_OK);
    }
    REQUIRE(c.stats().total == 100);  // the older link went at 1061
    c.udp_out(prv3, 4001);            // full again

    c.clock.now = 1062;
    Packet fresh = udp_packet(prv3, 8000, ext, 53);
    CHECK(c.nat.out(fresh) == PKT_ALIAS_OK);
    CHECK(c.stats().refused == 0);
    CHECK(c.stats().total == 101);
    CHECK_FALSE(has_link(c.nat.la, IPPROTO_UDP, prv1, 5000));
    CHECK(has_link(c.nat.la, IPPROTO_UDP, prv3, 8000));
    // Nothing else is overdue: a further flow is refused, live flows untouched.
    Packet another = udp_packet(prv3, 8001, ext, 53);
    CHECK(c.nat.out(another) == PKT_ALIAS_ERROR);
    CHECK(c.stats().refused == 1);
}

TEST_CASE("links in constant use never expire", "[expiry][expiry_bound]") {
    Clocked c;
    const uint16_t every_second = c.udp_out(prv1, 5000);
    const uint16_t every_59 = c.udp_out(prv2, 5001);
    Packet syn = tcp_packet(prv3, 3000, ext, 80, kSyn);
    REQUIRE(c.nat.out(syn) == PKT_ALIAS_OK);
    for (unsigned t = 1001; t <= 1000 + 3600; ++t) {
        c.clock.now = t;
        Packet r = udp_packet(ext, 53, masq, every_second);
        REQUIRE(c.nat.in(r) == PKT_ALIAS_OK);
        if ((t - 1000) % 59 == 0) {
            Packet r2 = udp_packet(ext, 53, masq, every_59);
            REQUIRE(c.nat.in(r2) == PKT_ALIAS_OK);
        }
        if ((t - 1000) % 299 == 0) {
            Packet again = tcp_packet(prv3, 3000, ext, 80, kSyn);
            REQUIRE(c.nat.out(again) == PKT_ALIAS_OK);
        }
    }
    const alias_stats s = c.stats();
    CHECK(s.expired == 0);
    CHECK(s.total == 3);
}

TEST_CASE("a clock jump of ten days expires everything within bounded work per packet", "[expiry][expiry_bound]") {
    Clocked c;
    constexpr unsigned kLinks = 5000;
    for (unsigned i = 0; i < kLinks; ++i) {
        c.clock.now = 1000 + i / 100;  // spread over 50 s and so over many buckets
        c.udp_out(i % 2 ? prv1 : prv2, static_cast<uint16_t>(2000 + i / 2));
    }
    Packet syn = tcp_packet(prv3, 3000, ext, 80, kSyn);
    REQUIRE(c.nat.out(syn) == PKT_ALIAS_OK);
    Packet ping = icmp_echo(prv3, ext, 0x77, 1);
    REQUIRE(c.nat.out(ping) == PKT_ALIAS_OK);
    REQUIRE(c.stats().total == kLinks + 2);

    c.clock.now += 10 * 86400;
    unsigned long long before = c.stats().expired, worst = 0;
    unsigned packets = 0;
    while (c.stats().total > 0 && packets < 10 * kLinks) {
        c.tick();
        ++packets;
        const unsigned long long now_expired = c.stats().expired;
        worst = std::max(worst, now_expired - before);
        before = now_expired;
    }
    CHECK(c.stats().total == 0);
    CHECK(c.stats().expired == kLinks + 2);
    CHECK(worst <= 32);  // LinkTable::kSweepBudget links examined per packet
    CHECK(packets <= (kLinks + 2) / 32 + 2);
    // The table keeps working on the far side of the jump.
    const uint16_t a = c.udp_out(prv1, 5000);
    Packet r = udp_packet(ext, 53, masq, a);
    CHECK(c.nat.in(r) == PKT_ALIAS_OK);
}
