// SPDX-License-Identifier: BSD-2-Clause
// Outbound translation (the semantics of FreeBSD's 2_natout.c, re-expressed
// with real UDP/TCP packets and checksums verified from scratch): simple
// masquerading, UNREGISTERED_ONLY / UNREGISTERED_CGN, port allocation with and
// without SAME_PORTS, table reset on address change, alias port ranges
// (including one of two ports that runs out) and UDP endpoint-independent
// mapping, filtering and hairpinning.
#include <catch2/catch.hpp>

#include "packet.hpp"

#include <algorithm>
#include <random>
#include <vector>

using namespace test;

namespace {

bool same(in_addr a, in_addr b) { return a.s_addr == b.s_addr; }

// Sends `p` out and checks the contract: OK, source aliased to `alias`,
// destination untouched, checksums valid.  Returns the alias port.
uint16_t nat_ok(libalias* la, Packet& p, in_addr alias) {
    const in_addr dst = p.dst();
    const uint16_t dport = p.proto() == IPPROTO_ICMP ? 0 : p.dport();
    REQUIRE(LibAliasOut(la, p.data(), p.capacity()) == PKT_ALIAS_OK);
    CHECK(same(p.src(), alias));
    CHECK(same(p.dst(), dst));
    if (p.proto() == IPPROTO_UDP || p.proto() == IPPROTO_TCP) CHECK(p.dport() == dport);
    CHECK(checksums_ok(p));
    return p.proto() == IPPROTO_ICMP ? p.icmp_id() : p.sport();
}

// Sends a UDP reply in and checks it reaches `to`:`to_port`.
void udp_unnat_ok(libalias* la, in_addr from, uint16_t fport, in_addr alias, uint16_t aport, in_addr to,
                  uint16_t to_port) {
    Packet p = udp_packet(from, fport, alias, aport, "reply");
    REQUIRE(LibAliasIn(la, p.data(), p.capacity()) == PKT_ALIAS_OK);
    CHECK(same(p.src(), from));
    CHECK(p.sport() == fport);
    CHECK(same(p.dst(), to));
    CHECK(p.dport() == to_port);
    CHECK(p.payload() == "reply");
    CHECK(checksums_ok(p));
}

Packet proto_packet(uint8_t proto, in_addr src, in_addr dst) {
    Packet p = ip_packet(proto, src, dst, 44);
    return p;
}

}  // namespace

TEST_CASE("every inside address is masqueraded to the alias address", "[natout]") {
    Nat nat(masq, 0, ~0u);
    for (in_addr src : {prv1, prv2, prv3, cgn, pub}) {
        Packet p = proto_packet(254, src, ext);
        nat_ok(nat.la, p, masq);
    }
}

TEST_CASE("UNREGISTERED_ONLY aliases RFC 1918 sources only, and links outlive the mode", "[natout]") {
    Nat nat(masq, PKT_ALIAS_UNREGISTERED_ONLY, ~0u);
    const std::pair<in_addr, in_addr> expect[] = {{prv1, masq}, {prv2, masq}, {prv3, masq}, {cgn, cgn}, {pub, pub}};
    for (auto [src, alias] : expect) {
        Packet p = proto_packet(254, src, ext);
        nat_ok(nat.la, p, alias);
    }
    // Existing flows keep their translation when the mode goes away.
    LibAliasSetMode(nat.la, 0, PKT_ALIAS_UNREGISTERED_ONLY);
    for (auto [src, alias] : expect) {
        Packet p = proto_packet(254, src, ext);
        nat_ok(nat.la, p, alias);
    }
    // A new flow from a public source is now aliased.
    Packet fresh = proto_packet(253, pub, ext);
    nat_ok(nat.la, fresh, masq);
}

TEST_CASE("UNREGISTERED_CGN also aliases RFC 6598 shared addresses", "[natout]") {
    Nat nat(masq, PKT_ALIAS_UNREGISTERED_CGN, ~0u);
    const std::pair<in_addr, in_addr> expect[] = {{prv1, masq}, {prv2, masq}, {prv3, masq}, {cgn, masq}, {pub, pub}};
    for (auto [src, alias] : expect) {
        Packet p = proto_packet(254, src, ext);
        nat_ok(nat.la, p, alias);
    }
    LibAliasSetMode(nat.la, 0, PKT_ALIAS_UNREGISTERED_CGN);
    for (auto [src, alias] : expect) {
        Packet p = proto_packet(254, src, ext);
        nat_ok(nat.la, p, alias);
    }
    // 172.16/12 boundaries: 172.15.x and 172.32.x are public.
    LibAliasSetMode(nat.la, PKT_ALIAS_UNREGISTERED_ONLY, ~0u);
    Packet inside = udp_packet(addr("172.31.255.254"), 1, ext, 2);
    nat_ok(nat.la, inside, masq);
    Packet outside = udp_packet(addr("172.32.0.1"), 1, ext, 2);
    nat_ok(nat.la, outside, addr("172.32.0.1"));
}

TEST_CASE("UDP without SAME_PORTS: random alias ports, replies map back", "[natout]") {
    Nat nat(masq, 0, ~0u);
    const uint16_t sport = 0x1234, dport = 0x5678;
    Packet o1 = udp_packet(prv1, sport, ext, dport, "q1");
    const uint16_t a1 = nat_ok(nat.la, o1, masq);
    CHECK(a1 != sport);
    CHECK(a1 >= 0x8000);
    udp_unnat_ok(nat.la, ext, dport, masq, a1, prv1, sport);

    // Same ports from another inside host: another alias port.
    Packet o2 = udp_packet(prv2, sport, ext, dport, "q2");
    const uint16_t a2 = nat_ok(nat.la, o2, masq);
    CHECK(a2 != a1);
    udp_unnat_ok(nat.la, ext, dport, masq, a2, prv2, sport);
    udp_unnat_ok(nat.la, ext, dport, masq, a1, prv1, sport);
}

TEST_CASE("SAME_PORTS keeps the source port while it is free", "[natout]") {
    Nat nat(masq, PKT_ALIAS_SAME_PORTS, ~0u);
    Packet o1 = udp_packet(prv1, 0x1234, ext, 0x5678);
    CHECK(nat_ok(nat.la, o1, masq) == 0x1234);
    Packet o2 = udp_packet(prv2, 0x1234, ext, 0x5678);
    const uint16_t a2 = nat_ok(nat.la, o2, masq);
    CHECK(a2 != 0x1234);
    udp_unnat_ok(nat.la, ext, 0x5678, masq, 0x1234, prv1, 0x1234);
    udp_unnat_ok(nat.la, ext, 0x5678, masq, a2, prv2, 0x1234);
    // The same alias port is reused towards another remote endpoint.
    Packet o3 = udp_packet(prv2, 0x1234, ext2, 0x5678);
    CHECK(nat_ok(nat.la, o3, masq) == 0x1234);
}

TEST_CASE("TCP connection out and back with valid checksums and payload", "[natout]") {
    Nat nat(masq, 0, ~0u);
    Packet syn = tcp_packet(prv1, 40000, ext, 80, kSyn, 1000);
    const uint16_t aport = nat_ok(nat.la, syn, masq);
    CHECK(syn.tcp_seq() == 1000);
    Packet synack = tcp_packet(ext, 80, masq, aport, kSyn | kAck, 5000, 1001);
    REQUIRE(nat.in(synack) == PKT_ALIAS_OK);
    CHECK(same(synack.dst(), prv1));
    CHECK(synack.dport() == 40000);
    CHECK(synack.tcp_ack() == 1001);
    CHECK(checksums_ok(synack));
    Packet data = tcp_packet(prv1, 40000, ext, 80, kAck | kPsh, 1001, 5001, "GET / HTTP/1.0\r\n\r\n");
    CHECK(nat_ok(nat.la, data, masq) == aport);
    CHECK(data.payload() == "GET / HTTP/1.0\r\n\r\n");
}

TEST_CASE("an address change clears the table with RESET_ON_ADDR_CHANGE", "[natout]") {
    Nat nat(masq, PKT_ALIAS_RESET_ON_ADDR_CHANGE | PKT_ALIAS_SAME_PORTS | PKT_ALIAS_DENY_INCOMING, ~0u);
    Packet o = udp_packet(prv1, 0x1234, ext, 0x5678);
    const uint16_t aport = nat_ok(nat.la, o, masq);
    CHECK(aport == 0x1234);
    udp_unnat_ok(nat.la, ext, 0x5678, masq, aport, prv1, 0x1234);

    // Clear the table while keeping the address.
    LibAliasSetAddress(nat.la, ext);
    LibAliasSetAddress(nat.la, masq);

    Packet late = udp_packet(ext, 0x5678, masq, aport);
    const Packet before = late;
    CHECK(nat.in(late) == PKT_ALIAS_IGNORED);
    CHECK(late.buf == before.buf);

    // The port is free again, so prv2 gets it.
    Packet o2 = udp_packet(prv2, 0x1234, ext, 0x5678);
    CHECK(nat_ok(nat.la, o2, masq) == aport);
    udp_unnat_ok(nat.la, ext, 0x5678, masq, aport, prv2, 0x1234);
}

TEST_CASE("without RESET_ON_ADDR_CHANGE links survive an address change", "[natout]") {
    Nat nat(masq, PKT_ALIAS_SAME_PORTS | PKT_ALIAS_DENY_INCOMING, ~0u);
    Packet o = udp_packet(prv1, 0x1234, ext, 0x5678);
    const uint16_t aport = nat_ok(nat.la, o, masq);
    LibAliasSetAddress(nat.la, pub);
    udp_unnat_ok(nat.la, ext, 0x5678, masq, aport, prv1, 0x1234);
    // New flows use the new address.
    Packet o2 = udp_packet(prv2, 0x2222, ext, 0x5678);
    nat_ok(nat.la, o2, pub);
}

TEST_CASE("alias port ranges, including a two-port range that runs out", "[natout]") {
    Nat nat(masq, 0, ~0u);
    uint16_t sport = 0x1234, dport = 0x5678;

    LibAliasSetAliasPortRange(nat.la, 0, 0);  // the default, as ipfw resets it
    Packet p1 = udp_packet(prv1, sport, ext, dport);
    CHECK(nat_ok(nat.la, p1, masq) >= 0x8000);

    LibAliasSetAliasPortRange(nat.la, 2000, 3000);
    ++dport;
    Packet p2 = udp_packet(prv1, sport, ext, dport);
    const uint16_t a2 = nat_ok(nat.la, p2, masq);
    CHECK(a2 >= 2000);
    CHECK(a2 <= 3000);

    LibAliasSetAliasPortRange(nat.la, 4000, 4001);
    ++dport;
    Packet p3 = udp_packet(prv1, sport, ext, dport);
    const uint16_t a3 = nat_ok(nat.la, p3, masq);
    ++sport;
    Packet p4 = udp_packet(prv1, sport, ext, dport);
    const uint16_t a4 = nat_ok(nat.la, p4, masq);
    CHECK(std::min(a3, a4) == 4000);
    CHECK(std::max(a3, a4) == 4001);

    // A third flow to the same remote endpoint finds no free port.
    ++sport;
    Packet p5 = udp_packet(prv1, sport, ext, dport);
    const Packet before = p5;
    CHECK(nat.out(p5) == PKT_ALIAS_IGNORED);
    CHECK(p5.buf == before.buf);
    // Towards another remote endpoint both ports are usable again.
    Packet p6 = udp_packet(prv1, sport, ext2, dport);
    const uint16_t a6 = nat_ok(nat.la, p6, masq);
    CHECK((a6 == 4000 || a6 == 4001));
    // The two established flows still map back.
    udp_unnat_ok(nat.la, ext, dport, masq, a3, prv1, static_cast<uint16_t>(sport - 2));
    udp_unnat_ok(nat.la, ext, dport, masq, a4, prv1, static_cast<uint16_t>(sport - 1));

    // Back to normal.
    LibAliasSetAliasPortRange(nat.la, 0, 0);
    ++dport;
    Packet p7 = udp_packet(prv1, sport, ext, dport);
    CHECK(nat_ok(nat.la, p7, masq) >= 0x8000);

    // hi < lo is ignored (libalias would compute a negative length).
    LibAliasSetAliasPortRange(nat.la, 5000, 4000);
    ++dport;
    Packet p8 = udp_packet(prv1, sport, ext, dport);
    CHECK(nat_ok(nat.la, p8, masq) >= 0x8000);
}

TEST_CASE("UDP_EIM: one mapping per inside endpoint, whatever the destination", "[natout][eim]") {
    Nat nat(masq, PKT_ALIAS_UDP_EIM, ~0u);
    Packet a = udp_packet(prv1, 0x1234, ext, 0x5678);
    const uint16_t aport = nat_ok(nat.la, a, masq);
    Packet b = udp_packet(prv1, 0x1234, ext, 0x6789);
    CHECK(nat_ok(nat.la, b, masq) == aport);
    Packet c = udp_packet(prv1, 0x1234, pub, 0x5678);
    CHECK(nat_ok(nat.la, c, masq) == aport);
    // Without EIM the mapping depends on the endpoint (fresh instance, busy port).
    Nat edm(masq, 0, ~0u);
    Packet d = udp_packet(prv1, 0x1234, ext, 0x5678);
    const uint16_t e1 = nat_ok(edm.la, d, masq);
    bool differs = false;
    for (uint16_t dp = 1; dp < 20 && !differs; ++dp) {
        Packet e = udp_packet(prv1, 0x1234, ext, dp);
        differs = nat_ok(edm.la, e, masq) != e1;
    }
    CHECK(differs);
}

// The mapping's key is (inside endpoint, 0.0.0.0:0): a datagram to that very
// remote makes a flow whose key the mapping just took.  The new-flow path
// links a key it has just looked up without checking again (in a Debug
// build an assertion checks), so this remote must not take that path.
TEST_CASE("UDP_EIM: a datagram to 0.0.0.0:0, the mapping's own key, keeps one link per key", "[natout][eim]") {
    Nat nat(masq, PKT_ALIAS_UDP_EIM, ~0u);
    const in_addr nowhere{0};
    Packet first = udp_packet(prv1, 0x1234, nowhere, 0);
    const int r1 = nat.out(first);
    Packet again = udp_packet(prv1, 0x1234, nowhere, 0);
    const int r2 = nat.out(again);
    INFO("results " << r1 << ", " << r2);
    CHECK(r1 == r2);
    if (r1 == PKT_ALIAS_OK) CHECK(first.sport() == again.sport());
    // A real flow of the same endpoint still gets a mapping, and its reply comes back.
    Packet real = udp_packet(prv1, 0x1234, ext, 0x5678);
    const uint16_t aport = nat_ok(nat.la, real, masq);
    udp_unnat_ok(nat.la, ext, 0x5678, masq, aport, prv1, 0x1234);
}

TEST_CASE("UDP_EIM: endpoint-independent filtering accepts any remote", "[natout][eim]") {
    Nat nat(masq, PKT_ALIAS_UDP_EIM, ~0u);
    Packet a = udp_packet(prv1, 0x1234, pub, 0x5678);
    const uint16_t aport = nat_ok(nat.la, a, masq);
    udp_unnat_ok(nat.la, pub, 0x6789, masq, aport, prv1, 0x1234);
    udp_unnat_ok(nat.la, ext2, 0x6789, masq, aport, prv1, 0x1234);
    // Each of those remotes can be answered from the same mapping.
    Packet back = udp_packet(prv1, 0x1234, ext2, 0x6789);
    CHECK(nat_ok(nat.la, back, masq) == aport);
}

TEST_CASE("UDP_EIM with DENY_INCOMING filters by the remote endpoint", "[natout][eim]") {
    Nat nat(masq, PKT_ALIAS_UDP_EIM | PKT_ALIAS_DENY_INCOMING, ~0u);
    Packet a = udp_packet(prv1, 0x1234, pub, 0x5678);
    const uint16_t aport = nat_ok(nat.la, a, masq);
    udp_unnat_ok(nat.la, pub, 0x5678, masq, aport, prv1, 0x1234);
    for (auto [from, fport] : {std::pair<in_addr, uint16_t>{pub, 0x6789}, {ext2, 0x6789}, {ext2, 0x5678}}) {
        Packet p = udp_packet(from, fport, masq, aport);
        const Packet before = p;
        CHECK(nat.in(p) == PKT_ALIAS_IGNORED);
        CHECK(p.buf == before.buf);
    }
}

TEST_CASE("UDP_EIM hairpinning: inside hosts reach each other's mappings", "[natout][eim]") {
    Nat nat(masq, PKT_ALIAS_UDP_EIM, ~0u);
    Packet a = udp_packet(prv1, 0x1234, pub, 0x5678);
    const uint16_t ext1 = nat_ok(nat.la, a, masq);
    Packet b = udp_packet(prv2, 0x2345, pub, 0x5678);
    const uint16_t ext2p = nat_ok(nat.la, b, masq);
    // prv1 sends to prv2's public mapping ...
    Packet h = udp_packet(prv1, 0x1234, masq, ext2p, "hairpin");
    CHECK(nat_ok(nat.la, h, masq) == ext1);
    // ... and the same packet, looped back in, reaches prv2 from prv1's mapping.
    REQUIRE(nat.in(h) == PKT_ALIAS_OK);
    CHECK(same(h.src(), masq));
    CHECK(h.sport() == ext1);
    CHECK(same(h.dst(), prv2));
    CHECK(h.dport() == 0x2345);
    CHECK(h.payload() == "hairpin");
    CHECK(checksums_ok(h));
}

// A host that mostly receives (a media stream, a peer found through STUN)
// keeps its mapping as long as any of its flows is in use, in either
// direction: its port neither changes nor goes to another host.
TEST_CASE("UDP_EIM: replies keep the endpoint's mapping alive", "[natout][eim]") {
    Nat nat(masq, PKT_ALIAS_UDP_EIM, ~0u);
    LibAliasSetAliasPortRange(nat.la, 40000, 40000);  // one port: any reuse would show
    FakeClock clock;
    clock.attach(nat.la);
    Packet hello = udp_packet(prv1, 5000, ext, 3478);
    REQUIRE(nat_ok(nat.la, hello, masq) == 40000);
    for (int i = 0; i < 6; ++i) {  // 180 s of replies, three timeouts' worth, the host silent
        clock.now += 30;
        udp_unnat_ok(nat.la, ext, 3478, masq, 40000, prv1, 5000);
    }
    // Another host cannot take the port ...
    Packet other = udp_packet(prv2, 6000, ext2, 53);
    const Packet unchanged = other;
    CHECK(nat.out(other) == PKT_ALIAS_IGNORED);
    CHECK(other.buf == unchanged.buf);
    // ... a new remote still reaches the first host (endpoint-independent filtering) ...
    udp_unnat_ok(nat.la, ext2, 9999, masq, 40000, prv1, 5000);
    // ... and the host's next destination gets the same port.
    Packet next = udp_packet(prv1, 5000, pub, 53);
    CHECK(nat_ok(nat.la, next, masq) == 40000);
}

TEST_CASE("random UDP flows in batches all map back", "[natout]") {
    Nat nat(masq);
    std::mt19937 rng(0x0b61);
    struct Flow { in_addr src, dst; uint16_t sport, dport, aport; };
    std::vector<Flow> batch(1200);
    const std::pair<in_addr, in_addr> nets[] = {{prv1, ext}, {prv2, pub}, {prv3, ext}, {cgn, pub}};
    for (int round = 0; round < 5; ++round) {
        for (std::size_t i = 0; i < batch.size(); ++i) {
            auto [s, d] = nets[i & 3];
            batch[i].src.s_addr = (s.s_addr & htonl(0xffff0000)) | htonl(rng() & 0xffff);
            batch[i].dst.s_addr = (d.s_addr & htonl(0xffff0000)) | htonl(rng() & 0xffff);
            batch[i].sport = static_cast<uint16_t>(1000 + rng() % 59000);
            batch[i].dport = static_cast<uint16_t>(1000 + rng() % 59000);
            Packet p = udp_packet(batch[i].src, batch[i].sport, batch[i].dst, batch[i].dport);
            batch[i].aport = nat_ok(nat.la, p, masq);
        }
        std::shuffle(batch.begin(), batch.end(), rng);
        for (const Flow& f : batch) udp_unnat_ok(nat.la, f.dst, f.dport, masq, f.aport, f.src, f.sport);
    }
}
