#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# End-to-end test of nalias on Linux the way natd runs: three network
# namespaces and real traffic through a NAT box whose translation is done by
# mini_natd (divert sockets emulated on NFQUEUE by libnalias-divert).
#
#   inside host  10.0.0.2, 10.0.0.3 --veth-- 10.0.0.1 NAT box 203.0.113.1 --veth-- 203.0.113.2 outside host
#
# The outside host has no route to 10.0.0.0/24, and counts with iptables every
# packet it receives from there: any leak of an untranslated address fails.
# Usage: run_e2e.sh /path/to/mini_natd      (as root; exit 77 = skipped)
set -u

MINI_NATD=${1:?usage: run_e2e.sh /path/to/mini_natd}
HERE=$(cd "$(dirname "$0")" && pwd)
TOOL="$HERE/e2e_tool.py"
PY=$(command -v /usr/bin/python3 || command -v python3)

IN_ADDR=10.0.0.2
IN_ADDR2=10.0.0.3
BOX_IN=10.0.0.1
ALIAS=203.0.113.1
ALIAS2=203.0.113.7
OUT_ADDR=203.0.113.2
OUT_ADDR2=203.0.113.3
DIVERT_PORT=8668
# Every wait is bounded; a step that needs longer than this has failed.
STEP_TIMEOUT=15
# A request that is answered takes milliseconds here; this only bounds failure.
CLIENT_TIMEOUT=10
# ping's per-reply wait (ping -W), same reasoning.
PING_WAIT=2
# How long an unanswered connection attempt is given before we call the
# packet dropped; a refusal (RST from the box) would come back at once.
DROP_PROBE_TIMEOUT=3
# Grace a process gets after SIGTERM during cleanup before SIGKILL.
CLEANUP_GRACE=5

skip() { echo "SKIP: $*"; exit 77; }

[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, NFQUEUE)"
for tool in ip iptables ss ping timeout curl "$PY"; do
    command -v "$tool" >/dev/null 2>&1 || skip "$tool not installed"
done

SUFFIX=$$
NS_IN=nalias-in-$SUFFIX
NS_BOX=nalias-box-$SUFFIX
NS_OUT=nalias-out-$SUFFIX
WORK=$(mktemp -d /tmp/nalias-e2e.XXXXXX)
PIDS=()

cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null
    done
    for pid in "${PIDS[@]}"; do
        timeout "$CLEANUP_GRACE" tail --pid="$pid" -f /dev/null 2>/dev/null
        kill -9 "$pid" 2>/dev/null
    done
    # Namespace deletion also removes their veths and iptables rules.
    for ns in "$NS_IN" "$NS_BOX" "$NS_OUT"; do
        ip netns pids "$ns" 2>/dev/null | while read -r pid; do kill -9 "$pid" 2>/dev/null; done
        ip netns del "$ns" 2>/dev/null
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

in_ns() { local ns=$1; shift; timeout -k 2 "$STEP_TIMEOUT" ip netns exec "$ns" "$@"; }
# Starts a background process in a namespace and remembers its pid.
spawn() {
    local ns=$1 log=$2; shift 2
    ip netns exec "$ns" "$@" >"$log" 2>&1 &
    PIDS+=($!)
    LAST_PID=$!
}
# Waits (bounded) until a file contains a pattern.
wait_for() {
    local file=$1 pattern=$2 i
    for ((i = 0; i < STEP_TIMEOUT * 10; i++)); do
        grep -q -- "$pattern" "$file" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
# Waits (bounded) until a TCP port listens in a namespace.
wait_listen() {
    local ns=$1 port=$2 i
    for ((i = 0; i < STEP_TIMEOUT * 10; i++)); do
        ip netns exec "$ns" ss -ltn "sport = :$port" 2>/dev/null | grep -q LISTEN && return 0
        sleep 0.1
    done
    return 1
}
wait_udp() {
    local ns=$1 port=$2 i
    for ((i = 0; i < STEP_TIMEOUT * 10; i++)); do
        ip netns exec "$ns" ss -lun "sport = :$port" 2>/dev/null | grep -q ":$port" && return 0
        sleep 0.1
    done
    return 1
}

PASSED=0
FAILED=0
declare -a FAILURES=()
check() {
    local name=$1; shift
    if "$@"; then
        echo "ok - $name"
        PASSED=$((PASSED + 1))
    else
        echo "not ok - $name"
        FAILED=$((FAILED + 1))
        FAILURES+=("$name")
    fi
}
contains() { grep -q -- "$2" <<<"$1"; }
# Packets the outside host received from an inside address: must stay 0.
leaked() { ip netns exec "$NS_OUT" iptables -nvxL INPUT | awk '/10\.0\.0\.0\/24/ {print $1}'; }
no_leak() { [ "$(leaked)" = 0 ]; }

# ---- topology --------------------------------------------------------------
ip netns add "$NS_IN" || skip "cannot create network namespaces"
ip netns add "$NS_BOX" || skip "cannot create network namespaces"
ip netns add "$NS_OUT" || skip "cannot create network namespaces"
ip link add vi0 netns "$NS_IN" type veth peer name vb0 netns "$NS_BOX" || skip "no veth support"
ip link add vb1 netns "$NS_BOX" type veth peer name vo0 netns "$NS_OUT" || skip "no veth support"
for ns in "$NS_IN" "$NS_BOX" "$NS_OUT"; do ip -n "$ns" link set lo up; done
ip -n "$NS_IN" addr add "$IN_ADDR/24" dev vi0
ip -n "$NS_IN" addr add "$IN_ADDR2/24" dev vi0
ip -n "$NS_IN" link set vi0 up
ip -n "$NS_IN" route add default via "$BOX_IN"
ip -n "$NS_BOX" addr add "$BOX_IN/24" dev vb0
ip -n "$NS_BOX" addr add "$ALIAS/24" dev vb1
ip -n "$NS_BOX" link set vb0 up
ip -n "$NS_BOX" link set vb1 up
ip -n "$NS_OUT" addr add "$OUT_ADDR/24" dev vo0
ip -n "$NS_OUT" addr add "$OUT_ADDR2/24" dev vo0
ip -n "$NS_OUT" link set vo0 up
ip netns exec "$NS_BOX" sysctl -qw net.ipv4.ip_forward=1

# The NAT box: conntrack off for everything (it would see the inside and the
# alias side of one flow as two unrelated flows), then every packet that
# arrives on or leaves through the outside interface goes to queue 8668,
# except packets the shim injects itself (fwmark 0x4e41).
box_ipt() { ip netns exec "$NS_BOX" iptables "$@"; }
box_ipt -t raw -A PREROUTING -j CT --notrack || skip "iptables raw/CT target unavailable"
box_ipt -t raw -A OUTPUT -j CT --notrack
box_ipt -t mangle -A PREROUTING -i vb1 -j NFQUEUE --queue-num "$DIVERT_PORT" ||
    skip "iptables NFQUEUE target unavailable"
box_ipt -t mangle -A POSTROUTING -o vb1 -m mark ! --mark 0x4e41 -j NFQUEUE --queue-num "$DIVERT_PORT"
# The rule alone does not prove the queue itself exists (nfnetlink_queue).
ip netns exec "$NS_BOX" test -e /proc/net/netfilter/nfnetlink_queue ||
    skip "kernel has no nfnetlink_queue (NFQUEUE to user space)"

# The outside host counts what it receives from the inside range (must be 0).
ip netns exec "$NS_OUT" iptables -A INPUT -s 10.0.0.0/24

start_natd() {
    NATD_LOG=$WORK/natd-$1.log
    spawn "$NS_BOX" "$WORK/natd-$1.out" "$MINI_NATD" "${@:2}" -p "$DIVERT_PORT" -log "$NATD_LOG"
    NATD_PID=$LAST_PID
    wait_for "$NATD_LOG" "ready" || { cat "$WORK/natd-$1.out"; echo "mini_natd did not start"; exit 1; }
}
# True once a child has exited (gone, or a zombie not yet reaped).
exited() {
    local state
    state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)
    [ -z "$state" ] || [ "$state" = Z ]
}
# SIGTERM, then natd's delayed exit (ualarm); bounded wait for the pid.
stop_natd() {
    local i
    kill -TERM "$NATD_PID" 2>/dev/null
    for ((i = 0; i < STEP_TIMEOUT * 10; i++)); do
        exited "$NATD_PID" && return 0
        sleep 0.1
    done
    return 1
}

# ---- phase 1: static alias address, redirects ----------------------------
start_natd static -a "$ALIAS" \
    -redirect_port tcp "$IN_ADDR:8080" 8080 \
    -redirect_proto esp "$IN_ADDR" \
    -exit_delay 1500

# ICMP echo
out=$(in_ns "$NS_IN" ping -c 3 -W "$PING_WAIT" "$OUT_ADDR" 2>&1)
check "ping inside -> outside gets replies" contains "$out" " 0% packet loss"
ip netns exec "$NS_OUT" iptables -I INPUT -s "$ALIAS" -p icmp -j ACCEPT
in_ns "$NS_IN" ping -c 2 -W "$PING_WAIT" "$OUT_ADDR" >/dev/null 2>&1
seen=$(ip netns exec "$NS_OUT" iptables -nvxL INPUT | awk -v a="$ALIAS" '$8 == a && ($4 == "icmp" || $4 == "1") {print $1}')
check "outside sees the echo requests from the alias address" [ "${seen:-0}" -ge 2 ]

# TCP: a real HTTP server and client
mkdir -p "$WORK/www" && echo "nalias-http-ok" >"$WORK/www/index.html"
spawn "$NS_OUT" "$WORK/http.log" "$PY" -m http.server 8000 --bind "$OUT_ADDR" --directory "$WORK/www"
wait_listen "$NS_OUT" 8000
out=$(in_ns "$NS_IN" curl -s --max-time "$CLIENT_TIMEOUT" "http://$OUT_ADDR:8000/index.html")
check "HTTP GET inside -> outside" contains "$out" "nalias-http-ok"
check "HTTP server logs the alias address as client" wait_for "$WORK/http.log" "^$ALIAS - "

# Bulk TCP: 4 MiB of random bytes arrive intact (thousands of rewritten
# segments, each with its checksum patched)
head -c 4194304 /dev/urandom >"$WORK/www/bulk.bin"
in_ns "$NS_IN" curl -s --max-time "$CLIENT_TIMEOUT" -o "$WORK/bulk.got" "http://$OUT_ADDR:8000/bulk.bin"
check "4 MiB HTTP download through the NAT is byte-identical" cmp -s "$WORK/www/bulk.bin" "$WORK/bulk.got"

# TCP peer address, both ways
spawn "$NS_OUT" "$WORK/tcp-peer.log" "$PY" "$TOOL" tcp-peer --bind "$OUT_ADDR" --port 7000
wait_listen "$NS_OUT" 7000
out=$(in_ns "$NS_IN" "$PY" "$TOOL" tcp-ask --to "$OUT_ADDR" --port 7000)
check "TCP server sees the alias address" [ "$out" = "peer=$ALIAS" ]

# UDP
spawn "$NS_OUT" "$WORK/udp-echo.log" "$PY" "$TOOL" udp-echo --bind "$OUT_ADDR" --port 5353
wait_udp "$NS_OUT" 5353
out=$(in_ns "$NS_IN" "$PY" "$TOOL" udp-ask --to "$OUT_ADDR" --port 5353 --data udp-ok)
check "UDP request/answer through the NAT" contains "$out" "udp-ok"
check "UDP server sees the alias address" contains "$out" "peer=$ALIAS:"

# ICMP error for a UDP flow: port unreachable from outside, mapped back inside
out=$(in_ns "$NS_IN" "$PY" "$TOOL" udp-refused --to "$OUT_ADDR" --port 9)
check "ICMP port unreachable is translated back to the inside UDP socket" [ "$out" = "refused" ]

# Inbound port redirect: alias:8080 -> 10.0.0.2:8080
spawn "$NS_IN" "$WORK/redirect.log" "$PY" "$TOOL" tcp-peer --bind "$IN_ADDR" --port 8080
wait_listen "$NS_IN" 8080
out=$(in_ns "$NS_OUT" "$PY" "$TOOL" tcp-ask --to "$ALIAS" --port 8080)
check "redirect_port tcp alias:8080 reaches the inside server" [ "$out" = "peer=$OUT_ADDR" ]

# FTP (needs the FTP handler for active mode: PORT carries the inside address)
if command -v vsftpd >/dev/null 2>&1; then
    mkdir -p "$WORK/ftp/pub" "$WORK/empty"
    chmod 755 "$WORK" "$WORK/ftp" "$WORK/ftp/pub"
    echo "nalias-ftp-ok" >"$WORK/ftp/pub/hello.txt"
    cat >"$WORK/vsftpd.conf" <<CONF
listen=YES
listen_ipv6=NO
listen_address=$OUT_ADDR
anonymous_enable=YES
no_anon_password=YES
anon_root=$WORK/ftp
local_enable=NO
write_enable=NO
secure_chroot_dir=$WORK/empty
seccomp_sandbox=NO
background=NO
connect_from_port_20=YES
pasv_enable=YES
pasv_min_port=30000
pasv_max_port=30010
pasv_address=$OUT_ADDR
xferlog_enable=NO
vsftpd_log_file=$WORK/vsftpd.log
dual_log_enable=NO
CONF
    spawn "$NS_OUT" "$WORK/vsftpd.out" vsftpd "$WORK/vsftpd.conf"
    wait_listen "$NS_OUT" 21
    out=$(in_ns "$NS_IN" curl -s --max-time "$CLIENT_TIMEOUT" --disable-epsv "ftp://$OUT_ADDR/pub/hello.txt")
    check "FTP passive (PASV) download" contains "$out" "nalias-ftp-ok"
    out=$(in_ns "$NS_IN" curl -s --max-time "$CLIENT_TIMEOUT" --disable-eprt --ftp-port - "ftp://$OUT_ADDR/pub/hello.txt")
    check "FTP active (PORT) download: PORT rewritten to the alias" contains "$out" "nalias-ftp-ok"
    if command -v ftp >/dev/null 2>&1; then
        out=$(cd "$WORK" && printf 'user anonymous x\nbinary\nget pub/hello.txt ftp-client.txt\nquit\n' |
            in_ns "$NS_IN" ftp -n -A "$OUT_ADDR" 2>&1; cat "$WORK/ftp-client.txt" 2>/dev/null)
        check "ftp(1) client, active mode" contains "$out" "nalias-ftp-ok"
        out=$(cd "$WORK" && printf 'user anonymous x\nbinary\nget pub/hello.txt ftp-client2.txt\nquit\n' |
            in_ns "$NS_IN" ftp -n -p "$OUT_ADDR" 2>&1; cat "$WORK/ftp-client2.txt" 2>/dev/null)
        check "ftp(1) client, passive mode" contains "$out" "nalias-ftp-ok"
    fi
else
    echo "# vsftpd not installed: FTP checks skipped"
fi

# ESP.  10.0.0.3 talks to the peer 203.0.113.2: out from the alias, and the
# peer's answer comes back to 10.0.0.3 (the flow's link beats the redirect,
# as in libalias).  A second peer, 203.0.113.3, with no flow yet, reaches
# 10.0.0.2 through -redirect_proto esp, as in the IPsec how-to.
esp_roundtrip() {  # name, receiver ns, receiver log, spi, sender ns, sender args...
    local name=$1 rns=$2 log=$3 spi=$4 sns=$5 expect=$6; shift 6
    spawn "$rns" "$log" "$PY" "$TOOL" esp-recv --spi "$spi"
    wait_for "$log" "listening"
    in_ns "$sns" "$PY" "$TOOL" esp-send --spi "$spi" "$@"
    check "$name" wait_for "$log" "$expect"
}
esp_roundtrip "ESP from inside 10.0.0.3 reaches the peer from the alias" \
    "$NS_OUT" "$WORK/esp-1.log" 4660 "$NS_IN" "esp from=$ALIAS to=$OUT_ADDR spi=4660 seq=7" \
    --to "$OUT_ADDR" --source "$IN_ADDR2" --seq 7
esp_roundtrip "ESP answer from the peer returns to 10.0.0.3" \
    "$NS_IN" "$WORK/esp-2.log" 4661 "$NS_OUT" "esp from=$OUT_ADDR to=$IN_ADDR2 spi=4661 seq=8" \
    --to "$ALIAS" --seq 8
esp_roundtrip "redirect_proto esp delivers a new peer's ESP to 10.0.0.2" \
    "$NS_IN" "$WORK/esp-3.log" 4662 "$NS_OUT" "esp from=$OUT_ADDR2 to=$IN_ADDR spi=4662 seq=9" \
    --to "$ALIAS" --source "$OUT_ADDR2" --seq 9

# IKE on UDP 500, inside initiator -> outside responder and back
spawn "$NS_OUT" "$WORK/ike-peer.log" "$PY" "$TOOL" ike-peer --bind "$OUT_ADDR"
wait_udp "$NS_OUT" 500
out=$(in_ns "$NS_IN" "$PY" "$TOOL" ike-init --to "$OUT_ADDR" --cookie a1b2c3d4e5f60718)
check "IKE answer returns to the inside initiator" \
    contains "$out" "ike reply from=$OUT_ADDR:500 icookie=a1b2c3d4e5f60718 rcookie=eeeeeeeeeeeeeeee"
check "IKE responder sees the alias address" wait_for "$WORK/ike-peer.log" "ike request from=$ALIAS:"

check "no packet left the NAT box with an inside source address" no_leak

# SIGTERM with a 1.5 s exit delay: FreeBSD ualarm() semantics, bounded wait
check "mini_natd exits after SIGTERM + exit_delay (ualarm >= 1 s)" stop_natd
check "mini_natd translated in both directions" \
    grep -Eq "mini_natd: out=[1-9][0-9]* in=[1-9][0-9]* " "$WORK/natd-static.out"

# ---- phase 2: -n ifname -dynamic, deny_incoming ----------------------------
start_natd dynamic -n vb1 -dynamic -deny_incoming -exit_delay 0
check "-n vb1 finds the alias address through sysctl(NET_RT_IFLIST)" \
    wait_for "$NATD_LOG" "alias $ALIAS"
ip -n "$NS_BOX" addr del "$ALIAS/24" dev vb1
ip -n "$NS_BOX" addr add "$ALIAS2/24" dev vb1
check "routing socket reports RTM_NEWADDR (0xc) for vb1" \
    wait_for "$NATD_LOG" "route: type=0xc index=$(ip netns exec "$NS_BOX" cat /sys/class/net/vb1/ifindex)"
check "-dynamic re-reads the new alias address" wait_for "$NATD_LOG" "alias $ALIAS2"
spawn "$NS_OUT" "$WORK/tcp-peer2.log" "$PY" "$TOOL" tcp-peer --bind "$OUT_ADDR" --port 7001
wait_listen "$NS_OUT" 7001
out=$(in_ns "$NS_IN" "$PY" "$TOOL" tcp-ask --to "$OUT_ADDR" --port 7001)
check "after the address change the outside sees the new alias" [ "$out" = "peer=$ALIAS2" ]
# Unsolicited inbound: libalias ignores it, deny_incoming never writes it back,
# so the shim drops it: a timeout (curl 28), not a refusal from the box (7).
in_ns "$NS_OUT" curl -s --max-time "$DROP_PROBE_TIMEOUT" "http://$ALIAS2:9/" >/dev/null 2>&1
rc=$?
check "unsolicited inbound packet is dropped, not passed (curl rc $rc)" [ "$rc" = 28 ]
check "no packet left the NAT box with an inside source address (dynamic)" no_leak
check "mini_natd exits at once on SIGTERM with -exit_delay 0" stop_natd
check "mini_natd counted the dropped inbound packets" \
    grep -Eq "dropped=[1-9]" "$WORK/natd-dynamic.out"

echo "${PASSED} passed, ${FAILED} failed"
[ "$FAILED" = 0 ] || { printf 'failed: %s\n' "${FAILURES[@]}"; for f in "$WORK"/natd-*.log; do echo "== $f"; cat "$f"; done; exit 1; }
exit 0
