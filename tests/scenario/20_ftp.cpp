// SPDX-License-Identifier: BSD-2-Clause
// FTP control connections: PORT/EPRT from a client behind the NAT, 227/229
// from a server behind it, the data connections they announce, sequence
// numbers after a length change, and hostile input.
#include <catch2/catch.hpp>

#include "packet.hpp"

#include <cstdio>

using namespace test;

namespace {

constexpr uint16_t kClientPort = 40000;
constexpr uint32_t kClientIsn = 1000;  // the client's SYN carries seq 1000
constexpr uint32_t kServerIsn = 7000;

// Modes: no host sockets (tests must not depend on free ports of this
// machine); SAME_PORTS as asked.
struct FtpNat : Nat {
    explicit FtpNat(bool same_ports)
        : Nat(masq, same_ports ? PKT_ALIAS_SAME_PORTS : 0u, PKT_ALIAS_SAME_PORTS | PKT_ALIAS_USE_SOCKETS) {}
};

// A client prv1:40000 connected to ext:21; returns the alias port.
uint16_t connect_client(Nat& nat) {
    Packet syn = tcp_packet(prv1, kClientPort, ext, 21, kSyn, kClientIsn);
    REQUIRE(nat.out(syn) == PKT_ALIAS_OK);
    Packet synack = tcp_packet(ext, 21, masq, syn.sport(), kSyn | kAck, kServerIsn, kClientIsn + 1);
    REQUIRE(nat.in(synack) == PKT_ALIAS_OK);
    REQUIRE(synack.dport() == kClientPort);
    return syn.sport();
}

Packet client_data(const std::string& text, uint32_t seq, std::size_t capacity = 1500) {
    return tcp_packet(prv1, kClientPort, ext, 21, kAck | kPsh, seq, kServerIsn + 1, text, capacity);
}

struct HostPort {
    std::string addr;
    unsigned port = 0;
};

// Reads "h1,h2,h3,h4,p1,p2" at the first digit after `prefix`.
bool host_port_after(const std::string& text, const std::string& prefix, HostPort& out) {
    const std::size_t at = text.find(prefix);
    if (at == std::string::npos) return false;
    unsigned h[4], p[2];
    int used = 0;
    if (std::sscanf(text.c_str() + at + prefix.size(), "%u,%u,%u,%u,%u,%u%n", &h[0], &h[1], &h[2], &h[3], &p[0],
                    &p[1], &used) != 6)
        return false;
    out.addr = std::to_string(h[0]) + "." + std::to_string(h[1]) + "." + std::to_string(h[2]) + "." +
               std::to_string(h[3]);
    out.port = p[0] * 256 + p[1];
    return true;
}

std::string port_command(const char* addr_commas, unsigned port) {
    return std::string("PORT ") + addr_commas + "," + std::to_string(port / 256) + "," + std::to_string(port % 256) +
           "\r\n";
}

}  // namespace

TEST_CASE("ftp PORT is rewritten to the alias address and the data connection reaches the client", "[ftp]") {
    const bool same_ports = GENERATE(true, false);
    FtpNat nat(same_ports);
    connect_client(nat);

    const std::string cmd = port_command("10,0,0,1", 5001);
    Packet port = client_data(cmd, kClientIsn + 1);
    REQUIRE(nat.out(port) == PKT_ALIAS_OK);
    CHECK(checksums_ok(port));
    CHECK(port.src().s_addr == masq.s_addr);
    HostPort hp;
    REQUIRE(host_port_after(port.payload(), "PORT ", hp));
    CHECK(hp.addr == "85.214.10.12");
    if (same_ports) CHECK(hp.port == 5001);
    else CHECK(hp.port >= 0x8000);
    CHECK(port.payload() == port_command("85,214,10,12", hp.port));
    CHECK(port.len() == 40 + port.payload().size());

    // The server's active data connection, from port 20 to the announced endpoint.
    Packet data_syn = tcp_packet(ext, 20, masq, static_cast<uint16_t>(hp.port), kSyn, 90000);
    REQUIRE(nat.in(data_syn) == PKT_ALIAS_OK);
    CHECK(data_syn.dst().s_addr == prv1.s_addr);
    CHECK(data_syn.dport() == 5001);
    CHECK(checksums_ok(data_syn));
    // And the client's answer goes back out on the same alias port.
    Packet data_synack = tcp_packet(prv1, 5001, ext, 20, kSyn | kAck, 300, 90001);
    REQUIRE(nat.out(data_synack) == PKT_ALIAS_OK);
    CHECK(data_synack.src().s_addr == masq.s_addr);
    CHECK(data_synack.sport() == hp.port);
}

TEST_CASE("ftp rewrite that changes the length keeps seq and ack consistent", "[ftp]") {
    FtpNat nat(true);
    connect_client(nat);
    const std::string cmd = port_command("10,0,0,1", 5001);  // 22 bytes
    const uint32_t seq0 = kClientIsn + 1;
    Packet port = client_data(cmd, seq0);
    REQUIRE(nat.out(port) == PKT_ALIAS_OK);
    const std::string rewritten = port.payload();
    const int delta = static_cast<int>(rewritten.size()) - static_cast<int>(cmd.size());
    REQUIRE(delta == 4);  // "10,0,0,1" -> "85,214,10,12"
    CHECK(port.tcp_seq() == seq0);  // the rewritten segment itself starts where it did

    // The server acknowledges the rewritten stream; the client must see its own numbering.
    Packet ack = tcp_packet(ext, 21, masq, kClientPort, kAck, kServerIsn + 1, seq0 + static_cast<uint32_t>(rewritten.size()));
    REQUIRE(nat.in(ack) == PKT_ALIAS_OK);
    CHECK(ack.tcp_ack() == seq0 + cmd.size());
    CHECK(checksums_ok(ack));

    // The next three client segments are shifted by the delta.
    uint32_t seq = seq0 + static_cast<uint32_t>(cmd.size());
    for (const char* next : {"LIST\r\n", "NOOP\r\n", "QUIT\r\n"}) {
        Packet p = client_data(next, seq);
        REQUIRE(nat.out(p) == PKT_ALIAS_OK);
        CHECK(p.tcp_seq() == seq + static_cast<uint32_t>(delta));
        CHECK(p.payload() == next);
        CHECK(checksums_ok(p));
        Packet a = tcp_packet(ext, 21, masq, kClientPort, kAck, kServerIsn + 1, p.tcp_seq() + 6);
        REQUIRE(nat.in(a) == PKT_ALIAS_OK);
        CHECK(a.tcp_ack() == seq + 6);
        CHECK(checksums_ok(a));
        seq += 6;
    }

    // A retransmission of the original PORT segment comes out identical to
    // the first rewrite (same alias port, same length, same seq).
    Packet again = client_data(cmd, seq0);
    REQUIRE(nat.out(again) == PKT_ALIAS_OK);
    CHECK(again.payload() == rewritten);
    CHECK(again.tcp_seq() == seq0);
    CHECK(checksums_ok(again));
    // ... and the stream after it is still shifted by the same delta.
    Packet after = client_data("PWD\r\n", seq);
    REQUIRE(nat.out(after) == PKT_ALIAS_OK);
    CHECK(after.tcp_seq() == seq + static_cast<uint32_t>(delta));
}

TEST_CASE("ftp EPRT is rewritten and opens the data link", "[ftp]") {
    FtpNat nat(false);
    connect_client(nat);
    Packet eprt = client_data("EPRT |1|10.0.0.1|5002|\r\n", kClientIsn + 1);
    REQUIRE(nat.out(eprt) == PKT_ALIAS_OK);
    CHECK(checksums_ok(eprt));
    unsigned port = 0;
    REQUIRE(std::sscanf(eprt.payload().c_str(), "EPRT |1|85.214.10.12|%u|", &port) == 1);
    CHECK(eprt.payload() == "EPRT |1|85.214.10.12|" + std::to_string(port) + "|\r\n");
    CHECK(port >= 0x8000);

    Packet data_syn = tcp_packet(ext, 20, masq, static_cast<uint16_t>(port), kSyn, 1);
    REQUIRE(nat.in(data_syn) == PKT_ALIAS_OK);
    CHECK(data_syn.dst().s_addr == prv1.s_addr);
    CHECK(data_syn.dport() == 5002);
    CHECK(checksums_ok(data_syn));
}

TEST_CASE("ftp EPRT with another delimiter keeps it", "[ftp]") {
    FtpNat nat(true);
    connect_client(nat);
    Packet eprt = client_data("EPRT !1!10.0.0.1!5003!\r\n", kClientIsn + 1);
    REQUIRE(nat.out(eprt) == PKT_ALIAS_OK);
    CHECK(eprt.payload() == "EPRT !1!85.214.10.12!5003!\r\n");
    CHECK(checksums_ok(eprt));
}

TEST_CASE("ftp pipelined commands: only the PORT argument changes", "[ftp]") {
    FtpNat nat(true);
    connect_client(nat);
    Packet p = client_data("PORT 10,0,0,1,19,137\r\nLIST /pub\r\n", kClientIsn + 1);
    REQUIRE(nat.out(p) == PKT_ALIAS_OK);
    CHECK(p.payload() == "PORT 85,214,10,12,19,137\r\nLIST /pub\r\n");
    CHECK(checksums_ok(p));
}

TEST_CASE("ftp server behind the NAT: PASV and EPSV replies via RedirectPort", "[ftp]") {
    FtpNat nat(false);
    REQUIRE(LibAliasRedirectPort(nat.la, prv1, htons(21), any_addr, 0, masq, htons(21), IPPROTO_TCP) != nullptr);

    Packet syn = tcp_packet(ext, 50000, masq, 21, kSyn, 100);
    REQUIRE(nat.in(syn) == PKT_ALIAS_OK);
    REQUIRE(syn.dst().s_addr == prv1.s_addr);
    Packet synack = tcp_packet(prv1, 21, ext, 50000, kSyn | kAck, 5000, 101);
    REQUIRE(nat.out(synack) == PKT_ALIAS_OK);
    REQUIRE(synack.sport() == 21);

    SECTION("227") {
        const std::string reply = "227 Entering Passive Mode (10,0,0,1,195,80).\r\n";
        Packet r = tcp_packet(prv1, 21, ext, 50000, kAck | kPsh, 5001, 101, reply);
        REQUIRE(nat.out(r) == PKT_ALIAS_OK);
        CHECK(checksums_ok(r));
        HostPort hp;
        REQUIRE(host_port_after(r.payload(), "(", hp));
        CHECK(hp.addr == "85.214.10.12");
        CHECK(r.payload().rfind("227 Entering Passive Mode (85,214,10,12,", 0) == 0);
        CHECK(r.payload().substr(r.payload().size() - 4) == ").\r\n");

        // The client's passive data connection reaches the server's port 50000.
        Packet data = tcp_packet(ext, 50001, masq, static_cast<uint16_t>(hp.port), kSyn, 1);
        REQUIRE(nat.in(data) == PKT_ALIAS_OK);
        CHECK(data.dst().s_addr == prv1.s_addr);
        CHECK(data.dport() == 50000);
        CHECK(checksums_ok(data));

        // The next server segment is shifted by the length change; the client's ack is shifted back.
        const int delta = static_cast<int>(r.payload().size()) - static_cast<int>(reply.size());
        const uint32_t next_seq = 5001 + static_cast<uint32_t>(reply.size());
        Packet n = tcp_packet(prv1, 21, ext, 50000, kAck | kPsh, next_seq, 101, "150 Here it comes.\r\n");
        REQUIRE(nat.out(n) == PKT_ALIAS_OK);
        CHECK(n.tcp_seq() == next_seq + static_cast<uint32_t>(delta));
        Packet a = tcp_packet(ext, 50000, masq, 21, kAck, 101, n.tcp_seq() + 20);
        REQUIRE(nat.in(a) == PKT_ALIAS_OK);
        CHECK(a.tcp_ack() == next_seq + 20);
        CHECK(checksums_ok(a));
    }
    SECTION("227 with digits in the text before the tuple") {
        Packet r = tcp_packet(prv1, 21, ext, 50000, kAck | kPsh, 5001, 101,
                              "227 Entering Passive Mode v2 (10,0,0,1,195,82)\r\n");
        REQUIRE(nat.out(r) == PKT_ALIAS_OK);
        HostPort hp;
        REQUIRE(host_port_after(r.payload(), "(", hp));
        CHECK(hp.addr == "85.214.10.12");
        CHECK(r.payload().rfind("227 Entering Passive Mode v2 (85,214,10,12,", 0) == 0);
        CHECK(checksums_ok(r));
    }
    SECTION("227 without parentheses") {
        Packet r = tcp_packet(prv1, 21, ext, 50000, kAck | kPsh, 5001, 101, "227 Passive 10,0,0,1,195,81\r\n");
        REQUIRE(nat.out(r) == PKT_ALIAS_OK);
        HostPort hp;
        REQUIRE(host_port_after(r.payload(), "Passive ", hp));
        CHECK(hp.addr == "85.214.10.12");
        CHECK(checksums_ok(r));
    }
    SECTION("229") {
        Packet r = tcp_packet(prv1, 21, ext, 50000, kAck | kPsh, 5001, 101,
                              "229 Entering Extended Passive Mode (|||50002|)\r\n");
        REQUIRE(nat.out(r) == PKT_ALIAS_OK);
        CHECK(checksums_ok(r));
        unsigned port = 0;
        REQUIRE(std::sscanf(r.payload().c_str(), "229 Entering Extended Passive Mode (|||%u|)", &port) == 1);
        CHECK(port >= 0x8000);
        CHECK(r.payload() == "229 Entering Extended Passive Mode (|||" + std::to_string(port) + "|)\r\n");
        Packet data = tcp_packet(ext, 50003, masq, static_cast<uint16_t>(port), kSyn, 1);
        REQUIRE(nat.in(data) == PKT_ALIAS_OK);
        CHECK(data.dst().s_addr == prv1.s_addr);
        CHECK(data.dport() == 50002);
    }
    SECTION("227 naming another host is not rewritten") {
        const std::string reply = "227 Entering Passive Mode (10,0,0,2,195,80).\r\n";
        Packet r = tcp_packet(prv1, 21, ext, 50000, kAck | kPsh, 5001, 101, reply);
        REQUIRE(nat.out(r) == PKT_ALIAS_OK);
        CHECK(r.payload() == reply);
        CHECK(checksums_ok(r));
    }
    SECTION("active mode from an outside client") {
        Packet port = tcp_packet(ext, 50000, masq, 21, kAck | kPsh, 101, 5001, "PORT 12,20,30,40,200,10\r\n");
        REQUIRE(nat.in(port) == PKT_ALIAS_OK);
        CHECK(port.payload() == "PORT 12,20,30,40,200,10\r\n");  // inbound is never rewritten
        CHECK(checksums_ok(port));
        // The server's connection from port 20 goes out on the link made for it.
        Packet data = tcp_packet(prv1, 20, ext, 200 * 256 + 10, kSyn, 1);
        REQUIRE(nat.out(data) == PKT_ALIAS_OK);
        CHECK(data.src().s_addr == masq.s_addr);
        CHECK(checksums_ok(data));
        Packet back = tcp_packet(ext, 200 * 256 + 10, masq, data.sport(), kSyn | kAck, 9, 2);
        REQUIRE(nat.in(back) == PKT_ALIAS_OK);
        CHECK(back.dst().s_addr == prv1.s_addr);
        CHECK(back.dport() == 20);
    }
}

TEST_CASE("ftp command split across segments is left alone", "[ftp]") {
    FtpNat nat(true);
    connect_client(nat);
    uint32_t seq = kClientIsn + 1;
    Packet first = client_data("PORT 10,0,0,1,", seq);
    REQUIRE(nat.out(first) == PKT_ALIAS_OK);
    CHECK(first.payload() == "PORT 10,0,0,1,");
    seq += 14;
    // The tail completes a line but does not start one: untouched.
    Packet second = client_data("19,137\r\n", seq);
    REQUIRE(nat.out(second) == PKT_ALIAS_OK);
    CHECK(second.payload() == "19,137\r\n");
    CHECK(second.tcp_seq() == seq);
    seq += 8;
    // A complete line after a line end is rewritten again.
    Packet third = client_data(port_command("10,0,0,1", 5004), seq);
    REQUIRE(nat.out(third) == PKT_ALIAS_OK);
    CHECK(third.payload() == port_command("85,214,10,12", 5004));
    CHECK(checksums_ok(third));
}

TEST_CASE("ftp malformed or hostile commands pass untouched", "[ftp][malformed]") {
    const std::string bad = GENERATE(as<std::string>{},
        "PORT 10,0,0,1,19\r\n",                       // five fields
        "PORT 300,0,0,1,19,137\r\n",                  // octet > 255
        "PORT 10,0,0,1,19,1377\r\n",                  // port byte > 255
        "PORT 10,0,0,1,19,0001\r\n",                  // four digits
        "PORT 10,0,0,2,19,137\r\n",                   // names another host
        "PORT 10,0,0,1,0,21\r\n",                     // privileged port
        "PORT 10,0,0,1,19,137 trailing\r\n",          // junk after the argument
        "PORT10,0,0,1,19,137\r\n",                    // no space
        "PORT 10,0,0,1,19,137",                       // no CRLF
        "PORT 99999999999999999999,0,0,1,19,137\r\n", // overlong number
        "EPRT |2|::1|5001|\r\n",                      // IPv6
        "EPRT |1|10.0.0.1|70000|\r\n",                // port > 65535
        "EPRT |1|10.0.0.1|5001\r\n",                  // unterminated
        "EPRT 1|10.0.0.1|5001|\r\n",                  // delimiter is a digit
        "EPRT |1|10.0.0|5001|\r\n",                   // three octets
        std::string("PORT \0\0\0\0\r\n", 11),
        std::string(1200, 'P') + "\r\n");
    FtpNat nat(true);
    connect_client(nat);
    Packet p = client_data(bad, kClientIsn + 1);
    REQUIRE(nat.out(p) == PKT_ALIAS_OK);
    CHECK(p.payload() == bad);
    CHECK(p.tcp_seq() == kClientIsn + 1);
    CHECK(checksums_ok(p));
    // No delta was recorded: the next segment keeps its numbering.
    Packet next = client_data("NOOP\r\n", kClientIsn + 1 + static_cast<uint32_t>(bad.size()));
    REQUIRE(nat.out(next) == PKT_ALIAS_OK);
    CHECK(next.tcp_seq() == kClientIsn + 1 + bad.size());
}

TEST_CASE("ftp reply look-alikes from a client are not rewritten", "[ftp][malformed]") {
    FtpNat nat(true);
    connect_client(nat);
    const std::string text = "227 Entering Passive Mode (10,0,0,1,195,80)\r\n";
    Packet p = client_data(text, kClientIsn + 1);
    REQUIRE(nat.out(p) == PKT_ALIAS_OK);
    CHECK(p.payload() == text);
}

TEST_CASE("ftp rewrite grows the packet up to maxpacketsize and no further", "[ftp][limits]") {
    const std::string cmd = port_command("10,0,0,1", 5005);  // grows by 4
    const std::size_t needed = 40 + cmd.size() + 4;
    SECTION("exactly enough room") {
        FtpNat nat(true);
        connect_client(nat);
        Packet p = client_data(cmd, kClientIsn + 1, needed);
        REQUIRE(LibAliasOut(nat.la, p.data(), static_cast<int>(needed)) == PKT_ALIAS_OK);
        CHECK(p.len() == needed);
        CHECK(p.payload() == port_command("85,214,10,12", 5005));
        CHECK(checksums_ok(p));
    }
    SECTION("one byte short: refused, packet untouched but translated") {
        FtpNat nat(true);
        connect_client(nat);
        Packet p = client_data(cmd, kClientIsn + 1, needed);
        REQUIRE(LibAliasOut(nat.la, p.data(), static_cast<int>(needed - 1)) == PKT_ALIAS_OK);
        CHECK(p.len() == 40 + cmd.size());
        CHECK(p.payload() == cmd);
        CHECK(p.src().s_addr == masq.s_addr);
        CHECK(checksums_ok(p));
        CHECK(p.buf[needed - 1] == 0);  // nothing written past the limit
        Packet next = client_data("NOOP\r\n", kClientIsn + 1 + static_cast<uint32_t>(cmd.size()));
        REQUIRE(nat.out(next) == PKT_ALIAS_OK);
        CHECK(next.tcp_seq() == kClientIsn + 1 + cmd.size());
    }
}

namespace {

// Deterministic mutations of real messages: byte changes biased towards
// the characters the parsers care about, truncation, duplication, long
// digit runs.  Packets are sized exactly, so any overrun is a heap error
// under the sanitizers.
struct Mutator {
    XorShift64 next;
    std::string operator()(std::string s) {
        static const char kSpecial[] = ",|.()0123456789\r\n\001 ;-=:\"";
        const int ops = 1 + static_cast<int>(next() % 4);
        for (int i = 0; i < ops && !s.empty(); ++i) {
            const std::size_t at = next() % s.size();
            switch (next() % 5) {
            case 0: s[at] = static_cast<char>(next()); break;
            case 1: s[at] = kSpecial[next() % (sizeof kSpecial - 1)]; break;
            case 2: s.resize(at); break;
            case 3: s.insert(at, s.substr(at, next() % 40)); break;
            case 4: s.insert(at, std::string(next() % 30, static_cast<char>('0' + next() % 10))); break;
            }
        }
        return s.substr(0, 1400);
    }
};

}  // namespace

TEST_CASE("ftp random mutations of real messages never break the packet", "[ftp][malformed]") {
    const std::vector<std::string> commands = {
        "PORT 10,0,0,1,19,137\r\n", "EPRT |1|10.0.0.1|5001|\r\n", "PORT 10,0,0,1,19,137\r\nLIST\r\n"};
    const std::vector<std::string> replies = {
        "227 Entering Passive Mode (10,0,0,1,195,80).\r\n", "229 Entering Extended Passive Mode (|||50002|)\r\n"};
    Mutator mutate{0x9e3779b97f4a7c15ull};
    FtpNat nat(false);
    connect_client(nat);
    REQUIRE(LibAliasRedirectPort(nat.la, prv2, htons(21), any_addr, 0, masq, htons(21), IPPROTO_TCP) != nullptr);
    for (int i = 0; i < 4000; ++i) {
        const bool reply = i % 2;
        const std::string text = mutate(reply ? replies[mutate.next() % replies.size()]
                                              : commands[mutate.next() % commands.size()]);
        const std::size_t room = 40 + text.size() + mutate.next() % 8;
        Packet p = reply ? tcp_packet(prv2, 21, ext, 50000, kAck | kPsh, 5001, 101, text, room)
                         : client_data(text, kClientIsn + 1, room);
        const int r = LibAliasOut(nat.la, p.data(), static_cast<int>(room));
        CHECK(r == PKT_ALIAS_OK);
        CHECK(checksums_ok(p));
        CHECK(p.len() <= room);
    }
}
