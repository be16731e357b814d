// SPDX-License-Identifier: BSD-2-Clause
// Fragments.  Outbound, every fragment's source is aliased (tails carry no
// ports, so only the address changes).  Inbound, the header fragment
// (offset 0, MF set) is translated like any packet and returns
// FOUND_HEADER_FRAGMENT; tails that follow find its translation by
// (peer, alias, IP id); tails that arrive first return UNRESOLVED_FRAGMENT
// and are parked with SaveFragment until GetFragment/FragmentIn, the loop
// natd runs after a header fragment.
#include <catch2/catch.hpp>

#include "inspect.hpp"
#include "packet.hpp"

#include <cstdlib>
#include <vector>

using namespace test;

namespace {

bool same(in_addr a, in_addr b) { return a.s_addr == b.s_addr; }

constexpr uint16_t kMf = 0x2000;

// A UDP datagram of 64 payload bytes split in two: the header fragment
// (UDP header + 24 bytes) and the tail (40 bytes at offset 32).
struct Split {
    Packet head, tail;
};

Split split_udp(in_addr src, uint16_t sport, in_addr dst, uint16_t dport, uint16_t ip_id) {
    std::string payload(64, 'p');
    for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>('a' + i % 26);
    Packet whole = udp_packet(src, sport, dst, dport, payload);  // computes the full UDP checksum
    Split s{Packet(1500), Packet(1500)};
    // Head: IP header + first 32 bytes of the UDP datagram.
    std::memcpy(s.head.data(), whole.data(), 20 + 32);
    s.head.put16(2, 20 + 32);
    s.head.put16(4, ip_id);
    s.head.put16(6, kMf);
    s.head.put16(10, 0);
    s.head.put16(10, checksum(s.head.data(), 20));
    // Tail: the remaining 40 bytes at fragment offset 4 (x8 = 32).
    std::memcpy(s.tail.data(), whole.data(), 20);
    std::memcpy(s.tail.data() + 20, whole.data() + 20 + 32, 40);
    s.tail.put16(2, 20 + 40);
    s.tail.put16(4, ip_id);
    s.tail.put16(6, 4);
    s.tail.put16(10, 0);
    s.tail.put16(10, checksum(s.tail.data(), 20));
    return s;
}

}  // namespace

TEST_CASE("outbound fragments: the header is translated, tails get the alias source", "[fragments]") {
    Nat nat(masq, 0, ~0u);
    Split s = split_udp(prv1, 4000, ext, 53, 0x1111);
    REQUIRE(nat.out(s.head) == PKT_ALIAS_OK);
    CHECK(same(s.head.src(), masq));
    const uint16_t aport = s.head.sport();
    CHECK(aport >= 0x8000);
    CHECK(ip_checksum_ok(s.head));
    REQUIRE(nat.out(s.tail) == PKT_ALIAS_OK);
    CHECK(same(s.tail.src(), masq));
    CHECK(same(s.tail.dst(), ext));
    CHECK(ip_checksum_ok(s.tail));
    // The payload bytes of the tail are untouched.
    CHECK(s.tail.buf[20] == 'a' + (32 - 8) % 26);
}

TEST_CASE("inbound header fragment first, then its tail", "[fragments]") {
    Nat nat(masq, 0, ~0u);
    Packet q = udp_packet(prv1, 4000, ext, 53);
    REQUIRE(nat.out(q) == PKT_ALIAS_OK);
    Split s = split_udp(ext, 53, masq, q.sport(), 0x2222);
    CHECK(nat.in(s.head) == PKT_ALIAS_FOUND_HEADER_FRAGMENT);
    CHECK(same(s.head.dst(), prv1));
    CHECK(s.head.dport() == 4000);
    CHECK(ip_checksum_ok(s.head));
    REQUIRE(nat.in(s.tail) == PKT_ALIAS_OK);
    CHECK(same(s.tail.dst(), prv1));
    CHECK(same(s.tail.src(), ext));
    CHECK(ip_checksum_ok(s.tail));
}

TEST_CASE("a tail before its header: save, then GetFragment/FragmentIn as natd does", "[fragments]") {
    Nat nat(masq, 0, ~0u);
    Packet q = udp_packet(prv2, 4001, ext, 53);
    REQUIRE(nat.out(q) == PKT_ALIAS_OK);
    Split s = split_udp(ext, 53, masq, q.sport(), 0x3333);
    Split other = split_udp(ext2, 53, masq, q.sport(), 0x3333);  // same id, other peer

    const Packet tail_before = s.tail;
    REQUIRE(nat.in(s.tail) == PKT_ALIAS_UNRESOLVED_FRAGMENT);
    CHECK(s.tail.buf == tail_before.buf);
    REQUIRE(LibAliasSaveFragment(nat.la, malloc_copy(s.tail)) == PKT_ALIAS_OK);
    REQUIRE(nat.in(other.tail) == PKT_ALIAS_UNRESOLVED_FRAGMENT);
    REQUIRE(LibAliasSaveFragment(nat.la, malloc_copy(other.tail)) == PKT_ALIAS_OK);
    alias_stats st{};
    REQUIRE(LibAliasGetStats(nat.la, &st) == 0);
    CHECK(st.frag_ptr == 2);

    REQUIRE(nat.in(s.head) == PKT_ALIAS_FOUND_HEADER_FRAGMENT);
    CHECK(same(s.head.dst(), prv2));
    int released = 0;
    while (void* f = LibAliasGetFragment(nat.la, s.head.data())) {
        LibAliasFragmentIn(nat.la, s.head.data(), f);
        Packet got(60);
        std::memcpy(got.data(), f, 60);
        CHECK(same(got.dst(), prv2));
        CHECK(same(got.src(), ext));
        CHECK(ip_checksum_ok(got));
        CHECK(got.be16(6) == 4);
        std::free(f);
        ++released;
    }
    CHECK(released == 1);  // the other peer's tail stays parked
    REQUIRE(LibAliasGetStats(nat.la, &st) == 0);
    CHECK(st.frag_ptr == 1);
    CHECK(LibAliasGetFragment(nat.la, s.head.data()) == nullptr);
    // The remaining one is freed with the instance (LeakSanitizer checks).
}

// libalias keeps saved fragments as links, so an address change that
// resets the table (RESET_ON_ADDR_CHANGE) frees them with the flows.
TEST_CASE("an address change that resets the table drops saved fragments", "[fragments]") {
    Nat nat(masq, PKT_ALIAS_RESET_ON_ADDR_CHANGE, ~0u);
    Packet q = udp_packet(prv2, 4001, ext, 53);
    REQUIRE(nat.out(q) == PKT_ALIAS_OK);
    Split s = split_udp(ext, 53, masq, q.sport(), 0x4444);
    REQUIRE(nat.in(s.tail) == PKT_ALIAS_UNRESOLVED_FRAGMENT);
    REQUIRE(LibAliasSaveFragment(nat.la, malloc_copy(s.tail)) == PKT_ALIAS_OK);
    alias_stats st{};
    REQUIRE(LibAliasGetStats(nat.la, &st) == 0);
    REQUIRE(st.frag_ptr == 1);
    LibAliasSetAddress(nat.la, pub);
    REQUIRE(LibAliasGetStats(nat.la, &st) == 0);
    CHECK(st.frag_ptr == 0);
    CHECK(LibAliasGetFragment(nat.la, s.head.data()) == nullptr);  // freed, not handed back (LeakSanitizer checks)
}

TEST_CASE("a header fragment with no flow still records the fragment id", "[fragments]") {
    Nat nat(masq);
    Split s = split_udp(ext, 53, masq, 9999, 0x4444);
    CHECK(nat.in(s.head) == PKT_ALIAS_FOUND_HEADER_FRAGMENT);
    CHECK(nat.in(s.tail) == PKT_ALIAS_OK);
    CHECK(same(s.tail.dst(), masq));
    CHECK(ip_checksum_ok(s.tail));
}

TEST_CASE("fragmented ICMP echo reply", "[fragments]") {
    Nat nat(masq, 0, ~0u);
    Packet req = icmp_echo(prv3, ext, 0x99, 1);
    REQUIRE(nat.out(req) == PKT_ALIAS_OK);
    Packet head = icmp_echo(ext, masq, req.icmp_id(), 1, true);
    head.put16(6, kMf);
    head.put16(4, 0x5555);
    fix_checksums(head);
    CHECK(nat.in(head) == PKT_ALIAS_FOUND_HEADER_FRAGMENT);
    CHECK(same(head.dst(), prv3));
    CHECK(head.icmp_id() == 0x99);
    CHECK(ip_checksum_ok(head));
    Packet tail = ip_packet(IPPROTO_ICMP, ext, masq, 16);
    tail.put16(4, 0x5555);
    tail.put16(6, 3);
    tail.put16(10, 0);
    tail.put16(10, checksum(tail.data(), 20));
    REQUIRE(nat.in(tail) == PKT_ALIAS_OK);
    CHECK(same(tail.dst(), prv3));
    CHECK(ip_checksum_ok(tail));
}

TEST_CASE("saved fragments are bounded and freed", "[fragments]") {
    Nat nat(masq);
    for (int i = 0; i < 5000; ++i) {
        Packet t = ip_packet(IPPROTO_UDP, ext, masq, 40);
        t.put16(4, static_cast<uint16_t>(i));
        t.put16(6, 4);
        REQUIRE(LibAliasSaveFragment(nat.la, malloc_copy(t)) == PKT_ALIAS_OK);
    }
    alias_stats st{};
    REQUIRE(LibAliasGetStats(nat.la, &st) == 0);
    CHECK(st.frag_ptr <= 4096);
    CHECK(st.frag_ptr > 0);
    // The newest are kept, the oldest were dropped.
    Packet probe = ip_packet(IPPROTO_UDP, ext, masq, 40);
    probe.put16(4, 4999);
    void* f = LibAliasGetFragment(nat.la, probe.data());
    CHECK(f != nullptr);
    std::free(f);
    probe.put16(4, 0);
    CHECK(LibAliasGetFragment(nat.la, probe.data()) == nullptr);
}
