#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Checks a capture translated by alias-replay against its input, with tshark.

Both captures are decoded by tshark (never by us) and compared frame by
frame.  The rules are the NAT's contract, not recorded output:

  outbound (inside source, outside destination): the source becomes the
    alias address, destination untouched, source port kept (same_ports);
    each translation records a mapping alias:port -> inside:port;
  inbound to the alias address: the destination goes back to the inside
    endpoint of the mapping (or of a redirect given with --redirect), unless
    the mapping had been idle past its lifetime (--udp-timeout);
    with no mapping the packet is left as it was;
  ICMP errors: the quoted header is translated back as well;
  TCP: when the NAT changed a payload's length (an ALG), later sequence
    numbers outbound and acknowledgements inbound move by the difference;
  every IP, TCP, UDP and ICMP checksum in the output validates.

Groups: "core" (the rules above) and "ftp" (the FTP helper rewrote PORT to
the alias address and the server's data connection reached the client).
Exit status 0 when every check of the selected groups passed.
"""
import argparse
import ipaddress
import subprocess
import sys

FIELDS = [
    "frame.number", "frame.time_relative", "ip.src", "ip.dst", "ip.proto",
    "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport",
    "icmp.type", "icmp.ident", "tcp.seq_raw", "tcp.ack_raw", "tcp.len",
    "ip.checksum.status", "tcp.checksum.status", "udp.checksum.status", "icmp.checksum.status",
    "ftp.request.command", "ftp.request.arg", "esp.spi",
]
CHECKSUM_PREFS = ["-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
                  "-o", "udp.check_checksum:TRUE"]
GOOD, BAD = "1", "0"  # Wireshark's checksum status values


def decode(tshark, path):
    cmd = [tshark, "-n", "-r", path, *CHECKSUM_PREFS, "-T", "fields", "-E", "separator=/t",
           "-E", "occurrence=a", "-E", "aggregator=,"]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    frames = []
    for line in out.splitlines():
        values = line.split("\t")
        values += [""] * (len(FIELDS) - len(values))
        frames.append({f: [v for v in values[i].split(",") if v] for i, f in enumerate(FIELDS)})
    return frames


def first(frame, field):
    v = frame[field]
    return v[0] if v else None


def ports(frame):
    for proto in ("tcp", "udp"):
        if frame[proto + ".srcport"]:
            return proto, int(first(frame, proto + ".srcport")), int(first(frame, proto + ".dstport"))
    if first(frame, "icmp.ident") is not None and first(frame, "icmp.type") in ("0", "8", "13", "14"):
        ident = int(first(frame, "icmp.ident"))
        return "icmp", ident, ident
    return None, None, None


class Checker:
    def __init__(self, groups):
        self.groups = groups
        self.failures = []
        self.passed = 0

    def check(self, group, ok, what):
        if group not in self.groups:
            return
        if ok:
            self.passed += 1
        else:
            self.failures.append(f"[{group}] {what}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tshark", default="tshark")
    ap.add_argument("--input", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--alias", required=True)
    ap.add_argument("--inside", action="append", required=True)
    ap.add_argument("--redirect", action="append", default=[],
                    help="proto:public_port:local_addr:local_port of a -redirect_port")
    ap.add_argument("--udp-timeout", type=float, default=60.0, help="libalias's UDP link lifetime")
    ap.add_argument("--group", action="append", default=[])
    args = ap.parse_args()
    groups = set(args.group or ["core", "ftp"])
    c = Checker(groups)

    inside_nets = [ipaddress.ip_network(n) for n in args.inside]
    is_inside = lambda a: any(ipaddress.ip_address(a) in n for n in inside_nets)
    alias = args.alias
    redirects = {}
    for r in args.redirect:
        proto, pub, addr, port = r.split(":")
        redirects[(proto, int(pub))] = (addr, int(port))

    src, dst = decode(args.tshark, args.input), decode(args.tshark, args.output)
    c.check("core", len(src) == len(dst), f"frame count: input {len(src)}, output {len(dst)}")

    mappings = {}      # (proto, alias_port, remote) -> [inside_addr, inside_port, last_used]
    reverse = {}       # (proto, inside_addr, inside_port, remote) -> alias port
    esp_peers = {}     # remote -> inside address
    tcp_growth = {}    # (inside_addr, inside_port, remote, remote_port) -> bytes the NAT added outbound
    ftp_data = {}      # alias data port -> (inside addr, inside port), from rewritten PORT commands
    ftp_port_seen = False

    for a, b in zip(src, dst):
        n = first(a, "frame.number")
        t = float(first(a, "frame.time_relative"))
        a_src, a_dst = first(a, "ip.src"), first(a, "ip.dst")
        b_src, b_dst = first(b, "ip.src"), first(b, "ip.dst")
        proto, a_sport, a_dport = ports(a)
        _, b_sport, b_dport = ports(b)

        # Checksums: the IP and outer transport checksums validate; nothing
        # anywhere (a quoted header included) is reported bad.
        outer = {"6": "tcp", "17": "udp", "1": "icmp"}.get(first(b, "ip.proto"))
        for field in ("ip.checksum.status", "tcp.checksum.status", "udp.checksum.status", "icmp.checksum.status"):
            vals = b[field]
            c.check("core", BAD not in vals, f"frame {n}: {field} reports a bad checksum ({vals})")
            if field.split(".")[0] in ("ip", outer):
                c.check("core", bool(vals) and vals[0] == GOOD, f"frame {n}: {field} is {vals[:1]}, not good")

        outbound = is_inside(a_src) and not is_inside(a_dst)
        if outbound:
            c.check("core", b_src == alias, f"frame {n}: outbound source {a_src} became {b_src}, not {alias}")
            c.check("core", b_dst == a_dst, f"frame {n}: outbound destination changed {a_dst} -> {b_dst}")
            if proto:
                # A reply of an inbound (redirected) flow leaves from the public
                # port; anything else keeps its port (same_ports).
                want_sport = reverse.get((proto, a_src, a_sport, a_dst), a_sport)
                c.check("core", (b_sport, b_dport) == (want_sport, a_dport),
                        f"frame {n}: outbound ports {a_sport}>{a_dport} became {b_sport}>{b_dport}, "
                        f"expected {want_sport}>{a_dport}")
                mappings[(proto, b_sport, a_dst)] = [a_src, a_sport, t]
                reverse[(proto, a_src, a_sport, a_dst)] = b_sport
            if first(a, "ip.proto") == "50":
                esp_peers[a_dst] = a_src
            if proto == "tcp":
                key = (a_src, a_sport, a_dst, a_dport)
                growth = tcp_growth.get(key, 0)
                want = (int(first(a, "tcp.seq_raw")) + growth) % 2**32
                c.check("core", int(first(b, "tcp.seq_raw")) == want,
                        f"frame {n}: outbound seq {first(b, 'tcp.seq_raw')}, expected {want} (+{growth})")
                tcp_growth[key] = growth + int(first(b, "tcp.len")) - int(first(a, "tcp.len"))
            if first(a, "ftp.request.command") == "PORT":
                ftp_port_seen = True
                # tshark's aggregator splits the h1,h2,h3,h4,p1,p2 argument for us.
                inside_fields, alias_fields = a["ftp.request.arg"], b["ftp.request.arg"]
                c.check("ftp", ".".join(alias_fields[:4]) == alias,
                        f"frame {n}: PORT argument {','.join(alias_fields)} does not carry the alias address")
                if len(alias_fields) == 6 and len(inside_fields) == 6:
                    aport = int(alias_fields[4]) * 256 + int(alias_fields[5])
                    iport = int(inside_fields[4]) * 256 + int(inside_fields[5])
                    ftp_data[aport] = (a_src, iport)
            continue

        # Inbound (or passing): the source never changes.
        c.check("core", b_src == a_src, f"frame {n}: inbound source changed {a_src} -> {b_src}")
        if a_dst != alias:
            c.check("core", b_dst == a_dst, f"frame {n}: packet not for the alias address was changed")
            continue
        icmp_type = first(a, "icmp.type")
        if first(a, "ip.proto") == "1" and icmp_type in ("3", "11", "12", "4") and len(a["ip.src"]) > 1:
            # The quote names the aliased datagram: source alias, its port, the remote.
            q_proto = "udp" if first(a, "udp.srcport") else "tcp"
            q_sport = int(first(a, q_proto + ".srcport"))
            q_remote = a["ip.dst"][1]
            m = mappings.get((q_proto, q_sport, q_remote))
            c.check("core", m is not None, f"frame {n}: ICMP error about an unknown flow")
            if m:
                c.check("core", b_dst == m[0], f"frame {n}: ICMP error for {m[0]} delivered to {b_dst}")
                c.check("core", len(b["ip.src"]) > 1 and b["ip.src"][1] == m[0],
                        f"frame {n}: quoted source {b['ip.src'][1:]} not restored to {m[0]}")
                c.check("core", int(first(b, q_proto + ".srcport")) == m[1],
                        f"frame {n}: quoted source port not restored to {m[1]}")
            continue

        expect = None
        if proto and (proto, a_dport, a_src) in mappings:
            m = mappings[(proto, a_dport, a_src)]
            expired = proto == "udp" and t - m[2] > args.udp_timeout
            if not expired:
                expect = (m[0], m[1])
                m[2] = t
        elif proto and (proto, a_dport) in redirects:
            expect = redirects[(proto, a_dport)]
            mappings[(proto, a_dport, a_src)] = [expect[0], expect[1], t]
            reverse[(proto, expect[0], expect[1], a_src)] = a_dport
        elif proto == "tcp" and a_dport in ftp_data:
            expect = ftp_data[a_dport]
            c.check("ftp", b_dst == expect[0] and b_dport == expect[1],
                    f"frame {n}: FTP data connection to {alias}:{a_dport} reached {b_dst}:{b_dport}, "
                    f"not {expect[0]}:{expect[1]}")
            mappings[(proto, a_dport, a_src)] = [expect[0], expect[1], t]
            reverse[(proto, expect[0], expect[1], a_src)] = a_dport
            continue
        elif first(a, "ip.proto") == "50" and a_src in esp_peers:
            c.check("core", b_dst == esp_peers[a_src], f"frame {n}: inbound ESP went to {b_dst}")
            continue

        if expect is None:
            c.check("core", (b_dst, b_dport) == (a_dst, a_dport),
                    f"frame {n}: unsolicited or expired inbound packet was changed to {b_dst}:{b_dport}")
            continue
        c.check("core", (b_dst, b_dport) == expect,
                f"frame {n}: inbound to {a_dst}:{a_dport} went to {b_dst}:{b_dport}, not {expect[0]}:{expect[1]}")
        c.check("core", b_sport == a_sport, f"frame {n}: inbound source port changed")
        if proto == "tcp":
            key = (expect[0], expect[1], a_src, a_sport)
            growth = tcp_growth.get(key, 0)
            if a["tcp.ack_raw"]:
                want = (int(first(a, "tcp.ack_raw")) - growth) % 2**32
                c.check("core", int(first(b, "tcp.ack_raw")) == want,
                        f"frame {n}: inbound ack {first(b, 'tcp.ack_raw')}, expected {want} (-{growth})")

    c.check("ftp", ftp_port_seen, "no FTP PORT command in the capture")
    c.check("ftp", bool(ftp_data), "no FTP data connection checked")
    for f in c.failures:
        print("FAIL", f)
    print(f"{c.passed} checks passed, {len(c.failures)} failed ({', '.join(sorted(groups))})")
    return 1 if c.failures or c.passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
