// SPDX-License-Identifier: BSD-2-Clause
//
// Abuse by volume.  A flood of new outbound flows fills the table up to the
// link limit and no further: the packets beyond it are refused with
// PKT_ALIAS_ERROR and left as they came, and connections established before
// the flood keep translating both ways throughout (a full table never
// evicts a live flow).  A flood of spoofed inbound packets that match no
// link creates no state at all, whatever the protocol; the only inbound
// packets that do create state are the ones libalias also keeps state for
// (a header fragment, a SYN to a port redirect), and that state is bounded
// by the same limit and expires.
#include <catch2/catch.hpp>

#include "inspect.hpp"
#include "packet.hpp"

#include <cstdlib>
#include <random>
#include <vector>

using namespace test;

namespace {

constexpr unsigned kTcpInitialSeconds = 300;  // TCP until both sides sent SYN
constexpr unsigned kFragmentIdSeconds = 10;   // inbound header-fragment links

in_addr host_addr(uint32_t host_order) {
    in_addr a;
    a.s_addr = htonl(host_order);
    return a;
}

// An established TCP connection from `inside`:port to ext:443.
struct Connection {
    in_addr inside;
    uint16_t port;
    uint16_t alias_port = 0;
    uint32_t seq = 1000, peer_seq = 90000;
};

void establish(Nat& nat, Connection& c) {
    Packet syn = tcp_packet(c.inside, c.port, ext, 443, kSyn, c.seq);
    REQUIRE(nat.out(syn) == PKT_ALIAS_OK);
    c.alias_port = syn.sport();
    Packet synack = tcp_packet(ext, 443, masq, c.alias_port, kSyn | kAck, c.peer_seq, c.seq + 1);
    REQUIRE(nat.in(synack) == PKT_ALIAS_OK);
    REQUIRE(synack.dst().s_addr == c.inside.s_addr);
    ++c.seq;
    ++c.peer_seq;
}

// One data segment each way on an established connection.
void exchange(Nat& nat, Connection& c) {
    Packet data = tcp_packet(c.inside, c.port, ext, 443, kAck | kPsh, c.seq, c.peer_seq, "ping");
    REQUIRE(nat.out(data) == PKT_ALIAS_OK);
    CHECK(data.src().s_addr == masq.s_addr);
    CHECK(data.sport() == c.alias_port);
    CHECK(checksums_ok(data));
    c.seq += 4;
    Packet answer = tcp_packet(ext, 443, masq, c.alias_port, kAck | kPsh, c.peer_seq, c.seq, "pong");
    REQUIRE(nat.in(answer) == PKT_ALIAS_OK);
    CHECK(answer.dst().s_addr == c.inside.s_addr);
    CHECK(answer.dport() == c.port);
    CHECK(checksums_ok(answer));
    c.peer_seq += 4;
}

}  // namespace

TEST_CASE("a flood of new outbound flows stops at the link limit while established flows keep working", "[abuse][limits]") {
    constexpr unsigned kLimit = 600;
    constexpr unsigned kEstablished = 40;
    constexpr unsigned kFlood = 6000;
    Nat nat(masq, 0, PKT_ALIAS_USE_SOCKETS);
    FakeClock clock;
    clock.attach(nat.la);
    REQUIRE(LibAliasSetLinkLimit(nat.la, kLimit) == 0);

    std::vector<Connection> conns;
    for (uint16_t i = 0; i < kEstablished; ++i) conns.push_back(Connection{i % 2 ? prv1 : prv2, static_cast<uint16_t>(20000 + i)});
    for (Connection& c : conns) establish(nat, c);

    // The flood: UDP, TCP SYNs and ICMP echoes from one inside host to ever
    // new destinations, as a worm or a port scanner sends them.
    std::mt19937 rng(12345);
    unsigned accepted = 0, refused = 0, unchanged_refusals = 0;
    for (unsigned i = 0; i < kFlood; ++i) {
        const in_addr dst = host_addr(0x0c000000u + (rng() & 0x00ffffffu));
        const uint16_t sport = static_cast<uint16_t>(1024 + rng() % 60000);
        Packet p = i % 3 == 0   ? udp_packet(prv3, sport, dst, static_cast<uint16_t>(1 + rng() % 65535), "x")
                   : i % 3 == 1 ? tcp_packet(prv3, sport, dst, static_cast<uint16_t>(1 + rng() % 65535), kSyn)
                                : icmp_echo(prv3, dst, static_cast<uint16_t>(rng()), 1);
        const Packet before = p;
        const int r = nat.out(p);
        if (r == PKT_ALIAS_OK) {
            ++accepted;
        } else {
            ++refused;
            if (r == PKT_ALIAS_ERROR && p.buf == before.buf) ++unchanged_refusals;
        }
        if (i % 500 == 0) {
            clock.now += 1;  // the flood lasts a few seconds
            for (Connection& c : conns) exchange(nat, c);
        }
    }
    CHECK(accepted == kLimit - kEstablished);
    CHECK(refused == kFlood - accepted);
    CHECK(unchanged_refusals == refused);
    alias_stats s = stats_of(nat.la);
    CHECK(s.total == kLimit);
    CHECK(s.refused == refused);
    CHECK(walked_links(nat.la) == kLimit);
    for (Connection& c : conns) exchange(nat, c);

    // The flood's links die by expiry (the last were opened at most a few
    // seconds ago); the established connections, kept busy, stay.
    for (unsigned t = 0; t <= kTcpInitialSeconds; t += 50) {
        clock.now += 50;
        for (Connection& c : conns) exchange(nat, c);
    }
    // Housekeeping works through due links a bounded batch per packet.
    for (int i = 0; i < 100 && stats_of(nat.la).total > kEstablished; ++i) exchange(nat, conns[0]);
    s = stats_of(nat.la);
    CHECK(s.total == kEstablished);
    CHECK(s.expired == kLimit - kEstablished);
    // And new flows are accepted again.
    Packet fresh = udp_packet(prv3, 5555, ext2, 53, "q");
    REQUIRE(nat.out(fresh) == PKT_ALIAS_OK);
    Packet reply = udp_packet(ext2, 53, masq, fresh.sport(), "a");
    REQUIRE(nat.in(reply) == PKT_ALIAS_OK);
    CHECK(reply.dst().s_addr == prv3.s_addr);
    CHECK(checksums_ok(reply));
}

TEST_CASE("a flood of spoofed inbound packets that match no link creates no state", "[abuse]") {
    Nat nat(masq, 0, PKT_ALIAS_USE_SOCKETS);
    FakeClock clock;
    clock.attach(nat.la);
    std::vector<Connection> conns;
    for (uint16_t i = 0; i < 8; ++i) conns.push_back(Connection{prv1, static_cast<uint16_t>(30000 + i)});
    for (Connection& c : conns) establish(nat, c);
    Packet udp_flow = udp_packet(prv2, 5353, ext, 53, "q");
    REQUIRE(nat.out(udp_flow) == PKT_ALIAS_OK);
    const uint16_t udp_alias_port = udp_flow.sport();
    const alias_stats baseline = stats_of(nat.la);

    std::mt19937 rng(777);
    unsigned leaked_inside = 0;
    constexpr unsigned kFlood = 20000;
    for (unsigned i = 0; i < kFlood; ++i) {
        const in_addr src = host_addr(rng());
        const uint16_t sport = static_cast<uint16_t>(rng());
        uint16_t dport = static_cast<uint16_t>(rng());
        // Some aim at the live alias ports, from the wrong peer or port.
        if (i % 3 == 0) dport = conns[i % conns.size()].alias_port;
        else if (i % 5 == 0) dport = udp_alias_port;
        Packet p(1500);
        switch (i % 8) {
        case 0:
        case 1: p = tcp_packet(src, sport, masq, dport, kSyn); break;
        case 2: p = tcp_packet(src, sport, masq, dport, static_cast<uint8_t>(rng())); break;
        case 3: p = udp_packet(src, sport, masq, dport, "spoof"); break;
        case 4: p = icmp_echo(src, masq, static_cast<uint16_t>(rng()), 1); break;
        case 5: {
            // An ICMP error quoting a flow that never existed.
            Packet quoted = udp_packet(masq, dport, src, sport, "");
            p = icmp_error(src, masq, 3, 3, quoted);
            break;
        }
        case 6: p = ip_packet(i % 16 == 6 ? 47 : 50, src, masq, 24); break;  // GRE, ESP
        default: p = ip_packet(static_cast<uint8_t>(rng() % 256), src, masq, 24); break;
        }
        const int r = nat.in(p);
        if (r == PKT_ALIAS_OK && p.dst().s_addr != masq.s_addr) ++leaked_inside;
        if (i % 1000 == 0) {
            clock.now += 1;
            for (Connection& c : conns) exchange(nat, c);
        }
    }
    CHECK(leaked_inside == 0);
    const alias_stats after = stats_of(nat.la);
    CHECK(after.total == baseline.total);
    CHECK(after.created == baseline.created);
    CHECK(walked_links(nat.la) == baseline.total);
    for (Connection& c : conns) exchange(nat, c);
    Packet answer = udp_packet(ext, 53, masq, udp_alias_port, "a");
    REQUIRE(nat.in(answer) == PKT_ALIAS_OK);
    CHECK(answer.dst().s_addr == prv2.s_addr);
}

TEST_CASE("inbound state a spoofer can create is bounded by the limit and expires", "[abuse][limits]") {
    constexpr unsigned kLimit = 300;
    Nat nat(masq, 0, PKT_ALIAS_USE_SOCKETS);
    FakeClock clock;
    clock.attach(nat.la);
    REQUIRE(LibAliasSetLinkLimit(nat.la, kLimit) == 0);
    alias_link* web = LibAliasRedirectPort(nat.la, prv3, htons(80), any_addr, 0, masq, htons(80), IPPROTO_TCP);
    REQUIRE(web != nullptr);
    std::vector<Connection> conns;
    for (uint16_t i = 0; i < 20; ++i) conns.push_back(Connection{prv1, static_cast<uint16_t>(31000 + i)});
    for (Connection& c : conns) establish(nat, c);

    std::mt19937 rng(99);
    unsigned created_ok = 0, refused = 0;
    for (unsigned i = 0; i < 3000; ++i) {
        const in_addr src = host_addr(rng());
        Packet p(1500);
        if (i % 2) {
            // A SYN to the published web server: one link per remote endpoint, as libalias.
            p = tcp_packet(src, static_cast<uint16_t>(rng()), masq, 80, kSyn);
        } else {
            // A header fragment: its id is remembered for the tails (10 s).
            p = udp_packet(src, static_cast<uint16_t>(rng()), masq, static_cast<uint16_t>(rng()), "frag");
            p.put16(4, static_cast<uint16_t>(rng()));
            p.put16(6, 0x2000);
            fix_checksums(p);
        }
        const int r = nat.in(p);
        if (r == PKT_ALIAS_ERROR) ++refused;
        else ++created_ok;
        CHECK(stats_of(nat.la).total <= kLimit + 1);  // + the redirect, which the limit does not count
    }
    CHECK(refused > 0);
    for (Connection& c : conns) exchange(nat, c);

    // Fragment ids go after 10 s, unanswered SYN links after 300 s.
    clock.now += kFragmentIdSeconds + 1;
    for (int i = 0; i < 50; ++i) exchange(nat, conns[static_cast<std::size_t>(i) % conns.size()]);
    CHECK(stats_of(nat.la).frag_id == 0);
    clock.now += kTcpInitialSeconds;
    for (int i = 0; i < 50; ++i) exchange(nat, conns[static_cast<std::size_t>(i) % conns.size()]);
    const alias_stats s = stats_of(nat.la);
    CHECK(s.total == conns.size() + 1);
    CHECK(walked_links(nat.la) == s.total);
    // The redirect still publishes the server.
    Packet syn = tcp_packet(ext2, 40000, masq, 80, kSyn);
    REQUIRE(nat.in(syn) == PKT_ALIAS_OK);
    CHECK(syn.dst().s_addr == prv3.s_addr);
    CHECK(checksums_ok(syn));
}
