// SPDX-License-Identifier: BSD-2-Clause
// lib/checksum.hpp: RFC 1624 incremental updates must agree with a full
// recomputation (tests/support's independent RFC 1071 implementation) for
// random data, random field positions and odd lengths, including the
// corner cases of one's-complement arithmetic (0x0000/0xffff).  The exported
// LibAliasInternetChecksum is checked against the same reference.
#include <catch2/catch.hpp>

#include "../../lib/checksum.hpp"
#include "packet.hpp"

#include <random>
#include <vector>

namespace {

using nalias::csum::update16;
using nalias::csum::update32;

uint16_t stored(const std::vector<uint8_t>& b, std::size_t off) {
    uint16_t v;
    std::memcpy(&v, &b[off], 2);
    return v;
}

// Full checksum over `b` with the 16-bit checksum at `cks` taken as zero,
// in the raw (memory) order the library stores it.
uint16_t full(std::vector<uint8_t> b, std::size_t cks) {
    b[cks] = b[cks + 1] = 0;
    return htons(test::checksum(b.data(), b.size()));
}

bool verifies(const std::vector<uint8_t>& b) { return test::checksum(b.data(), b.size()) == 0; }

// RFC 1624's equation 3 yields 0x0000 where a full computation gives 0xffff
// only when every other covered word is zero.  No IPv4 header (version
// nibble) or pseudo-header-covered segment (protocol number) is all zero,
// so the random data keeps one fixed non-zero word, as real headers do.
void plant_nonzero_word(std::vector<uint8_t>& b, std::size_t cks, std::size_t field, std::size_t width) {
    for (std::size_t w = 0; w + 2 <= b.size(); w += 2) {
        if (w == cks || (w >= field && w < field + width)) continue;
        b[w] |= 0x40;
        return;
    }
}

}  // namespace

TEST_CASE("patch16/patch32 keep a checksum equal to a full recompute", "[unit][checksum]") {
    std::mt19937 rng(1624);
    for (int round = 0; round < 20000; ++round) {
        std::size_t len = 8 + rng() % 120;
        if (len % 2) ++len;  // checksummed areas hold whole words; odd tails are tested below
        std::vector<uint8_t> b(len);
        for (auto& c : b) c = static_cast<uint8_t>(rng());
        const std::size_t cks = (rng() % (len / 2)) * 2;
        std::size_t field;
        do field = (rng() % (len / 2)) * 2; while (field == cks);
        const bool wide = field + 4 <= len && (rng() & 1) && !(cks >= field && cks < field + 4);
        plant_nonzero_word(b, cks, field, wide ? 4 : 2);
        const uint16_t c0 = full(b, cks);
        std::memcpy(&b[cks], &c0, 2);
        REQUIRE(verifies(b));

        // Rewrite the random 16- or 32-bit field chosen above.
        if (wide) {
            uint32_t v = static_cast<uint32_t>(rng());
            if (round % 7 == 0) v = 0;
            if (round % 11 == 0) v = 0xffffffffu;
            nalias::csum::patch32(&b[field], &b[cks], v);
            uint32_t got;
            std::memcpy(&got, &b[field], 4);
            REQUIRE(got == v);
        } else {
            uint16_t v = static_cast<uint16_t>(rng());
            if (round % 5 == 0) v = 0;
            if (round % 13 == 0) v = 0xffff;
            nalias::csum::patch16(&b[field], &b[cks], v);
            REQUIRE(stored(b, field) == v);
        }
        REQUIRE(verifies(b));
    }
}

TEST_CASE("update16/update32 equal the recomputed checksum", "[unit][checksum]") {
    std::mt19937 rng(4242);
    for (int round = 0; round < 20000; ++round) {
        std::vector<uint8_t> b(40);
        for (auto& c : b) c = static_cast<uint8_t>(rng());
        b[0] = 0x45;
        const uint16_t before = full(b, 10);
        uint32_t old32, new32 = static_cast<uint32_t>(rng());
        std::memcpy(&old32, &b[12], 4);
        std::memcpy(&b[12], &new32, 4);
        const uint16_t after = full(b, 10);
        const uint16_t inc = update32(before, old32, new32);
        // Both 0x0000 and 0xffff are "zero" in one's complement; the
        // datagram verifies either way, so compare by verification.
        std::memcpy(&b[10], &inc, 2);
        REQUIRE(verifies(b));
        if (after != 0 && after != 0xffff) REQUIRE(inc == after);

        uint16_t old16 = stored(b, 30), new16 = static_cast<uint16_t>(rng());
        std::memcpy(&b[30], &new16, 2);
        const uint16_t inc16 = update16(inc, old16, new16);
        std::memcpy(&b[10], &inc16, 2);
        REQUIRE(verifies(b));
    }
}

TEST_CASE("UDP adjust keeps a zero checksum zero and never produces zero", "[unit][checksum]") {
    std::vector<uint8_t> zero{0, 0};
    nalias::csum::adjust32_udp(zero.data(), 0x01020304, 0x0a0b0c0d);
    CHECK(stored(zero, 0) == 0);
    nalias::csum::adjust16_udp(zero.data(), 1, 2);
    CHECK(stored(zero, 0) == 0);
    // A change that would make the computed checksum 0 yields 0xffff instead.
    std::mt19937 rng(768);
    int seen_wrap = 0;
    for (int i = 0; i < 200000 && seen_wrap < 3; ++i) {
        uint16_t c = static_cast<uint16_t>(rng() | 1);
        const uint16_t old_word = static_cast<uint16_t>(rng());
        // With new word 0 the update is ~S (S = ~c + ~old folded); the new
        // word ~S then makes the sum 0xffff, i.e. a plain update of 0x0000.
        const uint16_t new_word = update16(c, old_word, 0);
        if (update16(c, old_word, new_word) != 0) continue;
        std::vector<uint8_t> f(2);
        std::memcpy(f.data(), &c, 2);
        nalias::csum::adjust16_udp(f.data(), old_word, new_word);
        CHECK(stored(f, 0) == 0xffff);
        ++seen_wrap;
    }
    CHECK(seen_wrap > 0);
}

TEST_CASE("LibAliasInternetChecksum matches RFC 1071 for odd and even lengths", "[unit][checksum]") {
    libalias* la = LibAliasInit(nullptr);
    std::mt19937 rng(1071);
    for (int len = 1; len < 300; ++len) {
        std::vector<uint16_t> words((static_cast<std::size_t>(len) + 1) / 2 + 1);
        auto* bytes = reinterpret_cast<uint8_t*>(words.data());
        for (int i = 0; i < len; ++i) bytes[i] = static_cast<uint8_t>(rng());
        const uint16_t got = LibAliasInternetChecksum(la, words.data(), len);
        CHECK(ntohs(got) == test::checksum(bytes, static_cast<std::size_t>(len)));
    }
    LibAliasUninit(la);
}
