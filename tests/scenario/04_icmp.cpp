// SPDX-License-Identifier: BSD-2-Clause
// ICMP: queries (echo, timestamp) aliased by identifier, and errors
// (unreachable, source quench, time exceeded, parameter problem) whose quoted
// TCP/UDP/ICMP datagram is translated along with the outer header, in both
// directions.  Every checksum is recomputed from scratch: outer IP, outer
// ICMP (which covers the quote), the quoted IP header, and the quoted
// transport checksum whenever the whole quoted datagram is present.
#include <catch2/catch.hpp>

#include "packet.hpp"

using namespace test;

namespace {

bool same(in_addr a, in_addr b) { return a.s_addr == b.s_addr; }

// The datagram quoted in an ICMP error, as its own Packet (the quote's ip_len
// may describe more than was quoted, so the buffer is cut to what is there).
Packet quoted(const Packet& err) {
    const std::size_t off = err.hl() + 8;
    Packet q(err.len() - off);
    std::memcpy(q.data(), err.data() + off, err.len() - off);
    return q;
}

Packet timestamp(in_addr src, in_addr dst, uint16_t id, bool reply) {
    Packet p = ip_packet(IPPROTO_ICMP, src, dst, 20);
    p.buf[20] = reply ? 14 : 13;
    p.put16(24, id);
    p.put16(26, 1);
    p.put32(28, 123456);
    fix_checksums(p);
    return p;
}

constexpr uint8_t kUnreach = 3, kSourceQuench = 4, kTimeExceeded = 11, kParamProblem = 12;

}  // namespace

TEST_CASE("echo request and reply are aliased by identifier", "[icmp]") {
    Nat nat(masq, 0, ~0u);  // no SAME_PORTS: identifiers are drawn from the range
    Packet req = icmp_echo(prv1, ext, 0x0101, 7);
    REQUIRE(nat.out(req) == PKT_ALIAS_OK);
    CHECK(same(req.src(), masq));
    CHECK(same(req.dst(), ext));
    const uint16_t aid = req.icmp_id();
    CHECK(aid >= 0x8000);
    CHECK(req.be16(26) == 7);  // sequence untouched
    CHECK(checksums_ok(req));

    // A second host using the same identifier gets another one.
    Packet req2 = icmp_echo(prv2, ext, 0x0101, 7);
    REQUIRE(nat.out(req2) == PKT_ALIAS_OK);
    const uint16_t aid2 = req2.icmp_id();
    CHECK(aid2 != aid);

    Packet rep = icmp_echo(ext, masq, aid, 7, true);
    REQUIRE(nat.in(rep) == PKT_ALIAS_OK);
    CHECK(same(rep.dst(), prv1));
    CHECK(rep.icmp_id() == 0x0101);
    CHECK(checksums_ok(rep));
    Packet rep2 = icmp_echo(ext, masq, aid2, 7, true);
    REQUIRE(nat.in(rep2) == PKT_ALIAS_OK);
    CHECK(same(rep2.dst(), prv2));
    CHECK(rep2.icmp_id() == 0x0101);
    CHECK(checksums_ok(rep2));
}

TEST_CASE("SAME_PORTS keeps the echo identifier", "[icmp]") {
    Nat nat(masq);
    Packet req = icmp_echo(prv1, ext, 0x4242, 1);
    REQUIRE(nat.out(req) == PKT_ALIAS_OK);
    CHECK(req.icmp_id() == 0x4242);
    CHECK(checksums_ok(req));
}

TEST_CASE("timestamp request and reply are aliased by identifier", "[icmp]") {
    Nat nat(masq, 0, ~0u);
    Packet req = timestamp(prv1, ext, 0x0202, false);
    REQUIRE(nat.out(req) == PKT_ALIAS_OK);
    CHECK(same(req.src(), masq));
    CHECK(checksums_ok(req));
    Packet rep = timestamp(ext, masq, req.icmp_id(), true);
    REQUIRE(nat.in(rep) == PKT_ALIAS_OK);
    CHECK(same(rep.dst(), prv1));
    CHECK(rep.icmp_id() == 0x0202);
    CHECK(checksums_ok(rep));
}

TEST_CASE("an echo request from outside to the NAT host passes unchanged", "[icmp]") {
    Nat nat(masq);
    Packet req = icmp_echo(ext, masq, 0x7777, 1);
    const Packet before = req;
    CHECK(nat.in(req) == PKT_ALIAS_OK);
    CHECK(req.buf == before.buf);
    // The host's own reply leaves with its identifier and source.
    Packet rep = icmp_echo(masq, ext, 0x7777, 1, true);
    // A probe that may not create (LibAliasOutTry, create=0) finds no link for it.
    const Packet rep_before = rep;
    CHECK(LibAliasOutTry(nat.la, rep.data(), rep.capacity(), 0) == PKT_ALIAS_IGNORED);
    CHECK(rep.buf == rep_before.buf);
    CHECK(nat.out(rep) == PKT_ALIAS_OK);
    CHECK(same(rep.src(), masq));
    CHECK(rep.icmp_id() == 0x7777);
    CHECK(checksums_ok(rep));
}

TEST_CASE("an echo request to a statically mapped host reaches it", "[icmp]") {
    Nat nat(masq);
    REQUIRE(LibAliasRedirectAddr(nat.la, prv2, pub) != nullptr);
    Packet req = icmp_echo(ext, pub, 0x7777, 1);
    REQUIRE(nat.in(req) == PKT_ALIAS_OK);
    CHECK(same(req.dst(), prv2));
    CHECK(checksums_ok(req));
    Packet rep = icmp_echo(prv2, ext, 0x7777, 1, true);
    REQUIRE(nat.out(rep) == PKT_ALIAS_OK);
    CHECK(same(rep.src(), pub));
    CHECK(rep.icmp_id() == 0x7777);
    CHECK(checksums_ok(rep));
}

TEST_CASE("other ICMP types and non-zero codes are ignored", "[icmp]") {
    Nat nat(masq);
    Packet redirect = icmp_echo(prv1, ext, 1, 1);
    redirect.buf[20] = 5;  // redirect
    fix_checksums(redirect);
    CHECK(nat.out(redirect) == PKT_ALIAS_IGNORED);
    Packet odd = icmp_echo(prv1, ext, 1, 1);
    odd.buf[21] = 1;  // echo with code 1
    fix_checksums(odd);
    const Packet before = odd;
    CHECK(nat.out(odd) == PKT_ALIAS_IGNORED);
    CHECK(odd.buf == before.buf);
    Packet router_adv = icmp_echo(ext, masq, 1, 1);
    router_adv.buf[20] = 9;
    fix_checksums(router_adv);
    CHECK(nat.in(router_adv) == PKT_ALIAS_IGNORED);
}

TEST_CASE("inbound errors about an outbound UDP flow are translated inside and out", "[icmp][error]") {
    for (uint8_t type : {kUnreach, kSourceQuench, kTimeExceeded, kParamProblem}) {
        DYNAMIC_SECTION("type " << int(type)) {
            Nat nat(masq, 0, ~0u);
            Packet out = udp_packet(prv1, 5353, ext, 53, "query!");
            REQUIRE(nat.out(out) == PKT_ALIAS_OK);
            const uint16_t aport = out.sport();

            // The router quotes the whole datagram, so every inner checksum is checkable.
            Packet err = icmp_error(ext2, masq, type, type == kUnreach ? 3 : 0, out, out.l4_len());
            REQUIRE(nat.in(err) == PKT_ALIAS_OK);
            CHECK(same(err.src(), ext2));
            CHECK(same(err.dst(), prv1));
            CHECK(err.buf[20] == type);
            CHECK(checksums_ok(err));
            Packet q = quoted(err);
            CHECK(same(q.src(), prv1));
            CHECK(q.sport() == 5353);
            CHECK(same(q.dst(), ext));
            CHECK(q.dport() == 53);
            CHECK(checksums_ok(q));
            (void)aport;
        }
    }
}

// libalias ignores errors about protocols without ports; translating them
// through the quoted flow's link lets path MTU discovery work for a GRE or
// ESP tunnel behind the NAT (RFC 5508 REQ-3).
TEST_CASE("inbound fragmentation-needed about an outbound GRE flow is translated", "[icmp][error]") {
    Nat nat(masq, 0, ~0u);
    Packet gre = ip_packet(47, prv1, ext, 24);
    REQUIRE(nat.out(gre) == PKT_ALIAS_OK);
    REQUIRE(same(gre.src(), masq));
    Packet err = icmp_error(ext2, masq, kUnreach, 4, gre, 8);
    REQUIRE(nat.in(err) == PKT_ALIAS_OK);
    CHECK(same(err.dst(), prv1));
    CHECK(checksums_ok(err));
    Packet q = quoted(err);
    CHECK(same(q.src(), prv1));
    CHECK(same(q.dst(), ext));
    CHECK(ip_checksum_ok(q));
}

TEST_CASE("inbound error about TCP with only 8 quoted bytes", "[icmp][error]") {
    Nat nat(masq, 0, ~0u);
    Packet syn = tcp_packet(prv1, 40000, ext, 443, kSyn, 1);
    REQUIRE(nat.out(syn) == PKT_ALIAS_OK);
    Packet err = icmp_error(ext, masq, kUnreach, 3, syn, 8);
    REQUIRE(nat.in(err) == PKT_ALIAS_OK);
    CHECK(same(err.dst(), prv1));
    CHECK(checksums_ok(err));
    Packet q = quoted(err);
    CHECK(same(q.src(), prv1));
    CHECK(q.sport() == 40000);
    CHECK(q.dport() == 443);
    CHECK(ip_checksum_ok(q));
    CHECK(q.tcp_seq() == 1);
}

TEST_CASE("inbound time-exceeded about an outbound echo", "[icmp][error]") {
    Nat nat(masq, 0, ~0u);
    Packet req = icmp_echo(prv2, ext, 0x0303, 9);
    REQUIRE(nat.out(req) == PKT_ALIAS_OK);
    Packet err = icmp_error(ext2, masq, kTimeExceeded, 0, req, req.l4_len());
    REQUIRE(nat.in(err) == PKT_ALIAS_OK);
    CHECK(same(err.dst(), prv2));
    CHECK(checksums_ok(err));
    Packet q = quoted(err);
    CHECK(same(q.src(), prv2));
    CHECK(q.icmp_id() == 0x0303);
    CHECK(checksums_ok(q));
}

TEST_CASE("an inbound error with no matching link is ignored", "[icmp][error]") {
    Nat nat(masq);
    Packet never = udp_packet(masq, 1111, ext, 53);
    Packet err = icmp_error(ext, masq, kUnreach, 3, never, 8);
    const Packet before = err;
    CHECK(nat.in(err) == PKT_ALIAS_IGNORED);
    CHECK(err.buf == before.buf);
}

TEST_CASE("outbound errors about an inbound flow are translated inside and out", "[icmp][error]") {
    for (uint8_t type : {kUnreach, kSourceQuench, kTimeExceeded, kParamProblem}) {
        DYNAMIC_SECTION("type " << int(type)) {
            Nat nat(masq, PKT_ALIAS_DENY_INCOMING, ~0u);
            REQUIRE(LibAliasRedirectPort(nat.la, prv1, htons(69), any_addr, 0, masq, htons(6969), IPPROTO_UDP) !=
                    nullptr);
            Packet in = udp_packet(ext, 2000, masq, 6969, "rrq");
            REQUIRE(nat.in(in) == PKT_ALIAS_OK);
            REQUIRE(same(in.dst(), prv1));

            // The inside host rejects the datagram it received.
            Packet err = icmp_error(prv1, ext, type, type == kUnreach ? 3 : 0, in, in.l4_len());
            REQUIRE(nat.out(err) == PKT_ALIAS_OK);
            CHECK(same(err.src(), masq));
            CHECK(same(err.dst(), ext));
            CHECK(checksums_ok(err));
            Packet q = quoted(err);
            CHECK(same(q.src(), ext));
            CHECK(q.sport() == 2000);
            CHECK(same(q.dst(), masq));
            CHECK(q.dport() == 6969);
            CHECK(checksums_ok(q));
        }
    }
}

TEST_CASE("an error from an inside router leaves with the public address (RFC 5508 REQ-5)", "[icmp][error]") {
    Nat nat(masq);
    REQUIRE(LibAliasRedirectPort(nat.la, prv1, htons(22), any_addr, 0, masq, htons(2222), IPPROTO_TCP) != nullptr);
    Packet syn = tcp_packet(ext, 50000, masq, 2222, kSyn, 77);
    REQUIRE(nat.in(syn) == PKT_ALIAS_OK);
    // prv3 routes towards prv1 and reports the TTL ran out.
    Packet err = icmp_error(prv3, ext, kTimeExceeded, 0, syn, 20);
    REQUIRE(nat.out(err) == PKT_ALIAS_OK);
    CHECK(same(err.src(), masq));
    CHECK(checksums_ok(err));
    Packet q = quoted(err);
    CHECK(same(q.dst(), masq));
    CHECK(q.dport() == 2222);
    CHECK(ip_checksum_ok(q));
    CHECK(l4_checksum_ok(q));  // 20 quoted bytes: the whole TCP header
}

TEST_CASE("outbound error about an inbound echo", "[icmp][error]") {
    Nat nat(masq);
    REQUIRE(LibAliasRedirectAddr(nat.la, prv2, pub) != nullptr);
    Packet req = icmp_echo(ext, pub, 0x5151, 3);
    REQUIRE(nat.in(req) == PKT_ALIAS_OK);
    REQUIRE(same(req.dst(), prv2));
    Packet err = icmp_error(prv2, ext, kParamProblem, 0, req, req.l4_len());
    REQUIRE(nat.out(err) == PKT_ALIAS_OK);
    CHECK(same(err.src(), pub));
    CHECK(checksums_ok(err));
    Packet q = quoted(err);
    CHECK(same(q.dst(), pub));
    CHECK(q.icmp_id() == 0x5151);
    CHECK(checksums_ok(q));
}

TEST_CASE("quoted UDP without checksum stays without checksum", "[icmp][error]") {
    Nat nat(masq, 0, ~0u);
    Packet out = udp_packet(prv1, 7000, ext, 7001, "x");
    out.put16(26, 0);  // no UDP checksum
    REQUIRE(nat.out(out) == PKT_ALIAS_OK);
    CHECK(out.be16(26) == 0);
    Packet err = icmp_error(ext, masq, kUnreach, 3, out, out.l4_len());
    REQUIRE(nat.in(err) == PKT_ALIAS_OK);
    CHECK(checksums_ok(err));
    Packet q = quoted(err);
    CHECK(q.be16(q.hl() + 6) == 0);
    CHECK(same(q.src(), prv1));
}

TEST_CASE("the NAT host's own error about unsolicited traffic passes unchanged", "[icmp][error]") {
    // A traceroute probe to the NAT address: no link is kept for it, and the
    // host's port-unreachable answer leaves as it is (libalias's identity link).
    Nat nat(masq);
    Packet probe = udp_packet(ext, 40000, masq, 33434);
    REQUIRE(nat.in(probe) == PKT_ALIAS_OK);
    Packet err = icmp_error(masq, ext, kUnreach, 3, probe, 8);
    const Packet before = err;
    CHECK(nat.out(err) == PKT_ALIAS_OK);
    CHECK(err.buf == before.buf);
    // An inside host's error about a flow nobody knows is still ignored.
    Packet stray = icmp_error(prv1, ext, kUnreach, 3, udp_packet(ext, 1, prv1, 2), 8);
    CHECK(nat.out(stray) == PKT_ALIAS_IGNORED);
}
