// SPDX-License-Identifier: BSD-2-Clause
// Keyed flow hashing: keys an attacker can craft to collide under an
// unkeyed hash (libalias's pre-2021 additive hash, or our own mix with the
// secret known) spread over the buckets of the keyed one; and, through the
// C API, thousands of such flows all translate.
//
// The unit part includes the header-only hash directly: the library exports
// only the C ABI, and the hash needs nothing else.
#include <catch2/catch.hpp>

#include "../../lib/flow_key.hpp"
#include "packet.hpp"

#include <algorithm>
#include <random>
#include <vector>

using namespace test;
using nalias::FlowKey;
using nalias::HashSecret;
using nalias::KeyedFlowHash;

namespace {

// An outbound flow's key fields (network order), as the crafting sees them.
struct OutTuple {
    uint32_t addr, remote_addr;
    uint16_t port, remote_port, type;
    FlowKey key() const { return FlowKey::out(addr, remote_addr, port, remote_port, type); }
};

// libalias before 2021 (alias_db.c StartPointOut): the sum of the raw
// (network-order) fields modulo its 4001-entry table.
constexpr uint32_t kOldTableSize = 4001;
uint32_t old_additive_out(const OutTuple& k) {
    uint32_t n = k.addr;
    n += k.remote_addr;
    n += k.port;
    n += k.remote_port;
    n += k.type;
    return n % kOldTableSize;
}

// The remote half of an outbound key is chosen by whoever the inside host
// talks to (a web page's subresources, a P2P peer list): for each remote
// address, the remote port whose raw value brings the sum to one residue
// puts every flow in one bucket of the old table.
std::vector<OutTuple> crafted_additive_collisions(std::size_t count) {
    constexpr uint32_t kTargetBucket = 1234;
    std::vector<OutTuple> keys;
    for (uint32_t j = 0; keys.size() < count; ++j) {
        OutTuple k{prv1.s_addr, htonl(0x0c000000u + j), htons(40000), 0, IPPROTO_TCP};
        const uint32_t rest = old_additive_out(k);
        uint32_t port = (kTargetBucket + kOldTableSize - rest) % kOldTableSize;
        if (port == 0) port = kOldTableSize;  // raw port 0 would be a wildcard
        k.remote_port = static_cast<uint16_t>(port);
        keys.push_back(k);
    }
    return keys;
}

struct Spread {
    std::size_t used_buckets = 0, longest_chain = 0;
};

template <class Hash> Spread spread(const std::vector<OutTuple>& keys, std::size_t buckets, Hash&& h) {
    std::vector<std::size_t> count(buckets);
    for (const OutTuple& k : keys) ++count[h(k.key()) & (buckets - 1)];  // power-of-two buckets, as the table
    Spread s;
    for (std::size_t c : count) {
        s.used_buckets += c != 0;
        s.longest_chain = std::max(s.longest_chain, c);
    }
    return s;
}

HashSecret secret_from(uint64_t seed) {
    std::mt19937_64 g(seed);
    return HashSecret{g(), g(), g()};
}

}  // namespace

TEST_CASE("keys colliding under libalias's additive hash spread under the keyed hash", "[hash]") {
    constexpr std::size_t kKeys = 8192, kBuckets = 8192;
    const std::vector<OutTuple> keys = crafted_additive_collisions(kKeys);
    // The crafting works: one bucket of the old table holds them all.
    const uint32_t first = old_additive_out(keys.front());
    REQUIRE(std::all_of(keys.begin(), keys.end(), [&](const OutTuple& k) { return old_additive_out(k) == first; }));

    for (uint64_t seed : {uint64_t{1}, uint64_t{2}, uint64_t{0xdeadbeef}, uint64_t{std::random_device{}()}}) {
        INFO("secret seed " << seed);
        const Spread s = spread(keys, kBuckets, KeyedFlowHash(secret_from(seed)));
        // n balls in n bins: ~63% of bins used, longest chain ~7; a
        // degraded hash would show a handful of bins or chains of hundreds.
        CHECK(s.used_buckets > kBuckets / 2);
        CHECK(s.longest_chain <= 16);
    }
}

TEST_CASE("keys colliding under the unkeyed hash spread once the secret is unknown", "[hash]") {
    // With the secret known (here all zero) an attacker can aim at one
    // bucket: search remote ports and addresses offline, keep those whose
    // hash has the low bits of a chosen target.
    constexpr std::size_t kBuckets = 1024, kKeys = 2048;
    const KeyedFlowHash unkeyed(HashSecret{0, 0, 0});
    std::vector<OutTuple> keys;
    for (uint32_t r = 0; keys.size() < kKeys; ++r) {
        const OutTuple k{masq.s_addr, htonl(0x0c000000u + (r >> 16)), htons(40000), static_cast<uint16_t>(r), IPPROTO_UDP};
        if ((unkeyed(k.key()) & (kBuckets - 1)) == 7) keys.push_back(k);
    }
    REQUIRE(spread(keys, kBuckets, unkeyed).used_buckets == 1);

    for (uint64_t seed : {uint64_t{3}, uint64_t{4}, uint64_t{std::random_device{}()}}) {
        INFO("secret seed " << seed);
        const Spread s = spread(keys, kBuckets, KeyedFlowHash(secret_from(seed)));
        CHECK(s.used_buckets > kBuckets * 3 / 4);  // 2 balls per bin on average: ~86% used
        CHECK(s.longest_chain <= 16);
    }
}

TEST_CASE("the keyed hash is deterministic for one secret and differs between secrets", "[hash]") {
    const FlowKey k = FlowKey::out(prv1.s_addr, ext.s_addr, htons(1234), htons(53), IPPROTO_UDP);
    const KeyedFlowHash a(secret_from(10)), b(secret_from(11));
    CHECK(a(k) == a(k));
    CHECK(a(k) != b(k));
    const FlowKey other = FlowKey::out(prv1.s_addr, ext.s_addr, htons(1234), htons(54), IPPROTO_UDP);
    CHECK(a(k) != a(other));
    CHECK(k == FlowKey::out(prv1.s_addr, ext.s_addr, htons(1234), htons(53), IPPROTO_UDP));
    CHECK_FALSE(k == other);
    // The two indexes lay the same fields out differently: the in key of
    // a flow is not its out key, and each differs from its mirror image.
    CHECK_FALSE(FlowKey::in(prv1.s_addr, ext.s_addr, htons(1234), htons(53), IPPROTO_UDP) == k);
    CHECK_FALSE(FlowKey::out(ext.s_addr, prv1.s_addr, htons(53), htons(1234), IPPROTO_UDP) == k);
}

TEST_CASE("thousands of flows colliding under libalias's additive hashes all translate", "[hash][c-api]") {
    // Outbound: one old out-bucket for all (crafted remote ports).  SAME_PORTS keeps
    // the alias port equal to the source port, so every inbound key also
    // shares alias address, alias port and type (one old in-bucket, whose
    // hash ignored the remote entirely).
    constexpr uint32_t kFlows = 5000;
    Nat nat;  // library defaults: SAME_PORTS on
    const std::vector<OutTuple> keys = crafted_additive_collisions(kFlows);
    for (const OutTuple& k : keys) {
        Packet syn = tcp_packet(prv1, 40000, in_addr{k.remote_addr}, ntohs(k.remote_port), kSyn);
        REQUIRE(nat.out(syn) == PKT_ALIAS_OK);
        REQUIRE(syn.src().s_addr == masq.s_addr);
        REQUIRE(syn.sport() == 40000);
    }
    alias_stats st{};
    REQUIRE(LibAliasGetStats(nat.la, &st) == 0);
    CHECK(st.tcp == kFlows);
    uint32_t bad = 0;
    for (const OutTuple& k : keys) {
        Packet synack = tcp_packet(in_addr{k.remote_addr}, ntohs(k.remote_port), masq, 40000, kSyn | kAck, 7000, 1001);
        if (nat.in(synack) != PKT_ALIAS_OK || synack.dst().s_addr != prv1.s_addr || synack.dport() != 40000 ||
            synack.src().s_addr != k.remote_addr || synack.sport() != ntohs(k.remote_port) || !checksums_ok(synack))
            ++bad;
        Packet ack = tcp_packet(prv1, 40000, in_addr{k.remote_addr}, ntohs(k.remote_port), kAck, 1001, 7001);
        if (nat.out(ack) != PKT_ALIAS_OK || ack.src().s_addr != masq.s_addr || !checksums_ok(ack)) ++bad;
    }
    CHECK(bad == 0);
}
