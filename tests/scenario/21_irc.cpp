// SPDX-License-Identifier: BSD-2-Clause
// IRC DCC offers from a client behind the NAT: address and port rewritten,
// the peer's connection reaches the client, sequence numbers stay
// consistent, and malformed CTCP passes untouched.
#include <catch2/catch.hpp>

#include "packet.hpp"

#include <cstdio>
#include <cstring>

using namespace test;

namespace {

constexpr uint16_t kClientPort = 41000;
constexpr uint32_t kIsn = 2000;
constexpr uint32_t kServerIsn = 9000;

// 10.0.0.1 and 85.214.10.12 as DCC writes them: one decimal integer.
const std::string kPrv1Decimal = std::to_string(ntohl(prv1.s_addr));
const std::string kMasqDecimal = std::to_string(ntohl(masq.s_addr));

struct IrcNat : Nat {
    explicit IrcNat(bool same_ports)
        : Nat(masq, same_ports ? PKT_ALIAS_SAME_PORTS : 0u, PKT_ALIAS_SAME_PORTS | PKT_ALIAS_USE_SOCKETS) {}
};

void connect_client(Nat& nat, uint16_t server_port = 6667) {
    Packet syn = tcp_packet(prv1, kClientPort, ext, server_port, kSyn, kIsn);
    REQUIRE(nat.out(syn) == PKT_ALIAS_OK);
    Packet synack = tcp_packet(ext, server_port, masq, syn.sport(), kSyn | kAck, kServerIsn, kIsn + 1);
    REQUIRE(nat.in(synack) == PKT_ALIAS_OK);
}

Packet client_line(const std::string& text, uint32_t seq, uint16_t server_port = 6667) {
    return tcp_packet(prv1, kClientPort, ext, server_port, kAck | kPsh, seq, kServerIsn + 1, text);
}

std::string privmsg(const std::string& ctcp) { return "PRIVMSG bob :\001" + ctcp + "\001\r\n"; }

// The port after the alias address in a rewritten offer.
unsigned offered_port(const std::string& text, const std::string& before_addr) {
    const std::size_t at = text.find(before_addr + kMasqDecimal + " ");
    if (at == std::string::npos) return 0;
    unsigned port = 0;
    std::sscanf(text.c_str() + at + before_addr.size() + kMasqDecimal.size() + 1, "%u", &port);
    return port;
}

}  // namespace

TEST_CASE("irc DCC SEND is rewritten and the peer's connection reaches the client", "[irc]") {
    const uint16_t server_port = GENERATE(uint16_t{6667}, uint16_t{6668});
    IrcNat nat(false);
    connect_client(nat, server_port);
    const std::string msg = privmsg("DCC SEND report.pdf " + kPrv1Decimal + " 5000 123456");
    Packet p = client_line(msg, kIsn + 1, server_port);
    REQUIRE(nat.out(p) == PKT_ALIAS_OK);
    CHECK(checksums_ok(p));
    const unsigned port = offered_port(p.payload(), "report.pdf ");
    REQUIRE(port >= 0x8000);
    CHECK(p.payload() == privmsg("DCC SEND report.pdf " + kMasqDecimal + " " + std::to_string(port) + " 123456"));

    // Anyone may connect (the peer's address is not known in advance).
    Packet syn = tcp_packet(ext2, 33333, masq, static_cast<uint16_t>(port), kSyn, 1);
    REQUIRE(nat.in(syn) == PKT_ALIAS_OK);
    CHECK(syn.dst().s_addr == prv1.s_addr);
    CHECK(syn.dport() == 5000);
    CHECK(checksums_ok(syn));
    Packet synack = tcp_packet(prv1, 5000, ext2, 33333, kSyn | kAck, 50, 2);
    REQUIRE(nat.out(synack) == PKT_ALIAS_OK);
    CHECK(synack.sport() == port);
}

TEST_CASE("irc several DCC offers in one segment with a quoted file name and text kept", "[irc]") {
    IrcNat nat(true);
    connect_client(nat);
    const std::string msg = "PRIVMSG bob :\001DCC CHAT chat " + kPrv1Decimal + " 5010\001\r\n" +
                            "NOTICE bob :hello\r\n" +
                            "PRIVMSG carol :\001DCC SEND \"my file.txt\" " + kPrv1Decimal + " 5011 42\001\r\n";
    Packet p = client_line(msg, kIsn + 1);
    REQUIRE(nat.out(p) == PKT_ALIAS_OK);
    CHECK(checksums_ok(p));
    const std::string expect = "PRIVMSG bob :\001DCC CHAT chat " + kMasqDecimal + " 5010\001\r\n" +
                               "NOTICE bob :hello\r\n" +
                               "PRIVMSG carol :\001DCC SEND \"my file.txt\" " + kMasqDecimal + " 5011 42\001\r\n";
    CHECK(p.payload() == expect);
    for (uint16_t port : {uint16_t{5010}, uint16_t{5011}}) {
        Packet syn = tcp_packet(ext2, 40000, masq, port, kSyn, 1);
        REQUIRE(nat.in(syn) == PKT_ALIAS_OK);
        CHECK(syn.dst().s_addr == prv1.s_addr);
        CHECK(syn.dport() == port);
    }
}

TEST_CASE("irc rewrite keeps seq and ack consistent across a retransmission", "[irc]") {
    IrcNat nat(true);
    connect_client(nat);
    const std::string msg = privmsg("DCC CHAT chat " + kPrv1Decimal + " 5020");
    const uint32_t seq0 = kIsn + 1;
    Packet p = client_line(msg, seq0);
    REQUIRE(nat.out(p) == PKT_ALIAS_OK);
    const std::string rewritten = p.payload();
    const int delta = static_cast<int>(rewritten.size()) - static_cast<int>(msg.size());
    REQUIRE(delta == static_cast<int>(kMasqDecimal.size()) - static_cast<int>(kPrv1Decimal.size()));

    uint32_t seq = seq0 + static_cast<uint32_t>(msg.size());
    for (const char* line : {"PING :a\r\n", "PING :b\r\n", "PING :c\r\n"}) {
        Packet n = client_line(line, seq);
        REQUIRE(nat.out(n) == PKT_ALIAS_OK);
        CHECK(n.tcp_seq() == seq + static_cast<uint32_t>(delta));
        CHECK(checksums_ok(n));
        Packet a = tcp_packet(ext, 6667, masq, kClientPort, kAck, kServerIsn + 1, n.tcp_seq() + 9);
        REQUIRE(nat.in(a) == PKT_ALIAS_OK);
        CHECK(a.tcp_ack() == seq + 9);
        CHECK(checksums_ok(a));
        seq += 9;
    }
    Packet again = client_line(msg, seq0);
    REQUIRE(nat.out(again) == PKT_ALIAS_OK);
    CHECK(again.payload() == rewritten);
    CHECK(again.tcp_seq() == seq0);
    CHECK(checksums_ok(again));
}

TEST_CASE("irc malformed or foreign DCC offers pass untouched", "[irc][malformed]") {
    const std::string bad = GENERATE(as<std::string>{},
        privmsg("DCC SEND file 99999999999 5000"),                 // address overflows 32 bits
        privmsg("DCC SEND file " + std::to_string(ntohl(prv2.s_addr)) + " 5000"),  // another host
        privmsg("DCC SEND file " + kPrv1Decimal + " 70000"),       // port overflows
        privmsg("DCC SEND file " + kPrv1Decimal + " 80"),          // privileged port
        privmsg("DCC SEND file " + kPrv1Decimal + " 0"),           // reverse DCC: nothing to open
        privmsg("DCC SEND file " + kPrv1Decimal + " 5000x"),       // junk after the port
        privmsg("DCC SEND file " + kPrv1Decimal),                  // no port
        privmsg("DCC SEND \"unterminated " + kPrv1Decimal + " 5000"),
        privmsg("DCC " + std::string(40, 'X') + " file " + kPrv1Decimal + " 5000"),  // type too long
        privmsg("DCC SEND " + std::string(600, 'f') + " " + kPrv1Decimal + " 5000"), // name too long
        "PRIVMSG bob :\001DCC SEND file " + kPrv1Decimal + " 5000\r\n", // CTCP not closed here
        "PRIVMSG bob :\001DCC SEND file " + kPrv1Decimal + " 5000 1",   // cut mid-offer
        privmsg("dcc SEND file " + kPrv1Decimal + " 5000"),        // DCC is upper case
        privmsg("VERSION"),
        std::string("\001\001\001\001DCC\001"),
        std::string(1400, '\001'));
    IrcNat nat(true);
    connect_client(nat);
    Packet p = client_line(bad, kIsn + 1);
    REQUIRE(nat.out(p) == PKT_ALIAS_OK);
    CHECK(p.payload() == bad);
    CHECK(checksums_ok(p));
    Packet next = client_line("PING :x\r\n", kIsn + 1 + static_cast<uint32_t>(bad.size()));
    REQUIRE(nat.out(next) == PKT_ALIAS_OK);
    CHECK(next.tcp_seq() == kIsn + 1 + bad.size());
}

TEST_CASE("irc inbound DCC offers and other ports are not rewritten", "[irc]") {
    IrcNat nat(true);
    connect_client(nat);
    const std::string offer = privmsg("DCC SEND file " + std::to_string(ntohl(ext.s_addr)) + " 5000");
    Packet in = tcp_packet(ext, 6667, masq, kClientPort, kAck | kPsh, kServerIsn + 1, kIsn + 1, offer);
    REQUIRE(nat.in(in) == PKT_ALIAS_OK);
    CHECK(in.payload() == offer);

    const std::string mine = privmsg("DCC SEND file " + kPrv1Decimal + " 5000");
    Packet other = tcp_packet(prv1, 42000, ext, 6697, kAck | kPsh, 1, 1, mine);  // TLS port: opaque
    REQUIRE(nat.out(other) == PKT_ALIAS_OK);
    CHECK(other.payload() == mine);
}

TEST_CASE("irc rewrite refused when the grown packet would exceed maxpacketsize", "[irc][limits]") {
    const std::string msg = privmsg("DCC CHAT chat " + kPrv1Decimal + " 5030");
    const std::size_t grown = 40 + msg.size() + kMasqDecimal.size() - kPrv1Decimal.size();
    IrcNat nat(true);
    connect_client(nat);
    Packet p = client_line(msg, kIsn + 1);
    REQUIRE(LibAliasOut(nat.la, p.data(), static_cast<int>(grown - 1)) == PKT_ALIAS_OK);
    CHECK(p.payload() == msg);
    CHECK(checksums_ok(p));
    Packet q = client_line(msg, kIsn + 1);
    REQUIRE(LibAliasOut(nat.la, q.data(), static_cast<int>(grown)) == PKT_ALIAS_OK);
    CHECK(q.len() == grown);
    CHECK(q.payload() == privmsg("DCC CHAT chat " + kMasqDecimal + " 5030"));
    CHECK(checksums_ok(q));
}

TEST_CASE("irc random mutations of real offers never break the packet", "[irc][malformed]") {
    const std::vector<std::string> seeds = {
        privmsg("DCC SEND report.pdf " + kPrv1Decimal + " 5000 123456"),
        privmsg("DCC CHAT chat " + kPrv1Decimal + " 5010") + privmsg("DCC SEND \"a b\" " + kPrv1Decimal + " 5011 42")};
    XorShift64 next{0x2545f4914f6cdd1dull};
    static const char kSpecial[] = "\001 \"0123456789\r\nDC";
    IrcNat nat(false);
    connect_client(nat);
    for (int i = 0; i < 4000; ++i) {
        std::string s = seeds[next() % seeds.size()];
        for (int k = 1 + static_cast<int>(next() % 4); k > 0 && !s.empty(); --k) {
            const std::size_t at = next() % s.size();
            switch (next() % 4) {
            case 0: s[at] = static_cast<char>(next()); break;
            case 1: s[at] = kSpecial[next() % (sizeof kSpecial - 1)]; break;
            case 2: s.resize(at); break;
            case 3: s.insert(at, std::string(next() % 30, static_cast<char>('0' + next() % 10))); break;
            }
        }
        const std::size_t room = 40 + s.size() + next() % 8;
        Packet p = tcp_packet(prv1, kClientPort, ext, 6667, kAck | kPsh, kIsn + 1, kServerIsn + 1, s, room);
        CHECK(LibAliasOut(nat.la, p.data(), static_cast<int>(room)) == PKT_ALIAS_OK);
        CHECK(checksums_ok(p));
        CHECK(p.len() <= room);
    }
}

namespace {

constexpr uint8_t kGuard = 0xA5;

// A client line in a buffer `spare` bytes longer than the datagram, the
// spare bytes set to kGuard: LibAliasOut gets maxpacketsize == ip_len, so
// any write past it shows in them.
Packet tight_line(const std::string& text, uint32_t seq, std::size_t spare = 16) {
    Packet p = client_line(text, seq);
    const std::size_t len = p.len();
    Packet q(len + spare);
    std::memcpy(q.data(), p.data(), len);
    std::memset(q.data() + len, kGuard, spare);
    return q;
}
bool guard_intact(const Packet& p, std::size_t from) {
    for (std::size_t i = from; i < p.buf.size(); ++i)
        if (p.buf[i] != kGuard) return false;
    return true;
}

}  // namespace

TEST_CASE("irc rewrite of the same length needs no spare byte in the buffer", "[irc][limits]") {
    // 10.0.0.1 (9 digits) becomes 85.214.10.12 (10 digits) and port 50000
    // an alias port of 4 digits: the result is exactly as long as the
    // original, though the address edit alone is one byte longer.
    IrcNat nat(false);
    LibAliasSetAliasPortRange(nat.la, 1024, 9999);  // 4-digit alias ports
    connect_client(nat);
    const std::string msg = privmsg("DCC SEND f " + kPrv1Decimal + " 50000 12");
    REQUIRE(kMasqDecimal.size() == kPrv1Decimal.size() + 1);
    Packet p = tight_line(msg, kIsn + 1);
    const std::size_t len = p.len();
    REQUIRE(LibAliasOut(nat.la, p.data(), static_cast<int>(len)) == PKT_ALIAS_OK);
    const unsigned port = offered_port(p.payload(), "f ");
    REQUIRE(port >= 1024);
    REQUIRE(port <= 9999);
    CHECK(p.payload() == privmsg("DCC SEND f " + kMasqDecimal + " " + std::to_string(port) + " 12"));
    CHECK(p.len() == len);
    CHECK(checksums_ok(p));
    CHECK(guard_intact(p, len));

    // The offer works, and no sequence delta was recorded.
    Packet syn = tcp_packet(ext2, 33333, masq, static_cast<uint16_t>(port), kSyn, 1);
    REQUIRE(nat.in(syn) == PKT_ALIAS_OK);
    CHECK(syn.dst().s_addr == prv1.s_addr);
    CHECK(syn.dport() == 50000);
    const uint32_t next_seq = kIsn + 1 + static_cast<uint32_t>(msg.size());
    Packet next = client_line("PING :x\r\n", next_seq);
    REQUIRE(nat.out(next) == PKT_ALIAS_OK);
    CHECK(next.tcp_seq() == next_seq);
}

TEST_CASE("irc offers that each grow then shrink fit in a buffer of ip_len", "[irc][limits]") {
    // Each offer's address grows by one digit before its port shrinks by
    // one, so an edit-by-edit rewrite passes ip_len + 1 once per offer; the
    // text between the offers must come out intact all the same.
    IrcNat nat(false);
    LibAliasSetAliasPortRange(nat.la, 1024, 9999);  // 4-digit alias ports
    connect_client(nat);
    const std::string msg = privmsg("DCC CHAT chat " + kPrv1Decimal + " 50001") + "NOTICE bob :x\r\n" +
                            privmsg("DCC SEND \"a b\" " + kPrv1Decimal + " 50002 7") +
                            privmsg("DCC SEND c " + kPrv1Decimal + " 50003");
    Packet p = tight_line(msg, kIsn + 1);
    const std::size_t len = p.len();
    REQUIRE(LibAliasOut(nat.la, p.data(), static_cast<int>(len)) == PKT_ALIAS_OK);
    const std::string out = p.payload();
    const unsigned p1 = offered_port(out, "chat "), p2 = offered_port(out, "\"a b\" "), p3 = offered_port(out, "c ");
    for (unsigned port : {p1, p2, p3}) {
        CHECK(port >= 1024);
        CHECK(port <= 9999);
    }
    CHECK(out == privmsg("DCC CHAT chat " + kMasqDecimal + " " + std::to_string(p1)) + "NOTICE bob :x\r\n" +
                     privmsg("DCC SEND \"a b\" " + kMasqDecimal + " " + std::to_string(p2) + " 7") +
                     privmsg("DCC SEND c " + kMasqDecimal + " " + std::to_string(p3)));
    CHECK(p.len() == len);
    CHECK(checksums_ok(p));
    CHECK(guard_intact(p, len));
}

TEST_CASE("irc refused rewrite leaves no link for the offer behind", "[irc][limits]") {
    const std::string msg = privmsg("DCC CHAT chat " + kPrv1Decimal + " 5040");
    IrcNat nat(true);  // the alias port is the offered one, so it is known
    connect_client(nat);
    // One byte short of the grown result: refused, untouched.
    Packet p = tight_line(msg, kIsn + 1);
    const std::size_t room = p.len() + kMasqDecimal.size() - kPrv1Decimal.size() - 1;
    REQUIRE(LibAliasOut(nat.la, p.data(), static_cast<int>(room)) == PKT_ALIAS_OK);
    CHECK(p.payload() == msg);
    CHECK(checksums_ok(p));
    CHECK(guard_intact(p, p.len()));
    // Nobody was told of an alias port, so nothing outside may open one.
    Packet syn = tcp_packet(ext2, 33333, masq, 5040, kSyn, 1);
    nat.in(syn);
    CHECK(syn.dst().s_addr == masq.s_addr);
    CHECK(syn.dport() == 5040);

    // The retransmission with room is rewritten and its link works.
    Packet q = tight_line(msg, kIsn + 1);
    REQUIRE(LibAliasOut(nat.la, q.data(), static_cast<int>(room + 1)) == PKT_ALIAS_OK);
    CHECK(q.payload() == privmsg("DCC CHAT chat " + kMasqDecimal + " 5040"));
    CHECK(checksums_ok(q));
    CHECK(guard_intact(q, room + 1));
    Packet syn2 = tcp_packet(ext2, 33334, masq, 5040, kSyn, 1);
    REQUIRE(nat.in(syn2) == PKT_ALIAS_OK);
    CHECK(syn2.dst().s_addr == prv1.s_addr);
}
