#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# ABI check for the built libalias.so.7: its SONAME is libalias.so.7 and its
# exported (defined, dynamic) symbols are exactly tests/abi/expected-symbols.txt.
# Usage: check_symbols.sh <path to libalias.so.7> <expected-symbols.txt>
set -eu
lib=$1
expected=$2
status=0

soname=$(objdump -p "$lib" | awk '$1 == "SONAME" { print $2 }')
if [ "$soname" != "libalias.so.7" ]; then
    echo "SONAME is '$soname', expected libalias.so.7"
    status=1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nm -D --defined-only "$lib" | awk '{ print $NF }' | sort -u > "$tmp/actual"
grep -v '^#' "$expected" | grep -v '^$' | sort -u > "$tmp/expected"
if ! diff -u "$tmp/expected" "$tmp/actual" > "$tmp/diff"; then
    echo "exported symbols differ from $expected (- expected, + exported):"
    grep -E '^[-+][^-+]' "$tmp/diff" || true
    status=1
fi
# Nothing from the C++ runtime or the internals may leak (mangled names).
if grep -q '^_Z' "$tmp/actual"; then
    echo "C++ symbols are exported:"
    grep '^_Z' "$tmp/actual"
    status=1
fi
[ $status -eq 0 ] && echo "ABI ok: SONAME $soname, $(wc -l < "$tmp/actual") symbols"
exit $status
