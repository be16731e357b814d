// SPDX-License-Identifier: BSD-2-Clause
// NetBIOS over TCP/IP (RFC 1001/1002): the name service (UDP 137) and the
// datagram service (UDP 138) carry IPv4 addresses in their payload.  An
// inside host registering its name, or answered about it, must see and
// show consistent addresses; datagrams must name the alias endpoint.  The
// parser must survive truncation, compression loops, absurd counts and
// random bytes without rewriting anything it did not fully understand.
#include <catch2/catch.hpp>

#include "packet.hpp"

#include <algorithm>
#include <cstring>
#include <random>
#include <string>

using namespace test;

namespace {

constexpr uint16_t kNs = 137, kDgm = 138;

void put16(std::string& s, std::size_t off, uint16_t v) {
    s[off] = static_cast<char>(v >> 8);
    s[off + 1] = static_cast<char>(v);
}
void put_addr(std::string& s, std::size_t off, in_addr a) { std::memcpy(&s[off], &a, 4); }
std::string be16(uint16_t v) { return std::string{static_cast<char>(v >> 8), static_cast<char>(v)}; }
std::string addr_bytes(in_addr a) { return std::string(reinterpret_cast<const char*>(&a), 4); }

// RFC 1001 14.1 first-level encoding of a 16-byte NetBIOS name, plus an
// optional scope label, as a complete domain name.
std::string encoded_name(const char* name, char suffix, const std::string& scope = "") {
    char raw[16];
    std::memset(raw, ' ', 15);
    std::memcpy(raw, name, std::min<std::size_t>(std::strlen(name), 15));
    raw[15] = suffix;
    std::string out(1, '\x20');
    for (char c : raw) {
        out += static_cast<char>('A' + ((static_cast<unsigned char>(c) >> 4) & 0xf));
        out += static_cast<char>('A' + (static_cast<unsigned char>(c) & 0xf));
    }
    if (!scope.empty()) out += static_cast<char>(scope.size()) + scope;
    out += '\0';
    return out;
}

std::string ns_header(uint16_t id, uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar) {
    return be16(id) + be16(flags) + be16(qd) + be16(an) + be16(ns) + be16(ar);
}
// NB resource record data: NB_FLAGS + address for each member.
std::string nb_rdata(std::initializer_list<in_addr> members) {
    std::string d;
    for (in_addr a : members) d += be16(0x0000) + addr_bytes(a);  // B-node, unique
    return d;
}
std::string record(const std::string& name, uint16_t type, const std::string& rdata, uint32_t ttl = 300000) {
    return name + be16(type) + be16(1) + be16(static_cast<uint16_t>(ttl >> 16)) + be16(static_cast<uint16_t>(ttl)) +
           be16(static_cast<uint16_t>(rdata.size())) + rdata;
}

// A name registration request (RFC 1002 4.2.2): the question and an
// additional NB record, by compression pointer, with the host's address.
std::string registration(in_addr host, const std::string& scope = "") {
    const std::string name = encoded_name("WORKSTATION", 0x00, scope);
    return ns_header(0x6a01, 0x2910, 1, 0, 0, 1) + name + be16(0x20) + be16(1) +
           record("\xc0\x0c", 0x20, nb_rdata({host}));
}

// A positive name query response (RFC 1002 4.2.13) for a group name.
std::string query_response(std::initializer_list<in_addr> members, const std::string& scope) {
    const std::string name = encoded_name("OFFICE", 0x1e, scope);
    return ns_header(0x6a02, 0x8500, 0, 1, 0, 0) + record(name, 0x20, nb_rdata(members));
}

// A direct group datagram (RFC 1002 4.4.2) from `src`:`sport`.
std::string datagram(in_addr src, uint16_t sport, const std::string& data = "\xffSMB%browse-announcement") {
    const std::string names = encoded_name("WORKSTATION", 0x00) + encoded_name("OFFICE", 0x1d);
    std::string h = std::string{'\x11', '\x02'} + be16(0x8123) + addr_bytes(src) + be16(sport) +
                    be16(static_cast<uint16_t>(names.size() + data.size())) + be16(0);
    return h + names + data;
}

bool same(in_addr a, in_addr b) { return a.s_addr == b.s_addr; }
in_addr addr_at(const Packet& p, std::size_t payload_off) {
    in_addr a;
    std::memcpy(&a, p.data() + p.hl() + 8 + payload_off, 4);
    return a;
}

}  // namespace

TEST_CASE("NetBIOS name registration from inside carries the alias address", "[nbt]") {
    Nat nat;
    for (const std::string scope : {"", "corp"}) {  // the scope makes the address offset odd
        const std::string msg = registration(prv1, scope);
        const std::size_t nb_addr = msg.size() - 4;
        Packet p = udp_packet(prv1, kNs, ext, kNs, msg);
        REQUIRE(nat.out(p) == PKT_ALIAS_OK);
        CHECK(same(p.src(), masq));
        CHECK(same(addr_at(p, nb_addr), masq));
        CHECK(nb_addr % 2 == (scope.empty() ? 0u : 1u));
        CHECK(checksums_ok(p));
        // Everything but the address is as sent.
        std::string expect = msg;
        put_addr(expect, nb_addr, masq);
        CHECK(p.payload() == expect);
    }
}

TEST_CASE("NetBIOS name query answer: the alias address becomes the inside host's", "[nbt]") {
    Nat nat;
    for (const std::string scope : {"", "corp", "ab"}) {
        Packet q = udp_packet(prv2, kNs, ext, kNs, ns_header(0x6a02, 0x0110, 1, 0, 0, 0) +
                                                      encoded_name("OFFICE", 0x1e, scope) + be16(0x20) + be16(1));
        REQUIRE(nat.out(q) == PKT_ALIAS_OK);
        const uint16_t aport = q.sport();

        // The WINS server answers with the group's members: us (by the
        // alias address) and an outside host.
        const std::string msg = query_response({masq, ext2}, scope);
        const std::size_t first = msg.size() - 10, second = msg.size() - 4;
        Packet r = udp_packet(ext, kNs, masq, aport, msg);
        REQUIRE(nat.in(r) == PKT_ALIAS_OK);
        CHECK(same(r.dst(), prv2));
        CHECK(r.dport() == kNs);
        CHECK(same(addr_at(r, first), prv2));
        CHECK(same(addr_at(r, second), ext2));
        CHECK(checksums_ok(r));
    }
}

TEST_CASE("NetBIOS A records and several sections are rewritten, others left alone", "[nbt]") {
    Nat nat;
    const std::string name = encoded_name("FILESRV", 0x20);
    // An answer with an NB record, an authority NS record naming a server,
    // and an additional A record for that server (RFC 1002 4.2.15 style).
    const std::string msg = ns_header(0x1, 0x8580, 0, 1, 1, 1) + record(name, 0x20, nb_rdata({prv1})) +
                            record("\xc0\x0c", 0x02, encoded_name("WINS", 0x20)) +
                            record("\xc0\x0c", 0x01, addr_bytes(prv1));
    Packet p = udp_packet(prv1, kNs, ext, kNs, msg);
    REQUIRE(nat.out(p) == PKT_ALIAS_OK);
    CHECK(same(addr_at(p, 12 + name.size() + 10 + 2), masq));
    CHECK(same(addr_at(p, msg.size() - 4), masq));
    CHECK(checksums_ok(p));
    // A WACK (NB record of 2 bytes) carries no address and passes untouched.
    const std::string wack = ns_header(0x2, 0xbc00, 0, 1, 0, 0) + record(name, 0x20, be16(0x2910));
    Packet w = udp_packet(prv1, kNs, ext, kNs, wack);
    REQUIRE(nat.out(w) == PKT_ALIAS_OK);
    CHECK(w.payload() == wack);
}

TEST_CASE("NetBIOS datagrams from inside name the alias endpoint", "[nbt]") {
    for (unsigned mode : {unsigned{PKT_ALIAS_SAME_PORTS}, 0u}) {
        Nat nat(masq, mode, PKT_ALIAS_SAME_PORTS);
        const std::string msg = datagram(prv1, kDgm);
        Packet p = udp_packet(prv1, kDgm, ext, kDgm, msg);
        REQUIRE(nat.out(p) == PKT_ALIAS_OK);
        CHECK(same(p.src(), masq));
        CHECK(same(addr_at(p, 4), masq));
        CHECK(p.be16(p.hl() + 8 + 8) == p.sport());
        if (mode == 0) CHECK(p.sport() != kDgm);
        CHECK(checksums_ok(p));
        CHECK(p.payload().substr(10) == msg.substr(10));

        // With no UDP checksum ("none") there is none after the rewrite.
        Packet z = udp_packet(prv1, kDgm, ext, kDgm, msg);
        z.put16(z.hl() + 6, 0);
        REQUIRE(nat.out(z) == PKT_ALIAS_OK);
        CHECK(z.be16(z.hl() + 6) == 0);
        CHECK(same(addr_at(z, 4), masq));

        // A relayed datagram naming another sender keeps that sender.
        Packet relay = udp_packet(prv1, kDgm, ext, kDgm, datagram(prv3, 1138));
        REQUIRE(nat.out(relay) == PKT_ALIAS_OK);
        CHECK(same(addr_at(relay, 4), prv3));
        CHECK(relay.be16(relay.hl() + 8 + 8) == 1138);
        CHECK(checksums_ok(relay));

        // Inbound datagrams name their outside sender and pass as sent.
        const std::string reply = datagram(ext, kDgm);
        Packet in = udp_packet(ext, kDgm, masq, p.sport(), reply);
        REQUIRE(nat.in(in) == PKT_ALIAS_OK);
        CHECK(same(in.dst(), prv1));
        CHECK(in.payload() == reply);
        CHECK(checksums_ok(in));
    }
}

TEST_CASE("malformed NetBIOS messages are refused untouched and the instance keeps working", "[nbt][malformed]") {
    Nat nat;
    // Sends `msg` out from prv1 on `port`; the inside address must survive
    // wherever the parser refused.
    auto out = [&](const std::string& msg, uint16_t port = kNs) {
        // Exactly the datagram: reading past it is reading past the buffer.
        Packet p = udp_packet(prv1, port, ext, port, msg, 28 + msg.size());
        const int r = nat.out(p);
        CHECK((r == PKT_ALIAS_OK || r == PKT_ALIAS_IGNORED));
        if (r == PKT_ALIAS_OK) CHECK(checksums_ok(p));
        return p;
    };
    auto unchanged = [&](const std::string& msg, uint16_t port = kNs) {
        Packet p = out(msg, port);
        CHECK(p.payload() == msg);
    };

    SECTION("truncated at every offset") {
        const std::string reg = registration(prv1, "corp");
        for (std::size_t n = 0; n < reg.size(); ++n) unchanged(reg.substr(0, n));
        const std::string dgm = datagram(prv1, kDgm);
        for (std::size_t n = 0; n < 14 + 34 + 34; ++n) {
            Packet p = out(dgm.substr(0, n), kDgm);
            CHECK(p.payload() == dgm.substr(0, n));
        }
        // The UDP length field may not claim more than the datagram holds,
        // and a shorter one bounds the message.
        Packet p = udp_packet(prv1, kNs, ext, kNs, reg);
        p.put16(p.hl() + 4, static_cast<uint16_t>(8 + reg.size() + 1));
        fix_checksums(p);
        nat.out(p);
        CHECK(p.payload() == reg);
        Packet s = udp_packet(prv1, kNs, ext, kNs, reg);
        s.put16(s.hl() + 4, static_cast<uint16_t>(8 + reg.size() - 2));
        fix_checksums(s);
        nat.out(s);
        CHECK(s.payload() == reg);
    }
    SECTION("compression pointers that loop or point forward") {
        const std::string name = encoded_name("WORKSTATION", 0x00);
        const std::string tail = be16(0x20) + be16(1) + be16(0) + be16(300) + be16(6) + be16(0) + addr_bytes(prv1);
        std::string self = ns_header(1, 0x2910, 0, 1, 0, 0) + "\xc0\x0c" + tail;    // points at itself
        unchanged(self);
        std::string forward = ns_header(1, 0x2910, 0, 1, 0, 0) + "\xc0\x20" + tail;  // points ahead
        unchanged(forward);
        // Two names pointing at each other.
        std::string ping = ns_header(1, 0x2910, 0, 2, 0, 0) + "\x01X\xc0\x0e" + tail + "\xc0\x0c" + tail;
        unchanged(ping);
        std::string into_header = ns_header(1, 0x2910, 0, 1, 0, 0) + name + be16(0x20) + be16(1);
        into_header = ns_header(1, 0x2910, 1, 1, 0, 0) + name + be16(0x20) + be16(1) + "\xc0\x02" + tail;
        unchanged(into_header);
        // Reserved label types 01 and 10.
        unchanged(ns_header(1, 0x2910, 0, 1, 0, 0) + "\x40" + tail);
        unchanged(ns_header(1, 0x2910, 0, 1, 0, 0) + "\x80" + tail);
        // A valid backwards chain is followed and accepted.
        Packet ok = out(ns_header(1, 0x2910, 1, 1, 0, 0) + name + be16(0x20) + be16(1) + "\xc0\x0c" + tail);
        CHECK(same(addr_at(ok, 12 + name.size() + 4 + 2 + 12), masq));
    }
    SECTION("absurd counts, lengths and names") {
        const std::string reg = registration(prv1);
        for (std::size_t field : {4u, 6u, 8u, 10u}) {
            std::string m = reg;
            put16(m, field, 0xffff);
            unchanged(m);
        }
        std::string rd = reg;
        put16(rd, rd.size() - 8, 0xfff0);  // RDLENGTH past the end
        unchanged(rd);
        std::string odd = reg;
        put16(odd, odd.size() - 8, 5);  // NB data not whole entries: opaque, so nothing rewritten
        out(odd);
        // A name of 300 encoded bytes (over RFC 1035's 255).
        std::string longname;
        for (int i = 0; i < 50; ++i) longname += "\x05" "ABCDE";
        unchanged(ns_header(1, 0x2910, 0, 1, 0, 0) + longname + '\0' +
                  be16(0x20) + be16(1) + be16(0) + be16(300) + be16(6) + be16(0) + addr_bytes(prv1));
        // Over 256 address fields: left whole rather than half rewritten.
        std::string many = ns_header(1, 0x8500, 0, 1, 0, 0) + encoded_name("BIG", 0x1e) + be16(0x20) + be16(1) +
                           be16(0) + be16(300) + be16(6 * 300);
        for (int i = 0; i < 300; ++i) many += be16(0x8000) + addr_bytes(prv1);
        unchanged(many);
        // Datagram of an unknown type, and one whose DGM_LENGTH lies.
        std::string dgm = datagram(prv1, kDgm);
        dgm[0] = 0x20;
        unchanged(dgm, kDgm);
        dgm = datagram(prv1, kDgm);
        put16(dgm, 10, 0x4000);
        unchanged(dgm, kDgm);
        // Compression pointers have no place in a datagram's names.
        dgm = datagram(prv1, kDgm);
        dgm[14] = '\xc0';
        unchanged(dgm, kDgm);
    }
    SECTION("random bytes, both directions") {
        std::mt19937 rng(137);
        const std::string seeds[] = {registration(prv1, "corp"), query_response({masq, ext2}, ""),
                                     datagram(prv1, kDgm)};
        Packet q = udp_packet(prv2, kNs, ext, kNs, registration(prv2));
        REQUIRE(nat.out(q) == PKT_ALIAS_OK);
        for (int i = 0; i < 4000; ++i) {
            std::string m = seeds[i % 3];
            for (int k = 1 + rng() % 8; k > 0; --k) m[rng() % m.size()] = static_cast<char>(rng());
            m.resize(rng() % (m.size() + 8), '\x7f');
            const uint16_t port = i % 3 == 2 ? kDgm : kNs;
            if (i % 2) {
                out(m, port);
            } else {
                Packet p = udp_packet(ext, port, masq, q.sport(), m, 28 + m.size());
                const int r = nat.in(p);
                CHECK((r == PKT_ALIAS_OK || r == PKT_ALIAS_IGNORED));
                if (r == PKT_ALIAS_OK) CHECK(checksums_ok(p));
            }
        }
    }

    // The instance still translates a well-formed registration.
    const std::string reg = registration(prv1, "corp");
    Packet p = udp_packet(prv1, kNs, ext, kNs, reg);
    REQUIRE(nat.out(p) == PKT_ALIAS_OK);
    CHECK(same(addr_at(p, reg.size() - 4), masq));
    CHECK(checksums_ok(p));
}
