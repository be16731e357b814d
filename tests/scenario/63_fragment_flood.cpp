// SPDX-License-Identifier: BSD-2-Clause
//
// Floods of unresolved fragments (LibAliasSaveFragment, natd's "tail before
// header" path).  libalias keeps each one as a link with no bound; nalias
// keeps at most 4096 per instance and frees the oldest to make room, frees
// every fragment 30 s after it was saved (libalias's FRAGMENT_PTR lifetime),
// and frees whatever is left at LibAliasInit and LibAliasUninit.  The
// fragments are malloc'd by the caller and owned by the library once saved,
// so LeakSanitizer (tools/test's ASan pass) and valgrind check the frees.
#include <catch2/catch.hpp>

#include "inspect.hpp"
#include "packet.hpp"

#include <cstdlib>

using namespace test;

namespace {

constexpr unsigned kMaxSaved = 4096;          // nalias's cap per instance
constexpr unsigned kFragmentSeconds = 30;     // libalias's FRAGMENT_PTR lifetime

in_addr peer(unsigned i) {
    in_addr a;
    a.s_addr = htonl(0x0c140000u + (i >> 16));  // 12.20.x.y: a new source every 65536 ids
    return a;
}

// A tail fragment (offset 128, no MF) of datagram `i` from its peer.
Packet tail_fragment(unsigned i) {
    Packet t = ip_packet(IPPROTO_UDP, peer(i), masq, 40);
    t.put16(4, static_cast<uint16_t>(i));
    t.put16(6, 0x0010);
    fix_checksums(t);
    return t;
}

// GetFragment for datagram `i`, freeing what comes back; true if it was there.
bool take(libalias* la, unsigned i) {
    Packet header = ip_packet(IPPROTO_UDP, peer(i), masq, 40);
    header.put16(4, static_cast<uint16_t>(i));
    void* f = LibAliasGetFragment(la, header.data());
    if (!f) return false;
    CHECK(std::memcmp(f, tail_fragment(i).data(), 20) == 0);
    std::free(f);
    return true;
}

// Any packet runs housekeeping, which expires saved fragments.
void tick(Nat& nat) {
    Packet p = udp_packet(prv1, 1234, ext, 53, "tick");
    REQUIRE(nat.out(p) == PKT_ALIAS_OK);
}

}  // namespace

TEST_CASE("ten thousand unresolved fragments: the newest 4096 are kept, the oldest freed", "[fragments][abuse]") {
    Nat nat(masq, 0, PKT_ALIAS_USE_SOCKETS);
    constexpr unsigned kSent = 10000;
    for (unsigned i = 1; i <= kSent; ++i) REQUIRE(LibAliasSaveFragment(nat.la, malloc_copy(tail_fragment(i))) == PKT_ALIAS_OK);
    CHECK(stats_of(nat.la).frag_ptr == kMaxSaved);
    CHECK(stats_of(nat.la).total == 0);  // fragments are not links here: the link table is untouched
    unsigned oldest_back = 0, newest_back = 0;
    for (unsigned i = 1; i <= kSent - kMaxSaved; i += 37) oldest_back += take(nat.la, i);
    for (unsigned i = kSent - kMaxSaved + 1; i <= kSent; ++i) newest_back += take(nat.la, i);
    CHECK(oldest_back == 0);
    CHECK(newest_back == kMaxSaved);
    CHECK(stats_of(nat.la).frag_ptr == 0);
}

TEST_CASE("unresolved fragments are freed 30 s after they were saved", "[fragments][expiry]") {
    Nat nat(masq, 0, PKT_ALIAS_USE_SOCKETS);
    FakeClock clock;
    clock.attach(nat.la);
    for (unsigned i = 1; i <= 2000; ++i) REQUIRE(LibAliasSaveFragment(nat.la, malloc_copy(tail_fragment(i))) == PKT_ALIAS_OK);
    clock.now += 15;
    for (unsigned i = 2001; i <= 3000; ++i) REQUIRE(LibAliasSaveFragment(nat.la, malloc_copy(tail_fragment(i))) == PKT_ALIAS_OK);
    clock.now += kFragmentSeconds - 15 - 1;
    tick(nat);
    CHECK(stats_of(nat.la).frag_ptr == 3000);  // 29 s: all still there
    clock.now += 1;
    tick(nat);
    CHECK(stats_of(nat.la).frag_ptr == 1000);  // the first 2000 are 30 s old
    CHECK_FALSE(take(nat.la, 1));
    CHECK(take(nat.la, 2500));
    clock.now += 15;
    tick(nat);
    CHECK(stats_of(nat.la).frag_ptr == 0);
    CHECK_FALSE(take(nat.la, 2999));
}

TEST_CASE("saved fragments are freed by LibAliasInit and LibAliasUninit", "[fragments][reset]") {
    libalias* la = LibAliasInit(nullptr);
    REQUIRE(la != nullptr);
    for (unsigned i = 1; i <= 3000; ++i) REQUIRE(LibAliasSaveFragment(la, malloc_copy(tail_fragment(i))) == PKT_ALIAS_OK);
    REQUIRE(LibAliasInit(la) == la);
    CHECK(stats_of(la).frag_ptr == 0);
    CHECK_FALSE(take(la, 10));
    for (unsigned i = 1; i <= kMaxSaved + 100; ++i)
        REQUIRE(LibAliasSaveFragment(la, malloc_copy(tail_fragment(i))) == PKT_ALIAS_OK);
    CHECK(stats_of(la).frag_ptr == kMaxSaved);
    LibAliasUninit(la);  // the 4096 still held are freed here (LeakSanitizer checks)
}

TEST_CASE("a fragment flood does not disturb the natd header/tail path", "[fragments][abuse]") {
    Nat nat(masq, 0, PKT_ALIAS_USE_SOCKETS);
    FakeClock clock;
    clock.attach(nat.la);
    Packet out = udp_packet(prv1, 7000, ext2, 9000, "open");
    REQUIRE(nat.out(out) == PKT_ALIAS_OK);
    const uint16_t alias_port = out.sport();
    for (unsigned i = 1; i <= 6000; ++i) REQUIRE(LibAliasSaveFragment(nat.la, malloc_copy(tail_fragment(i))) == PKT_ALIAS_OK);
    // A real datagram's tail arrives before its header, amid the flood.
    Packet tail = ip_packet(IPPROTO_UDP, ext2, masq, 40);
    tail.put16(4, 0x4242);
    tail.put16(6, 0x0010);
    fix_checksums(tail);
    REQUIRE(nat.in(tail) == PKT_ALIAS_UNRESOLVED_FRAGMENT);
    REQUIRE(LibAliasSaveFragment(nat.la, malloc_copy(tail)) == PKT_ALIAS_OK);
    Packet head = udp_packet(ext2, 9000, masq, alias_port, std::string(120, 'h'));
    head.put16(4, 0x4242);
    head.put16(6, 0x2000);
    fix_checksums(head);
    REQUIRE(nat.in(head) == PKT_ALIAS_FOUND_HEADER_FRAGMENT);
    CHECK(head.dst().s_addr == prv1.s_addr);
    void* f = LibAliasGetFragment(nat.la, head.data());
    REQUIRE(f != nullptr);
    LibAliasFragmentIn(nat.la, head.data(), f);
    in_addr fixed;
    std::memcpy(&fixed, static_cast<uint8_t*>(f) + 16, 4);
    CHECK(fixed.s_addr == prv1.s_addr);
    Packet check(1500);
    std::memcpy(check.data(), f, 60);
    CHECK(ip_checksum_ok(check));
    std::free(f);
    CHECK(LibAliasGetFragment(nat.la, head.data()) == nullptr);
    CHECK(stats_of(nat.la).frag_ptr == kMaxSaved - 1);  // full, minus the one handed back
}
