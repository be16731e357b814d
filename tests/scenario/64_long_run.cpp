// SPDX-License-Identifier: BSD-2-Clause
//
// A long run in simulated time (test::FakeClock through LibAliasSetClock):
// two days of a small site's traffic (DNS-like UDP, short TCP connections
// closed properly, a few long-lived ones, pings, unanswered SYNs, inbound
// connections through a redirect, redirects added and removed, unresolved
// fragments), with every lifetime from 10 s to a day elapsing many times.
// The table must stay bounded by what the lifetimes allow, and once every
// lifetime has run out it must hold exactly the redirects it started with:
// nothing leaks into the table, and LeakSanitizer/valgrind see nothing
// leaked from the heap.
#include <catch2/catch.hpp>

#include "inspect.hpp"
#include "packet.hpp"

#include <algorithm>
#include <cstdlib>
#include <vector>

using namespace test;

namespace {

constexpr unsigned kStepSeconds = 20;
constexpr unsigned kDaySeconds = 86400;
constexpr unsigned kLongestLifetime = 86400;  // libalias's TCP_EXPIRE_CONNECTED

in_addr inside_host(unsigned i) {
    in_addr a;
    a.s_addr = htonl(0x0a000100u + (i % 50));  // 10.0.1.0/26
    return a;
}

struct Tcp {
    in_addr inside;
    uint16_t port;
    in_addr remote;
    uint16_t rport;
    uint16_t alias_port = 0;
    uint32_t seq = 1, peer_seq = 5000;
};

// SYN, SYN-ACK, one exchange; returns false if any step was not translated.
bool open_tcp(Nat& nat, Tcp& c) {
    Packet syn = tcp_packet(c.inside, c.port, c.remote, c.rport, kSyn, c.seq);
    if (nat.out(syn) != PKT_ALIAS_OK) return false;
    c.alias_port = syn.sport();
    Packet synack = tcp_packet(c.remote, c.rport, masq, c.alias_port, kSyn | kAck, c.peer_seq, c.seq + 1);
    if (nat.in(synack) != PKT_ALIAS_OK || synack.dst().s_addr != c.inside.s_addr) return false;
    ++c.seq;
    ++c.peer_seq;
    return true;
}

bool exchange_tcp(Nat& nat, Tcp& c) {
    Packet data = tcp_packet(c.inside, c.port, c.remote, c.rport, kAck | kPsh, c.seq, c.peer_seq, "data");
    if (nat.out(data) != PKT_ALIAS_OK || data.sport() != c.alias_port || !checksums_ok(data)) return false;
    c.seq += 4;
    Packet ack = tcp_packet(c.remote, c.rport, masq, c.alias_port, kAck, c.peer_seq, c.seq);
    if (nat.in(ack) != PKT_ALIAS_OK || ack.dst().s_addr != c.inside.s_addr || !checksums_ok(ack)) return false;
    return true;
}

bool close_tcp(Nat& nat, Tcp& c) {
    Packet fin = tcp_packet(c.inside, c.port, c.remote, c.rport, kFin | kAck, c.seq, c.peer_seq);
    if (nat.out(fin) != PKT_ALIAS_OK) return false;
    Packet fin2 = tcp_packet(c.remote, c.rport, masq, c.alias_port, kFin | kAck, c.peer_seq, c.seq + 1);
    return nat.in(fin2) == PKT_ALIAS_OK && fin2.dst().s_addr == c.inside.s_addr;
}

}  // namespace

TEST_CASE("two simulated days of traffic: bounded table, back to baseline afterwards", "[longrun][expiry]") {
    Nat nat(masq, 0, PKT_ALIAS_USE_SOCKETS);
    FakeClock clock;
    clock.attach(nat.la);
    alias_link* web = LibAliasRedirectPort(nat.la, prv3, htons(80), any_addr, 0, masq, htons(80), IPPROTO_TCP);
    REQUIRE(web != nullptr);
    REQUIRE(LibAliasRedirectProto(nat.la, prv3, any_addr, masq, 41) != nullptr);
    const alias_stats baseline = stats_of(nat.la);
    REQUIRE(baseline.total == 2);

    std::vector<Tcp> long_lived;
    for (uint16_t i = 0; i < 10; ++i) {
        long_lived.push_back(Tcp{inside_host(i), static_cast<uint16_t>(50000 + i), ext2, 993});
        REQUIRE(open_tcp(nat, long_lived.back()));
    }
    unsigned failures = 0, max_total = 0, step = 0;
    uint16_t next_port = 1024;
    auto port = [&] { next_port = static_cast<uint16_t>(next_port == 65535 ? 1024 : next_port + 1); return next_port; };
    const unsigned steps = 2 * kDaySeconds / kStepSeconds;
    for (step = 0; step < steps; ++step) {
        // DNS-like exchanges.
        for (int k = 0; k < 2; ++k) {
            const in_addr host = inside_host(step * 2 + static_cast<unsigned>(k));
            const uint16_t sport = port();
            Packet q = udp_packet(host, sport, ext, 53, "query");
            if (nat.out(q) != PKT_ALIAS_OK) ++failures;
            Packet a = udp_packet(ext, 53, masq, q.sport(), "answer");
            if (nat.in(a) != PKT_ALIAS_OK || a.dst().s_addr != host.s_addr || a.dport() != sport) ++failures;
        }
        // A short TCP connection, closed both ways.
        Tcp shortc{inside_host(step), port(), ext, 443};
        if (!open_tcp(nat, shortc) || !exchange_tcp(nat, shortc) || !close_tcp(nat, shortc)) ++failures;
        if (step % 5 == 0) {
            Packet echo = icmp_echo(inside_host(step), ext2, static_cast<uint16_t>(step), 1);
            if (nat.out(echo) != PKT_ALIAS_OK) ++failures;
            Packet reply = icmp_echo(ext2, masq, echo.icmp_id(), 1, true);
            if (nat.in(reply) != PKT_ALIAS_OK || reply.dst().s_addr != inside_host(step).s_addr) ++failures;
        }
        if (step % 50 == 0) {  // a SYN nobody answers: 300 s
            Packet syn = tcp_packet(inside_host(step), port(), ext2, 8443, kSyn);
            if (nat.out(syn) != PKT_ALIAS_OK) ++failures;
        }
        if (step % 100 == 0) {  // an outside client through the redirect, then a reset
            const uint16_t cport = static_cast<uint16_t>(20000 + step % 1000);
            Packet syn = tcp_packet(ext, cport, masq, 80, kSyn);
            if (nat.in(syn) != PKT_ALIAS_OK || syn.dst().s_addr != prv3.s_addr) ++failures;
            Packet rst = tcp_packet(prv3, 80, ext, cport, kRst | kAck);
            if (nat.out(rst) != PKT_ALIAS_OK || rst.src().s_addr != masq.s_addr) ++failures;
        }
        if (step % 500 == 0) {  // a temporary redirect
            alias_link* tmp = LibAliasRedirectPort(nat.la, prv2, htons(5060), any_addr, 0, masq, htons(5060), IPPROTO_UDP);
            if (!tmp) ++failures;
            LibAliasRedirectDelete(nat.la, tmp);
        }
        if (step % 200 == 0) {  // tails that never see their header: 30 s
            for (unsigned k = 0; k < 10; ++k) {
                Packet t = ip_packet(IPPROTO_UDP, ext2, masq, 40);
                t.put16(4, static_cast<uint16_t>(step + k));
                t.put16(6, 0x0010);
                if (LibAliasSaveFragment(nat.la, malloc_copy(t)) != PKT_ALIAS_OK) ++failures;
            }
        }
        // Long-lived connections speak hourly during the first day, then close.
        const unsigned t = step * kStepSeconds;
        if (t < kDaySeconds && t % 3600 == 0)
            for (Tcp& c : long_lived) failures += !exchange_tcp(nat, c);
        if (t == kDaySeconds)
            for (Tcp& c : long_lived) failures += !close_tcp(nat, c);
        max_total = std::max(max_total, stats_of(nat.la).total);
        clock.now += kStepSeconds;
    }
    CHECK(failures == 0);
    // What the lifetimes allow at once: DNS 2 per step for 60 s, short TCP
    // 10 s after closing, pings and redirect clients a few, unanswered SYNs
    // 300 s (one per 1000 s), the long-lived ten, the two redirects, and
    // the links the next sweep has not reached yet.
    CHECK(max_total <= 64);
    const alias_stats during = stats_of(nat.la);
    CHECK(during.created >= 3 * steps);
    CHECK(during.frag_ptr <= 10);

    // Every lifetime runs out; housekeeping needs packets to run (a bounded
    // batch each), so keep one flow going until the table is back.
    clock.now += kLongestLifetime + 1;
    for (int i = 0; i < 100 && stats_of(nat.la).total > baseline.total + 1; ++i) {
        Packet p = udp_packet(prv1, 999, ext, 53, "keepalive");
        REQUIRE(nat.out(p) == PKT_ALIAS_OK);
    }
    clock.now += 61;  // and the keepalive flow itself
    Packet last = icmp_echo(prv1, ext, 1, 1);
    REQUIRE(nat.out(last) == PKT_ALIAS_OK);
    clock.now += 61;
    Packet final_probe(1500);
    for (int i = 0; i < 3; ++i) {
        final_probe = udp_packet(ext, 1, masq, 9, "x");  // inbound for the host: creates nothing
        nat.in(final_probe);
    }
    const alias_stats after = stats_of(nat.la);
    CHECK(after.total == baseline.total);
    CHECK(walked_links(nat.la) == baseline.total);
    CHECK(after.frag_ptr == 0);
    CHECK(after.udp == 0);
    CHECK(after.tcp == 1);    // the web redirect
    CHECK(after.proto == 1);  // the protocol-41 redirect
}
