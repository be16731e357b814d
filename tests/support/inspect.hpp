// SPDX-License-Identifier: BSD-2-Clause
//
// inspect.hpp: test helpers that assert through Catch2.  What a test reads
// back from an instance through the nalias extensions (the counters of
// LibAliasGetStats and the links of LibAliasForEachLink, which tests compare
// to show that the bookkeeping agrees with what the instance holds), and
// heap copies of packets for LibAliasSaveFragment, which takes ownership of a
// malloc'd buffer.
#pragma once

#include <alias.h>

#include <catch2/catch.hpp>

#include "packet.hpp"

#include <cstdlib>
#include <cstring>

namespace test {

inline alias_stats stats_of(libalias* la) {
    alias_stats s{};
    REQUIRE(LibAliasGetStats(la, &s) == 0);
    return s;
}

// Number of links LibAliasForEachLink visits.
inline unsigned walked_links(libalias* la) {
    unsigned n = 0;
    auto count_one = [](const alias_link_info*, void* ctx) {
        ++*static_cast<unsigned*>(ctx);
        return 0;
    };
    REQUIRE(LibAliasForEachLink(la, count_one, &n) == 0);
    return n;
}

// A malloc'd copy of the datagram (ip_len bytes), as natd hands fragments
// to LibAliasSaveFragment.
inline void* malloc_copy(const Packet& p) {
    void* b = std::malloc(p.len());
    REQUIRE(b != nullptr);
    std::memcpy(b, p.data(), p.len());
    return b;
}

}  // namespace test
