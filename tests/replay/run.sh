#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# One alias-replay test; tests/replay/CMakeLists.txt names the mode and sets
# REPLAY, MAKE_SAMPLE, WORK, SAMPLE, EDITCAP and TSHARK.
#   run.sh sample-reproducible
#   run.sh default CHECK...                    replay the built-in sample, then CHECK
#   run.sh report                              the admin-facing text of the default run
#   run.sh linktype LT CHECK... -- NATOPTS...  the sample in link type LT
#   run.sh pcapng CHECK... -- NATOPTS...
#   run.sh natd-conf CHECK...                  the configuration from a natd.conf
#   run.sh fragments | deny-incoming
#   run.sh expect-exit CODE ARGS...            alias-replay ARGS must fail with CODE
#   run.sh garbage | unknown-linktype | truncated
set -eu
mode=$1
shift
tmp=$(mktemp -d "$WORK/$mode.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# Splits "CHECK... -- NATOPTS..." into $check (a string) and "$@" = NATOPTS.
split_check() {
    check=""
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do
        check="$check '$1'"
        shift
    done
    [ $# -gt 0 ] && shift
    nat_opts="$*"
}

expect_exit() {
    want=$1
    shift
    set +e
    "$REPLAY" "$@" >"$tmp/stdout" 2>"$tmp/stderr"
    got=$?
    set -e
    cat "$tmp/stderr"
    [ "$got" -eq "$want" ] || fail "alias-replay $* exited $got, expected $want"
    grep -q '^alias-replay: ' "$tmp/stderr" || fail "no error message on stderr"
}

case $mode in
sample-reproducible)
    "$MAKE_SAMPLE" "$tmp/regen.pcap"
    cmp "$SAMPLE" "$tmp/regen.pcap" || fail "tests/data/sample.pcap differs from what make_sample writes"
    ;;
default)
    "$REPLAY" -q -o "$tmp/out.pcap"
    eval "$* --input '$SAMPLE' --output '$tmp/out.pcap'"
    ;;
report)
    "$REPLAY" >"$tmp/report.txt"
    cat "$tmp/report.txt"
    frames=$("$TSHARK" -r "$SAMPLE" | wc -l)
    rows=$(grep -cE '^ +[0-9]+ +[0-9]+\.[0-9]{3}  (out|in |-  )' "$tmp/report.txt")
    [ "$rows" -eq "$frames" ] || fail "$rows table rows for $frames packets"
    grep -qE '192\.0\.2\.99:51000 > 203\.0\.113\.1:8080 +192\.0\.2\.99:51000 > 192\.168\.1\.10:80 +OK' "$tmp/report.txt" ||
        fail "the redirected connection's first packet is not shown reaching 192.168.1.10:80"
    grep -qE '^ +[0-9]+ +125\.000  in   UDP +198\.51\.100\.53:53 > 203\.0\.113\.1:41234 +\(unchanged\)' "$tmp/report.txt" ||
        fail "the DNS reply after the UDP link expired is not shown untranslated"
    # Every packet of the sample is one libalias accepts: OK out + OK in = all.
    ok=$(awk '$1 == "OK" && NF == 3 { print $2 + $3 }' "$tmp/report.txt")
    [ "$ok" = "$frames" ] || fail "summary counts ${ok:-no} OK packets of $frames"
    grep -qE '^ +ERROR +0 +0$' "$tmp/report.txt" || fail "summary should count no ERROR"
    grep -qE '^ +tcp +192\.168\.1\.10:80 +203\.0\.113\.1:8080 .* redirect' "$tmp/report.txt" ||
        fail "the link table does not list the port redirect"
    grep -qE '^ +esp +10\.0\.0\.12 +203\.0\.113\.1 +192\.0\.2\.50 .*out 0xc0de0001 in 0xbeef0001' "$tmp/report.txt" ||
        fail "the ESP SA pair of 10.0.0.12 is not among the IPsec bindings"
    ;;
linktype)
    lt=$1
    shift
    split_check "$@"
    "$MAKE_SAMPLE" --linktype "$lt" "$tmp/in.pcap"
    inside=""
    case $lt in sll | sll2) ;; *) inside="--inside 10.0.0.0/8 --inside 192.168.0.0/16" ;; esac
    # shellcheck disable=SC2086
    "$REPLAY" -q -r "$tmp/in.pcap" -o "$tmp/out.pcap" $inside $nat_opts >"$tmp/stdout"
    case $lt in
    sll | sll2) grep -q 'link-layer packet type' "$tmp/stdout" || fail "direction not taken from the $lt header" ;;
    esac
    eval "$check --input '$tmp/in.pcap' --output '$tmp/out.pcap'"
    ;;
pcapng)
    split_check "$@"
    "$EDITCAP" -F pcapng "$SAMPLE" "$tmp/in.pcapng"
    # shellcheck disable=SC2086
    "$REPLAY" -q "$tmp/in.pcapng" -o "$tmp/out.pcap" --inside 10.0.0.0/8 --inside 192.168.0.0/16 $nat_opts
    eval "$check --input '$tmp/in.pcapng' --output '$tmp/out.pcap'"
    ;;
natd-conf)
    # The configuration from a natd.conf, daemon-only options included.
    cat >"$tmp/natd.conf" <<'CONF'
# /etc/natd.conf as a FreeBSD gateway has it
interface em0
alias_address 203.0.113.1
same_ports yes
use_sockets yes
log_facility local3
redirect_port tcp 192.168.1.10:80 8080   # the web server
CONF
    "$REPLAY" -q -r "$SAMPLE" --inside 10.0.0.0/8 --inside 192.168.0.0/16 -f "$tmp/natd.conf" -s no \
        -o "$tmp/out.pcap" >"$tmp/stdout"
    cat "$tmp/stdout"
    grep -q 'note: -interface' "$tmp/stdout" || fail "the ignored natd option is not reported"
    grep -q 'redirect_port tcp 192.168.1.10:80 8080' "$tmp/stdout" || fail "the redirect from the file is not listed"
    grep -q 'mode .*use_sockets' "$tmp/stdout" && fail "-s no after -f did not win"
    eval "$* --input '$SAMPLE' --output '$tmp/out.pcap'"
    ;;
fragments)
    # A DNS answer in two fragments, the tail first: the tail is held, then
    # written after its first fragment, both addressed to the inside host.
    "$MAKE_SAMPLE" --fragments "$tmp/in.pcap"
    "$REPLAY" -r "$tmp/in.pcap" -o "$tmp/out.pcap" -q --inside 10.0.0.0/8 -a 203.0.113.1 >"$tmp/stdout"
    grep -q 'fragments held *1, released 1' "$tmp/stdout" || fail "summary does not show the held fragment"
    [ "$("$TSHARK" -r "$tmp/in.pcap" | wc -l)" -eq "$("$TSHARK" -r "$tmp/out.pcap" | wc -l)" ] || fail "packets lost"
    "$TSHARK" -r "$tmp/out.pcap" -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE -T fields \
        -e ip.dst -e ip.frag_offset -e ip.checksum.status -e udp.checksum.status -e dns.count.answers \
        -Y 'ip.flags.mf == 1 || ip.frag_offset > 0' >"$tmp/frags"
    cat "$tmp/frags"
    [ "$(wc -l <"$tmp/frags")" -eq 2 ] || fail "expected the two fragments"
    awk -F'\t' 'NR == 1 && $2 != 0 { exit 1 } $1 != "10.0.0.10" || $3 != 1 { exit 1 }' "$tmp/frags" ||
        fail "fragments not both delivered to 10.0.0.10 with valid headers, first fragment first"
    awk -F'\t' 'NR == 2 && !($4 == 1 && $5 == 100) { exit 1 }' "$tmp/frags" ||
        fail "the reassembled answer (100 records) is missing or its UDP checksum is not valid"
    ;;
deny-incoming)
    "$REPLAY" -q -d -o "$tmp/out.pcap" >"$tmp/stdout"
    cat "$tmp/stdout"
    in_frames=$("$TSHARK" -r "$SAMPLE" | wc -l)
    out_frames=$("$TSHARK" -r "$tmp/out.pcap" | wc -l)
    # The unsolicited SYN and the DNS reply after expiry have no link.
    [ "$out_frames" -eq $((in_frames - 2)) ] || fail "$out_frames frames written of $in_frames, expected 2 dropped"
    [ -z "$("$TSHARK" -r "$tmp/out.pcap" -Y 'tcp.dstport == 23')" ] || fail "unsolicited SYN was not dropped"
    [ -n "$("$TSHARK" -r "$tmp/out.pcap" -Y 'tcp.dstport == 80 && ip.dst == 192.168.1.10')" ] ||
        fail "deny_incoming must not block the redirected port"
    grep -q 'dropped  *2 ' "$tmp/stdout" || fail "summary does not report 2 dropped"
    ;;
expect-exit)
    expect_exit "$@"
    ;;
garbage)
    printf 'This is not a capture file, just text that happens to be long enough.\n' >"$tmp/garbage.pcap"
    expect_exit 2 -r "$tmp/garbage.pcap" -a 203.0.113.1
    ;;
unknown-linktype)
    "$EDITCAP" -T ieee-802-11 "$SAMPLE" "$tmp/wifi.pcap"
    expect_exit 2 -r "$tmp/wifi.pcap" -a 203.0.113.1
    grep -q 'link type' "$tmp/stderr" || fail "the message does not name the link type problem"
    ;;
truncated)
    head -c 3000 "$SAMPLE" >"$tmp/cut.pcap"
    expect_exit 2 -r "$tmp/cut.pcap" -a 203.0.113.1 -q
    grep -q '^Summary' "$tmp/stdout" || fail "no summary for the packets read before the damage"
    ;;
*)
    fail "unknown mode $mode"
    ;;
esac
