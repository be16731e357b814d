// SPDX-License-Identifier: BSD-2-Clause
// Many IPsec clients behind one address: three hosts to one peer, two peers
// at once, rekeys (IKEv1 Quick Mode and IKEv2 CREATE_CHILD_SA).
#include "40_ipsec_packets.hpp"

#include <random>

using namespace ipsec_test;

namespace {

const Client kClients[3] = {
    {prv1, 0xa1a1a1a1a1a1a1a1ull, 0xb1b1b1b1b1b1b1b1ull, 0x00010001, 0x00020001},
    {prv2, 0xa2a2a2a2a2a2a2a2ull, 0xb2b2b2b2b2b2b2b2ull, 0x00010002, 0x00020002},
    {prv3, 0xa3a3a3a3a3a3a3a3ull, 0xb3b3b3b3b3b3b3b3ull, 0x00010003, 0x00020003},
};

}  // namespace

TEST_CASE("three clients to one peer: learnt in order, then any interleaving", "[ipsec]") {
    const unsigned mode = GENERATE(unsigned{PKT_ALIAS_SAME_PORTS}, 0u);
    Nat nat(masq, mode, PKT_ALIAS_SAME_PORTS);
    for (const Client& c : kClients) establish_v1(nat, c, ext);
    REQUIRE(bindings(nat.la, LIBALIAS_IPSEC_ESP).size() == 3);
    REQUIRE(bindings(nat.la, LIBALIAS_IPSEC_IKE).size() == 3);

    std::mt19937 rng(4242);
    uint32_t seq[3] = {2, 2, 2};
    for (int step = 0; step < 600; ++step) {
        const Client& c = kClients[rng() % 3];
        const uint32_t s = seq[&c - kClients]++;
        switch (rng() % 4) {
        case 0: send_esp(nat, c, ext, s); break;
        case 1: receive_esp(nat, c, ext, s); break;
        case 2: send_ike(nat, c, ext, kInfoV1); break;
        case 3: receive_ike(nat, c, ext, kInfoV1); break;
        }
    }
    // Nothing new was learnt from the interleaving.
    CHECK(bindings(nat.la, LIBALIAS_IPSEC_ESP).size() == 3);
}

TEST_CASE("a client whose IKE port is not 500 gets its own port back", "[ipsec]") {
    Nat nat;
    Client a = kClients[0];
    Client b = kClients[1];
    b.port = 1500;  // e.g. a second IKE daemon on one host, or a port-mapping client
    establish_v1(nat, a, ext);
    establish_v1(nat, b, ext);
    receive_ike(nat, a, ext, kInfoV1);
    receive_ike(nat, b, ext, kInfoV1);
}

TEST_CASE("two peers at once: each peer's claims are independent", "[ipsec]") {
    Nat nat;
    const Client a1{prv1, 0x11, 0x21, 0x0a000001, 0x0b000001};  // prv1 <-> ext
    const Client b2{prv2, 0x12, 0x22, 0x0a000002, 0x0b000002};  // prv2 <-> ext2
    const Client a2{prv1, 0x13, 0x23, 0x0a000003, 0x0b000003};  // prv1 <-> ext2
    const Client b1{prv2, 0x14, 0x24, 0x0a000004, 0x0b000004};  // prv2 <-> ext

    // prv1 negotiates with ext while prv2 negotiates with ext2: both wait for
    // their first inbound SPI at once, from different peers.
    send_ike(nat, a1, ext, kMainMode, false);
    send_ike(nat, b2, ext2, kMainMode, false);
    receive_ike(nat, b2, ext2, kMainMode);
    receive_ike(nat, a1, ext, kMainMode);
    send_ike(nat, a1, ext, kQuickMode);
    send_ike(nat, b2, ext2, kQuickMode);
    receive_ike(nat, a1, ext, kQuickMode);
    receive_ike(nat, b2, ext2, kQuickMode);
    receive_esp(nat, b2, ext2);  // the peer speaks first
    receive_esp(nat, a1, ext);
    send_esp(nat, a1, ext);
    send_esp(nat, b2, ext2);

    // Then the crossed pairs.
    establish_v1(nat, a2, ext2);
    establish_v1(nat, b1, ext);
    REQUIRE(bindings(nat.la, LIBALIAS_IPSEC_ESP).size() == 4);

    std::mt19937 rng(7);
    const std::pair<const Client*, in_addr> pairs[4] = {{&a1, ext}, {&b2, ext2}, {&a2, ext2}, {&b1, ext}};
    for (int step = 0; step < 200; ++step) {
        const auto& [c, peer] = pairs[rng() % 4];
        if (rng() % 2) receive_esp(nat, *c, peer, 10 + step);
        else send_esp(nat, *c, peer, 10 + step);
    }
}

TEST_CASE("rekey: IKEv1 Quick Mode brings new SPIs, learnt the same way", "[ipsec]") {
    Nat nat;
    Client a = kClients[0];
    const Client b = kClients[1];
    establish_v1(nat, a, ext);
    establish_v1(nat, b, ext);

    // a rekeys over its phase 1; the peer starts on the new SA first.
    send_ike(nat, a, ext, kQuickMode);
    receive_ike(nat, a, ext, kQuickMode);
    send_ike(nat, a, ext, kQuickMode);
    Client a_new = a;
    a_new.esp_out = 0x00030001;
    a_new.esp_in = 0x00040001;
    receive_esp(nat, a_new, ext, 1);
    send_esp(nat, a_new, ext, 1);
    // Old and new SAs overlap until the old ones expire; b is untouched.
    receive_esp(nat, a, ext, 50);
    receive_esp(nat, b, ext, 50);
    receive_esp(nat, a_new, ext, 2);
    send_esp(nat, b, ext, 50);

    const auto esp = bindings(nat.la, LIBALIAS_IPSEC_ESP);
    CHECK(esp.size() == 3);
    int for_a = 0;
    for (const auto& e : esp) for_a += same(e.host, prv1);
    CHECK(for_a == 2);
}

TEST_CASE("rekey: IKEv2 CREATE_CHILD_SA, host sends on the new SA first", "[ipsec]") {
    Nat nat;
    Client c[2] = {kClients[0], kClients[2]};
    for (Client& x : c) {
        send_ike(nat, x, ext, kIkeSaInit, false, kIkeV2);
        receive_ike(nat, x, ext, kIkeSaInit, kIkeV2);
        send_ike(nat, x, ext, kIkeAuth, true, kIkeV2);
        receive_ike(nat, x, ext, kIkeAuth, kIkeV2);
        send_esp(nat, x, ext);
        receive_esp(nat, x, ext);
    }
    // The peer initiates the rekey for c[1]; c[1] answers.
    receive_ike(nat, c[1], ext, kCreateChildSa, kIkeV2);
    send_ike(nat, c[1], ext, kCreateChildSa, true, kIkeV2);
    Client renewed = c[1];
    renewed.esp_out = 0x00050003;
    renewed.esp_in = 0x00060003;
    send_esp(nat, renewed, ext);
    receive_esp(nat, renewed, ext);
    receive_esp(nat, c[0], ext, 9);
    receive_esp(nat, c[1], ext, 9);
}

// LibAliasOutTry(create = 0) probes (natd -globalport asks every instance in
// turn): an established tunnel is a known flow and is translated, an SPI
// the module has never seen from that host is left alone and learnt nowhere.
TEST_CASE("OutTry with create=0 translates ESP of known SAs only", "[ipsec][outtry]") {
    Nat nat;
    const Client& c = kClients[0];
    establish_v1(nat, c, ext);
    Packet known = esp_packet(c.host, ext, c.esp_out, 7);
    const std::string body = l4_bytes(known);
    REQUIRE(LibAliasOutTry(nat.la, known.data(), known.capacity(), 0) == PKT_ALIAS_OK);
    CHECK(same(known.src(), masq));
    CHECK(l4_bytes(known) == body);
    CHECK(checksums_ok(known));

    const std::size_t learnt = bindings(nat.la, LIBALIAS_IPSEC_ESP).size();
    Packet unknown = esp_packet(kClients[1].host, ext, kClients[1].esp_out, 1);
    const Packet before = unknown;
    CHECK(LibAliasOutTry(nat.la, unknown.data(), unknown.capacity(), 0) == PKT_ALIAS_IGNORED);
    CHECK(unknown.buf == before.buf);
    CHECK(bindings(nat.la, LIBALIAS_IPSEC_ESP).size() == learnt);
}
