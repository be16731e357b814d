// SPDX-License-Identifier: BSD-2-Clause
//
// inspect.hpp: what a test reads back from an instance through the nalias
// extensions: the counters (LibAliasGetStats) and the links themselves
// (LibAliasForEachLink).  Tests compare the two to show that the instance's
// bookkeeping agrees with what it holds.
#pragma once

#include <alias.h>

#include <catch2/catch.hpp>

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

}  // namespace test
