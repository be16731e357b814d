#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Small peers for tests/e2e/run_e2e.sh, standard library only.

Every subcommand is bounded by --timeout seconds and prints one result line
the shell script checks; servers answer a fixed number of requests and exit.

  udp-echo   --bind A --port P                 reply "peer=<ip>:<port> <data>"
  udp-ask    --to A --port P [--sport S]       send, print the reply
  udp-refused --to A --port P                  print "refused" when an ICMP port
                                               unreachable comes back
  tcp-peer   --bind A --port P                 reply "peer=<ip>" on each connection
  tcp-ask    --to A --port P                   print what the server sent
  esp-send   --to A --spi N --seq N            send an ESP packet (raw IP proto 50)
  esp-recv   --spi N                           print "listening", then
                                               "esp from=<ip> to=<ip> spi=<n> seq=<n>"
  ike-peer   --bind A                          answer one IKE_SA_INIT-like datagram on :500
  ike-init   --to A --cookie HEX               send from :500, print the answer
"""
import argparse
import socket
import struct
import sys


# Bound on every wait: a peer that answers does so in milliseconds; this only
# keeps a failing run from hanging.
DEFAULT_TIMEOUT = 10.0


def udp_echo(args):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((args.bind, args.port))
    s.settimeout(args.timeout)
    for _ in range(args.count):
        data, peer = s.recvfrom(2048)
        s.sendto(b"peer=%s:%d " % (peer[0].encode(), peer[1]) + data, peer)


def udp_ask(args):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if args.sport:
        s.bind(("0.0.0.0", args.sport))
    s.settimeout(args.timeout)
    s.sendto(args.data.encode(), (args.to, args.port))
    data, _ = s.recvfrom(2048)
    print(data.decode())


def udp_refused(args):
    # A connected UDP socket reports the peer's ICMP port unreachable as
    # ECONNREFUSED: only if the NAT mapped the ICMP error (and the UDP header
    # quoted in it) back to this socket.
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(args.timeout)
    s.connect((args.to, args.port))
    s.send(args.data.encode())
    try:
        s.recv(2048)
        print("answered")
    except ConnectionRefusedError:
        print("refused")


def tcp_peer(args):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((args.bind, args.port))
    s.listen(4)
    s.settimeout(args.timeout)
    for _ in range(args.count):
        conn, peer = s.accept()
        with conn:
            conn.sendall(b"peer=%s\n" % peer[0].encode())


def tcp_ask(args):
    with socket.create_connection((args.to, args.port), timeout=args.timeout) as s:
        print(s.makefile().readline().strip())


def esp_packet(spi, seq):
    # SPI, sequence number, then opaque "ciphertext": enough for any NAT.
    return struct.pack("!II", spi, seq) + b"\x00" * 24


def esp_send(args):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 50)
    if args.source:
        s.bind((args.source, 0))
    s.sendto(esp_packet(args.spi, args.seq), (args.to, 0))


def esp_recv(args):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 50)
    s.settimeout(args.timeout)
    print("listening", flush=True)
    while True:
        data, peer = s.recvfrom(4096)
        ihl = (data[0] & 0x0F) * 4
        spi, seq = struct.unpack("!II", data[ihl:ihl + 8])
        if spi == args.spi:
            dst = socket.inet_ntoa(data[16:20])
            print("esp from=%s to=%s spi=%d seq=%d" % (peer[0], dst, spi, seq), flush=True)
            return


def ike_peer(args):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((args.bind, 500))
    s.settimeout(args.timeout)
    data, peer = s.recvfrom(4096)
    # Echo the initiator cookie, add a responder cookie (ISAKMP header shape).
    reply = data[:8] + b"\xee" * 8 + data[16:]
    print("ike request from=%s:%d icookie=%s" % (peer[0], peer[1], data[:8].hex()))
    sys.stdout.flush()
    s.sendto(reply, peer)


def ike_init(args):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", 500))
    s.settimeout(args.timeout)
    cookie = bytes.fromhex(args.cookie)
    # ISAKMP header: icookie, rcookie 0, next payload SA(33), v2.0, IKE_SA_INIT(34).
    header = cookie + b"\x00" * 8 + bytes([33, 0x20, 34, 0x08]) + struct.pack("!II", 0, 28)
    s.sendto(header, (args.to, 500))
    data, peer = s.recvfrom(4096)
    print("ike reply from=%s:%d icookie=%s rcookie=%s" % (peer[0], peer[1], data[:8].hex(), data[8:16].hex()))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("cmd")
    p.add_argument("--bind", default="0.0.0.0")
    p.add_argument("--to")
    p.add_argument("--source")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--sport", type=int, default=0)
    p.add_argument("--data", default="hello")
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--spi", type=int, default=0x1234)
    p.add_argument("--seq", type=int, default=1)
    p.add_argument("--cookie", default="0102030405060708")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT)
    args = p.parse_args()
    handlers = {
        "udp-echo": udp_echo, "udp-ask": udp_ask, "udp-refused": udp_refused, "tcp-peer": tcp_peer, "tcp-ask": tcp_ask,
        "esp-send": esp_send, "esp-recv": esp_recv, "ike-peer": ike_peer, "ike-init": ike_init,
    }
    try:
        handlers[args.cmd](args)
    except socket.timeout:
        print("timeout")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
