// SPDX-License-Identifier: BSD-2-Clause
//
// The Google Benchmark phases, one packet per iteration, for TCP and UDP at
// 1k, 10k, 100k and 1M flows, plus the memory-latency reference.
//
//   new      link creation: a table of N flows gains N/4 more (rebuilt
//            between rounds, outside the timing), so the figure is the cost
//            of a new flow at size N, rehash growth included
//   hit_out  established flows, outbound, in random order
//   hit_in   established flows, inbound, in random order
//   hit_out_serial, hit_in_serial  the same, but each packet's flow is
//            chosen from the previous packet's rewritten bytes, so no two
//            packets' memory reads overlap: one packet's latency
//   miss     unsolicited inbound from random remotes: nothing found; the
//            heap_calls counter shows that nothing is allocated
//   attack   one unsolicited packet again and again
//   churn    new flows only, on a table held at about N flows by expiry:
//            link creation at a stable size (no index growth), the
//            sweep's erasures included
//   steady   7 hits (out and in, on recent flows) for every new flow, on a
//            manual clock that advances so that flows expire at the rate
//            they are created (about 1.1 N alive); housekeeping is paid
//            inside the timed packets
//   memory_latency_{4k,huge}_pages  one dependent random load over a buffer
//            as large as the table (N * 96 bytes): the cost of one cache and
//            TLB miss at size N, with 4 KiB pages and with huge pages
//   memory_latency_chained_index  a bucket among N, then its chain of
//            64-byte lines up to a target, every read dependent (1.5 lines
//            per step at load 1): the memory floor of one hit in a chained
//            hash index of N links
//   memory_latency_by_size  the same over 1 to 64 MiB: the cache this
//            process actually gets
//   page_first_touch_4k  the first write to a fresh 4 KiB page: the
//            kernel's fault, zeroing and mapping, which `new` pays
//            page_faults_per_flow times per flow (growth into fresh memory)
//
// Tables for the hit/miss phases are built once per (protocol, size) and
// shared by those phases, which are registered in that order; they run on
// the real clock, and every phase counts packets that did not translate
// (not_ok), which stays 0 unless flows expired under it.
#include "traffic.hpp"

#include <benchmark/benchmark.h>

#include <sys/mman.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <new>
#include <string>

namespace bench {

namespace {

constexpr std::size_t kSizes[] = {1000, 10000, 100000, 1000000};
constexpr std::size_t kMemoryLatencyBytesPerFlow = 96;
constexpr std::size_t kCacheProbeMiB[] = {1, 2, 3, 4, 6, 8, 16, 32, 64};

const char* proto_name(uint8_t p) { return p == IPPROTO_TCP ? "tcp" : "udp"; }

std::string size_name(std::size_t n) {
    if (n >= 1000000) return std::to_string(n / 1000000) + "M";
    if (n >= 1000) return std::to_string(n / 1000) + "k";
    return std::to_string(n);
}

// The table the hit/miss/attack phases of one (protocol, size) share;
// order_port[k] is the alias port of flow order[k] (Table::ports_in).
struct SharedTable {
    std::unique_ptr<Table> table;
    std::vector<uint32_t> order;
    std::vector<uint16_t> order_port;
};

SharedTable& shared_table(uint8_t proto, std::size_t n) {
    static SharedTable cache;
    if (!cache.table || cache.table->proto != proto || cache.table->size() != n) {
        cache.table.reset();
        cache.table = std::make_unique<Table>(proto, n);
        cache.order = shuffled(n, 42);
        cache.order_port = cache.table->ports_in(cache.order);
    }
    return cache;
}

// Minor page faults of the calling thread so far.
uint64_t minor_faults() {
    rusage ru{};
    getrusage(RUSAGE_THREAD, &ru);
    return static_cast<uint64_t>(ru.ru_minflt);
}

void finish(benchmark::State& st, uint64_t not_ok) {
    st.SetItemsProcessed(static_cast<int64_t>(st.iterations()));
    st.counters["not_ok"] = static_cast<double>(not_ok);
}

// Serial phases (kSerial): the next packet's flow is chosen from this
// packet's rewritten bytes (a difference that is zero when the translation
// is right), so the CPU cannot start the next lookup before this one's
// memory reads have returned.  Without it the loop is short enough for an
// out-of-order core to overlap the DRAM reads of consecutive packets; a NAT
// that handles one packet per call with a system call in between (natd)
// never gets that overlap.  The serial phases give the latency one packet
// sees, the figure to compare with the dependent pointer chase.
// The step: 1 when the packet was right, 2 when it was not (counted).  It
// must stay arithmetic (GCC 12 emits setne and cmov here): a branch on it
// would be predicted, and the CPU would run ahead on the guess.
inline void serial_advance(std::size_t& k, std::size_t n, uint32_t wrong, uint64_t& not_ok) noexcept {
    not_ok += wrong != 0;
    k += 1 + static_cast<std::size_t>(wrong != 0);
    if (k >= n) k -= n;
}

template <bool kSerial>
void bm_hit_out(benchmark::State& st, uint8_t proto, std::size_t n) {
    SharedTable& s = shared_table(proto, n);
    libalias* la = s.table->la.get();
    Wire w(proto);
    uint64_t not_ok = 0;
    std::size_t k = 0;
    for (auto _ : st) {
        const uint32_t i = s.order[k];
        w.out(i);
        const int r = LibAliasOut(la, w.data(), Wire::size());
        if constexpr (kSerial) {
            // The alias port comes from the link the lookup found.
            const uint32_t wrong =
                static_cast<uint32_t>(w.sport() ^ s.order_port[k]) | static_cast<uint32_t>(r != PKT_ALIAS_OK);
            serial_advance(k, n, wrong, not_ok);
        } else {
            not_ok += r != PKT_ALIAS_OK;
            if (++k == n) k = 0;
        }
    }
    finish(st, not_ok + s.table->failed);
    st.counters["rss_bytes_per_link"] = s.table->rss_bytes_per_link;
}

template <bool kSerial>
void bm_hit_in(benchmark::State& st, uint8_t proto, std::size_t n) {
    SharedTable& s = shared_table(proto, n);
    libalias* la = s.table->la.get();
    Wire w(proto);
    uint64_t not_ok = 0;
    std::size_t k = 0;
    for (auto _ : st) {
        const uint32_t i = s.order[k];
        w.in(i, s.order_port[k]);
        const int r = LibAliasIn(la, w.data(), Wire::size());
        if constexpr (kSerial) {
            // The inside address and port come from the link the lookup found.
            const Flow f = flow(i);
            const uint32_t wrong = (w.dst() ^ f.inside) | static_cast<uint32_t>(w.dport() ^ f.sport) |
                                   static_cast<uint32_t>(r != PKT_ALIAS_OK);
            serial_advance(k, n, wrong, not_ok);
        } else {
            // A translated reply goes to the flow's inside host.
            not_ok += r != PKT_ALIAS_OK || w.dst() == kAlias.s_addr;
            if (++k == n) k = 0;
        }
    }
    finish(st, not_ok);
}

// Unsolicited inbound: remotes in 13.0.0.0/8, which no flow uses.
void bm_miss(benchmark::State& st, uint8_t proto, std::size_t n) {
    SharedTable& s = shared_table(proto, n);
    libalias* la = s.table->la.get();
    Wire w(proto);
    Rng rng(7);
    uint64_t translated = 0;
    const uint64_t heap_before = heap_calls();
    for (auto _ : st) {
        const uint64_t r = rng.next();
        w.set(htonl(0x0d000000u | static_cast<uint32_t>(r & 0xffffff)), kAlias.s_addr,
              static_cast<uint16_t>(r >> 32), static_cast<uint16_t>(r >> 48), 0x02);
        LibAliasIn(la, w.data(), Wire::size());
        translated += w.dst() != kAlias.s_addr;
    }
    const uint64_t heap = heap_calls() - heap_before;
    finish(st, translated);
    st.counters["heap_calls"] = static_cast<double>(heap);
    alias_stats stats{};
    LibAliasGetStats(la, &stats);
    st.counters["links"] = stats.total;
}

void bm_attack(benchmark::State& st, uint8_t proto, std::size_t n) {
    SharedTable& s = shared_table(proto, n);
    libalias* la = s.table->la.get();
    Wire w(proto);
    const uint32_t attacker = htonl(0x0d010203u);
    uint64_t translated = 0;
    const uint64_t heap_before = heap_calls();
    for (auto _ : st) {
        w.set(attacker, kAlias.s_addr, 31337, 40000, 0x02);
        LibAliasIn(la, w.data(), Wire::size());
        translated += w.dst() != kAlias.s_addr;
    }
    // Read before finish(), whose counter inserts allocate.
    const uint64_t heap = heap_calls() - heap_before;
    finish(st, translated);
    st.counters["heap_calls"] = static_cast<double>(heap);
}

void bm_new(benchmark::State& st, uint8_t proto, std::size_t n) {
    const std::size_t batch = std::max<std::size_t>(n / 4, 256);
    std::unique_ptr<Table> t;
    Wire w(proto);
    uint64_t next = 0, not_ok = 0;
    std::size_t k = batch;
    uint64_t faults = 0, faults_at_resume = 0;
    for (auto _ : st) {
        if (k == batch) {
            st.PauseTiming();
            if (t) faults += minor_faults() - faults_at_resume;
            t.reset();
            t = std::make_unique<Table>(proto, n);
            next = n;
            k = 0;
            faults_at_resume = minor_faults();
            st.ResumeTiming();
        }
        w.out(next++, 0x02);
        not_ok += LibAliasOut(t->la.get(), w.data(), Wire::size()) != PKT_ALIAS_OK;
        ++k;
    }
    faults += minor_faults() - faults_at_resume;
    finish(st, not_ok);
    // First touches of pages while timing: the pool's new slots and the
    // bucket arrays' new pages, each a trap into the kernel.
    st.counters["page_faults_per_flow"] =
        benchmark::Counter(static_cast<double>(faults), benchmark::Counter::kAvgIterations);
}

// Timeout of the links the expiry phases open: a SYN-only TCP link, a UDP link (libalias).
uint32_t new_link_timeout(uint8_t proto) { return proto == IPPROTO_TCP ? 300 : 60; }

// The timed part of the expiry phases, on an instance already warmed up:
// one_packet() per iteration, then the links alive at the end and how many
// were created and expired while timing.
template <class OnePacket>
void time_with_expiry(benchmark::State& st, libalias* la, OnePacket& one_packet, uint64_t& not_ok) {
    not_ok = 0;
    alias_stats before{};
    LibAliasGetStats(la, &before);
    for (auto _ : st) one_packet();
    alias_stats after{};
    LibAliasGetStats(la, &after);
    finish(st, not_ok);
    st.counters["links"] = after.total;
    st.counters["expired"] = static_cast<double>(after.expired - before.expired);
    st.counters["created"] = static_cast<double>(after.created - before.created);
}

// Steady state: flows are created at N / timeout per simulated second, so
// about N are alive and as many expire as are created.
void bm_steady(benchmark::State& st, uint8_t proto, std::size_t n) {
    ManualClock clock;
    auto la = InstancePtr(make_instance(&clock));
    const uint32_t timeout = new_link_timeout(proto);
    const uint64_t packets_per_second = std::max<uint64_t>(8 * n / timeout, 8);
    // Hits go to the newest n/8 flows: each flow is used for timeout/8
    // seconds, then idles out, so about 1.125 n are alive.
    const uint64_t hit_window = std::max<uint64_t>(n / 8, 1);
    std::vector<uint16_t> ring(n);  // alias port of flow j at j % n
    Wire w(proto);
    Rng rng(11);
    uint64_t next = 0, sent = 0, not_ok = 0;
    auto one_packet = [&] {
        const unsigned kind = sent & 7;
        if (kind == 0 || next < 16) {
            w.out(next, 0x02);
            not_ok += LibAliasOut(la.get(), w.data(), Wire::size()) != PKT_ALIAS_OK;
            ring[next % n] = w.sport();
            ++next;
        } else {
            const uint64_t window = std::min<uint64_t>(next, hit_window);
            const uint64_t j = next - 1 - rng.below(static_cast<uint32_t>(window));
            if (kind & 1) {
                w.out(j);
                not_ok += LibAliasOut(la.get(), w.data(), Wire::size()) != PKT_ALIAS_OK;
            } else {
                w.in(j, ring[j % n]);
                not_ok += LibAliasIn(la.get(), w.data(), Wire::size()) != PKT_ALIAS_OK;
            }
        }
        if (++sent % packets_per_second == 0) ++clock.now;
    };
    // Warm up until the first flows have idled out, so expiry runs at the
    // rate of creation from the first timed packet.
    while (sent < packets_per_second * (timeout + timeout / 8 + 2)) one_packet();
    time_with_expiry(st, la.get(), one_packet, not_ok);
}

// Churn: every packet is a new flow, on a table held at about N flows by
// expiry (flows are created at N / timeout per simulated second and never
// used again).  The cost of creating a link at a stable size: no index
// growth, but the sweep's erasures are paid inside the timed packets, and
// new links reuse the slots of expired ones.
void bm_churn(benchmark::State& st, uint8_t proto, std::size_t n) {
    ManualClock clock;
    auto la = InstancePtr(make_instance(&clock));
    const uint32_t timeout = new_link_timeout(proto);
    const uint64_t packets_per_second = std::max<uint64_t>(n / timeout, 1);
    Wire w(proto);
    uint64_t next = 0, not_ok = 0;
    auto one_packet = [&] {
        w.out(next, 0x02);
        not_ok += LibAliasOut(la.get(), w.data(), Wire::size()) != PKT_ALIAS_OK;
        if (++next % packets_per_second == 0) ++clock.now;
    };
    // Warm up past the first expiries, so the table is at its working size.
    while (next < packets_per_second * (timeout + 2)) one_packet();
    time_with_expiry(st, la.get(), one_packet, not_ok);
}

// An anonymous mapping for a benchmark buffer, with or without transparent
// huge pages (madvise), so each figure says which page size it paid for.
void* map_anonymous(std::size_t bytes, bool huge) {
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    madvise(p, bytes, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
    return p;
}

// The lines are linked in one random cycle, so each load depends on the
// previous one and the prefetcher cannot guess the next.  Two page sizes:
// the table does not ask for transparent huge pages (lib/link_table.hpp), so
// the 4 KiB chase is its reference; the huge-page one shows what the TLB
// adds, and is what a table gets where THP is enabled=always.
struct alignas(64) Line {
    Line* next;
    char pad[56];
};

struct ChaseBuffer {
    Line* lines = nullptr;
    std::size_t count = 0, bytes = 0;
    ChaseBuffer(std::size_t n, bool huge) {
        count = std::max<std::size_t>(n, 2);
        const std::size_t page = std::size_t{2} << 20;
        bytes = (count * sizeof(Line) + page - 1) / page * page;
        lines = static_cast<Line*>(map_anonymous(bytes, huge));
        const std::vector<uint32_t> perm = shuffled(count, 3);
        for (std::size_t i = 0; i < count; ++i) lines[perm[i]].next = &lines[perm[(i + 1) % count]];
    }
    ~ChaseBuffer() { munmap(lines, bytes); }
};

void bm_memory_latency(benchmark::State& st, std::size_t bytes, bool huge) {
    ChaseBuffer buf(bytes / sizeof(Line), huge);
    Line* p = buf.lines;
    for (auto _ : st) {
        p = p->next;
        benchmark::DoNotOptimize(p);
    }
    st.SetItemsProcessed(static_cast<int64_t>(st.iterations()));
    st.counters["buffer_MiB"] = static_cast<double>(buf.count * sizeof(Line)) / (1 << 20);
}

// The memory floor of one established-flow hit in a chained hash index such
// as the table's, as a pointer chase.  N 64-byte lines (the links) hang in
// chains from N 8-byte buckets (load 1; each line's bucket drawn at random,
// so chain lengths are Poisson, as a keyed hash makes them).  Each step reads
// the bucket of the next target, then walks its chain line by line until it
// reaches the target, whose contents name the next target and its bucket.
// Every read depends on the one before, as in a hit: a successful search at
// load 1 reads 1.5 lines on average, plus the bucket.  4 KiB pages, as the
// table's.  A `*_serial` hit is this walk plus its instructions (its 1k
// figure), so the gap between the two is what the table's code adds to the
// floor of its own design.
struct alignas(64) ChainLine {
    const ChainLine* next_in_chain;
    uint32_t next_target, next_bucket;
    char pad[48];
};

void bm_memory_latency_chained_index(benchmark::State& st, std::size_t n) {
    const std::size_t count = std::max<std::size_t>(n, 2);
    const std::size_t bucket_bytes = count * sizeof(ChainLine*), line_bytes = count * sizeof(ChainLine);
    auto* buckets = static_cast<const ChainLine**>(map_anonymous(bucket_bytes, false));  // zero: empty chains
    auto* lines = static_cast<ChainLine*>(map_anonymous(line_bytes, false));
    std::vector<uint32_t> bucket_of(count);
    Rng rng(9);
    for (std::size_t j = 0; j < count; ++j) {
        bucket_of[j] = rng.below(static_cast<uint32_t>(count));
        lines[j].next_in_chain = buckets[bucket_of[j]];
        buckets[bucket_of[j]] = &lines[j];
    }
    const std::vector<uint32_t> order = shuffled(count, 3);  // one random cycle through the lines
    for (std::size_t i = 0; i < count; ++i) {
        const uint32_t target = order[(i + 1) % count];
        lines[order[i]].next_target = target;
        lines[order[i]].next_bucket = bucket_of[target];
    }
    std::size_t lines_read = 0;
    const ChainLine* at = &lines[order[0]];
    for (auto _ : st) {
        const ChainLine* want = &lines[at->next_target];
        const ChainLine* p = buckets[at->next_bucket];
        for (;;) {
            ++lines_read;
            if (p == want) break;
            p = p->next_in_chain;
        }
        at = p;
        benchmark::DoNotOptimize(at);
    }
    munmap(buckets, bucket_bytes);
    munmap(lines, line_bytes);
    st.SetItemsProcessed(static_cast<int64_t>(st.iterations()));
    st.counters["lines_per_step"] =
        benchmark::Counter(static_cast<double>(lines_read), benchmark::Counter::kAvgIterations);
}

// The kernel's price for a page the process touches for the first time
// (trap, zeroing, mapping): what a table that grows into fresh memory pays
// per page, beside the new phase's page_faults_per_flow.
void bm_page_first_touch(benchmark::State& st) {
    constexpr std::size_t kPage = 4096, kSpan = std::size_t{64} << 20;
    unsigned char* base = nullptr;
    std::size_t next = kSpan;
    for (auto _ : st) {
        if (next == kSpan) {
            st.PauseTiming();
            if (base) munmap(base, kSpan);
            base = static_cast<unsigned char*>(map_anonymous(kSpan, false));
            next = 0;
            st.ResumeTiming();
        }
        base[next] = 1;
        benchmark::ClobberMemory();
        next += kPage;
    }
    if (base) munmap(base, kSpan);
    st.SetItemsProcessed(static_cast<int64_t>(st.iterations()));
}

}  // namespace

void register_phases() {
    using benchmark::RegisterBenchmark;
    for (std::size_t n : kSizes) {
        const std::string sz = size_name(n);
        RegisterBenchmark(("memory_latency_4k_pages/" + sz).c_str(), bm_memory_latency, n * kMemoryLatencyBytesPerFlow,
                          false);
        RegisterBenchmark(("memory_latency_huge_pages/" + sz).c_str(), bm_memory_latency,
                          n * kMemoryLatencyBytesPerFlow, true);
        RegisterBenchmark(("memory_latency_chained_index/" + sz).c_str(), bm_memory_latency_chained_index, n);
        for (uint8_t proto : {uint8_t{IPPROTO_TCP}, uint8_t{IPPROTO_UDP}}) {
            const std::string p = proto_name(proto);
            const std::size_t batch = std::max<std::size_t>(n / 4, 256);
            const std::size_t rounds = std::max<std::size_t>(1, std::min<std::size_t>(400, 200000 / batch));
            RegisterBenchmark((p + "/new/" + sz).c_str(), bm_new, proto, n)
                ->Iterations(static_cast<benchmark::IterationCount>(batch * rounds));
            RegisterBenchmark((p + "/hit_out/" + sz).c_str(), bm_hit_out<false>, proto, n);
            RegisterBenchmark((p + "/hit_in/" + sz).c_str(), bm_hit_in<false>, proto, n);
            RegisterBenchmark((p + "/hit_out_serial/" + sz).c_str(), bm_hit_out<true>, proto, n);
            RegisterBenchmark((p + "/hit_in_serial/" + sz).c_str(), bm_hit_in<true>, proto, n);
            RegisterBenchmark((p + "/miss/" + sz).c_str(), bm_miss, proto, n);
            RegisterBenchmark((p + "/attack/" + sz).c_str(), bm_attack, proto, n);
            RegisterBenchmark((p + "/steady/" + sz).c_str(), bm_steady, proto, n)->Iterations(2000000);
            RegisterBenchmark((p + "/churn/" + sz).c_str(), bm_churn, proto, n)->Iterations(500000);
        }
    }
    // How much cache this process really gets: on a shared host the last
    // level a benchmark can use may be far below the size the CPU reports,
    // and the step in this curve is where table sizes start paying DRAM.
    for (std::size_t mib : kCacheProbeMiB)
        RegisterBenchmark(("memory_latency_by_size/" + std::to_string(mib) + "MiB").c_str(), bm_memory_latency,
                          mib << 20, true);
    RegisterBenchmark("page_first_touch_4k", bm_page_first_touch)->Iterations(16 * 16384);
}

}  // namespace bench
