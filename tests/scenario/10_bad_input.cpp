// SPDX-License-Identifier: BSD-2-Clause
// Malformed input.  Every packet here is handed to the library in a buffer
// of exactly `maxpacketsize` bytes from malloc, so that AddressSanitizer
// (NALIAS_SANITIZE=ON) reports any read or write past it.  Each is refused
// with libalias's code (PKT_ALIAS_IGNORED: "defense against mangled
// packets"), is left unchanged, and the instance keeps translating.
#include <catch2/catch.hpp>

#include "packet.hpp"

#include <cstdlib>
#include <functional>
#include <random>
#include <vector>

using namespace test;

namespace {

bool same(in_addr a, in_addr b) { return a.s_addr == b.s_addr; }

// Copies the first `maxsize` bytes of `p` (zero-padded) into a malloc'd
// buffer of exactly `maxsize` bytes and runs `fn` on it.
int run_exact(const Packet& p, int maxsize, const std::function<int(void*, int)>& fn, bool* unchanged = nullptr) {
    auto* buf = static_cast<uint8_t*>(std::malloc(static_cast<std::size_t>(maxsize > 0 ? maxsize : 1)));
    const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(std::max(maxsize, 0)), p.buf.size());
    std::memset(buf, 0, static_cast<std::size_t>(std::max(maxsize, 1)));
    std::memcpy(buf, p.data(), n);
    const int r = fn(buf, maxsize);
    if (unchanged) *unchanged = std::memcmp(buf, p.data(), n) == 0;
    std::free(buf);
    return r;
}

void expect_flow_still_works(Nat& nat) {
    Packet o = udp_packet(prv1, 4321, ext, 53, "ok");
    REQUIRE(nat.out(o) == PKT_ALIAS_OK);
    CHECK(same(o.src(), masq));
    Packet r = udp_packet(ext, 53, masq, o.sport(), "ok");
    REQUIRE(nat.in(r) == PKT_ALIAS_OK);
    CHECK(same(r.dst(), prv1));
    CHECK(checksums_ok(r));
}

struct Bad {
    const char* what;
    Packet pkt;
    int maxsize;
};

// Sets ip_len (the transport checksum stays as it was; only the IP header's is fixed).
Packet with_len(Packet p, uint16_t len) {
    p.put16(2, len);
    p.put16(10, 0);
    p.put16(10, checksum(p.data(), p.hl()));
    return p;
}

std::vector<Bad> bad_packets(uint16_t aport) {
    std::vector<Bad> v;
    Packet udp = udp_packet(prv1, 1000, ext, 53, "payload");
    Packet tcp = tcp_packet(prv1, 1000, ext, 80, kSyn);
    Packet udp_in = udp_packet(ext, 53, masq, aport, "payload");

    v.push_back({"ip_len > maxpacketsize", udp, static_cast<int>(udp.len()) - 1});
    v.push_back({"maxpacketsize < 20", udp, 19});
    v.push_back({"maxpacketsize 0", udp, 0});
    v.push_back({"maxpacketsize negative", udp, -5});
    Packet ihl4 = udp;
    ihl4.buf[0] = 0x44;
    v.push_back({"header length < 20", ihl4, 64});
    Packet ihl15 = udp;
    ihl15.buf[0] = 0x4f;  // 60 bytes of header in a 35-byte datagram
    v.push_back({"header length > total length", ihl15, 64});
    v.push_back({"header length > maxpacketsize", ihl15, 40});
    Packet v6 = udp;
    v6.buf[0] = 0x65;
    v.push_back({"not IPv4", v6, 64});
    v.push_back({"total length < header", with_len(udp, 10), 64});
    v.push_back({"UDP header truncated", with_len(udp, 20 + 7), 64});
    Packet ulen = udp;
    ulen.put16(24, 200);
    fix_checksums(ulen);
    v.push_back({"UDP length beyond datagram", ulen, 64});
    v.push_back({"TCP header truncated", with_len(tcp, 20 + 19), 64});
    Packet tiny_off = tcp;
    tiny_off.buf[32] = 2 << 4;
    fix_checksums(tiny_off);
    v.push_back({"TCP data offset < 5", tiny_off, 64});
    Packet big_off = tcp;
    big_off.buf[32] = 15 << 4;
    fix_checksums(big_off);
    v.push_back({"TCP data offset beyond datagram", big_off, 64});
    v.push_back({"ICMP header truncated", with_len(icmp_echo(prv1, ext, 1, 1), 20 + 7), 64});
    v.push_back({"inbound UDP truncated", with_len(udp_in, 20 + 4), 64});

    // ICMP errors whose quote is cut short, around a real flow.
    Packet sent = udp_packet(prv1, 1000, ext, 53);
    sent.set_src(masq);
    sent.put16(20, aport);
    fix_checksums(sent);
    Packet err = icmp_error(ext, masq, 3, 3, sent, 8);
    v.push_back({"ICMP error: no room for the quoted header", with_len(err, 20 + 8 + 19), 128});
    v.push_back({"ICMP error: quote shorter than 8 bytes", with_len(err, 20 + 8 + 20 + 7), 128});
    Packet long_ihl = err;
    long_ihl.buf[28] = 0x4f;  // quoted header claims 60 bytes
    fix_checksums(long_ihl);
    v.push_back({"ICMP error: quoted header length beyond the message", long_ihl, 128});
    Packet short_ihl = err;
    short_ihl.buf[28] = 0x43;
    fix_checksums(short_ihl);
    v.push_back({"ICMP error: quoted header length < 20", short_ihl, 128});
    v.push_back({"ICMP error: ip_len beyond maxpacketsize", err, static_cast<int>(err.len()) - 2});
    return v;
}

}  // namespace

TEST_CASE("mangled packets are refused in both directions and change nothing", "[bad]") {
    Nat nat(masq, 0, ~0u);
    Packet o = udp_packet(prv1, 1000, ext, 53);
    REQUIRE(nat.out(o) == PKT_ALIAS_OK);
    const uint16_t aport = o.sport();

    for (Bad& b : bad_packets(aport)) {
        INFO(b.what);
        bool unchanged = false;
        const int out = run_exact(b.pkt, b.maxsize, [&](void* p, int m) { return LibAliasOut(nat.la, p, m); },
                                  &unchanged);
        CHECK(out == PKT_ALIAS_IGNORED);
        CHECK(unchanged);
        const int in = run_exact(b.pkt, b.maxsize, [&](void* p, int m) { return LibAliasIn(nat.la, p, m); },
                                 &unchanged);
        CHECK(in == PKT_ALIAS_IGNORED);
        CHECK(unchanged);
        const int un = run_exact(b.pkt, b.maxsize,
                                 [&](void* p, int m) { return LibAliasUnaliasOut(nat.la, p, m); }, &unchanged);
        CHECK(un == PKT_ALIAS_IGNORED);
        CHECK(unchanged);
    }
    expect_flow_still_works(nat);
    // The flow made before the garbage still maps back.
    Packet r = udp_packet(ext, 53, masq, aport);
    REQUIRE(nat.in(r) == PKT_ALIAS_OK);
    CHECK(same(r.dst(), prv1));
}

TEST_CASE("a NULL packet pointer is refused", "[bad]") {
    Nat nat;
    CHECK(LibAliasOut(nat.la, nullptr, 1500) == PKT_ALIAS_IGNORED);
    CHECK(LibAliasIn(nat.la, nullptr, 1500) == PKT_ALIAS_IGNORED);
    CHECK(LibAliasOutTry(nat.la, nullptr, 1500, 0) == PKT_ALIAS_IGNORED);
    CHECK(LibAliasUnaliasOut(nat.la, nullptr, 1500) == PKT_ALIAS_IGNORED);
    CHECK(LibAliasSaveFragment(nat.la, nullptr) == PKT_ALIAS_ERROR);
    CHECK(LibAliasGetFragment(nat.la, nullptr) == nullptr);
    LibAliasFragmentIn(nat.la, nullptr, nullptr);
    CHECK(LibAliasInternetChecksum(nat.la, nullptr, 20) == 0xffff);
    expect_flow_still_works(nat);
}

TEST_CASE("packets exactly filling maxpacketsize are translated without overreads", "[bad]") {
    Nat nat(masq, 0, ~0u);
    // Valid packets whose ip_len equals maxpacketsize: every byte is in bounds.
    Packet u = udp_packet(prv1, 2000, ext, 53, "x");
    uint16_t aport = 0;
    const int r = run_exact(u, static_cast<int>(u.len()), [&](void* p, int m) {
        const int res = LibAliasOut(nat.la, p, m);
        Packet got(static_cast<std::size_t>(m));
        std::memcpy(got.data(), p, static_cast<std::size_t>(m));
        CHECK(same(got.src(), masq));
        CHECK(checksums_ok(got));
        aport = got.sport();
        return res;
    });
    CHECK(r == PKT_ALIAS_OK);
    Packet e = icmp_error(ext, masq, 3, 3, [&] {
        Packet s = udp_packet(masq, aport, ext, 53, "x");
        return s;
    }(), 8);
    const int ri = run_exact(e, static_cast<int>(e.len()), [&](void* p, int m) {
        const int res = LibAliasIn(nat.la, p, m);
        Packet got(static_cast<std::size_t>(m));
        std::memcpy(got.data(), p, static_cast<std::size_t>(m));
        CHECK(same(got.dst(), prv1));
        CHECK(checksums_ok(got));
        return res;
    });
    CHECK(ri == PKT_ALIAS_OK);
}

TEST_CASE("random corruption of valid packets never breaks the instance", "[bad]") {
    Nat nat(masq, 0, ~0u);
    std::mt19937 rng(0xbadc0de);
    Packet o = udp_packet(prv1, 1000, ext, 53);
    REQUIRE(nat.out(o) == PKT_ALIAS_OK);
    std::vector<Packet> seeds = {
        udp_packet(prv1, 1000, ext, 53, "0123456789"), udp_packet(ext, 53, masq, o.sport(), "abcdef"),
        tcp_packet(prv2, 3000, ext, 80, kSyn | kAck, 1, 2, "GET /"), icmp_echo(prv3, ext, 9, 9),
        icmp_error(ext, masq, 3, 3, o, 8), icmp_error(prv1, ext, 11, 0, udp_packet(ext, 53, prv1, 1000), 8),
        ip_packet(47, ext, masq, 24)};
    int counts[6] = {};
    for (int round = 0; round < 20000; ++round) {
        Packet p = seeds[rng() % seeds.size()];
        const int flips = 1 + static_cast<int>(rng() % 4);
        for (int f = 0; f < flips; ++f) p.buf[rng() % 80] = static_cast<uint8_t>(rng());
        const int maxsize = static_cast<int>(rng() % 100);
        const int res = run_exact(p, maxsize, [&](void* b, int m) {
            return (round & 1) ? LibAliasIn(nat.la, b, m) : LibAliasOut(nat.la, b, m);
        });
        REQUIRE((res == PKT_ALIAS_ERROR || res == PKT_ALIAS_OK || res == PKT_ALIAS_IGNORED ||
                 res == PKT_ALIAS_UNRESOLVED_FRAGMENT || res == PKT_ALIAS_FOUND_HEADER_FRAGMENT));
        ++counts[res + 1];
    }
    CHECK(counts[PKT_ALIAS_IGNORED + 1] > 0);
    CHECK(counts[PKT_ALIAS_OK + 1] > 0);
    expect_flow_still_works(nat);
}
