// SPDX-License-Identifier: BSD-2-Clause
// LinkTable on its own: lookups by both keys, incremental index growth
// (never more than one bucket split per insert, load kept at 1), bytes per
// link, lazy-LRU expiry within the sweep budget, and the link limit.
//
// The library exports only the C ABI, so this test compiles the table's
// one source file into itself (it depends on nothing else in lib/).
#include <catch2/catch.hpp>

#include "../../lib/link_table.cpp"

#include <netinet/in.h>

#include <algorithm>
#include <vector>

using nalias::FlowKey;
using nalias::Link;
using nalias::LinkTable;

namespace {

const nalias::HashSecret kSecret{0x0123456789abcdefull, 0xfedcba9876543210ull, 0x5555aaaa3333ccccull};

Link fields(uint32_t i) {
    Link f;
    f.src_addr = htonl(0x0a000000u + (i & 0xffff));
    f.src_port = htons(static_cast<uint16_t>(1024 + (i >> 16)));
    f.dst_addr = htonl(0x0c000000u + i);
    f.dst_port = htons(443);
    f.alias_addr = htonl(0x55d60a0cu);
    f.alias_port = htons(static_cast<uint16_t>(0x8000 + (i & 0x7fff)));
    f.type = IPPROTO_UDP;
    return f;
}

}  // namespace

TEST_CASE("link table finds a link by its out key and its in key until it is destroyed", "[link_table]") {
    LinkTable t(kSecret);
    std::vector<Link*> links;
    for (uint32_t i = 0; i < 5000; ++i) {
        Link* l = t.create(fields(i), 60, 100);
        REQUIRE(l != nullptr);
        links.push_back(l);
    }
    CHECK(t.size() == 5000);
    for (uint32_t i = 0; i < 5000; ++i) {
        const Link f = fields(i);
        CHECK(t.find_out(f.out_key()) == links[i]);
        CHECK(t.find_in(f.in_key()) == links[i]);
    }
    for (uint32_t i = 0; i < 5000; i += 2) t.destroy(links[i]);
    CHECK(t.size() == 2500);
    for (uint32_t i = 0; i < 5000; ++i) {
        const Link f = fields(i);
        CHECK((t.find_out(f.out_key()) == nullptr) == (i % 2 == 0));
        CHECK((t.find_in(f.in_key()) == nullptr) == (i % 2 == 0));
    }
    FlowKey absent = fields(7).out_key();
    absent.remote_port = htons(444);
    CHECK(t.find_out(absent) == nullptr);
}

TEST_CASE("index growth splits at most one bucket per insert and keeps the load at one", "[link_table]") {
    LinkTable t(kSecret);
    std::size_t out_before = t.out_buckets(), in_before = t.in_buckets();
    std::size_t worst_out_step = 0, worst_in_step = 0, overloaded = 0;
    for (uint32_t i = 0; i < 200000; ++i) {
        REQUIRE(t.create(fields(i), 60, 100) != nullptr);
        worst_out_step = std::max(worst_out_step, t.out_buckets() - out_before);
        worst_in_step = std::max(worst_in_step, t.in_buckets() - in_before);
        out_before = t.out_buckets();
        in_before = t.in_buckets();
        overloaded += t.size() > t.out_buckets() * LinkTable::kMaxLoad || t.size() > t.in_buckets() * LinkTable::kMaxLoad;
    }
    CHECK(worst_out_step == 1);  // no packet rehashes more than one bucket
    CHECK(worst_in_step == 1);
    CHECK(overloaded == 0);
    // Every link is still reachable after all the splits.
    std::size_t found = 0;
    for (uint32_t i = 0; i < 200000; ++i) {
        const Link f = fields(i);
        found += t.find_out(f.out_key()) != nullptr && t.find_in(f.in_key()) != nullptr;
    }
    CHECK(found == 200000);
}

// The pool grows by 2 MiB blocks (29k links), so below a few hundred
// thousand links the unused part of the newest block dominates.
TEST_CASE("a link costs at most 96 bytes including both indexes from 500k links up", "[link_table]") {
    LinkTable t(kSecret);
    double worst = 0;
    for (uint32_t i = 0; i < 1000000; ++i) {
        REQUIRE(t.create(fields(i), 60, 100) != nullptr);
        if (i + 1 >= 500000 && (i + 1) % 25000 == 0)
            worst = std::max(worst, static_cast<double>(t.pool_bytes() + t.bucket_bytes()) / t.size());
    }
    INFO("sizeof(Link) " << sizeof(Link) << ", worst bytes per link " << worst);
    CHECK(worst <= 96.0);
}

TEST_CASE("the sweep expires idle links, requeues used ones, and honours its budget", "[link_table]") {
    LinkTable t(kSecret);
    std::vector<Link*> links;
    for (uint32_t i = 0; i < 100; ++i) links.push_back(t.create(fields(i), 10, 1000));
    for (uint32_t i = 0; i < 100; i += 2) t.touch(*links[i], 1005);  // the even ones stay in use

    CHECK(t.sweep(1009, 1000) == 0);  // nobody is due yet
    // Due at 1010: the budget counts expiries and requeues alike.
    CHECK(t.sweep(1010, 10) <= 10);
    CHECK(t.sweep_pending());
    unsigned removed = 0;
    while (t.sweep_pending()) removed += t.sweep(1010, 10);
    CHECK(t.size() == 50);
    CHECK(t.expired_count == 50);
    for (uint32_t i = 0; i < 100; ++i) CHECK((t.find_out(fields(i).out_key()) != nullptr) == (i % 2 == 0));
    // The used ones go 10 s after their last use.
    CHECK(t.sweep(1014, 1000) == 0);
    CHECK(t.sweep(1015, 1000) == 50);
    CHECK(t.size() == 0);
    (void)removed;
}

TEST_CASE("at the limit a new link is refused unless an expired one can be reclaimed", "[link_table]") {
    LinkTable t(kSecret);
    t.set_limit(10);
    for (uint32_t i = 0; i < 10; ++i) REQUIRE(t.create(fields(i), 5, 1000) != nullptr);
    CHECK(t.create(fields(10), 5, 1002) == nullptr);
    CHECK(t.refused == 1);
    Link permanent = fields(11);
    permanent.flags = nalias::kPermanent;
    CHECK(t.create(permanent, 0, 1002) != nullptr);  // redirects do not count
    CHECK(t.dynamic_count() == 10);
    // Once links are due, creation reclaims them instead of refusing.
    Link* l = t.create(fields(12), 5, 1006);
    REQUIRE(l != nullptr);
    CHECK(t.refused == 1);
    CHECK(t.dynamic_count() <= 10);
    CHECK(t.find_out(fields(12).out_key()) == l);
}
