// SPDX-License-Identifier: BSD-2-Clause
//
// --pauses: worst single-packet latency where a hash table or an expiry
// scheme would stall: while the table grows to N flows (every rehash), and
// while N flows expire at once.  Each packet is timed on its own, in thread
// CPU time: the machine is shared, and wall time would report preemption by
// other processes as NAT pauses (the clock read, a system call of ~0.2 us,
// is included in each figure).  Also the memory a link costs: heap growth and
// resident-set growth per link at N flows, TCP and UDP.
//
// --hit-loop: a fixed loop of established-flow packets (or, with "miss", of
// the miss phase's unsolicited ones) with no timing, for
// instruction counts under callgrind.
#include "traffic.hpp"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

namespace bench {

namespace {

uint64_t nanos(clockid_t which = CLOCK_MONOTONIC) {
    timespec ts;
    clock_gettime(which, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}


struct Worst {
    static constexpr int kKept = 5;
    uint64_t total_ns = 0, packets = 0, over_100us = 0, over_1ms = 0;
    std::pair<uint64_t, uint64_t> top[kKept] = {};  // (ns, packet number), slowest first
    void add(uint64_t ns, uint64_t where) {
        total_ns += ns;
        ++packets;
        over_100us += ns > 100000;
        over_1ms += ns > 1000000;
        if (ns <= top[kKept - 1].first) return;
        int i = kKept - 1;
        for (; i > 0 && top[i - 1].first < ns; --i) top[i] = top[i - 1];
        top[i] = {ns, where};
    }
    void print(const char* what) const {
        std::printf("%-34s packets %9llu  mean %6.0f ns  >100us %llu  >1ms %llu\n", what,
                    static_cast<unsigned long long>(packets),
                    packets ? static_cast<double>(total_ns) / static_cast<double>(packets) : 0.0,
                    static_cast<unsigned long long>(over_100us), static_cast<unsigned long long>(over_1ms));
        std::printf("%-34s slowest:", "");
        for (const auto& [ns, at] : top) std::printf("  %.1f us (#%llu)", static_cast<double>(ns) / 1000.0, static_cast<unsigned long long>(at));
        std::printf("\n");
    }
};

// What one timing costs with nothing between the two clock reads.
uint64_t clock_overhead_ns() {
    uint64_t best = ~0ull;
    for (int i = 0; i < 1000; ++i) {
        const uint64_t t0 = nanos(CLOCK_THREAD_CPUTIME_ID);
        best = std::min(best, nanos(CLOCK_THREAD_CPUTIME_ID) - t0);
    }
    return best;
}

void pauses_for(uint8_t proto, std::size_t n) {
    const char* p = proto == IPPROTO_TCP ? "tcp" : "udp";
    ManualClock clock;
    const std::size_t heap0 = heap_in_use(), rss0 = rss_bytes();
    auto la = InstancePtr(make_instance(&clock));
    std::vector<uint16_t> aport(n);
    Wire w(proto);
    Worst grow;
    for (std::size_t i = 0; i < n; ++i) {
        w.out(i, 0x02);
        const uint64_t t0 = nanos(CLOCK_THREAD_CPUTIME_ID);
        LibAliasOut(la.get(), w.data(), Wire::size());
        grow.add(nanos(CLOCK_THREAD_CPUTIME_ID) - t0, i);
        aport[i] = w.sport();
    }
    const std::size_t heap1 = heap_in_use(), rss1 = rss_bytes();
    alias_stats st{};
    LibAliasGetStats(la.get(), &st);
    std::printf("%s: %zu flows, %u links; per link: heap %.1f B, RSS %.1f B (alias-port array of the bench excluded)\n",
                p, n, st.total, static_cast<double>(heap1 - heap0 - n * sizeof(uint16_t)) / static_cast<double>(n),
                static_cast<double>(rss1 - rss0 - n * sizeof(uint16_t)) / static_cast<double>(n));
    grow.print((std::string(p) + " growth 0 -> N (rehashes)").c_str());

    // Every flow goes idle at the same second, and the clock moves past the
    // timeout plus the expiry wheel's lateness bound (a bucket is swept once
    // its whole width has passed: 5 s buckets for TCP's 300 s, 1 s for UDP's
    // 60 s; lib/link_table.hpp), so that every link is due; then traffic
    // resumes with new flows, and each packet pays its share of the expiry.
    // With a clock advanced by the timeout alone, links in the bucket of the
    // present tick would wait for the clock, which this loop never moves.
    clock.now += proto == IPPROTO_TCP ? 300 + 5 : 60 + 1;
    Worst expiry;
    uint64_t next = n;
    const uint64_t t_start = nanos(CLOCK_THREAD_CPUTIME_ID);
    while (true) {
        w.out(next, 0x02);
        const uint64_t t0 = nanos(CLOCK_THREAD_CPUTIME_ID);
        LibAliasOut(la.get(), w.data(), Wire::size());
        expiry.add(nanos(CLOCK_THREAD_CPUTIME_ID) - t0, next - n);
        ++next;
        if ((next & 1023) == 0) {
            LibAliasGetStats(la.get(), &st);
            if (st.expired >= n) break;
        }
    }
    const double drain_ms = static_cast<double>(nanos(CLOCK_THREAD_CPUTIME_ID) - t_start) / 1e6;
    expiry.print((std::string(p) + " mass expiry of N").c_str());
    std::printf("%-34s all %zu expired within %llu new-flow packets, %.1f ms CPU\n", "", n,
                static_cast<unsigned long long>(next - n), drain_ms);

    const uint64_t t0 = nanos(CLOCK_THREAD_CPUTIME_ID);
    la.reset();
    std::printf("%-34s LibAliasUninit with %llu links: %.1f ms CPU\n\n", "", static_cast<unsigned long long>(next - n),
                static_cast<double>(nanos(CLOCK_THREAD_CPUTIME_ID) - t0) / 1e6);
}

}  // namespace

int run_pauses(int argc, char** argv) {
    const std::size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
    std::printf("thread CPU clock: one empty timing costs %llu ns (included in every figure below)\n\n",
                static_cast<unsigned long long>(clock_overhead_ns()));
    pauses_for(IPPROTO_UDP, n);
    pauses_for(IPPROTO_TCP, n);
    return 0;
}

int run_hit_loop(int argc, char** argv) {
    if (argc < 5) {
        std::fprintf(stderr, "usage: nalias_bench --hit-loop tcp|udp out|in|miss flows packets\n");
        return 1;
    }
    const uint8_t proto = std::strcmp(argv[1], "tcp") == 0 ? IPPROTO_TCP : IPPROTO_UDP;
    const bool out = std::strcmp(argv[2], "out") == 0;
    // "miss": the miss phase's unsolicited inbound packets (nothing found).
    const bool miss = std::strcmp(argv[2], "miss") == 0;
    Rng rng(7);
    const std::size_t n = std::strtoull(argv[3], nullptr, 10);
    const uint64_t packets = std::strtoull(argv[4], nullptr, 10);
    if (n == 0) return 1;
    ManualClock clock;
    Table t(proto, n, &clock);
    const std::vector<uint32_t> order = shuffled(n, 42);
    const std::vector<uint16_t> order_port = t.ports_in(order);
    Wire w(proto);
    uint64_t not_ok = 0;
    for (uint64_t k = 0; k < packets; ++k) {
        const uint32_t i = order[k % n];
        if (miss) {
            const uint64_t r = rng.next();
            w.set(htonl(0x0d000000u | static_cast<uint32_t>(r & 0xffffff)), kAlias.s_addr,
                  static_cast<uint16_t>(r >> 32), static_cast<uint16_t>(r >> 48), 0x02);
            not_ok += LibAliasIn(t.la.get(), w.data(), Wire::size()) != PKT_ALIAS_OK || w.dst() != kAlias.s_addr;
        } else if (out) {
            w.out(i);
            not_ok += LibAliasOut(t.la.get(), w.data(), Wire::size()) != PKT_ALIAS_OK;
        } else {
            w.in(i, order_port[k % n]);
            not_ok += LibAliasIn(t.la.get(), w.data(), Wire::size()) != PKT_ALIAS_OK;
        }
    }
    std::printf("%llu packets, %llu not translated\n", static_cast<unsigned long long>(packets),
                static_cast<unsigned long long>(not_ok));
    return not_ok == 0 ? 0 : 2;
}

}  // namespace bench
