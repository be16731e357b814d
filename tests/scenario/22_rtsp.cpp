// SPDX-License-Identifier: BSD-2-Clause
// RTSP SETUP/200 Transport ports and RealNetworks PNA: the ports rewritten
// to an even-aligned alias pair, the media streams translated, and
// oversized or malformed requests refused without touching the packet.
#include <catch2/catch.hpp>

#include "packet.hpp"

#include <cstdio>

using namespace test;

namespace {

constexpr uint16_t kClientPort = 42000;
constexpr uint32_t kIsn = 3000;
constexpr uint32_t kServerIsn = 8000;

struct RtspNat : Nat {
    explicit RtspNat(bool same_ports)
        : Nat(masq, same_ports ? PKT_ALIAS_SAME_PORTS : 0u, PKT_ALIAS_SAME_PORTS | PKT_ALIAS_USE_SOCKETS) {}
};

// Returns the client's alias port.
uint16_t connect_client(Nat& nat, uint16_t server_port) {
    Packet syn = tcp_packet(prv1, kClientPort, ext, server_port, kSyn, kIsn);
    REQUIRE(nat.out(syn) == PKT_ALIAS_OK);
    Packet synack = tcp_packet(ext, server_port, masq, syn.sport(), kSyn | kAck, kServerIsn, kIsn + 1);
    REQUIRE(nat.in(synack) == PKT_ALIAS_OK);
    REQUIRE(synack.dport() == kClientPort);
    return syn.sport();
}

std::string setup(const std::string& transport) {
    return "SETUP rtsp://media.example.com/movie/trackID=1 RTSP/1.0\r\n"
           "CSeq: 3\r\n"
           "User-Agent: LibVLC/3.0.18\r\n"
           "Transport: " + transport + "\r\n"
           "\r\n";
}

Packet client_request(const std::string& text, uint16_t server_port = 554, uint32_t seq = kIsn + 1) {
    return tcp_packet(prv1, kClientPort, ext, server_port, kAck | kPsh, seq, kServerIsn + 1, text);
}

// The first "name=a-b" in the text.
bool port_pair(const std::string& text, const std::string& name, unsigned& a, unsigned& b) {
    const std::size_t at = text.find(name + "=");
    return at != std::string::npos && std::sscanf(text.c_str() + at + name.size() + 1, "%u-%u", &a, &b) == 2;
}

// A UDP datagram from ext:6970 to masq:port must reach prv1:expected.
void require_stream_reaches(Nat& nat, unsigned alias_port, in_addr inside, unsigned expected) {
    Packet rtp = udp_packet(ext, 6970, masq, static_cast<uint16_t>(alias_port), "rtp");
    REQUIRE(nat.in(rtp) == PKT_ALIAS_OK);
    CHECK(rtp.dst().s_addr == inside.s_addr);
    CHECK(rtp.dport() == expected);
    CHECK(checksums_ok(rtp));
}

}  // namespace

TEST_CASE("rtsp SETUP client_port becomes an even alias pair with both streams translated", "[rtsp]") {
    const uint16_t server_port = GENERATE(uint16_t{554}, uint16_t{7070}, uint16_t{8554});
    RtspNat nat(false);
    connect_client(nat, server_port);
    const std::string req = setup("RTP/AVP;unicast;client_port=8000-8001");
    Packet p = client_request(req, server_port);
    REQUIRE(nat.out(p) == PKT_ALIAS_OK);
    CHECK(checksums_ok(p));
    unsigned a = 0, b = 0;
    REQUIRE(port_pair(p.payload(), "client_port", a, b));
    CHECK(a % 2 == 0);
    CHECK(b == a + 1);
    CHECK(a >= 0x8000);
    CHECK(p.payload() == setup("RTP/AVP;unicast;client_port=" + std::to_string(a) + "-" + std::to_string(b)));
    require_stream_reaches(nat, a, prv1, 8000);
    require_stream_reaches(nat, b, prv1, 8001);
}

TEST_CASE("rtsp SETUP with SAME_PORTS keeps a free even pair", "[rtsp]") {
    RtspNat nat(true);
    connect_client(nat, 554);
    const std::string req = setup("RTP/AVP;unicast;client_port=8002-8003;mode=play");
    Packet p = client_request(req);
    REQUIRE(nat.out(p) == PKT_ALIAS_OK);
    CHECK(p.payload() == req);  // same ports, same text
    CHECK(checksums_ok(p));
    require_stream_reaches(nat, 8002, prv1, 8002);
    require_stream_reaches(nat, 8003, prv1, 8003);
}

TEST_CASE("rtsp odd client port and several transports", "[rtsp]") {
    RtspNat nat(true);
    connect_client(nat, 554);
    const std::string req = setup("RTP/AVP;unicast;client_port=9001-9002,RTP/AVP/TCP;interleaved=0-1,"
                                  "RTP/AVP;unicast;client_port=9001-9002");
    Packet p = client_request(req);
    REQUIRE(nat.out(p) == PKT_ALIAS_OK);
    CHECK(checksums_ok(p));
    unsigned a = 0, b = 0;
    REQUIRE(port_pair(p.payload(), "client_port", a, b));
    CHECK(a % 2 == 0);  // 9001 is odd: an aligned pair is drawn instead
    CHECK(b == a + 1);
    const std::string pair = std::to_string(a) + "-" + std::to_string(b);
    CHECK(p.payload() == setup("RTP/AVP;unicast;client_port=" + pair + ",RTP/AVP/TCP;interleaved=0-1,"
                               "RTP/AVP;unicast;client_port=" + pair));
    require_stream_reaches(nat, a, prv1, 9001);
    require_stream_reaches(nat, b, prv1, 9002);
}

TEST_CASE("rtsp rewrite keeps seq and ack consistent across a retransmission", "[rtsp]") {
    RtspNat nat(false);
    const uint16_t alias_port = connect_client(nat, 554);
    const std::string req = setup("RTP/AVP;unicast;client_port=8000-8001");
    const uint32_t seq0 = kIsn + 1;
    Packet p = client_request(req, 554, seq0);
    REQUIRE(nat.out(p) == PKT_ALIAS_OK);
    const std::string rewritten = p.payload();
    const int delta = static_cast<int>(rewritten.size()) - static_cast<int>(req.size());
    REQUIRE(delta == 2);  // "8000-8001" -> "3xxxx-3xxxx" (alias ports have five digits)

    uint32_t seq = seq0 + static_cast<uint32_t>(req.size());
    const std::string play = "PLAY rtsp://media.example.com/movie RTSP/1.0\r\nCSeq: 4\r\n\r\n";
    for (int i = 0; i < 3; ++i) {
        Packet n = client_request(play, 554, seq);
        REQUIRE(nat.out(n) == PKT_ALIAS_OK);
        CHECK(n.tcp_seq() == seq + static_cast<uint32_t>(delta));
        CHECK(n.payload() == play);
        CHECK(checksums_ok(n));
        Packet a = tcp_packet(ext, 554, masq, alias_port, kAck, kServerIsn + 1,
                              n.tcp_seq() + static_cast<uint32_t>(play.size()));
        REQUIRE(nat.in(a) == PKT_ALIAS_OK);
        CHECK(a.dport() == kClientPort);
        CHECK(a.tcp_ack() == seq + play.size());
        CHECK(checksums_ok(a));
        seq += static_cast<uint32_t>(play.size());
    }
    Packet again = client_request(req, 554, seq0);
    REQUIRE(nat.out(again) == PKT_ALIAS_OK);
    CHECK(again.payload() == rewritten);
    CHECK(again.tcp_seq() == seq0);
}

TEST_CASE("rtsp server behind the NAT: server_port in the 200 reply", "[rtsp]") {
    RtspNat nat(false);
    REQUIRE(LibAliasRedirectPort(nat.la, prv1, htons(554), any_addr, 0, masq, htons(554), IPPROTO_TCP) != nullptr);
    Packet syn = tcp_packet(ext, 51000, masq, 554, kSyn, 10);
    REQUIRE(nat.in(syn) == PKT_ALIAS_OK);
    REQUIRE(syn.dst().s_addr == prv1.s_addr);
    const std::string reply = "RTSP/1.0 200 OK\r\nCSeq: 3\r\nSession: 12345678\r\n"
                              "Transport: RTP/AVP;unicast;client_port=8000-8001;server_port=6970-6971\r\n\r\n";
    Packet r = tcp_packet(prv1, 554, ext, 51000, kAck | kPsh, 500, 11, reply);
    REQUIRE(nat.out(r) == PKT_ALIAS_OK);
    CHECK(checksums_ok(r));
    unsigned a = 0, b = 0, c1 = 0, c2 = 0;
    REQUIRE(port_pair(r.payload(), "server_port", a, b));
    REQUIRE(port_pair(r.payload(), "client_port", c1, c2));
    CHECK(c1 == 8000);  // the outside client's ports are its own business
    CHECK(a % 2 == 0);
    CHECK(b == a + 1);
    // The client's RTCP to the server's announced port reaches the server.
    Packet rtcp = udp_packet(ext, 8001, masq, static_cast<uint16_t>(b), "rtcp");
    REQUIRE(nat.in(rtcp) == PKT_ALIAS_OK);
    CHECK(rtcp.dst().s_addr == prv1.s_addr);
    CHECK(rtcp.dport() == 6971);
    // And the server's RTP leaves from the alias port it announced.
    Packet rtp = udp_packet(prv1, 6970, ext, 8000, "rtp");
    REQUIRE(nat.out(rtp) == PKT_ALIAS_OK);
    CHECK(rtp.sport() == a);
    CHECK(rtp.src().s_addr == masq.s_addr);
}

TEST_CASE("rtsp malformed or oversized SETUP passes untouched", "[rtsp][malformed]") {
    const std::string bad = GENERATE(as<std::string>{},
        setup("RTP/AVP;unicast;client_port=80a0-8001"),           // garbage in the port
        setup("RTP/AVP;unicast;client_port=8000-9000"),           // not a pair
        setup("RTP/AVP;unicast;client_port=99999-100000"),        // out of range
        setup("RTP/AVP;unicast;client_port=0"),                   // zero
        setup("RTP/AVP;unicast;client_port=65535"),               // no room for RTCP
        setup("RTP/AVP;unicast;client_port=-8001"),
        setup("RTP/AVP;unicast;client_port=8000-8001x"),          // junk after the pair
        setup("RTP/AVP;unicast;client_port=00000000000000008000"),// overlong number
        setup("RTP/AVP;unicast;client_port=8000-8001;" + std::string(1100, 'a')),  // very long line
        setup("RTP/AVP;unicast;x" + std::string(1200, ';') + "client_port=8000-8001"),
        setup([] {
            std::string t = "RTP/AVP";  // more port parameters than any client sends
            for (int i = 0; i < 9; ++i) t += ";client_port=" + std::to_string(8000 + 2 * i) + "-" + std::to_string(8001 + 2 * i);
            return t;
        }()),
        std::string("SETUP rtsp://x RTSP/1.0\r\nCSeq: 3\r\nTransport: RTP/AVP;unicast;client_port=8000-8001"),  // no CRLF
        std::string("SETUP rtsp://x RTSP/1.0\r\nCSeq: 3\r\nTransport: RTP/AVP;unicast;client_port=8000-"),
        std::string("SETUP ") + std::string(1300, 'A'),          // one huge line, no CRLF
        std::string("SETUP rtsp://x RTSP/1.0\r\n\r\nTransport: RTP/AVP;client_port=8000-8001\r\n\r\n"),  // body, not header
        std::string("SETUP rtsp://x RTSP/1.0\r\nX-Transport: RTP/AVP;client_port=8000-8001\r\n\r\n"),
        std::string("SETUP\0\0\0\0\0\0Transport:\0client_port=8000", 38));
    RtspNat nat(false);
    connect_client(nat, 554);
    Packet p = client_request(bad);
    REQUIRE(nat.out(p) == PKT_ALIAS_OK);
    CHECK(p.payload() == bad);
    CHECK(checksums_ok(p));
    Packet next = client_request("OPTIONS * RTSP/1.0\r\nCSeq: 9\r\n\r\n", 554, kIsn + 1 + static_cast<uint32_t>(bad.size()));
    REQUIRE(nat.out(next) == PKT_ALIAS_OK);
    CHECK(next.tcp_seq() == kIsn + 1 + bad.size());
}

TEST_CASE("rtsp rewrite refused beyond maxpacketsize", "[rtsp][limits]") {
    const std::string req = setup("RTP/AVP;unicast;client_port=8000-8001");
    const std::size_t grown = 40 + req.size() + 2;
    RtspNat nat(false);
    connect_client(nat, 554);
    Packet p = client_request(req);
    REQUIRE(LibAliasOut(nat.la, p.data(), static_cast<int>(grown - 1)) == PKT_ALIAS_OK);
    CHECK(p.payload() == req);
    CHECK(checksums_ok(p));
    Packet q = client_request(req);
    REQUIRE(LibAliasOut(nat.la, q.data(), static_cast<int>(grown)) == PKT_ALIAS_OK);
    CHECK(q.len() == grown);
    CHECK(q.payload() != req);
    CHECK(checksums_ok(q));
}

namespace {

// "PNA" + version 10, then options (id, length, value), then the end option.
std::string pna_request(std::initializer_list<std::pair<uint16_t, std::string>> options, bool end = true) {
    std::string s = "PNA";
    s += std::string("\x00\x0a", 2);
    for (const auto& [id, value] : options) {
        s += static_cast<char>(id >> 8);
        s += static_cast<char>(id & 0xff);
        s += static_cast<char>(value.size() >> 8);
        s += static_cast<char>(value.size() & 0xff);
        s += value;
    }
    if (end) s += std::string(4, '\0');
    return s;
}

std::string be16(uint16_t v) { return {static_cast<char>(v >> 8), static_cast<char>(v & 0xff)}; }

}  // namespace

TEST_CASE("pna UDP port option is rewritten in place and the stream translated", "[rtsp][pna]") {
    RtspNat nat(false);
    connect_client(nat, 7070);
    const std::string req = pna_request({{3, "abc"}, {1, be16(6970)}, {9, "xy"}});
    Packet p = client_request(req, 7070);
    REQUIRE(nat.out(p) == PKT_ALIAS_OK);
    CHECK(checksums_ok(p));
    const std::string out = p.payload();
    REQUIRE(out.size() == req.size());
    const std::size_t port_at = 5 + 4 + 3 + 4;
    const unsigned alias_port = (static_cast<uint8_t>(out[port_at]) << 8) | static_cast<uint8_t>(out[port_at + 1]);
    CHECK(alias_port >= 0x8000);
    CHECK(out.substr(0, port_at) == req.substr(0, port_at));
    CHECK(out.substr(port_at + 2) == req.substr(port_at + 2));
    Packet audio = udp_packet(ext, 7000, masq, static_cast<uint16_t>(alias_port), "audio");
    REQUIRE(nat.in(audio) == PKT_ALIAS_OK);
    CHECK(audio.dst().s_addr == prv1.s_addr);
    CHECK(audio.dport() == 6970);
}

TEST_CASE("pna truncated or lying options never overrun", "[rtsp][pna][malformed]") {
    const std::string bad = GENERATE(as<std::string>{},
        std::string("PNA"),
        std::string("PNA\x00\x0a\x00\x01", 7),                        // header cut
        std::string("PNA\x00\x0a\x00\x01\x00\x02\x1b", 10),           // value cut
        std::string("PNA\x00\x0a\x00\x01\x00\x01\x1b\x3a", 11),       // length 1 for a port
        std::string("PNA\x00\x0a\x00\x03\xff\xff", 9) + "abc",         // length beyond the payload
        std::string("PNA\x00\x0a", 5) + std::string(1000, '\x05'));
    RtspNat nat(false);
    connect_client(nat, 7070);
    Packet p = client_request(bad, 7070);
    REQUIRE(nat.out(p) == PKT_ALIAS_OK);
    CHECK(p.payload() == bad);
    CHECK(checksums_ok(p));
}

TEST_CASE("rtsp and pna random mutations never break the packet", "[rtsp][malformed]") {
    const std::vector<std::string> seeds = {
        setup("RTP/AVP;unicast;client_port=8000-8001"),
        setup("RTP/AVP;unicast;client_port=9001-9002,RTP/AVP;unicast;client_port=9004"),
        "RTSP/1.0 200 OK\r\nCSeq: 3\r\nTransport: RTP/AVP;unicast;client_port=8000-8001;server_port=6970-6971\r\n\r\n",
        pna_request({{3, "abc"}, {1, be16(6970)}, {7, be16(6972)}})};
    XorShift64 next{0x853c49e6748fea9bull};
    static const char kSpecial[] = ";,-=0123456789\r\n: ";
    RtspNat nat(false);
    connect_client(nat, 7070);
    REQUIRE(LibAliasRedirectPort(nat.la, prv2, htons(554), any_addr, 0, masq, htons(554), IPPROTO_TCP) != nullptr);
    for (int i = 0; i < 4000; ++i) {
        const std::size_t which = next() % seeds.size();
        std::string s = seeds[which];
        for (int k = 1 + static_cast<int>(next() % 4); k > 0 && !s.empty(); --k) {
            const std::size_t at = next() % s.size();
            switch (next() % 4) {
            case 0: s[at] = static_cast<char>(next()); break;
            case 1: s[at] = kSpecial[next() % (sizeof kSpecial - 1)]; break;
            case 2: s.resize(at); break;
            case 3: s.insert(at, s.substr(at, next() % 60)); break;
            }
        }
        const std::size_t room = 40 + s.size() + next() % 8;
        Packet p = which == 2 ? tcp_packet(prv2, 554, ext, 51000, kAck | kPsh, 500, 11, s, room)
                              : tcp_packet(prv1, kClientPort, ext, 7070, kAck | kPsh, kIsn + 1, kServerIsn + 1, s, room);
        CHECK(LibAliasOut(nat.la, p.data(), static_cast<int>(room)) == PKT_ALIAS_OK);
        CHECK(checksums_ok(p));
        CHECK(p.len() <= room);
    }
}
