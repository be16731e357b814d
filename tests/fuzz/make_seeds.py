#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/).

Seeds are valid, real-world-shaped inputs in each target's input format, so
the fuzzer starts from packets that reach deep into the parsers.  Run it
again after changing a target's format; the output is committed."""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus")


def ipv4(proto, src, dst, payload):
    total = 20 + len(payload)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0x4242, 0, 64, proto, 0,
                      bytes(src), bytes(dst))
    s = sum(struct.unpack("!10H", hdr))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    hdr = hdr[:10] + struct.pack("!H", ~s & 0xffff) + hdr[12:]
    return hdr + payload


def udp(sport, dport, data):
    return struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data


def tcp(sport, dport, flags, data, seq=1):
    return struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, flags, 65535, 0, 0) + data


def write(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def pptp(ctrl_type, body):
    """A PPTP control message: length, type 1, magic cookie, control type, reserved."""
    return struct.pack("!HHIHH", 12 + len(body), 1, 0x1a2b3c4d, ctrl_type, 0) + body


def nbt_dgm(msg_type, src_ip, src_port):
    """A NetBIOS direct/broadcast datagram with two names and 8 bytes of data."""
    names = b"\x20" + b"A" * 32 + b"\x00" + b"\x20" + b"B" * 32 + b"\x00"
    data = names + b"smb-data"
    return struct.pack("!BBH4sHHH", msg_type, 0x02, 0x0001, bytes(src_ip), src_port, len(data), 0) + data


def cuseeme(dest, sender, data_type):
    """The CU-SeeMe header: dest family/port/addr, sender family/port/addr, seq, msg, type, length, pad."""
    return struct.pack("!HH4sHH4sIHHHH", 2, 7648, bytes(dest), 2, 7648, bytes(sender), 1, 0, data_type, 28, 0)


def handler_seed(role, payload, flags=0x18, seq=1000, slack=64):
    return bytes([role, flags]) + struct.pack("!I", seq) + bytes([slack]) + payload


def main():
    inside, peer, alias = [10, 0, 0, 1], [192, 0, 2, 1], [198, 51, 100, 1]
    # fuzz_packet: [mode:2][maxsize:2][dir:1][packet]
    pkts = {
        "udp_out": (0, ipv4(17, inside, peer, udp(1000, 53, b"\x12\x34\x01\x00"))),
        "tcp_syn_out": (0, ipv4(6, inside, peer, tcp(1001, 80, 0x02, b""))),
        "tcp_in": (1, ipv4(6, peer, alias, tcp(80, 1001, 0x12, b""))),
        "icmp_echo_out": (0, ipv4(1, inside, peer, bytes([8, 0, 0, 0, 0, 7, 0, 1]) + b"ping")),
        "icmp_unreach_in": (1, ipv4(1, peer, alias, bytes([3, 3, 0, 0, 0, 0, 0, 0]) +
                                    ipv4(17, alias, peer, udp(1000, 53, b""))[:28])),
        # Errors quoting the prebuilt flows (alias ports 1000-1003 to peer:80), TCP with its checksum.
        "icmp_unreach_tcp_in": (1, ipv4(1, peer, alias, bytes([3, 3, 0, 0, 0, 0, 0, 0]) +
                                        ipv4(6, alias, peer, tcp(1000, 80, 0x12, b""))[:40])),
        "icmp_unreach_udp_in": (1, ipv4(1, peer, alias, bytes([3, 3, 0, 0, 0, 0, 0, 0]) +
                                        ipv4(17, alias, peer, udp(1001, 80, b""))[:28])),
        "icmp_unreach_icmp_in": (1, ipv4(1, peer, alias, bytes([3, 1, 0, 0, 0, 0, 0, 0]) +
                                         ipv4(1, alias, peer, bytes([8, 0, 0xf7, 0xf8, 0, 7, 0, 0])))),
        "icmp_unreach_udp_out": (0, ipv4(1, inside, peer, bytes([3, 3, 0, 0, 0, 0, 0, 0]) +
                                         ipv4(17, peer, inside, udp(80, 1001, b""))[:28])),
        "esp_out": (0, ipv4(50, inside, peer, struct.pack("!II", 0x1000, 1) + b"x" * 16)),
        "gre_in": (1, ipv4(47, peer, alias, struct.pack("!HHHH", 0x3001, 0x880b, 0, 7))),
    }
    for name, (direction, p) in pkts.items():
        write("fuzz_packet", name, struct.pack("!HHB", 0, len(p) + 32, direction) + p)
    # fuzz_stateful: op streams (see fuzz_stateful.cpp for the op table)
    write("fuzz_stateful", "out_in", bytes([0, 1, 0, 5, 3, 4, 0x02, 0, 0, 0, 1, 0,
                                           1, 1, 5, 0, 4, 3, 0x12, 0, 0, 0, 1, 0]))
    write("fuzz_stateful", "redirects", bytes([3, 0, 0, 14, 7, 7, 0, 0, 1, 1, 5, 14, 0, 0, 0, 0, 7, 1,
                                              6, 0, 6, 0, 4, 1, 0, 4, 9, 0, 2, 0xff, 0xff, 11, 0, 200]))
    # fuzz_proxy_rule: rule text
    for i, rule in enumerate([b"type encode_ip_hdr port 80 server 10.0.0.9:3128",
                              b"port 21 server 10.0.0.9 proto tcp src 10.0.0.0/8 dst 0.0.0.0/0 rule 5",
                              b"type encode_tcp_stream port 8080 server 10.0.0.9:8080\ndelete 5",
                              b"type no_encode port 80 server 10.0.0.9"]):
        write("fuzz_proxy_rule", "rule%d" % i, rule)
    # handler targets: [role][flags][seq:4][slack][payload]
    seeds = {
        "fuzz_handler_ftp": [(0, b"PORT 10,0,0,5,156,64\r\n"), (0, b"EPRT |1|10.0.0.5|40000|\r\n"),
                             (2, b"227 Entering Passive Mode (10,0,0,80,195,80)\r\n"),
                             (2, b"229 Entering Extended Passive Mode (|||50000|)\r\n"), (1, b"220 ready\r\n"),
                             (3, b"PORT 192,0,2,10,195,81\r\n"), (0, b"PORT 10,0,0,5,156,64\r\nNOOP\r\n")],
        "fuzz_handler_irc": [(0, b"PRIVMSG bob :\x01DCC CHAT chat 167772165 40001\x01\r\n"),
                             (0, b"PRIVMSG bob :\x01DCC SEND file.txt 167772165 40002 1024\x01\r\n")],
        "fuzz_handler_rtsp": [(0, b"SETUP rtsp://192.0.2.10/a RTSP/1.0\r\nCSeq: 3\r\n"
                                  b"Transport: RTP/AVP;unicast;client_port=5000-5001\r\n\r\n"),
                              (2, b"RTSP/1.0 200 OK\r\nCSeq: 3\r\nTransport: RTP/AVP;unicast;"
                                  b"client_port=5000-5001;server_port=6970-6971\r\n\r\n"),
                              (0, b"SETUP rtsp://192.0.2.10/a RTSP/1.0\r\nTransport: RTP/AVP;client_port=5000-5001,"
                                  b"RTP/AVP/TCP;client_port=5002\r\n\r\n")],
        "fuzz_handler_pna": [(0, b"PNA\x00\x0a" + struct.pack("!HHH", 1, 2, 5000) + struct.pack("!HHH", 7, 2, 5002) +
                              struct.pack("!HH", 3, 4) + b"abcd" + b"\x00\x00")],
        "fuzz_handler_pptp": [(0, pptp(7, struct.pack("!HHIIIHHHH", 0x1234, 1, 300, 64000, 3, 16, 64, 0, 0) +
                                       b"\x00" * 128)),
                              (1, pptp(8, struct.pack("!HHBBHIHHI", 0x5678, 0x1234, 1, 0, 0, 64000, 16, 64, 0))),
                              (0, pptp(12, struct.pack("!HH", 0x1234, 0))),
                              (1, pptp(13, struct.pack("!HBBH", 0x5678, 1, 0, 0) + b"\x00" * 128)),
                              (0, pptp(1, struct.pack("!HHIIHH", 0x100, 0, 1, 1, 1, 1) + b"h" * 64 + b"v" * 64) +
                               pptp(5, struct.pack("!HH", 0, 0)))],
        # GRE's key field holds the receiver's Call ID: outbound the server's (0x5678), inbound the
        # alias id of the client's call (0x1234: SAME_PORTS keeps the client's own id when free).
        "fuzz_handler_gre": [(0, struct.pack("!HHHHI", 0x3081, 0x880b, 4, 0x1234, 1) + b"ppp!"),
                             (0, struct.pack("!HHHHI", 0x3081, 0x880b, 4, 0x5678, 1) + b"ppp!"),
                             (1, struct.pack("!HHHHI", 0x3081, 0x880b, 4, 0x1234, 2) + b"ppp!")],
        "fuzz_handler_nbt_ns": [(0, struct.pack("!HHHHHH", 0x1234, 0x2910, 1, 0, 0, 1) +
                                 b"\x20" + b"EOGFGLGPCACACACACACACACACACACAAA" + b"\x00" +
                                 struct.pack("!HH", 0x20, 1) + b"\xc0\x0c" +
                                 struct.pack("!HHIHH", 0x20, 1, 300000, 6, 0) + bytes([10, 0, 0, 5]))],
        "fuzz_handler_nbt_dgm": [(0, nbt_dgm(0x11, [10, 0, 0, 5], 40000)), (2, nbt_dgm(0x10, [10, 0, 0, 80], 138)),
                                 (1, nbt_dgm(0x12, [192, 0, 2, 10], 138)),
                                 (2, struct.pack("!BBH4sHB", 0x13, 0x02, 7, bytes([10, 0, 0, 80]), 138, 0x82)),
                                 (2, struct.pack("!BBH4sH", 0x14, 0x02, 8, bytes([10, 0, 0, 80]), 138) +
                                  b"\x20" + b"C" * 32 + b"\x00")],
        "fuzz_handler_skinny": [(0, struct.pack("<III", 40, 0, 0x0001) + b"SEP000000000000\x00" +
                                 struct.pack("<II", 0, 1) + bytes([10, 0, 0, 5]) + struct.pack("<II", 7, 0)),
                                (0, struct.pack("<III", 8, 0, 0x0002) + struct.pack("<I", 40000) +
                                 struct.pack("<III", 4, 0, 0x0000)),
                                (1, struct.pack("<III", 28, 0, 0x0105) + b"\x00" * 28),
                                (0, struct.pack("<III", 20, 0, 0x0022) + struct.pack("<I", 0) +
                                 bytes([10, 0, 0, 5]) + struct.pack("<III", 20000, 0, 0))],
        "fuzz_handler_cuseeme": [(0, cuseeme([192, 0, 2, 10], [10, 0, 0, 5], 1)),
                                 (3, cuseeme([198, 51, 100, 1], [192, 0, 2, 10], 101) +
                                  struct.pack("!HHI", 2, 0, 1) + b"u" * 20 + b"\x00" * 4 +
                                  bytes([192, 0, 2, 11]) + b"\x00" * 8 + bytes([198, 51, 100, 1]) + b"\x00" * 8)],
        "fuzz_handler_tftp": [(0, b"\x00\x01file.bin\x00octet\x00"), (1, b"\x00\x03\x00\x01data")],
        "fuzz_handler_ike": [(0, b"\x11" * 8 + b"\x00" * 8 + bytes([1, 0x10, 2, 0]) + struct.pack("!II", 0, 28)),
                             (1, b"\x11" * 8 + b"\x22" * 8 + bytes([1, 0x10, 2, 0]) + struct.pack("!II", 0, 28)),
                             (0, b"\x33" * 8 + b"\x00" * 8 + bytes([33, 0x20, 34, 0x08]) + struct.pack("!II", 0, 28)),
                             (0, b"\x11" * 8 + b"\x22" * 8 + bytes([8, 0x10, 32, 1]) + struct.pack("!II", 7, 28)),
                             (0, b"\x33" * 8 + b"\x44" * 8 + bytes([35, 0x20, 35, 0x08]) + struct.pack("!II", 1, 28))],
        "fuzz_handler_natt": [(0, b"\x00\x00\x00\x00" + b"\x11" * 8 + b"\x00" * 8 + bytes([33, 0x20, 34, 8]) +
                               struct.pack("!II", 0, 28)), (1, struct.pack("!II", 0xc0ffee, 1) + b"x" * 16),
                              (0, b"\xff")],
        "fuzz_handler_esp": [(0, struct.pack("!II", 0xc0ffee, 1) + b"y" * 24),
                             (1, struct.pack("!II", 0xbeef, 1) + b"z" * 24)],
    }
    for target, items in seeds.items():
        for i, (role, payload) in enumerate(items):
            write(target, "seed%d" % i, handler_seed(role, payload))
    return 0


if __name__ == "__main__":
    sys.exit(main())
