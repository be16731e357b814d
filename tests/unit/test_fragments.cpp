// SPDX-License-Identifier: BSD-2-Clause
// The saved-fragment store (lib/fragments.*) through its C API
// (LibAliasSaveFragment / LibAliasGetFragment): fragments are keyed by the
// datagram's (source, IP id), handed back oldest first, each exactly once,
// bounded in number (oldest dropped first), and owned by the library until
// handed back (freed at expiry or LibAliasUninit; LeakSanitizer checks).
#include <catch2/catch.hpp>

#include "packet.hpp"

#include <cstdlib>
#include <vector>

using namespace test;

namespace {

// A tail fragment from `src` with IP id `id`; `tag` marks it in the payload.
void* saved_tail(in_addr src, uint16_t id, uint8_t tag) {
    Packet p = ip_packet(IPPROTO_UDP, src, masq, 8);
    p.put16(4, id);
    p.put16(6, 1);
    p.buf[20] = tag;
    p.put16(10, 0);
    p.put16(10, checksum(p.data(), 20));
    void* m = std::malloc(28);
    std::memcpy(m, p.data(), 28);
    return m;
}

Packet header_of(in_addr src, uint16_t id) {
    Packet p = ip_packet(IPPROTO_UDP, src, masq, 8);
    p.put16(4, id);
    return p;
}

uint8_t tag_of(void* f) { return static_cast<uint8_t*>(f)[20]; }

}  // namespace

TEST_CASE("fragments are keyed by source and IP id and returned newest first, as libalias", "[unit][fragments]") {
    Nat nat;
    REQUIRE(LibAliasSaveFragment(nat.la, saved_tail(ext, 1, 'a')) == PKT_ALIAS_OK);
    REQUIRE(LibAliasSaveFragment(nat.la, saved_tail(ext, 2, 'b')) == PKT_ALIAS_OK);
    REQUIRE(LibAliasSaveFragment(nat.la, saved_tail(ext2, 1, 'c')) == PKT_ALIAS_OK);
    REQUIRE(LibAliasSaveFragment(nat.la, saved_tail(ext, 1, 'd')) == PKT_ALIAS_OK);

    Packet h = header_of(ext, 1);
    std::vector<uint8_t> got;
    while (void* f = LibAliasGetFragment(nat.la, h.data())) {
        got.push_back(tag_of(f));
        std::free(f);
    }
    CHECK(got == std::vector<uint8_t>{'d', 'a'});
    Packet h2 = header_of(ext2, 1);
    void* c = LibAliasGetFragment(nat.la, h2.data());
    REQUIRE(c != nullptr);
    CHECK(tag_of(c) == 'c');
    std::free(c);
    CHECK(LibAliasGetFragment(nat.la, h2.data()) == nullptr);
    alias_stats st{};
    REQUIRE(LibAliasGetStats(nat.la, &st) == 0);
    CHECK(st.frag_ptr == 1);  // 'b' is still held, and freed with the instance
}

TEST_CASE("the store is bounded: the oldest fragments make room", "[unit][fragments]") {
    Nat nat;
    const int n = 4096 + 10;
    for (int i = 0; i < n; ++i)
        REQUIRE(LibAliasSaveFragment(nat.la, saved_tail(ext, static_cast<uint16_t>(i), 0)) == PKT_ALIAS_OK);
    alias_stats st{};
    REQUIRE(LibAliasGetStats(nat.la, &st) == 0);
    CHECK(st.frag_ptr == 4096);
    for (int i = 0; i < 10; ++i) {
        Packet h = header_of(ext, static_cast<uint16_t>(i));
        CHECK(LibAliasGetFragment(nat.la, h.data()) == nullptr);
    }
    Packet newest = header_of(ext, static_cast<uint16_t>(n - 1));
    void* f = LibAliasGetFragment(nat.la, newest.data());
    CHECK(f != nullptr);
    std::free(f);
}

TEST_CASE("FragmentIn copies the header's destination with a valid checksum", "[unit][fragments]") {
    Nat nat;
    Packet head = header_of(ext, 9);
    head.set_dst(prv2);
    fix_checksums(head);
    void* f = saved_tail(ext, 9, 'x');
    LibAliasFragmentIn(nat.la, head.data(), f);
    Packet out(28);
    std::memcpy(out.data(), f, 28);
    CHECK(out.dst().s_addr == prv2.s_addr);
    CHECK(out.src().s_addr == ext.s_addr);
    CHECK(ip_checksum_ok(out));
    std::free(f);
}
