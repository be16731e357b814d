// SPDX-License-Identifier: BSD-2-Clause
//
// nalias_bench: the Google Benchmark phases (default), or one of the modes
//   --perf-c [max_seconds batch random attack max_links]
//            the four columns of FreeBSD's tests/sys/netinet/libalias/perf.c
//   --pauses [flows]
//            worst single-packet latency while the table grows (rehash) and
//            while a full table expires; heap and RSS bytes per link
//   --hit-loop tcp|udp out|in|miss flows packets
//            a fixed, deterministic loop of established-flow packets, for
//            `valgrind --tool=callgrind --toggle-collect=LibAliasOut`
#include "traffic.hpp"

#include <benchmark/benchmark.h>

#include <cstring>

namespace bench {
void register_phases();
}

int main(int argc, char** argv) {
    if (argc > 1 && std::strcmp(argv[1], "--perf-c") == 0) return bench::run_perf_shape(argc - 1, argv + 1);
    if (argc > 1 && std::strcmp(argv[1], "--pauses") == 0) return bench::run_pauses(argc - 1, argv + 1);
    if (argc > 1 && std::strcmp(argv[1], "--hit-loop") == 0) return bench::run_hit_loop(argc - 1, argv + 1);
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    bench::register_phases();
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
