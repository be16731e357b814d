// SPDX-License-Identifier: BSD-2-Clause
// The module's limits: binding expiry, floods from outside, the table cap,
// the per-peer serialisation window, and malformed input.
#include "40_ipsec_packets.hpp"

#include <random>

using namespace ipsec_test;

namespace {

unsigned link_total(libalias* la) {
    alias_stats st{};
    REQUIRE(LibAliasGetStats(la, &st) == 0);
    return st.total;
}

}  // namespace

TEST_CASE("SPI bindings expire after the SPI idle timeout, not before", "[ipsec]") {
    Nat nat;
    FakeClock clock;
    clock.attach(nat.la);
    REQUIRE(LibAliasIpsecSetTimeouts(nat.la, 500, 1000, 30) == 0);
    const Client c{prv1, 0x31, 0x32, 0x00c00001, 0x00d00001};
    establish_v1(nat, c, ext);

    // Quiet for most of the timeout, traffic in one direction keeps it.
    clock.now += 999;
    receive_esp(nat, c, ext, 2);
    clock.now += 999;
    send_esp(nat, c, ext, 3);
    REQUIRE(bindings(nat.la, LIBALIAS_IPSEC_ESP).size() == 1);
    CHECK(bindings(nat.la, LIBALIAS_IPSEC_ESP)[0].idle == 0);

    // A full timeout of silence: the binding goes, the SPI is unknown again.
    clock.now += 1000;
    CHECK(bindings(nat.la, LIBALIAS_IPSEC_ESP).empty());
    CHECK(bindings(nat.la, LIBALIAS_IPSEC_IKE).empty());  // 500 s IKE idle passed too
    Packet late = esp_packet(ext, masq, c.esp_in, 4);
    REQUIRE(nat.in(late) == PKT_ALIAS_OK);
    CHECK(same(late.dst(), masq));
}

TEST_CASE("a claim lasts the pending window after it was last opened or renewed", "[ipsec]") {
    Nat nat;
    FakeClock clock;
    clock.attach(nat.la);
    const Client c{prv1, 0x41, 0x42, 0x00c00002, 0x00d00002};
    send_ike(nat, c, ext, kQuickMode);  // claim opened; default pending 60 s
    clock.now += 59;
    send_esp(nat, c, ext);  // the first packet under a new outbound SPI renews the claim
    clock.now += 59;
    receive_esp(nat, c, ext);  // 118 s after the IKE, 59 s after the ESP: still claimed

    const Client d{prv2, 0x43, 0x44, 0x00c00003, 0x00d00003};
    send_ike(nat, d, ext, kQuickMode);
    clock.now += 60;
    Packet orphan = esp_packet(ext, masq, d.esp_in);
    REQUIRE(nat.in(orphan) == PKT_ALIAS_OK);
    CHECK(same(orphan.dst(), masq));  // the window closed: no guess
}

TEST_CASE("the serialisation window: two clients awaiting one peer at once", "[ipsec]") {
    // Documented outcome (docs/ipsec.md): the first unknown SPI goes to the
    // client that most recently sent IKE or ESP to the peer, the next one
    // to the other.  Right whenever the peer answers the latest client
    // first; otherwise the two inbound SAs are swapped until they expire.
    Nat nat;
    FakeClock clock;
    clock.attach(nat.la);
    const Client a{prv1, 0x51, 0x52, 0x00c00005, 0x00d00005};
    const Client b{prv2, 0x53, 0x54, 0x00c00006, 0x00d00006};
    send_ike(nat, a, ext, kQuickMode);
    clock.now += 1;
    send_ike(nat, b, ext, kQuickMode);

    SECTION("the peer answers the latest client first: both right") {
        receive_esp(nat, b, ext);
        receive_esp(nat, a, ext);
    }
    SECTION("the peer answers the earlier client first: swapped") {
        Packet for_a = esp_packet(ext, masq, a.esp_in);
        REQUIRE(nat.in(for_a) == PKT_ALIAS_OK);
        CHECK(str(for_a.dst()) == str(prv2));
        Packet for_b = esp_packet(ext, masq, b.esp_in);
        REQUIRE(nat.in(for_b) == PKT_ALIAS_OK);
        CHECK(str(for_b.dst()) == str(prv1));
    }
    SECTION("a client that speaks again becomes the latest") {
        clock.now += 1;
        send_esp(nat, a, ext);
        receive_esp(nat, a, ext);
        receive_esp(nat, b, ext);
    }
}

TEST_CASE("floods of unknown SPIs and IKE from outside create no state", "[ipsec]") {
    Nat nat;
    const Client a{prv1, 0x61, 0x62, 0x00c00007, 0x00d00007};
    const Client b{prv2, 0x63, 0x64, 0x00c00008, 0x00d00008};
    establish_v1(nat, a, ext);
    establish_v1(nat, b, ext);
    const int before = LibAliasIpsecGetBindings(nat.la, nullptr, 0);
    const unsigned links_before = link_total(nat.la);

    std::mt19937 rng(99);
    const in_addr peers[3] = {ext, ext2, addr("198.51.100.7")};
    for (int i = 0; i < 20000; ++i) {
        const in_addr peer = peers[i % 3];
        uint32_t spi = rng() | 0x100;
        if (spi == a.esp_in || spi == b.esp_in) spi ^= 0x10000;
        Packet esp = esp_packet(peer, masq, spi, rng());
        const int r = nat.in(esp);
        CHECK((r == PKT_ALIAS_OK || r == PKT_ALIAS_IGNORED));
        CHECK(same(esp.dst(), masq));  // nobody is awaiting: nobody gets it

        const uint64_t spi_i = (uint64_t{rng()} << 32) | rng() | 1;
        Packet ike = ike_packet(peer, kIke, masq, kIke, spi_i, uint64_t{rng()}, kMainMode);
        nat.in(ike);
    }
    CHECK(LibAliasIpsecGetBindings(nat.la, nullptr, 0) == before);
    CHECK(link_total(nat.la) == links_before);
    receive_esp(nat, a, ext, 7);
    receive_esp(nat, b, ext, 7);
    receive_ike(nat, a, ext, kInfoV1);
    receive_ike(nat, b, ext, kInfoV1);
}

TEST_CASE("a full SPI table refuses new entries and keeps the old ones", "[ipsec]") {
    Nat nat;
    const Client first{prv1, 0x71, 0x72, 0x00c00009, 0x00d00009};
    establish_v1(nat, first, ext);
    // One inside host sprays outbound SPIs at another peer: each packet is
    // still translated, the table stops at its cap.
    for (uint32_t spi = 1000; spi < 1000 + 5000; ++spi) {
        Packet o = esp_packet(prv3, ext2, spi);
        REQUIRE(nat.out(o) == PKT_ALIAS_OK);
        CHECK(same(o.src(), masq));
    }
    CHECK(bindings(nat.la, LIBALIAS_IPSEC_ESP).size() == 4096);
    receive_esp(nat, first, ext, 2);
    send_esp(nat, first, ext, 2);
}

TEST_CASE("malformed IKE and ESP are left to plain translation, never crash", "[ipsec]") {
    Nat nat(masq, 0, PKT_ALIAS_SAME_PORTS);  // random alias ports: port 500 is the module's doing
    SECTION("an ISAKMP header with a bad version is not IKE") {
        std::string m = ike_message(0x99, 0, kMainMode);
        m[17] = 0x30;
        Packet o = udp_packet(prv1, kIke, ext, kIke, m);
        REQUIRE(nat.out(o) == PKT_ALIAS_OK);
        CHECK(o.sport() != kIke);
        CHECK(LibAliasIpsecGetBindings(nat.la, nullptr, 0) == 0);
    }
    SECTION("a length field beyond the datagram is not IKE") {
        std::string m = ike_message(0x99, 0, kMainMode);
        m[27] = static_cast<char>(m[27] + 1);
        Packet o = udp_packet(prv1, kIke, ext, kIke, m);
        REQUIRE(nat.out(o) == PKT_ALIAS_OK);
        CHECK(o.sport() != kIke);
    }
    SECTION("a zero initiator SPI is not IKE") {
        Packet o = udp_packet(prv1, kIke, ext, kIke, ike_message(0, 0, kMainMode));
        REQUIRE(nat.out(o) == PKT_ALIAS_OK);
        CHECK(o.sport() != kIke);
    }
    SECTION("truncated ESP takes the generic path") {
        Packet o = ip_packet(kEsp, prv1, ext, 6);
        REQUIRE(nat.out(o) == PKT_ALIAS_OK);
        CHECK(same(o.src(), masq));
        CHECK(checksums_ok(o));
        CHECK(LibAliasIpsecGetBindings(nat.la, nullptr, 0) == 0);
    }
    SECTION("random payloads on 500 and 4500, both ways, tight buffers") {
        std::mt19937 rng(5);
        for (int i = 0; i < 3000; ++i) {
            std::string junk(rng() % 64, '\0');
            for (char& ch : junk) ch = static_cast<char>(rng());
            if (i % 2 && junk.size() >= 28) junk[17] = static_cast<char>(i % 3 ? 0x10 : 0x20);
            const uint16_t port = i % 3 ? kIke : kNatt;
            Packet o = udp_packet(i % 5 ? prv1 : prv2, port, ext, port, junk, 28 + junk.size());
            nat.out(o);
            Packet in = udp_packet(ext, port, masq, port, junk, 28 + junk.size());
            nat.in(in);
            Packet e = ip_packet(kEsp, ext, masq, junk.size(), 20 + junk.size());
            std::memcpy(e.l4(), junk.data(), junk.size());
            fix_checksums(e);
            nat.in(e);
        }
        SUCCEED("no crash; ASan/UBSan builds check the bounds");
    }
}

TEST_CASE("replies from port 500 that are not IKE are translated as plain UDP", "[ipsec]") {
    Nat nat;
    auto reply = [&](uint16_t alias_port, in_addr host, uint16_t host_port, const std::string& payload) {
        Packet i = udp_packet(ext, kIke, masq, alias_port, payload);
        REQUIRE(nat.in(i) == PKT_ALIAS_OK);
        CHECK(str(i.dst()) == str(host));
        CHECK(i.dport() == host_port);
        CHECK(same(i.src(), ext));
        CHECK(i.sport() == kIke);
        CHECK(i.payload() == payload);
        CHECK(checksums_ok(i));
    };

    SECTION("an ordinary UDP service on the peer's port 500") {
        const std::string hello = "hello-udp-500";
        Packet o1 = udp_packet(prv1, 40000, ext, kIke, hello);
        Packet o2 = udp_packet(prv2, 40000, ext, kIke, hello);
        REQUIRE(nat.out(o1) == PKT_ALIAS_OK);
        REQUIRE(nat.out(o2) == PKT_ALIAS_OK);
        CHECK(o1.payload() == hello);
        CHECK(checksums_ok(o2));
        REQUIRE(o1.sport() != o2.sport());
        reply(o2.sport(), prv2, 40000, hello);
        reply(o1.sport(), prv1, 40000, hello);
        CHECK(LibAliasIpsecGetBindings(nat.la, nullptr, 0) == 0);
    }
    SECTION("non-IKE datagrams to the IKE anchor at alias:500") {
        const Client c{prv3, 0x9191, 0x9292, 0, 0};
        send_ike(nat, c, ext, kIkeSaInit, false, kIkeV2);
        std::string cut = ike_message(c.ike_spi_i, c.ike_spi_r, kIkeAuth, kIkeV2, 0).substr(0, 20);
        std::string long_len = ike_message(c.ike_spi_i, c.ike_spi_r, kIkeAuth, kIkeV2);
        long_len[27] = static_cast<char>(long_len[27] + 100);  // length beyond the datagram
        reply(kIke, prv3, kIke, cut);
        reply(kIke, prv3, kIke, long_len);
        reply(kIke, prv3, kIke, std::string(1, '\xff'));  // a NAT-T keep-alive sent to the wrong port
        reply(kIke, prv3, kIke, "not IKE at all, but long enough for a header");
        // The exchange itself is still demultiplexed.
        receive_ike(nat, c, ext, kIkeSaInit, kIkeV2);
    }
}

TEST_CASE("a claim no SA answers lapses after the pending window, busy client or not", "[ipsec]") {
    // A client's SA-creating exchange that creates no ESP SA (an IKE SA
    // rekey, a rejected Quick Mode) leaves a claim with no SPI.  The
    // client's DPD and its established SA's ESP must not keep that claim
    // alive, or it takes another client's first SPI minutes later.
    Nat nat;
    FakeClock clock;
    clock.attach(nat.la);
    const Client a{prv1, 0x8181, 0x8282, 0x00c0000a, 0x00d0000a};
    const Client b{prv2, 0x8383, 0x8484, 0x00c0000b, 0x00d0000b};
    uint8_t version = kIkeV2, dpd = kInfoV2;

    SECTION("IKEv2: CREATE_CHILD_SA that rekeys the IKE SA") {
        send_ike(nat, a, ext, kIkeSaInit, false, kIkeV2);
        receive_ike(nat, a, ext, kIkeSaInit, kIkeV2);
        send_ike(nat, a, ext, kIkeAuth, true, kIkeV2);
        receive_ike(nat, a, ext, kIkeAuth, kIkeV2);
        send_esp(nat, a, ext);
        receive_esp(nat, a, ext);
        clock.now += 1000;
        send_ike(nat, a, ext, kCreateChildSa, true, kIkeV2);
        receive_ike(nat, a, ext, kCreateChildSa, kIkeV2);
    }
    SECTION("IKEv1: a Quick Mode the peer rejects") {
        version = kIkeV1;
        dpd = kInfoV1;
        establish_v1(nat, a, ext);
        clock.now += 1000;
        send_ike(nat, a, ext, kQuickMode);
        receive_ike(nat, a, ext, kInfoV1);  // NO-PROPOSAL-CHOSEN
    }
    REQUIRE(bindings(nat.la, LIBALIAS_IPSEC_ESP).size() == 2);  // the SA and the open claim

    // a's tunnel stays busy: ESP both ways every 10 s, DPD every 30 s.
    uint32_t seq = 2;
    for (int t = 0; t < 60; t += 10) {
        clock.now += 10;
        send_esp(nat, a, ext, seq);
        receive_esp(nat, a, ext, seq++);
        if (t % 30 == 0) {
            send_ike(nat, a, ext, dpd, true, version);
            receive_ike(nat, a, ext, dpd, version);
        }
    }
    // 60 s after a's last message of that exchange, the claim is gone.
    CHECK(bindings(nat.la, LIBALIAS_IPSEC_ESP).size() == 1);
    Packet orphan = esp_packet(ext, masq, 0x00eeee01);
    REQUIRE(nat.in(orphan) == PKT_ALIAS_OK);
    CHECK(same(orphan.dst(), masq));

    for (int t = 0; t < 1000; t += 10) {
        clock.now += 10;
        send_esp(nat, a, ext, seq);
        receive_esp(nat, a, ext, seq++);
    }
    // Minutes later b starts; a's tunnel carries traffic between b's first
    // ESP and the peer's answer, which still goes to b.
    send_ike(nat, b, ext, kIkeSaInit, false, kIkeV2);
    receive_ike(nat, b, ext, kIkeSaInit, kIkeV2);
    send_ike(nat, b, ext, kIkeAuth, true, kIkeV2);
    receive_ike(nat, b, ext, kIkeAuth, kIkeV2);
    send_esp(nat, b, ext);
    clock.now += 1;
    send_esp(nat, a, ext, seq);
    receive_esp(nat, b, ext);
    receive_esp(nat, a, ext, seq);
    CHECK(bindings(nat.la, LIBALIAS_IPSEC_ESP).size() == 2);
}

namespace {

struct Anchor {
    unsigned timeout = 0;
    unsigned char flags = 0xff;
    int found = 0;
};

int find_anchor(const alias_link_info* l, void* ctx) {
    auto* a = static_cast<Anchor*>(ctx);
    if (l->proto == IPPROTO_UDP && ntohs(l->alias_port) == kIke && ntohs(l->dst_port) == kIke) {
        ++a->found;
        a->timeout = l->timeout;
        a->flags = l->flags;
    }
    return 0;
}

}  // namespace

TEST_CASE("timeouts of 2^31 s and more are clamped, never permanent", "[ipsec]") {
    const unsigned huge = GENERATE(0x80000000u, 0xffffffffu);
    Nat nat;
    FakeClock clock;
    clock.attach(nat.la);
    REQUIRE(LibAliasIpsecSetTimeouts(nat.la, huge, huge, huge) == 0);
    const Client c{prv1, 0xa5a5, 0xa6a6, 0, 0};
    send_ike(nat, c, ext, kMainMode, false);
    Anchor a;
    LibAliasForEachLink(nat.la, &find_anchor, &a);
    REQUIRE(a.found == 1);
    CHECK(a.timeout == 0x7fffffffu);
    CHECK((a.flags & LIBALIAS_LINK_PERMANENT) == 0);

    // It still expires: a permanent link would outlive any clock.
    clock.now += 0x7fffffffu;
    clock.now += 0x7fffffffu / 32;  // the expiry wheel's lateness bound for such a timeout
    for (int i = 0; i < 4; ++i) {
        Packet p = udp_packet(prv2, static_cast<uint16_t>(3000 + i), ext2, 53, "tick");
        REQUIRE(nat.out(p) == PKT_ALIAS_OK);
    }
    Anchor later;
    LibAliasForEachLink(nat.la, &find_anchor, &later);
    CHECK(later.found == 0);
}
