// SPDX-License-Identifier: BSD-2-Clause
// Stress: tens of thousands of random TCP and UDP flows from many inside
// hosts; every one is answered in random order and must map back to its
// inside endpoint with checksums that verify from scratch.
#include <catch2/catch.hpp>

#include "packet.hpp"

#include <algorithm>
#include <random>
#include <set>
#include <tuple>
#include <vector>

using namespace test;

namespace {

struct Flow {
    in_addr src, dst;
    uint16_t sport, dport, aport;
    bool tcp;
};

Packet make_out(const Flow& f) {
    return f.tcp ? tcp_packet(f.src, f.sport, f.dst, f.dport, kSyn, f.sport * 7u)
                 : udp_packet(f.src, f.sport, f.dst, f.dport, "ping");
}

Packet make_in(const Flow& f) {
    return f.tcp ? tcp_packet(f.dst, f.dport, addr("85.214.10.12"), f.aport, kSyn | kAck, 99, f.sport * 7u + 1)
                 : udp_packet(f.dst, f.dport, addr("85.214.10.12"), f.aport, "pong");
}

}  // namespace

TEST_CASE("40000 random TCP and UDP flows all map back", "[stress]") {
    for (unsigned mode : {0u, static_cast<unsigned>(PKT_ALIAS_SAME_PORTS)}) {
        DYNAMIC_SECTION("mode " << mode) {
            Nat nat(masq, mode, ~0u);
            std::mt19937 rng(0x51ce + mode);
            std::vector<Flow> flows;
            std::set<std::tuple<uint32_t, uint32_t, uint16_t, uint16_t, bool>> seen;
            while (flows.size() < 40000) {
                Flow f{};
                f.src.s_addr = htonl(0x0a000000u | (rng() & 0x00ffffffu));  // 10/8
                f.dst.s_addr = htonl(0x0c000000u | (rng() & 0x00000fffu));  // few remote hosts: ports collide
                // Ports away from those the protocol handlers watch (FTP, NetBIOS,
                // IKE, ...): this test is about the core, not the ALGs.
                f.sport = static_cast<uint16_t>(40000 + rng() % 25000);
                f.dport = static_cast<uint16_t>(30000 + rng() % 1000);
                f.tcp = rng() & 1;
                if (!seen.insert({f.src.s_addr, f.dst.s_addr, f.sport, f.dport, f.tcp}).second) continue;
                Packet p = make_out(f);
                REQUIRE(nat.out(p) == PKT_ALIAS_OK);
                REQUIRE(p.src().s_addr == masq.s_addr);
                REQUIRE(p.dst().s_addr == f.dst.s_addr);
                REQUIRE(checksums_ok(p));
                f.aport = p.sport();
                flows.push_back(f);
            }
            // Alias endpoints are unique per remote endpoint and protocol.
            std::set<std::tuple<uint32_t, uint16_t, uint16_t, bool>> alias_keys;
            for (const Flow& f : flows) REQUIRE(alias_keys.insert({f.dst.s_addr, f.dport, f.aport, f.tcp}).second);

            std::shuffle(flows.begin(), flows.end(), rng);
            for (const Flow& f : flows) {
                Packet r = make_in(f);
                INFO("tcp " << f.tcp << " " << str(f.src) << ":" << f.sport << " -> " << str(f.dst) << ":" << f.dport
                            << " alias port " << f.aport);
                REQUIRE(nat.in(r) == PKT_ALIAS_OK);
                REQUIRE(r.dst().s_addr == f.src.s_addr);
                REQUIRE(r.dport() == f.sport);
                REQUIRE(r.src().s_addr == f.dst.s_addr);
                REQUIRE(checksums_ok(r));
            }
            // And once more outbound, in yet another order: same alias ports.
            std::shuffle(flows.begin(), flows.end(), rng);
            for (const Flow& f : flows) {
                Packet p = make_out(f);
                REQUIRE(nat.out(p) == PKT_ALIAS_OK);
                REQUIRE(p.sport() == f.aport);
            }
            alias_stats st{};
            REQUIRE(LibAliasGetStats(nat.la, &st) == 0);
            CHECK(st.tcp + st.udp == 40000);
        }
    }
}
