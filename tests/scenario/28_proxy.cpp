// SPDX-License-Identifier: BSD-2-Clause
// Transparent-proxy rules (LibAliasProxyRule): the rule syntax, matching
// and order, the redirect both ways, and the two encodings of the original
// destination ([DEST ...] in the TCP stream, IP option 0x64).
#include <catch2/catch.hpp>

#include "packet.hpp"

#include <string>

using namespace test;

namespace {

const in_addr proxy_server = addr("10.0.0.9");

// An established proxied TCP flow prv1:40000 -> ext:80 through `nat`;
// returns the alias port.
uint16_t open_proxied_tcp(Nat& nat, uint32_t client_isn = 1000, uint32_t server_isn = 5000) {
    Packet syn = tcp_packet(prv1, 40000, ext, 80, kSyn, client_isn);
    REQUIRE(nat.out(syn) == PKT_ALIAS_OK);
    REQUIRE(syn.dst().s_addr == proxy_server.s_addr);
    REQUIRE(syn.payload().empty());  // the SYN carries no [DEST] line
    Packet synack = tcp_packet(proxy_server, 3128, masq, syn.sport(), kSyn | kAck, server_isn, client_isn + 1);
    REQUIRE(nat.in(synack) == PKT_ALIAS_OK);
    return syn.sport();
}

bool proxied(Nat& nat, in_addr src, in_addr dst, uint16_t dport, in_addr server, bool udp = false) {
    Packet p = udp ? udp_packet(src, 41000, dst, dport, "x") : tcp_packet(src, 41000, dst, dport, kSyn);
    if (nat.out(p) != PKT_ALIAS_OK) return false;
    return p.dst().s_addr == server.s_addr;
}

}  // namespace

TEST_CASE("proxy rule: accepted syntax", "[proxy]") {
    Nat nat;
    CHECK(LibAliasProxyRule(nat.la, "server 10.0.0.9") == 0);
    CHECK(LibAliasProxyRule(nat.la, "type encode_ip_hdr port 80 server 10.0.0.9:3128") == 0);
    CHECK(LibAliasProxyRule(nat.la, "  TYPE Encode_TCP_Stream\tport 8080 server 10.0.0.9:8080 rule 7") == 0);
    CHECK(LibAliasProxyRule(nat.la, "proto udp port 53 server 10.0.0.9 src 10.0.0.0/8 dst 12.20.30.0/24") == 0);
    CHECK(LibAliasProxyRule(nat.la, "type no_encode port http server 10.0.0.9:3128") == 0);  // /etc/services name
    CHECK(LibAliasProxyRule(nat.la, "server 10.0.0.9 port 80   ") == 0);
    CHECK(LibAliasProxyRule(nat.la, "delete 7") == 0);
    // libalias answers 0 even when no rule has that number.
    CHECK(LibAliasProxyRule(nat.la, "delete 4242") == 0);
}

TEST_CASE("proxy rule: malformed rules fail and change nothing", "[proxy]") {
    Nat nat;
    const std::string too_long = "server 10.0.0.9 port 80 " + std::string(240, ' ') + "rule 1";
    const char* bad[] = {
        "",
        "   ",
        "port 80",                                   // no server
        "server",                                    // keyword without value
        "server 10.0.0.9 port",                      // dangling keyword
        "server 10.0.0.9 type",
        "server 0.0.0.0",                            // server address must be set
        "server 10.0.0.300",
        "server 10.0.0.9:",                          // port missing after ':'
        "server :80",
        "server 10.0.0.9:99999",
        "server 10.0.0.9:nosuchservice",
        "server 10.0.0.9 port 65536",
        "server 10.0.0.9 port -1",
        "server 10.0.0.9 port 80abc",
        "server 10.0.0.9 port nosuchservice",
        "server 10.0.0.9 type encode_everything",
        "server 10.0.0.9 proto icmp",
        "server 10.0.0.9 rule -3",
        "server 10.0.0.9 rule x",
        "server 10.0.0.9 src 10.0.0.0/33",
        "server 10.0.0.9 src 10.0.0.0/",
        "server 10.0.0.9 dst bogus/8",
        "server 10.0.0.9 dst 12.20.30.40/-1",
        "server 10.0.0.9 colour blue",
        "port 80 delete 1",                          // delete must come alone
        "delete",
        "delete x",
        "delete 1 port 80",
        too_long.c_str(),
    };
    for (const char* cmd : bad) {
        INFO("rule: '" << cmd << "'");
        CHECK(LibAliasProxyRule(nat.la, cmd) == -1);
    }
    CHECK(LibAliasProxyRule(nat.la, nullptr) == -1);
    CHECK(LibAliasProxyRule(nullptr, "server 10.0.0.9") == -1);
    // Nothing was added: a flow to any port goes to its own destination.
    for (uint16_t port : {80, 443, 8080}) CHECK_FALSE(proxied(nat, prv1, ext, port, proxy_server));
}

TEST_CASE("proxy rule: line ends and other whitespace separate tokens, as in libalias", "[proxy]") {
    // natd and ipfw may pass a rule still ending in "\n" or "\r\n";
    // libalias reads each value with sscanf, which stops at whitespace.
    Nat nat;
    CHECK(LibAliasProxyRule(nat.la, "port 80 server 10.0.0.9:3128\n") == 0);
    CHECK(LibAliasProxyRule(nat.la, "port 8080\tserver 10.0.0.9:3128 rule 3\r\n") == 0);
    CHECK(LibAliasProxyRule(nat.la, "\r\n server 10.0.0.9\r\nproto udp\n") == 0);

    Packet web = tcp_packet(prv1, 40000, ext, 80, kSyn);
    REQUIRE(nat.out(web) == PKT_ALIAS_OK);
    CHECK(web.src().s_addr == masq.s_addr);
    CHECK(web.dst().s_addr == proxy_server.s_addr);
    CHECK(web.dport() == 3128);
    CHECK(checksums_ok(web));
    Packet alt = tcp_packet(prv1, 40001, ext, 8080, kSyn);
    REQUIRE(nat.out(alt) == PKT_ALIAS_OK);
    CHECK(alt.dst().s_addr == proxy_server.s_addr);
    CHECK(alt.dport() == 3128);
    Packet dns = udp_packet(prv1, 40002, ext, 53, "q");
    REQUIRE(nat.out(dns) == PKT_ALIAS_OK);
    CHECK(dns.dst().s_addr == proxy_server.s_addr);
    CHECK(dns.dport() == 53);  // no server port: the destination port is kept
    CHECK(checksums_ok(dns));

    CHECK(LibAliasProxyRule(nat.la, "delete 3\r\n") == 0);
    CHECK_FALSE(proxied(nat, prv2, ext, 8080, proxy_server));
    CHECK(proxied(nat, prv2, ext, 80, proxy_server));

    // Whitespace is a separator, never a licence for junk.
    const char* bad[] = {
        "server 10.0.0.9 rule 7abc\n",
        "server 10.0.0.9:3128x\r\n",
        "port 80\nserver 10.0.0.9 colour\n",
        "delete 3\n4",
        "\r\n\t \n",
    };
    for (const char* cmd : bad) {
        INFO("rule: '" << cmd << "'");
        CHECK(LibAliasProxyRule(nat.la, cmd) == -1);
    }
    CHECK(proxied(nat, prv3, ext, 80, proxy_server));
    CHECK_FALSE(proxied(nat, prv3, ext, 8080, proxy_server));
}

TEST_CASE("proxy: no_encode redirects to the server and replies come back from the original destination",
          "[proxy]") {
    Nat nat;
    REQUIRE(LibAliasProxyRule(nat.la, "type no_encode port 80 server 10.0.0.9:3128") == 0);
    Packet syn = tcp_packet(prv1, 40000, ext, 80, kSyn, 1000);
    REQUIRE(nat.out(syn) == PKT_ALIAS_OK);
    CHECK(syn.src().s_addr == masq.s_addr);
    CHECK(syn.dst().s_addr == proxy_server.s_addr);
    CHECK(syn.dport() == 3128);
    CHECK(syn.hl() == 20);
    CHECK(checksums_ok(syn));

    Packet synack = tcp_packet(proxy_server, 3128, masq, syn.sport(), kSyn | kAck, 5000, 1001);
    REQUIRE(nat.in(synack) == PKT_ALIAS_OK);
    CHECK(synack.src().s_addr == ext.s_addr);
    CHECK(synack.sport() == 80);
    CHECK(synack.dst().s_addr == prv1.s_addr);
    CHECK(synack.dport() == 40000);
    CHECK(checksums_ok(synack));

    // Other ports are not proxied.
    Packet other = tcp_packet(prv1, 40001, ext, 443, kSyn);
    REQUIRE(nat.out(other) == PKT_ALIAS_OK);
    CHECK(other.dst().s_addr == ext.s_addr);
    CHECK(other.dport() == 443);
}

TEST_CASE("proxy: server without port keeps the destination port", "[proxy]") {
    Nat nat;
    REQUIRE(LibAliasProxyRule(nat.la, "server 10.0.0.9") == 0);  // port 0 = every port
    Packet p = tcp_packet(prv1, 40000, ext, 8443, kSyn);
    REQUIRE(nat.out(p) == PKT_ALIAS_OK);
    CHECK(p.dst().s_addr == proxy_server.s_addr);
    CHECK(p.dport() == 8443);
    CHECK(checksums_ok(p));
}

TEST_CASE("proxy: encode_tcp_stream prepends [DEST] once, on the first data segment, with seq/ack deltas",
          "[proxy]") {
    Nat nat;
    REQUIRE(LibAliasProxyRule(nat.la, "type encode_tcp_stream port 80 server 10.0.0.9:3128") == 0);
    const uint16_t aport = open_proxied_tcp(nat);

    // Pure ACK: no data, no line.
    Packet ack = tcp_packet(prv1, 40000, ext, 80, kAck, 1001, 5001);
    REQUIRE(nat.out(ack) == PKT_ALIAS_OK);
    CHECK(ack.payload().empty());

    const std::string request = "GET / HTTP/1.0\r\n\r\n";
    // "[DEST 12.20.30.40 80]" is 21 bytes: padded with "\n" to an even 22.
    const std::string line = "[DEST 12.20.30.40 80]\n";
    Packet first = tcp_packet(prv1, 40000, ext, 80, kAck | kPsh, 1001, 5001, request);
    REQUIRE(nat.out(first) == PKT_ALIAS_OK);
    CHECK(first.payload() == line + request);
    CHECK(first.tcp_seq() == 1001);
    CHECK(first.len() == 20 + 20 + line.size() + request.size());
    CHECK(first.dst().s_addr == proxy_server.s_addr);
    CHECK(checksums_ok(first));

    // A retransmission of that segment carries the same line (libalias
    // would send it bare and break the stream).
    Packet again = tcp_packet(prv1, 40000, ext, 80, kAck | kPsh, 1001, 5001, request);
    REQUIRE(nat.out(again) == PKT_ALIAS_OK);
    CHECK(again.payload() == line + request);
    CHECK(checksums_ok(again));

    // Later data is not prefixed, and its sequence number moves by the line.
    const uint32_t next_seq = 1001 + static_cast<uint32_t>(request.size());
    Packet second = tcp_packet(prv1, 40000, ext, 80, kAck | kPsh, next_seq, 5001, "more");
    REQUIRE(nat.out(second) == PKT_ALIAS_OK);
    CHECK(second.payload() == "more");
    CHECK(second.tcp_seq() == next_seq + line.size());
    CHECK(checksums_ok(second));

    // The server acknowledges the grown stream; the client sees its own numbers.
    const uint32_t server_ack = next_seq + static_cast<uint32_t>(line.size()) + 4;
    Packet reply = tcp_packet(proxy_server, 3128, masq, aport, kAck, 5001, server_ack, "HTTP/1.0 200 OK\r\n");
    REQUIRE(nat.in(reply) == PKT_ALIAS_OK);
    CHECK(reply.tcp_ack() == next_seq + 4);
    CHECK(reply.src().s_addr == ext.s_addr);
    CHECK(reply.sport() == 80);
    CHECK(reply.dst().s_addr == prv1.s_addr);
    CHECK(checksums_ok(reply));
}

TEST_CASE("proxy: encode_tcp_stream pads an even-length line with a space", "[proxy]") {
    Nat nat;
    REQUIRE(LibAliasProxyRule(nat.la, "type encode_tcp_stream port 443 server 10.0.0.9") == 0);
    Packet syn = tcp_packet(prv1, 40000, ext2, 443, kSyn, 1000);
    REQUIRE(nat.out(syn) == PKT_ALIAS_OK);
    Packet data = tcp_packet(prv1, 40000, ext2, 443, kAck, 1001, 1, "x");
    REQUIRE(nat.out(data) == PKT_ALIAS_OK);
    // "[DEST 12.20.30.41 443]" is 22 bytes: " \n" makes 24.
    CHECK(data.payload() == "[DEST 12.20.30.41 443] \nx");
    CHECK(data.len() == 20 + 20 + 24 + 1);
    CHECK(checksums_ok(data));
}

TEST_CASE("proxy: encode_tcp_stream leaves a segment alone when the line does not fit", "[proxy]") {
    Nat nat;
    REQUIRE(LibAliasProxyRule(nat.la, "type encode_tcp_stream port 80 server 10.0.0.9") == 0);
    Packet syn = tcp_packet(prv1, 40000, ext, 80, kSyn, 1000);
    REQUIRE(nat.out(syn) == PKT_ALIAS_OK);
    Packet tight = tcp_packet(prv1, 40000, ext, 80, kAck, 1001, 1, "abc");
    REQUIRE(LibAliasOut(nat.la, tight.data(), static_cast<int>(tight.len())) == PKT_ALIAS_OK);
    CHECK(tight.payload() == "abc");
    CHECK(tight.dst().s_addr == proxy_server.s_addr);
    CHECK(checksums_ok(tight));
}

TEST_CASE("proxy: encode_ip_hdr inserts option 0x64 with the original destination", "[proxy]") {
    Nat nat;
    REQUIRE(LibAliasProxyRule(nat.la, "type encode_ip_hdr port 80 server 10.0.0.9:3128") == 0);
    Packet p = tcp_packet(prv1, 40000, ext, 80, kAck | kPsh, 1001, 1, "GET /");
    const std::size_t old_len = p.len();
    REQUIRE(nat.out(p) == PKT_ALIAS_OK);
    REQUIRE(p.hl() == 28);
    CHECK(p.len() == old_len + 8);
    CHECK(p.buf[20] == 0x64);
    CHECK(p.buf[21] == 8);
    CHECK(p.be32(22) == ntohl(ext.s_addr));
    CHECK(p.be16(26) == 80);
    CHECK(p.src().s_addr == masq.s_addr);
    CHECK(p.dst().s_addr == proxy_server.s_addr);
    CHECK(p.dport() == 3128);
    CHECK(p.sport() == 40000);
    CHECK(p.payload() == "GET /");
    CHECK(checksums_ok(p));

    // Replies (without the option) come back from the original destination.
    Packet reply = tcp_packet(proxy_server, 3128, masq, p.sport(), kAck, 1, 1006, "200");
    REQUIRE(nat.in(reply) == PKT_ALIAS_OK);
    CHECK(reply.src().s_addr == ext.s_addr);
    CHECK(reply.sport() == 80);
    CHECK(reply.dst().s_addr == prv1.s_addr);
    CHECK(checksums_ok(reply));
}

TEST_CASE("proxy: encode_ip_hdr works for UDP", "[proxy]") {
    Nat nat;
    REQUIRE(LibAliasProxyRule(nat.la, "type encode_ip_hdr proto udp port 53 server 10.0.0.9:5353") == 0);
    Packet p = udp_packet(prv1, 1234, ext, 53, "query");
    REQUIRE(nat.out(p) == PKT_ALIAS_OK);
    REQUIRE(p.hl() == 28);
    CHECK(p.buf[20] == 0x64);
    CHECK(p.be32(22) == ntohl(ext.s_addr));
    CHECK(p.be16(26) == 53);
    CHECK(p.dport() == 5353);
    CHECK(p.payload() == "query");
    CHECK(checksums_ok(p));
    Packet reply = udp_packet(proxy_server, 5353, masq, p.sport(), "answer");
    REQUIRE(nat.in(reply) == PKT_ALIAS_OK);
    CHECK(reply.src().s_addr == ext.s_addr);
    CHECK(reply.sport() == 53);
    CHECK(reply.dst().s_addr == prv1.s_addr);
    CHECK(reply.dport() == 1234);
    CHECK(checksums_ok(reply));
}

TEST_CASE("proxy: encode_ip_hdr refuses to grow past maxpacketsize or a 60-byte header", "[proxy]") {
    Nat nat;
    REQUIRE(LibAliasProxyRule(nat.la, "type encode_ip_hdr port 80 server 10.0.0.9") == 0);
    SECTION("no room in the buffer") {
        Packet p = tcp_packet(prv1, 40000, ext, 80, kSyn);
        const int exact = static_cast<int>(p.len());
        REQUIRE(LibAliasOut(nat.la, p.data(), exact) == PKT_ALIAS_OK);
        CHECK(p.hl() == 20);
        CHECK(p.len() == static_cast<std::size_t>(exact));
        CHECK(p.dst().s_addr == proxy_server.s_addr);  // still redirected, as libalias does
        CHECK(checksums_ok(p));
    }
    SECTION("header already has 36 bytes of options") {
        // 20 + 36 = 56: another 8 would exceed the 60-byte maximum.
        Packet p(1500);
        p.buf[0] = 0x4e;
        p.put16(2, 56 + 20);
        p.buf[8] = 64;
        p.buf[9] = IPPROTO_TCP;
        p.set_src(prv1);
        p.set_dst(ext);
        for (int i = 20; i < 56; ++i) p.buf[static_cast<std::size_t>(i)] = 1;  // NOPs
        p.put16(56, 40000);
        p.put16(58, 80);
        p.buf[68] = 5 << 4;
        p.buf[69] = kSyn;
        fix_checksums(p);
        REQUIRE(nat.out(p) == PKT_ALIAS_OK);
        CHECK(p.hl() == 56);
        CHECK(p.len() == 76);
        CHECK(p.dst().s_addr == proxy_server.s_addr);
        CHECK(checksums_ok(p));
    }
}

TEST_CASE("proxy: rules are tried by rule number and delete removes a number", "[proxy]") {
    Nat nat;
    const in_addr server_a = addr("10.0.0.20"), server_b = addr("10.0.0.21");
    REQUIRE(LibAliasProxyRule(nat.la, "port 80 server 10.0.0.20 rule 10") == 0);
    REQUIRE(LibAliasProxyRule(nat.la, "port 80 server 10.0.0.21 rule 5") == 0);
    CHECK(proxied(nat, prv1, ext, 80, server_b));
    REQUIRE(LibAliasProxyRule(nat.la, "delete 5") == 0);
    CHECK(proxied(nat, prv2, ext, 80, server_a));
    REQUIRE(LibAliasProxyRule(nat.la, "delete 10") == 0);
    CHECK(proxied(nat, prv3, ext, 80, ext));
    // Among equal numbers the newest rule wins (libalias inserts it first).
    REQUIRE(LibAliasProxyRule(nat.la, "port 81 server 10.0.0.20") == 0);
    REQUIRE(LibAliasProxyRule(nat.la, "port 81 server 10.0.0.21") == 0);
    CHECK(proxied(nat, prv1, ext2, 81, server_b));
}

TEST_CASE("proxy: src and dst masks, protocol and the server's own traffic", "[proxy]") {
    Nat nat;
    REQUIRE(LibAliasProxyRule(nat.la, "port 80 server 10.0.0.9 src 10.0.0.0/24 dst 12.20.30.41") == 0);
    REQUIRE(LibAliasProxyRule(nat.la, "proto udp port 123 server 10.0.0.9") == 0);
    CHECK(proxied(nat, prv1, ext2, 80, proxy_server));
    CHECK_FALSE(proxied(nat, prv2, ext, 80, proxy_server));   // dst does not match
    CHECK_FALSE(proxied(nat, prv3, ext2, 80, proxy_server));  // src outside 10.0.0.0/24
    CHECK(proxied(nat, prv2, ext2, 123, proxy_server, true));
    CHECK_FALSE(proxied(nat, prv1, ext2, 123, proxy_server));  // TCP 123: no rule
    // The proxy server itself (inside 10.0.0.0/24) is never sent to itself.
    CHECK_FALSE(proxied(nat, proxy_server, ext2, 80, proxy_server));
}

TEST_CASE("proxy: PROXY_ONLY touches only proxied flows", "[proxy]") {
    Nat nat(masq, PKT_ALIAS_PROXY_ONLY, PKT_ALIAS_PROXY_ONLY);
    REQUIRE(LibAliasProxyRule(nat.la, "port 80 server 10.0.0.9:3128") == 0);
    Packet plain = tcp_packet(prv1, 40000, ext, 443, kSyn);
    const std::vector<uint8_t> before = plain.buf;
    REQUIRE(nat.out(plain) == PKT_ALIAS_OK);
    CHECK(plain.buf == before);  // not aliased at all

    Packet web = tcp_packet(prv1, 40001, ext, 80, kSyn);
    REQUIRE(nat.out(web) == PKT_ALIAS_OK);
    CHECK(web.dst().s_addr == proxy_server.s_addr);
    CHECK(web.dport() == 3128);
    CHECK(checksums_ok(web));
    Packet back = tcp_packet(proxy_server, 3128, web.src(), web.sport(), kSyn | kAck, 9, 1001);
    REQUIRE(nat.in(back) == PKT_ALIAS_OK);
    CHECK(back.src().s_addr == ext.s_addr);
    CHECK(back.sport() == 80);
    CHECK(back.dst().s_addr == prv1.s_addr);
    CHECK(back.dport() == 40001);

    // Unsolicited inbound traffic creates nothing in PROXY_ONLY mode.
    Packet probe = tcp_packet(ext2, 5000, masq, 6000, kSyn);
    const std::vector<uint8_t> probe_before = probe.buf;
    nat.in(probe);
    CHECK(probe.buf == probe_before);
}

TEST_CASE("proxy rule: token soup never crashes and never half-applies", "[proxy]") {
    const char* words[] = {"type", "encode_ip_hdr", "encode_tcp_stream", "no_encode", "port", "80", "65535",
                           "65536", "server", "10.0.0.9", "10.0.0.9:3128", "10.0.0.9:", ":", "rule", "-1", "7",
                           "delete", "proto", "tcp", "udp", "icmp", "src", "dst", "10.0.0.0/8", "1.2.3.4/33", "/",
                           "", " ", "\t", "http", "x"};
    const std::size_t n = sizeof words / sizeof words[0];
    uint32_t state = 12345;  // fixed seed: the same soup on every run
    auto next = [&] { return state = state * 1103515245u + 12345u; };
    Nat nat;
    int accepted = 0;
    for (int round = 0; round < 3000; ++round) {
        std::string cmd;
        const int len = static_cast<int>(next() % 9);
        for (int i = 0; i < len; ++i) {
            cmd += words[(next() >> 8) % n];
            cmd += (next() & 1) ? " " : "\t";
        }
        const int r = LibAliasProxyRule(nat.la, cmd.c_str());
        REQUIRE((r == 0 || r == -1));
        accepted += r == 0;
    }
    CHECK(accepted > 0);
    // Whatever was added, the instance still translates.
    Packet p = udp_packet(prv1, 1234, ext, 53, "q");
    CHECK(nat.out(p) == PKT_ALIAS_OK);
    CHECK(checksums_ok(p));
}
