// SPDX-License-Identifier: BSD-2-Clause
// TFTP (RFC 1350): the server answers from a new port (its TID); a request
// through the NAT opens the way for that answer, and only a well-formed
// request does.
#include <catch2/catch.hpp>

#include "packet.hpp"

using namespace test;

namespace {

constexpr uint16_t kClientPort = 3069;
constexpr uint16_t kServerTid = 47111;

struct TftpNat : Nat {
    explicit TftpNat(bool same_ports)
        : Nat(masq, same_ports ? PKT_ALIAS_SAME_PORTS : 0u, PKT_ALIAS_SAME_PORTS | PKT_ALIAS_USE_SOCKETS) {}
};

std::string request(uint16_t opcode, const std::string& file, const std::string& mode) {
    std::string s{static_cast<char>(opcode >> 8), static_cast<char>(opcode & 0xff)};
    return s + file + '\0' + mode + '\0';
}

std::string data_block(uint16_t block, const std::string& bytes) {
    return std::string{0, 3, static_cast<char>(block >> 8), static_cast<char>(block & 0xff)} + bytes;
}

}  // namespace

TEST_CASE("tftp read: the server's reply from a new TID reaches the client", "[tftp]") {
    const bool same_ports = GENERATE(true, false);
    const uint16_t opcode = GENERATE(uint16_t{1}, uint16_t{2});  // RRQ, WRQ
    TftpNat nat(same_ports);
    const std::string rrq = request(opcode, "pxelinux.0", "octet");
    Packet req = udp_packet(prv1, kClientPort, ext, 69, rrq);
    REQUIRE(nat.out(req) == PKT_ALIAS_OK);
    CHECK(req.payload() == rrq);  // nothing in TFTP names an address
    CHECK(checksums_ok(req));
    const uint16_t alias_port = req.sport();
    if (!same_ports) CHECK(alias_port >= 0x8000);

    Packet reply = udp_packet(ext, kServerTid, masq, alias_port, data_block(1, "\x7f" "ELF"));
    REQUIRE(nat.in(reply) == PKT_ALIAS_OK);
    CHECK(reply.dst().s_addr == prv1.s_addr);
    CHECK(reply.dport() == kClientPort);
    CHECK(reply.sport() == kServerTid);
    CHECK(checksums_ok(reply));

    // The client's acknowledgement to the TID leaves from the same alias port.
    Packet ack = udp_packet(prv1, kClientPort, ext, kServerTid, std::string{0, 4, 0, 1});
    REQUIRE(nat.out(ack) == PKT_ALIAS_OK);
    CHECK(ack.src().s_addr == masq.s_addr);
    CHECK(ack.sport() == alias_port);
    CHECK(checksums_ok(ack));

    // The next block follows the completed link.
    Packet block2 = udp_packet(ext, kServerTid, masq, alias_port, data_block(2, "more"));
    REQUIRE(nat.in(block2) == PKT_ALIAS_OK);
    CHECK(block2.dst().s_addr == prv1.s_addr);
    CHECK(block2.dport() == kClientPort);
}

TEST_CASE("tftp request with RFC 2347 options and upper-case mode", "[tftp]") {
    TftpNat nat(false);
    std::string rrq = request(1, "boot/kernel", "OCTET");
    rrq += std::string("blksize") + '\0' + "1428" + '\0' + "tsize" + '\0' + "0" + '\0';
    Packet req = udp_packet(prv1, kClientPort, ext, 69, rrq);
    REQUIRE(nat.out(req) == PKT_ALIAS_OK);
    Packet oack = udp_packet(ext, kServerTid, masq, req.sport(), std::string{0, 6} + "blksize" + '\0' + "1428" + '\0');
    REQUIRE(nat.in(oack) == PKT_ALIAS_OK);
    CHECK(oack.dst().s_addr == prv1.s_addr);
    CHECK(oack.dport() == kClientPort);
}

TEST_CASE("tftp: the reply is not let in for another server or without a request", "[tftp]") {
    TftpNat nat(false);
    Packet req = udp_packet(prv1, kClientPort, ext, 69, request(1, "file", "netascii"));
    REQUIRE(nat.out(req) == PKT_ALIAS_OK);
    // Another host answering to the alias port is not the server asked.
    Packet stray = udp_packet(ext2, kServerTid, masq, req.sport(), data_block(1, "x"));
    REQUIRE(nat.in(stray) == PKT_ALIAS_OK);
    CHECK(stray.dst().s_addr == masq.s_addr);
    CHECK(checksums_ok(stray));
}

TEST_CASE("tftp malformed requests open nothing", "[tftp][malformed]") {
    const std::string bad = GENERATE(as<std::string>{},
        std::string(),                                          // empty
        std::string(1, '\0'),                                   // one byte
        request(3, "file", "octet"),                            // DATA, not a request
        request(5, "file", "octet"),                            // ERROR
        request(1, "", "octet"),                                // empty file name
        request(1, "file", "binary"),                           // unknown mode
        std::string{0, 1} + "file",                             // no terminator
        std::string{0, 1} + "file" + '\0' + "octet",            // mode not terminated
        std::string{0, 1} + std::string(1400, 'a'),             // long, unterminated
        request(1, std::string(1100, 'a'), "octet"));           // file name too long
    TftpNat nat(false);
    Packet req = udp_packet(prv1, kClientPort, ext, 69, bad);
    REQUIRE(nat.out(req) == PKT_ALIAS_OK);
    CHECK(req.payload() == bad);
    CHECK(req.src().s_addr == masq.s_addr);  // the request itself is still translated
    CHECK(checksums_ok(req));
    Packet reply = udp_packet(ext, kServerTid, masq, req.sport(), data_block(1, "x"));
    REQUIRE(nat.in(reply) == PKT_ALIAS_OK);
    CHECK(reply.dst().s_addr == masq.s_addr);  // no link: not forwarded inside
    // A reply from port 69 itself still matches the ordinary link.
    Packet same = udp_packet(ext, 69, masq, req.sport(), data_block(1, "x"));
    REQUIRE(nat.in(same) == PKT_ALIAS_OK);
    CHECK(same.dst().s_addr == prv1.s_addr);
    CHECK(same.dport() == kClientPort);
}

TEST_CASE("tftp random requests never break the packet", "[tftp][malformed]") {
    XorShift64 next{0xda942042e4dd58b5ull};
    TftpNat nat(false);
    const std::string seed = request(1, "pxelinux.cfg/default", "octet") + "blksize" + '\0' + "1468" + '\0';
    for (int i = 0; i < 3000; ++i) {
        std::string s = seed;
        for (int k = 1 + static_cast<int>(next() % 3); k > 0 && !s.empty(); --k) {
            const std::size_t at = next() % s.size();
            if (next() % 2) s[at] = static_cast<char>(next() % 4 == 0 ? 0 : next());
            else s.resize(at);
        }
        const std::size_t room = 28 + s.size() + next() % 4;
        Packet p = udp_packet(prv1, static_cast<uint16_t>(2000 + i % 500), ext, 69, s, room);
        CHECK(LibAliasOut(nat.la, p.data(), static_cast<int>(room)) == PKT_ALIAS_OK);
        CHECK(checksums_ok(p));
        CHECK(p.payload() == s);
    }
}
