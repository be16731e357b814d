#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Memory behaviour per packet, independent of machine load: runs the
# --hit-loop under callgrind's cache simulator (32 KiB L1d, 32 MiB
# last-level cache, 64-byte lines, as the benchmark machine) twice, for P and
# 2P packets, and prints the difference divided by P: instructions, L1d read
# misses and last-level read misses (DRAM accesses) per packet.  The setup
# (building the table) cancels out.  LL_BYTES overrides the last-level size
# (a VM whose neighbours hold most of the L3 behaves like a much smaller
# one; docs/performance.md).  Usage:
#   [LL_BYTES=n] bench/cache_sim.sh [build-dir] [flows] [udp|tcp] [out in miss]
set -euo pipefail
build=${1:-build}
flows=${2:-1000000}
proto=${3:-udp}
shift $(( $# < 3 ? $# : 3 ))
dirs=${*:-out in miss}
packets=100000
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for dir in $dirs; do
    fn=LibAliasIn
    [ "$dir" = out ] && fn=LibAliasOut
    for n in $packets $(( 2 * packets )); do
        valgrind --tool=callgrind --cache-sim=yes --D1=32768,8,64 --I1=32768,8,64 --LL="${LL_BYTES:-33554432},16,64" \
            --callgrind-out-file="$tmp/$n.out" --toggle-collect=$fn \
            "$build/bench/nalias_bench" --hit-loop "$proto" "$dir" "$flows" "$n" >/dev/null 2>&1
        # events: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw (trailing zeros may be omitted)
        sed -n 's/^totals: //p' "$tmp/$n.out" > "$tmp/$n.tot"
    done
    awk -v p=$packets -v label="$proto $dir $flows" '
        FNR == NR { for (i = 1; i <= NF; i++) a[i] = $i; next }
        { for (i = 1; i <= NF; i++) b[i] = $i }
        END { printf "%s: %.0f instructions, %.2f L1d read misses, %.2f LL read misses per packet\n",
                     label, (b[1] - a[1]) / p, (b[5] - a[5]) / p, (b[8] - a[8]) / p }' \
        "$tmp/$packets.tot" "$tmp/$(( 2 * packets )).tot"
done
