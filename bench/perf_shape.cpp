// SPDX-License-Identifier: BSD-2-Clause
//
// --perf-c: the shape of FreeBSD's tests/sys/netinet/libalias/perf.c, so its
// output and ours can be read side by side.  Each round:
//   NAT  a batch of new outbound UDP flows (random inside host, remote and
//        ports, as perf.c draws them), so the table grows by a batch a round
//   RND  random unsolicited inbound packets (dropped: DENY_INCOMING)
//   ATT  one unsolicited packet repeated
//   UNA  the replies of this round's batch, in random order (established
//        flows, inbound), checked byte for byte
// Columns are nanoseconds per packet (perf.c's divide microseconds, so its
// small figures are coarse), in thread CPU time, because the machines we
// share run other work and wall time would count it.  Timing is per phase
// here; perf.c reads the clock after every packet, which adds that call
// (and gettimeofday's cost) to its figures.
#include "traffic.hpp"

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace bench {

namespace {

double seconds_now(clockid_t which = CLOCK_THREAD_CPUTIME_ID) {
    timespec ts;
    clock_gettime(which, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Tally {
    unsigned long ok = 0, fail = 0;
};

struct PerfFlow {
    uint32_t src, dst;          // network order
    uint16_t sport, dport, aport;  // host order
};

}  // namespace

int run_perf_shape(int argc, char** argv) {
    long max_seconds = 30, batch_size = 10000, random_size = 10000, attack_length = 10000, max_links = 1000000;
    long* const params[] = {&max_seconds, &batch_size, &random_size, &attack_length, &max_links};
    for (int i = 1; i < argc && i <= 5; ++i) *params[i - 1] = std::strtol(argv[i], nullptr, 10);
    if (max_seconds <= 0 || batch_size <= 0 || random_size <= 0 || attack_length <= 0 || max_links <= 0) {
        std::fprintf(stderr, "usage: nalias_bench --perf-c [max_seconds batch_size random_size attack_length max_links]\n");
        return 1;
    }
    // perf.c's setup: library defaults plus DENY_INCOMING, alias 1.2.3.4,
    // inside 10.0/16, remotes 18.0/16.
    libalias* la = LibAliasInit(nullptr);
    const uint32_t masq = htonl(0x01020304u), prv = htonl(0x0a000000u), ext = htonl(0x12000000u);
    LibAliasSetAddress(la, in_addr{masq});
    LibAliasSetMode(la, PKT_ALIAS_DENY_INCOMING, PKT_ALIAS_DENY_INCOMING);

    Rng rng(2021);
    auto range = [&](uint32_t lo, uint32_t hi) { return lo + rng.below(hi - lo + 1); };
    std::vector<PerfFlow> batch(static_cast<std::size_t>(batch_size));
    Wire w(IPPROTO_UDP);
    Tally nat, unnat, random, attack;
    const double start_all = seconds_now(CLOCK_MONOTONIC);
    std::printf("RND SEC   NAT   RND   ATT   UNA     LINKS   (ns/packet)\n");
    int round = 0;
    for (;; ++round) {
        const double elapsed = seconds_now(CLOCK_MONOTONIC) - start_all;
        if (elapsed >= static_cast<double>(max_seconds)) break;
        const double t0 = seconds_now();
        for (auto& f : batch) {
            f = {prv | htonl(range(0, 0xffff)), ext | htonl(range(0, 0xffff)), static_cast<uint16_t>(range(1000, 60000)),
                 static_cast<uint16_t>(range(1000, 60000)), 0};
            w.set(f.src, f.dst, f.sport, f.dport);
            const int r = LibAliasOut(la, w.data(), Wire::size());
            f.aport = w.sport();
            if (r == PKT_ALIAS_OK && w.src() == masq && w.dst() == f.dst && w.dport() == f.dport)
                ++nat.ok;
            else
                ++nat.fail;
        }
        const double t1 = seconds_now();
        for (long i = 0; i < random_size; ++i) {
            w.set(ext | htonl(range(0, 0xffff)), masq, static_cast<uint16_t>(range(1, 0xffff)),
                  static_cast<uint16_t>(range(1, 0xffff)));
            (LibAliasIn(la, w.data(), Wire::size()) == PKT_ALIAS_OK ? random.ok : random.fail)++;
        }
        const double t2 = seconds_now();
        const uint32_t att_src = ext | htonl(range(0, 0xffff));
        const uint16_t att_sport = static_cast<uint16_t>(range(1, 0xffff)), att_dport = static_cast<uint16_t>(range(1, 0xffff));
        for (long i = 0; i < attack_length; ++i) {
            w.set(att_src, masq, att_sport, att_dport);
            (LibAliasIn(la, w.data(), Wire::size()) == PKT_ALIAS_OK ? attack.ok : attack.fail)++;
        }
        const double t3 = seconds_now();
        for (std::size_t i = batch.size(); i > 1; --i) std::swap(batch[i - 1], batch[rng.below(static_cast<uint32_t>(i))]);
        const double t4 = seconds_now();
        for (const auto& f : batch) {
            w.set(f.dst, masq, f.dport, f.aport);
            const int r = LibAliasIn(la, w.data(), Wire::size());
            if (r == PKT_ALIAS_OK && w.src() == f.dst && w.dst() == f.src && w.sport() == f.dport && w.dport() == f.sport)
                ++unnat.ok;
            else
                ++unnat.fail;
        }
        const double t5 = seconds_now();
        alias_stats st{};
        LibAliasGetStats(la, &st);
        std::printf("%3d %3d %5.0f %5.0f %5.0f %5.0f %9u\n", round + 1, static_cast<int>(elapsed),
                    (t1 - t0) * 1e9 / static_cast<double>(batch_size), (t2 - t1) * 1e9 / static_cast<double>(random_size),
                    (t3 - t2) * 1e9 / static_cast<double>(attack_length), (t5 - t4) * 1e9 / static_cast<double>(batch_size),
                    st.total);
        std::fflush(stdout);
        if (static_cast<long>(st.total) >= max_links) {
            ++round;
            break;
        }
    }
    LibAliasUninit(la);
    std::printf("\nResults\n   Rounds  : %7d\n", round);
    std::printf("   NAT ok  : %7lu\n   NAT fail: %7lu\n", nat.ok, nat.fail);
    std::printf(" UNNAT ok  : %7lu\n UNNAT fail: %7lu\n", unnat.ok, unnat.fail);
    std::printf("RANDOM ok  : %7lu\nRANDOM fail: %7lu\n", random.ok, random.fail);
    std::printf("ATTACK ok  : %7lu\nATTACK fail: %7lu\n", attack.ok, attack.fail);
    return nat.fail == 0 && unnat.fail == 0 ? 0 : 2;
}

}  // namespace bench
