// SPDX-License-Identifier: BSD-2-Clause
// PPTP (RFC 2637): the control connection on TCP 1723 and enhanced GRE.
// Two clients behind one alias address call the same server with the same
// Call ID; the NAT must give them distinct Call IDs on the wire, restore
// them on the way in, translate both directions of GRE, and forget a call
// once it is cleared.  Malformed control messages and GRE headers, cut at
// every length, must neither crash nor disturb the instance.
#include <catch2/catch.hpp>

#include "packet.hpp"

#include <random>
#include <string>

using namespace test;

namespace {

constexpr uint16_t kPptpPort = 1723;
constexpr std::size_t kPayload = 40;  // IP 20 + TCP 20 in tcp_packet()

// Control message types and their RFC 2637 sizes.
enum : uint16_t { OCRQ = 7, OCRP = 8, ICRQ = 9, ICRP = 10, ICCN = 11, CCRQ = 12, CDN = 13, WEN = 14, SLI = 15 };
std::size_t size_of(uint16_t type) {
    switch (type) {
    case OCRQ: return 168;
    case OCRP: return 32;
    case ICRQ: return 220;
    case ICRP: return 24;
    case ICCN: return 28;
    case CCRQ: return 16;
    case CDN: return 148;
    case WEN: return 40;
    default: return 24;
    }
}

void put16(std::string& s, std::size_t off, uint16_t v) {
    s[off] = static_cast<char>(v >> 8);
    s[off + 1] = static_cast<char>(v);
}

// One control message: header, the two Call ID fields, a result code.
std::string message(uint16_t type, uint16_t first_id, uint16_t second_id = 0, uint8_t result = 1) {
    std::string m(size_of(type), '\0');
    put16(m, 0, static_cast<uint16_t>(m.size()));
    put16(m, 2, 1);  // control message
    put16(m, 4, 0x1a2b);
    put16(m, 6, 0x3c4d);
    put16(m, 8, type);
    put16(m, 12, first_id);
    put16(m, 14, second_id);
    if (type == OCRP || type == ICRP) m[16] = static_cast<char>(result);
    if (type == OCRQ) m.replace(m.size() - 64, 6, "pptp-1");  // phone number/subaddress text
    return m;
}

// The buffer holds exactly the datagram, so a read past it is a read past
// the packet (and visible to AddressSanitizer).
Packet control(in_addr src, uint16_t sport, in_addr dst, uint16_t dport, const std::string& payload,
               uint32_t seq = 1000) {
    return tcp_packet(src, sport, dst, dport, kAck | kPsh, seq, 5000, payload, kPayload + payload.size());
}

// Enhanced GRE with sequence and acknowledgement numbers and a PPP payload.
Packet gre(in_addr src, in_addr dst, uint16_t call_id, uint32_t seq = 7) {
    const std::size_t ppp = 24;
    Packet p = ip_packet(IPPROTO_GRE, src, dst, 16 + ppp);
    uint8_t* g = p.l4();
    g[0] = 0x30;  // K and S
    g[1] = 0x81;  // A, version 1
    g[2] = 0x88;
    g[3] = 0x0b;
    g[4] = 0;
    g[5] = static_cast<uint8_t>(ppp);
    g[6] = static_cast<uint8_t>(call_id >> 8);
    g[7] = static_cast<uint8_t>(call_id);
    p.put32(p.hl() + 8, seq);
    p.put32(p.hl() + 12, seq - 1);
    for (std::size_t i = 0; i < ppp; ++i) g[16 + i] = static_cast<uint8_t>(0xff - i);
    fix_checksums(p);
    return p;
}
uint16_t gre_call_id(const Packet& p) { return p.be16(p.hl() + 6); }

bool same(in_addr a, in_addr b) { return a.s_addr == b.s_addr; }

unsigned pptp_links(libalias* la) {
    alias_stats st{};
    REQUIRE(LibAliasGetStats(la, &st) == 0);
    return st.pptp;
}

// One PPTP client's control connection through the NAT.
struct Client {
    in_addr addr;
    uint16_t port;
    uint16_t alias_port = 0;  // of the control connection

    void connect(libalias* la) {
        Packet syn = tcp_packet(addr, port, ext, kPptpPort, kSyn, 1, 0);
        REQUIRE(LibAliasOut(la, syn.data(), syn.capacity()) == PKT_ALIAS_OK);
        alias_port = syn.sport();
        Packet synack = tcp_packet(ext, kPptpPort, masq, alias_port, kSyn | kAck, 9, 2);
        REQUIRE(LibAliasIn(la, synack.data(), synack.capacity()) == PKT_ALIAS_OK);
        REQUIRE(same(synack.dst(), addr));
    }
    // Sends a control message out; returns the packet as it left.
    Packet out(libalias* la, const std::string& msg) {
        Packet p = control(addr, port, ext, kPptpPort, msg);
        REQUIRE(LibAliasOut(la, p.data(), p.capacity()) == PKT_ALIAS_OK);
        CHECK(same(p.src(), masq));
        CHECK(p.sport() == alias_port);
        CHECK(checksums_ok(p));
        return p;
    }
    // Sends a control message from the server in; returns it as delivered.
    Packet in(libalias* la, const std::string& msg) {
        Packet p = control(ext, kPptpPort, masq, alias_port, msg, 9000);
        REQUIRE(LibAliasIn(la, p.data(), p.capacity()) == PKT_ALIAS_OK);
        CHECK(same(p.dst(), addr));
        CHECK(p.dport() == port);
        CHECK(checksums_ok(p));
        return p;
    }
};

// A client's call set up: returns the Call ID the server saw.
uint16_t place_call(libalias* la, Client& c, uint16_t own_id, uint16_t server_id) {
    Packet rq = c.out(la, message(OCRQ, own_id, 0x0042));
    const uint16_t alias_id = rq.be16(kPayload + 12);
    CHECK(rq.be16(kPayload + 14) == 0x0042);  // the serial number is not a Call ID
    Packet rp = c.in(la, message(OCRP, server_id, alias_id, 1));
    CHECK(rp.be16(kPayload + 12) == server_id);
    CHECK(rp.be16(kPayload + 14) == own_id);
    return alias_id;
}

void gre_out_ok(libalias* la, in_addr from, uint16_t server_id) {
    Packet g = gre(from, ext, server_id);
    const std::string before = g.payload();
    REQUIRE(LibAliasOut(la, g.data(), g.capacity()) == PKT_ALIAS_OK);
    CHECK(same(g.src(), masq));
    CHECK(same(g.dst(), ext));
    CHECK(gre_call_id(g) == server_id);
    CHECK(g.payload() == before);
    CHECK(ip_checksum_ok(g));
}

void gre_in_ok(libalias* la, uint16_t alias_id, in_addr to, uint16_t own_id) {
    Packet g = gre(ext, masq, alias_id);
    REQUIRE(LibAliasIn(la, g.data(), g.capacity()) == PKT_ALIAS_OK);
    CHECK(same(g.src(), ext));
    CHECK(same(g.dst(), to));
    CHECK(gre_call_id(g) == own_id);
    CHECK(ip_checksum_ok(g));
}

}  // namespace

TEST_CASE("two PPTP clients behind one alias call one server with the same Call ID", "[pptp]") {
    Nat nat;
    Client a{prv1, 1025}, b{prv2, 1025};
    a.connect(nat.la);
    b.connect(nat.la);
    REQUIRE(pptp_links(nat.la) == 0);

    // Both clients pick Call ID 1, as Windows clients do for their first
    // call.  With libalias's default SAME_PORTS the first keeps it.
    const uint16_t alias_a = place_call(nat.la, a, 1, 0x4000);
    const uint16_t alias_b = place_call(nat.la, b, 1, 0x4001);
    CHECK(alias_a == 1);
    CHECK(alias_b != 1);
    CHECK(pptp_links(nat.la) == 4);  // a call link and a peer link per call

    // GRE out keeps the server's Call ID and gets the alias address.
    gre_out_ok(nat.la, prv1, 0x4000);
    gre_out_ok(nat.la, prv2, 0x4001);
    // GRE in: the aliased Call IDs tell the clients apart.
    gre_in_ok(nat.la, alias_a, prv1, 1);
    gre_in_ok(nat.la, alias_b, prv2, 1);
    gre_in_ok(nat.la, alias_a, prv1, 1);

    // Control messages that quote our Call ID are restored on the way in.
    Packet sli = a.in(nat.la, message(SLI, alias_a));
    CHECK(sli.be16(kPayload + 12) == 1);
    Packet wen = b.in(nat.la, message(WEN, alias_b));
    CHECK(wen.be16(kPayload + 12) == 1);
    // ... and those quoting the server's pass unchanged on the way out.
    Packet sli_out = a.out(nat.la, message(SLI, 0x4000));
    CHECK(sli_out.be16(kPayload + 12) == 0x4000);
}

TEST_CASE("clearing a PPTP call removes its links, the other call is unaffected", "[pptp]") {
    Nat nat;
    Client a{prv1, 1100}, b{prv2, 1100};
    a.connect(nat.la);
    b.connect(nat.la);
    const uint16_t alias_a = place_call(nat.la, a, 7, 0x0100);
    const uint16_t alias_b = place_call(nat.la, b, 7, 0x0101);

    // The client clears its call (own Call ID, aliased), the server confirms
    // with Call-Disconnect-Notify carrying its own Call ID.
    Packet clear = a.out(nat.la, message(CCRQ, 7));
    CHECK(clear.be16(kPayload + 12) == alias_a);
    a.in(nat.la, message(CDN, 0x0100));
    CHECK(pptp_links(nat.la) == 2);

    // A's GRE is no PPTP call any more: inbound it reaches nobody inside.
    Packet late = gre(ext, masq, alias_a);
    CHECK(LibAliasIn(nat.la, late.data(), late.capacity()) == PKT_ALIAS_OK);
    CHECK(same(late.dst(), masq));
    CHECK(gre_call_id(late) == alias_a);
    // B still works both ways.
    gre_in_ok(nat.la, alias_b, prv2, 7);
    gre_out_ok(nat.la, prv2, 0x0101);

    // A new call from A gets a working mapping again.
    const uint16_t again = place_call(nat.la, a, 8, 0x0102);
    gre_in_ok(nat.la, again, prv1, 8);
    gre_out_ok(nat.la, prv1, 0x0102);
}

TEST_CASE("a refused PPTP call leaves no links", "[pptp]") {
    Nat nat;
    Client a{prv1, 1200};
    a.connect(nat.la);
    Packet rq = a.out(nat.la, message(OCRQ, 3, 1));
    const uint16_t alias_id = rq.be16(kPayload + 12);
    CHECK(pptp_links(nat.la) == 1);
    Packet rp = a.in(nat.la, message(OCRP, 0, alias_id, 2 /* general error */));
    CHECK(rp.be16(kPayload + 14) == 3);
    CHECK(pptp_links(nat.la) == 0);
}

TEST_CASE("a retransmitted Outgoing-Call-Request keeps its alias Call ID", "[pptp]") {
    Nat nat;
    Client a{prv1, 1300};
    a.connect(nat.la);
    const uint16_t first = a.out(nat.la, message(OCRQ, 9, 1)).be16(kPayload + 12);
    const uint16_t second = a.out(nat.la, message(OCRQ, 9, 1)).be16(kPayload + 12);
    CHECK(first == second);
    CHECK(pptp_links(nat.la) == 1);
}

TEST_CASE("several PPTP messages in one segment are all translated", "[pptp]") {
    Nat nat(masq, 0, PKT_ALIAS_SAME_PORTS);  // alias Call IDs drawn from the alias port range
    Client a{prv1, 1400};
    a.connect(nat.la);
    const std::string two = message(OCRQ, 20, 1) + message(OCRQ, 21, 2);
    Packet p = a.out(nat.la, two);
    const uint16_t id20 = p.be16(kPayload + 12), id21 = p.be16(kPayload + 168 + 12);
    CHECK(id20 != 20);
    CHECK(id21 != 21);
    CHECK(id20 != id21);
    Packet rp = a.in(nat.la, message(OCRP, 0x900, id20) + message(OCRP, 0x901, id21));
    CHECK(rp.be16(kPayload + 14) == 20);
    CHECK(rp.be16(kPayload + 32 + 14) == 21);
    gre_in_ok(nat.la, id21, prv1, 21);
    gre_out_ok(nat.la, prv1, 0x901);
}

TEST_CASE("a PPTP server behind the NAT answering an outside client", "[pptp]") {
    Nat nat;
    // Publish the inside server's control port.
    REQUIRE(LibAliasRedirectPort(nat.la, prv3, htons(kPptpPort), ext, 0, masq, htons(kPptpPort), IPPROTO_TCP));
    Packet rq = tcp_packet(ext, 40000, masq, kPptpPort, kAck | kPsh, 1, 1, message(OCRQ, 0x0033, 5));
    REQUIRE(LibAliasIn(nat.la, rq.data(), rq.capacity()) == PKT_ALIAS_OK);
    REQUIRE(same(rq.dst(), prv3));
    CHECK(rq.be16(kPayload + 12) == 0x0033);  // the client's id needs no change

    // The server's reply names its own Call ID (aliased) and the client's.
    Packet rp = tcp_packet(prv3, kPptpPort, ext, 40000, kAck | kPsh, 1, 1, message(OCRP, 0x0001, 0x0033, 1));
    REQUIRE(LibAliasOut(nat.la, rp.data(), rp.capacity()) == PKT_ALIAS_OK);
    const uint16_t alias_id = rp.be16(kPayload + 12);
    CHECK(rp.be16(kPayload + 14) == 0x0033);
    CHECK(checksums_ok(rp));

    // GRE from the server carries the client's Call ID; to it, the alias one.
    gre_out_ok(nat.la, prv3, 0x0033);
    gre_in_ok(nat.la, alias_id, prv3, 0x0001);
}

TEST_CASE("GRE that is not a known PPTP call takes the generic protocol path", "[pptp]") {
    Nat nat;
    Packet g = gre(prv1, ext, 0x5555);
    REQUIRE(LibAliasOut(nat.la, g.data(), g.capacity()) == PKT_ALIAS_OK);
    CHECK(same(g.src(), masq));
    CHECK(gre_call_id(g) == 0x5555);
    CHECK(ip_checksum_ok(g));
    // The reply follows the generic protocol link to the last inside sender.
    Packet r = gre(ext, masq, 0x1234);
    REQUIRE(LibAliasIn(nat.la, r.data(), r.capacity()) == PKT_ALIAS_OK);
    CHECK(same(r.dst(), prv1));
    CHECK(gre_call_id(r) == 0x1234);
    // Plain (RFC 2784) GRE is never touched beyond its addresses.
    Packet plain = ip_packet(IPPROTO_GRE, prv2, ext2, 4 + 20);
    plain.put16(plain.hl() + 2, 0x0800);
    fix_checksums(plain);
    const std::string body = plain.payload();
    REQUIRE(LibAliasOut(nat.la, plain.data(), plain.capacity()) == PKT_ALIAS_OK);
    CHECK(same(plain.src(), masq));
    CHECK(plain.payload() == body);
}

TEST_CASE("malformed PPTP control messages and GRE headers are survived", "[pptp][malformed]") {
    Nat nat;
    Client a{prv1, 1500};
    a.connect(nat.la);
    const uint16_t alias_id = place_call(nat.la, a, 1, 0x4000);

    auto send_out = [&](const std::string& payload) {
        Packet p = control(prv1, 1500, ext, kPptpPort, payload);
        const int r = LibAliasOut(nat.la, p.data(), p.capacity());
        CHECK((r == PKT_ALIAS_OK || r == PKT_ALIAS_IGNORED));
        if (r == PKT_ALIAS_OK) CHECK(checksums_ok(p));
        return p;
    };
    auto send_in = [&](const std::string& payload) {
        Packet p = control(ext, kPptpPort, masq, a.alias_port, payload);
        const int r = LibAliasIn(nat.la, p.data(), p.capacity());
        CHECK((r == PKT_ALIAS_OK || r == PKT_ALIAS_IGNORED));
        if (r == PKT_ALIAS_OK) CHECK(checksums_ok(p));
        return p;
    };

    SECTION("every truncation of every message type") {
        for (uint16_t type = 1; type <= 16; ++type) {
            const std::string full = message(type, 2, alias_id) + message(OCRP, 0x4000, alias_id);
            for (std::size_t n = 0; n <= full.size(); ++n) {
                send_out(full.substr(0, n));
                send_in(full.substr(0, n));
            }
        }
    }
    SECTION("absurd length fields, bad magic, unknown types") {
        for (uint16_t length : {0, 1, 11, 12, 13, 15, 16, 17, 0x7fff, 0xffff}) {
            std::string m = message(OCRP, 0x4000, alias_id);
            put16(m, 0, length);
            Packet p = send_in(m);
            // A header claiming less than the fields it must hold is refused untouched.
            if (length < 17) CHECK(p.be16(kPayload + 14) == alias_id);
        }
        std::string bad = message(OCRQ, 2);
        bad[7] = 0;  // magic cookie
        CHECK(send_out(bad).be16(kPayload + 12) == 2);
        // A malformed second message leaves the whole segment alone.
        std::string pair = message(OCRQ, 3) + message(OCRQ, 4);
        put16(pair, 168, 4);
        Packet p = send_out(pair);
        CHECK(p.be16(kPayload + 12) == 3);
        CHECK(p.be16(kPayload + 168 + 12) == 4);
    }
    SECTION("a segment packed with call requests is bounded") {
        std::string many;
        for (uint16_t i = 0; i < 90; ++i) many += message(CCRQ, static_cast<uint16_t>(100 + i));
        send_out(many);
        std::string reqs;
        for (uint16_t i = 0; i < 8; ++i) reqs += message(OCRQ, static_cast<uint16_t>(200 + i));
        send_out(reqs);
    }
    SECTION("random control payloads") {
        std::mt19937 rng(1723);
        for (int i = 0; i < 3000; ++i) {
            std::string m = message(static_cast<uint16_t>(7 + rng() % 9), static_cast<uint16_t>(rng()),
                                    static_cast<uint16_t>(rng()), static_cast<uint8_t>(rng() % 3));
            for (int k = rng() % 6; k > 0; --k) m[rng() % m.size()] = static_cast<char>(rng());
            if (i % 2) send_out(m.substr(0, rng() % (m.size() + 1)));
            else send_in(m.substr(0, rng() % (m.size() + 1)));
        }
    }
    SECTION("GRE cut at every length, and lying about its length") {
        for (std::size_t n = 20; n <= 20 + 16 + 24; ++n) {
            Packet g = gre(ext, masq, alias_id);
            g.put16(2, static_cast<uint16_t>(n));
            fix_checksums(g);
            const int r = LibAliasIn(nat.la, g.data(), g.capacity());
            CHECK((r == PKT_ALIAS_OK || r == PKT_ALIAS_IGNORED));
            if (n >= 28) CHECK(same(g.dst(), prv1));
            Packet o = gre(prv1, ext, 0x4000);
            o.put16(2, static_cast<uint16_t>(n));
            fix_checksums(o);
            const int ro = LibAliasOut(nat.la, o.data(), static_cast<int>(n));
            CHECK((ro == PKT_ALIAS_OK || ro == PKT_ALIAS_IGNORED));
            CHECK(ip_checksum_ok(o));
        }
        // A datagram claiming more than the buffer holds is refused.
        Packet g = gre(ext, masq, alias_id);
        CHECK(LibAliasIn(nat.la, g.data(), 30) != PKT_ALIAS_OK);
        CHECK(gre_call_id(g) == alias_id);
    }

    // Whatever came before, the call still works both ways.
    gre_in_ok(nat.la, alias_id, prv1, 1);
    gre_out_ok(nat.la, prv1, 0x4000);
    Packet sli = a.in(nat.la, message(SLI, alias_id));
    CHECK(sli.be16(kPayload + 12) == 1);
}

TEST_CASE("a PPTP call being cleared expires even without its Call-Disconnect-Notify", "[pptp]") {
    Nat nat;
    FakeClock clock;
    clock.attach(nat.la);
    Client a{prv1, 1600};
    a.connect(nat.la);
    const uint16_t alias_id = place_call(nat.la, a, 5, 0x0777);
    // An idle established call outlives minutes (libalias's PPTP lifetime).
    clock.now += 600;
    gre_in_ok(nat.la, alias_id, prv1, 5);
    a.out(nat.la, message(CCRQ, 5));
    clock.now += 10;
    gre_in_ok(nat.la, alias_id, prv1, 5);  // still draining
    clock.now += 31;
    Packet late = gre(ext, masq, alias_id);
    CHECK(LibAliasIn(nat.la, late.data(), late.capacity()) == PKT_ALIAS_OK);
    CHECK(same(late.dst(), masq));
    CHECK(gre_call_id(late) == alias_id);
}

namespace {

// GRE for `alias_id` from the server no longer reaches anybody inside.
void gre_in_gone(libalias* la, uint16_t alias_id) {
    Packet g = gre(ext, masq, alias_id);
    const int r = LibAliasIn(la, g.data(), g.capacity());
    CHECK((r == PKT_ALIAS_OK || r == PKT_ALIAS_IGNORED));
    CHECK(same(g.dst(), masq));
    CHECK(gre_call_id(g) == alias_id);
    CHECK(ip_checksum_ok(g));
}

}  // namespace

// RFC 2637 makes a Call ID unique only per control connection, so a server
// may well answer two clients behind one alias address with the same one.
TEST_CASE("the server's Call-Disconnect-Notify ends the right call when two clients got the same Call ID",
          "[pptp]") {
    const bool first_a = GENERATE(true, false);  // which client's call the server ends first
    Nat nat;
    Client a{prv1, 1700}, b{prv2, 1700};
    a.connect(nat.la);
    b.connect(nat.la);
    const uint16_t alias_a = place_call(nat.la, a, 1, 0x4000);
    const uint16_t alias_b = place_call(nat.la, b, 1, 0x4000);
    REQUIRE(alias_a != alias_b);
    gre_out_ok(nat.la, prv1, 0x4000);
    gre_out_ok(nat.la, prv2, 0x4000);
    gre_in_ok(nat.la, alias_a, prv1, 1);
    gre_in_ok(nat.la, alias_b, prv2, 1);

    Client& gone = first_a ? a : b;
    Client& kept = first_a ? b : a;
    const uint16_t alias_gone = first_a ? alias_a : alias_b, alias_kept = first_a ? alias_b : alias_a;
    Packet cdn = gone.in(nat.la, message(CDN, 0x4000));
    CHECK(cdn.be16(kPayload + 12) == 0x4000);  // the server's own id passes as is
    gre_in_gone(nat.la, alias_gone);
    // The other call, with the same server Call ID, still works both ways.
    gre_in_ok(nat.la, alias_kept, kept.addr, 1);
    gre_out_ok(nat.la, kept.addr, 0x4000);

    kept.in(nat.la, message(CDN, 0x4000));
    gre_in_gone(nat.la, alias_kept);
}

TEST_CASE("the server's Call-Clear-Request clears the right call when two clients got the same Call ID",
          "[pptp]") {
    Nat nat;
    FakeClock clock;
    clock.attach(nat.la);
    Client a{prv1, 1800}, b{prv2, 1800};
    a.connect(nat.la);
    b.connect(nat.la);
    const uint16_t alias_a = place_call(nat.la, a, 1, 0x0500);
    const uint16_t alias_b = place_call(nat.la, b, 1, 0x0500);
    // a's call was set up first, so b's peer link is the newer of the two
    // sharing the inbound key (alias, server, 0, 0x0500).
    Packet clear = a.in(nat.la, message(CCRQ, 0x0500));
    CHECK(clear.be16(kPayload + 12) == 0x0500);
    clock.now += 10;
    gre_in_ok(nat.la, alias_a, prv1, 1);  // still draining
    gre_out_ok(nat.la, prv1, 0x0500);
    clock.now += 31;
    gre_in_gone(nat.la, alias_a);
    gre_in_ok(nat.la, alias_b, prv2, 1);
    gre_out_ok(nat.la, prv2, 0x0500);
}
