// SPDX-License-Identifier: BSD-2-Clause
//
// make_sample: writes tests/data/sample.pcap, the capture alias-replay
// replays when it is given no input.
//
// The capture is what a NAT's packet path (natd's divert socket, a
// LibAliasIn/LibAliasOut caller) sees: outbound packets as they leave the
// inside hosts (private source), inbound packets as they arrive on the
// outside wire (addressed to the alias address 203.0.113.1).  Inbound packets
// assume the NAT kept source ports and ICMP ids (same_ports, libalias's
// default) and that the FTP helper rewrote the PORT command, so a correct
// NAT maps every reply back to its inside host.  Only documentation
// addresses appear: RFC 5737 outside, RFC 1918 inside.
//
// Flows, in capture order:
//   DNS query and reply (UDP 53); an HTTP exchange (TCP 80, full handshake
//   and close); ICMP echo and reply; a UDP probe answered by ICMP port
//   unreachable (the embedded header must be translated back); an FTP
//   control session with PORT (active data connection from the server's
//   port 20) and PASV (passive data connection); IKE (UDP 500) and ESP both
//   ways; a connection from outside to the redirected port 8080 (the replay
//   configuration sends it to 192.168.1.10:80); an unsolicited inbound SYN
//   (no link: IGNORED); a late DNS reply after the UDP link's 60 s lifetime
//   (IGNORED: expiry follows the capture's clock).
//
// Usage: make_sample [--linktype en10mb|raw|sll|sll2|null] [--fragments] OUTPUT.pcap
// (--fragments appends a DNS answer fragmented tail first; not in the sample.)
// The same flows in other link types let the tests exercise each decoder;
// for SLL/SLL2 the packet type marks direction (outgoing = outbound).
#include <pcap/pcap.h>

#include <arpa/inet.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

using Bytes = std::vector<uint8_t>;

constexpr long kCaptureEpoch = 1767225600;  // 2026-01-01 00:00:00 UTC
constexpr int kDltEthernet = DLT_EN10MB;

uint32_t ip(const char* dotted) {
    in_addr a{};
    inet_pton(AF_INET, dotted, &a);
    return ntohl(a.s_addr);
}

const uint32_t kAlias = ip("203.0.113.1");

void put16(Bytes& b, std::size_t off, uint16_t v) {
    b[off] = static_cast<uint8_t>(v >> 8);
    b[off + 1] = static_cast<uint8_t>(v);
}
void put32(Bytes& b, std::size_t off, uint32_t v) {
    put16(b, off, static_cast<uint16_t>(v >> 16));
    put16(b, off + 2, static_cast<uint16_t>(v));
}

uint16_t inet_checksum(const uint8_t* p, std::size_t n, uint32_t sum = 0) {
    for (std::size_t i = 0; i + 1 < n; i += 2) sum += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
    if (n & 1) sum += static_cast<uint32_t>(p[n - 1] << 8);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(~sum);
}

// An IPv4 datagram around `l4` with a valid header checksum; the transport
// checksum (TCP/UDP pseudo-header, ICMP plain) is filled in here as well.
Bytes ipv4(uint32_t src, uint32_t dst, uint8_t proto, Bytes l4) {
    static uint16_t next_id = 0x1000;
    Bytes p(20 + l4.size(), 0);
    p[0] = 0x45;
    put16(p, 2, static_cast<uint16_t>(p.size()));
    put16(p, 4, next_id++);
    p[6] = 0x40;  // DF, as modern stacks send
    p[8] = 64;
    p[9] = proto;
    put32(p, 12, src);
    put32(p, 16, dst);
    std::memcpy(p.data() + 20, l4.data(), l4.size());
    put16(p, 10, inet_checksum(p.data(), 20));

    const std::size_t csum_off = proto == IPPROTO_TCP ? 16 : proto == IPPROTO_UDP ? 6 : proto == IPPROTO_ICMP ? 2 : 0;
    if (csum_off) {
        uint32_t pseudo = 0;
        if (proto != IPPROTO_ICMP) {
            pseudo = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto +
                     static_cast<uint32_t>(l4.size());
        }
        uint16_t c = inet_checksum(p.data() + 20, l4.size(), pseudo);
        if (proto == IPPROTO_UDP && c == 0) c = 0xffff;
        put16(p, 20 + csum_off, c);
    }
    return p;
}

Bytes udp(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, const Bytes& payload) {
    Bytes l4(8 + payload.size(), 0);
    put16(l4, 0, sport);
    put16(l4, 2, dport);
    put16(l4, 4, static_cast<uint16_t>(l4.size()));
    std::memcpy(l4.data() + 8, payload.data(), payload.size());
    return ipv4(src, dst, IPPROTO_UDP, std::move(l4));
}

Bytes text(std::string_view s) { return Bytes(s.begin(), s.end()); }

enum TcpFlag : uint8_t { FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10 };

// One TCP connection through the NAT.  `inside` talks to `outside`; on the
// outside wire the inside end appears as `alias`.  Each side's sequence
// space is tracked; `wire_growth` is how many bytes the NAT added to the
// inside side's stream (an ALG rewrite), which the outside peer acknowledges.
struct TcpConn {
    uint32_t inside_addr, outside_addr, alias_addr;
    uint16_t inside_port, outside_port, alias_port;
    uint32_t inside_seq, outside_seq;
    int32_t wire_growth = 0;

    Bytes segment(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, uint32_t seq, uint32_t ack,
                  uint8_t flags, const Bytes& payload) const {
        const bool syn = flags & SYN;
        Bytes l4((syn ? 24 : 20) + payload.size(), 0);
        put16(l4, 0, sport);
        put16(l4, 2, dport);
        put32(l4, 4, seq);
        put32(l4, 8, flags & ACK ? ack : 0);
        l4[12] = static_cast<uint8_t>((syn ? 6 : 5) << 4);
        l4[13] = flags;
        put16(l4, 14, 64240);
        if (syn) {  // MSS option, as every real SYN carries
            l4[20] = 2;
            l4[21] = 4;
            put16(l4, 22, 1460);
        }
        std::memcpy(l4.data() + (syn ? 24 : 20), payload.data(), payload.size());
        return ipv4(src, dst, IPPROTO_TCP, std::move(l4));
    }
    static uint32_t consumed(uint8_t flags, const Bytes& payload) {
        return static_cast<uint32_t>(payload.size()) + ((flags & SYN) ? 1 : 0) + ((flags & FIN) ? 1 : 0);
    }
    // Inside -> outside, before translation.
    Bytes out(uint8_t flags, const Bytes& payload = {}) {
        Bytes p = segment(inside_addr, inside_port, outside_addr, outside_port, inside_seq, outside_seq, flags, payload);
        inside_seq += consumed(flags, payload);
        return p;
    }
    // Outside -> alias, as it arrives on the outside wire.
    Bytes in(uint8_t flags, const Bytes& payload = {}) {
        Bytes p = segment(outside_addr, outside_port, alias_addr, alias_port, outside_seq,
                          inside_seq + static_cast<uint32_t>(wire_growth), flags, payload);
        outside_seq += consumed(flags, payload);
        return p;
    }
};

struct Frame {
    double t;
    bool outbound;
    Bytes ip;
};

Bytes dns_query(uint16_t id, const char* name) {
    Bytes q(12, 0);
    put16(q, 0, id);
    put16(q, 2, 0x0100);  // recursion desired
    put16(q, 4, 1);       // one question
    for (std::string_view rest = name; !rest.empty();) {
        const auto dot = rest.find('.');
        const std::string_view label = rest.substr(0, dot);
        q.push_back(static_cast<uint8_t>(label.size()));
        q.insert(q.end(), label.begin(), label.end());
        rest = dot == std::string_view::npos ? std::string_view{} : rest.substr(dot + 1);
    }
    q.insert(q.end(), {0, 0, 1, 0, 1});  // root, type A, class IN
    return q;
}

Bytes dns_answer(uint16_t id, const char* name, uint32_t answer) {
    Bytes r = dns_query(id, name);
    put16(r, 2, 0x8180);  // response, RD, RA
    put16(r, 6, 1);       // one answer
    r.insert(r.end(), {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4});  // name ptr, A, IN, TTL 3600, len 4
    for (int shift = 24; shift >= 0; shift -= 8) r.push_back(static_cast<uint8_t>(answer >> shift));
    return r;
}

Bytes icmp_echo(uint8_t type, uint16_t id, uint16_t seq) {
    Bytes m(8 + 32, 0);
    m[0] = type;
    put16(m, 4, id);
    put16(m, 6, seq);
    for (std::size_t i = 8; i < m.size(); ++i) m[i] = static_cast<uint8_t>(0x61 + (i - 8) % 23);  // ping's pattern
    return m;
}

Bytes ike_header(uint64_t spi_i, uint64_t spi_r, uint8_t flags) {
    Bytes h(28 + 8, 0);
    for (int i = 0; i < 8; ++i) h[i] = static_cast<uint8_t>(spi_i >> (56 - 8 * i));
    for (int i = 0; i < 8; ++i) h[8 + i] = static_cast<uint8_t>(spi_r >> (56 - 8 * i));
    h[16] = 41;    // next payload: Notify (a short, self-contained payload)
    h[17] = 0x20;  // IKEv2
    h[18] = 34;    // IKE_SA_INIT
    h[19] = flags;
    put32(h, 24, static_cast<uint32_t>(h.size()));
    put16(h, 30, 8);      // notify payload length
    h[32] = 0;            // protocol id
    put16(h, 34, 16390);  // NAT_DETECTION_SOURCE_IP-like status (no data)
    return h;
}

Bytes esp(uint32_t spi, uint32_t seq) {
    Bytes e(8 + 48, 0);
    put32(e, 0, spi);
    put32(e, 4, seq);
    uint32_t x = spi ^ seq;  // stands in for ciphertext: any bytes do
    for (std::size_t i = 8; i < e.size(); ++i) e[i] = static_cast<uint8_t>((x = x * 1103515245u + 12345u) >> 24);
    return e;
}

// Splits a datagram into IPv4 fragments of at most `max_l4` payload bytes
// each (a multiple of 8), as a router with a small MTU would.
std::vector<Bytes> fragment(const Bytes& dgram, std::size_t max_l4) {
    std::vector<Bytes> out;
    const std::size_t l4_len = dgram.size() - 20;
    for (std::size_t off = 0; off < l4_len; off += max_l4) {
        const std::size_t n = std::min(max_l4, l4_len - off);
        Bytes f(dgram.begin(), dgram.begin() + 20);
        f.insert(f.end(), dgram.begin() + 20 + static_cast<std::ptrdiff_t>(off),
                 dgram.begin() + 20 + static_cast<std::ptrdiff_t>(off + n));
        put16(f, 2, static_cast<uint16_t>(f.size()));
        put16(f, 6, static_cast<uint16_t>((off + n < l4_len ? 0x2000 : 0) | (off / 8)));  // MF, offset
        put16(f, 10, 0);
        put16(f, 10, inet_checksum(f.data(), 20));
        out.push_back(std::move(f));
    }
    return out;
}

// With --fragments: a DNS answer too large for one packet comes back in two
// fragments, the tail first.  The NAT must hold the tail until the first
// fragment tells where the datagram goes (PKT_ALIAS_UNRESOLVED_FRAGMENT).
void add_fragmented_reply(std::vector<Frame>& f) {
    const uint32_t pc = ip("10.0.0.10"), resolver = ip("198.51.100.53");
    Bytes answer = dns_answer(0x3b3b, "big.example.com", ip("198.51.100.80"));
    const std::size_t one_rr = 16;
    const Bytes rr(answer.end() - static_cast<std::ptrdiff_t>(one_rr), answer.end());
    for (uint32_t i = 1; i < 100; ++i) {
        Bytes more = rr;
        more[15] = static_cast<uint8_t>(i);
        answer.insert(answer.end(), more.begin(), more.end());
    }
    put16(answer, 6, 100);
    Bytes reply = udp(resolver, 53, kAlias, 41300, answer);
    reply[6] = 0;  // fragmentable
    put16(reply, 10, 0);
    put16(reply, 10, inet_checksum(reply.data(), 20));
    const std::vector<Bytes> parts = fragment(reply, 1480);
    // Before the capture's last packet (the late DNS reply), in time order.
    const auto at = f.end() - 1;
    f.insert(at, {{5.000, true, udp(pc, 41300, resolver, 53, dns_query(0x3b3b, "big.example.com"))},
                  {5.030, false, parts.at(1)},
                  {5.031, false, parts.at(0)}});
}

std::vector<Frame> build_flows() {
    std::vector<Frame> f;
    const uint32_t pc = ip("10.0.0.10"), laptop = ip("10.0.0.11"), vpn_client = ip("10.0.0.12");
    const uint32_t web_inside = ip("192.168.1.10");
    const uint32_t resolver = ip("198.51.100.53"), web = ip("198.51.100.80"), ftp = ip("198.51.100.21");
    const uint32_t ping_target = ip("192.0.2.1"), probe_target = ip("198.51.100.7"), vpn_gw = ip("192.0.2.50");
    const uint32_t visitor = ip("192.0.2.99"), scanner = ip("192.0.2.66");

    // DNS.
    f.push_back({0.000, true, udp(pc, 41234, resolver, 53, dns_query(0x2a2a, "www.example.com"))});
    f.push_back({0.012, false, udp(resolver, 53, kAlias, 41234, dns_answer(0x2a2a, "www.example.com", web))});

    // HTTP.
    TcpConn http{pc, web, kAlias, 49152, 80, 49152, 1000000, 7000000};
    f.push_back({0.020, true, http.out(SYN)});
    f.push_back({0.045, false, http.in(SYN | ACK)});
    f.push_back({0.046, true, http.out(ACK)});
    f.push_back({0.047, true, http.out(PSH | ACK, text("GET / HTTP/1.1\r\nHost: www.example.com\r\n\r\n"))});
    f.push_back({0.075, false, http.in(PSH | ACK,
                                       text("HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, world!"))});
    f.push_back({0.076, true, http.out(FIN | ACK)});
    f.push_back({0.101, false, http.in(FIN | ACK)});
    f.push_back({0.102, true, http.out(ACK)});

    // ICMP echo.
    f.push_back({0.500, true, ipv4(laptop, ping_target, IPPROTO_ICMP, icmp_echo(8, 0x0b0b, 1))});
    f.push_back({0.530, false, ipv4(ping_target, kAlias, IPPROTO_ICMP, icmp_echo(0, 0x0b0b, 1))});

    // A UDP probe refused with ICMP port unreachable quoting the aliased datagram.
    {
        const Bytes probe = udp(laptop, 33434, probe_target, 33434, text("probe"));
        f.push_back({0.600, true, probe});
        Bytes quoted = udp(kAlias, 33434, probe_target, 33434, text("probe"));
        // The quote is the translated datagram the target received: rebuild it
        // with the same IP id as the original so only the NAT's edits differ.
        quoted[4] = probe[4];
        quoted[5] = probe[5];
        put16(quoted, 10, 0);
        put16(quoted, 10, inet_checksum(quoted.data(), 20));
        Bytes unreach(8, 0);
        unreach[0] = 3;  // destination unreachable
        unreach[1] = 3;  // port unreachable
        unreach.insert(unreach.end(), quoted.begin(), quoted.begin() + 28);
        f.push_back({0.630, false, ipv4(probe_target, kAlias, IPPROTO_ICMP, unreach)});
    }

    // FTP: control connection, PORT with an active data connection, then PASV.
    TcpConn ctl{pc, ftp, kAlias, 49153, 21, 49153, 2000000, 9000000};
    f.push_back({1.000, true, ctl.out(SYN)});
    f.push_back({1.030, false, ctl.in(SYN | ACK)});
    f.push_back({1.031, true, ctl.out(ACK)});
    f.push_back({1.060, false, ctl.in(PSH | ACK, text("220 ftp.example.net FTP server ready.\r\n"))});
    f.push_back({1.100, true, ctl.out(PSH | ACK, text("USER anonymous\r\n"))});
    f.push_back({1.130, false, ctl.in(PSH | ACK, text("331 Guest login ok, send your email as password.\r\n"))});
    f.push_back({1.200, true, ctl.out(PSH | ACK, text("PASS guest@example.com\r\n"))});
    f.push_back({1.230, false, ctl.in(PSH | ACK, text("230 Guest login ok.\r\n"))});
    const std::string inside_port_cmd = "PORT 10,0,0,10,195,80\r\n";  // data port 50000
    const std::string alias_port_cmd = "PORT 203,0,113,1,195,80\r\n";
    f.push_back({1.300, true, ctl.out(PSH | ACK, text(inside_port_cmd))});
    ctl.wire_growth += static_cast<int32_t>(alias_port_cmd.size() - inside_port_cmd.size());
    f.push_back({1.330, false, ctl.in(PSH | ACK, text("200 PORT command successful.\r\n"))});
    f.push_back({1.340, true, ctl.out(PSH | ACK, text("LIST\r\n"))});
    {
        // The server opens the data connection from port 20 to the address
        // and port it read in the (rewritten) PORT command.
        TcpConn data{pc, ftp, kAlias, 50000, 20, 50000, 3000000, 11000000};
        f.push_back({1.370, false, data.in(SYN)});
        f.push_back({1.371, true, data.out(SYN | ACK)});
        f.push_back({1.400, false, data.in(ACK)});
        f.push_back({1.401, false, ctl.in(PSH | ACK, text("150 Opening ASCII mode data connection.\r\n"))});
        f.push_back({1.402, false, data.in(PSH | ACK, text("-rw-r--r--  1 ftp ftp 1024 Jan 01 00:00 README\r\n"))});
        f.push_back({1.403, false, data.in(FIN | ACK)});
        f.push_back({1.404, true, data.out(ACK)});
        f.push_back({1.405, true, data.out(FIN | ACK)});
        f.push_back({1.430, false, data.in(ACK)});
    }
    f.push_back({1.431, false, ctl.in(PSH | ACK, text("226 Transfer complete.\r\n"))});
    f.push_back({1.500, true, ctl.out(PSH | ACK, text("PASV\r\n"))});
    f.push_back({1.530, false, ctl.in(PSH | ACK, text("227 Entering Passive Mode (198,51,100,21,117,48).\r\n"))});
    {
        TcpConn pasv{pc, ftp, kAlias, 49154, 30000, 49154, 4000000, 12000000};
        f.push_back({1.540, true, pasv.out(SYN)});
        f.push_back({1.570, false, pasv.in(SYN | ACK)});
        f.push_back({1.571, true, pasv.out(ACK)});
    }
    f.push_back({1.600, true, ctl.out(PSH | ACK, text("QUIT\r\n"))});
    f.push_back({1.630, false, ctl.in(PSH | ACK, text("221 Goodbye.\r\n"))});

    // IKE and ESP.
    f.push_back({2.000, true, udp(vpn_client, 500, vpn_gw, 500, ike_header(0x1122334455667788ull, 0, 0x08))});
    f.push_back({2.040, false,
                 udp(vpn_gw, 500, kAlias, 500, ike_header(0x1122334455667788ull, 0x99aabbccddeeff00ull, 0x20))});
    f.push_back({2.100, true, ipv4(vpn_client, vpn_gw, IPPROTO_ESP, esp(0xc0de0001, 1))});
    f.push_back({2.140, false, ipv4(vpn_gw, kAlias, IPPROTO_ESP, esp(0xbeef0001, 1))});

    // A visitor reaches the web server published on the alias address's port 8080.
    TcpConn pub{web_inside, visitor, kAlias, 80, 51000, 8080, 5000000, 13000000};
    f.push_back({3.000, false, pub.in(SYN)});
    f.push_back({3.001, true, pub.out(SYN | ACK)});
    f.push_back({3.030, false, pub.in(ACK)});
    f.push_back({3.031, false, pub.in(PSH | ACK, text("GET /status HTTP/1.1\r\nHost: 203.0.113.1:8080\r\n\r\n"))});
    f.push_back({3.032, true, pub.out(PSH | ACK, text("HTTP/1.1 204 No Content\r\n\r\n"))});

    // Nobody inside asked for this one.
    TcpConn scan{pc, scanner, kAlias, 23, 40000, 23, 0, 6000000};
    f.push_back({4.000, false, scan.in(SYN)});

    // The resolver answers again long after the UDP link expired.
    f.push_back({125.000, false, udp(resolver, 53, kAlias, 41234, dns_answer(0x2a2a, "www.example.com", web))});
    return f;
}

// Link-layer framing for each supported DLT.  Returns the bytes before the IP header.
Bytes link_header(int dlt, bool outbound) {
    Bytes h;
    switch (dlt) {
    case DLT_EN10MB: {
        // Inside hosts behind one MAC, the upstream router behind another.
        // Every frame is addressed to the NAT box.
        const Bytes nat = {0x02, 0x00, 0x5e, 0x00, 0x00, 0x01}, host = {0x02, 0x00, 0x5e, 0x00, 0x00, 0x10},
                    router = {0x02, 0x00, 0x5e, 0x00, 0x00, 0xfe};
        const Bytes& src = outbound ? host : router;
        h.insert(h.end(), nat.begin(), nat.end());
        h.insert(h.end(), src.begin(), src.end());
        h.insert(h.end(), {0x08, 0x00});
        break;
    }
    case DLT_LINUX_SLL:
        h.assign(16, 0);
        put16(h, 0, outbound ? 4 : 0);  // PACKET_OUTGOING / PACKET_HOST
        put16(h, 2, 1);                 // ARPHRD_ETHER
        put16(h, 4, 6);
        h[6] = 0x02, h[11] = outbound ? 0x10 : 0xfe;
        put16(h, 14, 0x0800);
        break;
    case DLT_LINUX_SLL2:
        h.assign(20, 0);
        put16(h, 0, 0x0800);
        put32(h, 4, outbound ? 2 : 3);  // interface index: 2 inside, 3 outside
        put16(h, 8, 1);                 // ARPHRD_ETHER
        h[10] = outbound ? 4 : 0;       // packet type
        h[11] = 6;
        h[12] = 0x02, h[17] = outbound ? 0x10 : 0xfe;
        break;
    case DLT_NULL: {
        const uint32_t af_inet = 2;  // host byte order, as BSD loopback captures store it
        h.resize(4);
        std::memcpy(h.data(), &af_inet, 4);
        break;
    }
    default:  // DLT_RAW: the IP header comes first
        break;
    }
    return h;
}

int usage() {
    std::fprintf(stderr, "usage: make_sample [--linktype en10mb|raw|sll|sll2|null] [--fragments] OUTPUT.pcap\n");
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    int dlt = kDltEthernet;
    bool fragments = false;
    const char* output = nullptr;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--linktype" && i + 1 < argc) {
            const std::string_view name = argv[++i];
            if (name == "en10mb") dlt = DLT_EN10MB;
            else if (name == "raw") dlt = DLT_RAW;
            else if (name == "sll") dlt = DLT_LINUX_SLL;
            else if (name == "sll2") dlt = DLT_LINUX_SLL2;
            else if (name == "null") dlt = DLT_NULL;
            else return usage();
        } else if (arg == "--fragments") {
            fragments = true;
        } else if (!output && !arg.starts_with("-")) {
            output = argv[i];
        } else {
            return usage();
        }
    }
    if (!output) return usage();

    pcap_t* dead = pcap_open_dead(dlt, 65535);
    pcap_dumper_t* dumper = dead ? pcap_dump_open(dead, output) : nullptr;
    if (!dumper) {
        std::fprintf(stderr, "make_sample: cannot write %s: %s\n", output, dead ? pcap_geterr(dead) : "pcap_open_dead");
        return 3;
    }
    std::vector<Frame> flows = build_flows();
    if (fragments) add_fragmented_reply(flows);
    for (const Frame& fr : flows) {
        Bytes frame = link_header(dlt, fr.outbound);
        frame.insert(frame.end(), fr.ip.begin(), fr.ip.end());
        pcap_pkthdr hdr{};
        const long micros = static_cast<long>(fr.t * 1e6 + 0.5);
        hdr.ts.tv_sec = kCaptureEpoch + micros / 1000000;
        hdr.ts.tv_usec = micros % 1000000;
        hdr.caplen = hdr.len = static_cast<bpf_u_int32>(frame.size());
        pcap_dump(reinterpret_cast<u_char*>(dumper), &hdr, frame.data());
    }
    pcap_dump_close(dumper);
    pcap_close(dead);
    return 0;
}
