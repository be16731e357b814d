#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# Reruns everything docs/performance.md reports, in a few minutes:
#   bench/run_all.sh [build-dir] [output-dir]
# The build dir must be configured with -DCMAKE_BUILD_TYPE=RelWithDebInfo
# (-O2) or Release.  Results go to output-dir (default: ./bench-results).
set -eu
build=${1:-build}
out=${2:-bench-results}
bin=$build/bench/nalias_bench
mkdir -p "$out"

{ lscpu | grep -E 'Model name|^CPU\(s\)|Thread|L2|L3'; free -m | sed -n 2p; ${CXX:-c++} --version | head -1; uptime; } \
    > "$out/machine.txt"

# The Google Benchmark phases (TCP and UDP, 1k..1M flows) and the memory-latency reference.
"$bin" --benchmark_min_time=0.3 --benchmark_out="$out/phases.json" --benchmark_out_format=json \
    | tee "$out/phases.txt"

# Worst single-packet latency while growing to 1M flows and while 1M flows expire; bytes per link.
"$bin" --pauses 1000000 | tee "$out/pauses.txt"

# FreeBSD perf.c's four columns as the table grows to 1M flows.
"$bin" --perf-c 120 10000 10000 10000 1000000 | tee "$out/perf-c.txt"

# Instructions per established-flow packet: two runs that differ only in the
# number of hit packets; the difference divided by 100000 cancels setup.
if command -v valgrind >/dev/null; then
    for dir in out in; do
        fn=LibAliasOut
        [ "$dir" = in ] && fn=LibAliasIn
        for n in 100000 200000; do
            valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.$dir.$n" --toggle-collect=$fn \
                "$bin" --hit-loop udp "$dir" 1000 $n 2>&1 | grep Collected | sed "s/^/$dir $n /"
        done
    done | tee "$out/callgrind.txt"
fi
