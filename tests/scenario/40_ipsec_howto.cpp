// SPDX-License-Identifier: BSD-2-Clause
// The 2001 how-to's case: one inside IPsec gateway, IKE 500/500 and ESP both
// ways, with and without `natd -redirect_proto esp gw`; and the module
// switched off, which is libalias's generic one-client-per-peer behaviour.
#include "40_ipsec_packets.hpp"

#include <alias_mod.h>

using namespace ipsec_test;

TEST_CASE("how-to: one gateway, IKE 500/500 and ESP both ways", "[ipsec]") {
    // libalias's default (SAME_PORTS) and ipfw nat's default (no same_ports):
    // IKE keeps alias port 500 either way.
    const unsigned mode = GENERATE(unsigned{PKT_ALIAS_SAME_PORTS}, 0u);
    Nat nat(masq, mode, PKT_ALIAS_SAME_PORTS);
    const Client gw{prv1, 0x1111222233334444ull, 0x5555666677778888ull, 0x0000c001, 0x0000d001};
    establish_v1(nat, gw, ext);
    for (uint32_t seq = 2; seq < 6; ++seq) {
        send_esp(nat, gw, ext, seq);
        receive_esp(nat, gw, ext, seq);
    }
    send_ike(nat, gw, ext, kInfoV1);  // DPD
    receive_ike(nat, gw, ext, kInfoV1);

    const auto esp = bindings(nat.la, LIBALIAS_IPSEC_ESP);
    REQUIRE(esp.size() == 1);
    CHECK(same(esp[0].host, prv1));
    CHECK(same(esp[0].peer, ext));
    CHECK(same(esp[0].alias, masq));
    CHECK(esp[0].spi_out == gw.esp_out);
    CHECK(esp[0].spi_in == gw.esp_in);
    const auto ike = bindings(nat.la, LIBALIAS_IPSEC_IKE);
    REQUIRE(ike.size() == 1);
    CHECK(ike[0].ike_spi_i == gw.ike_spi_i);
    CHECK(ike[0].ike_spi_r == gw.ike_spi_r);
    CHECK(ntohs(ike[0].host_port) == kIke);
}

TEST_CASE("how-to: redirect_proto esp still catches ESP nobody claims", "[ipsec]") {
    Nat nat;
    REQUIRE(LibAliasRedirectProto(nat.la, prv1, any_addr, masq, kEsp) != nullptr);

    // The peer speaks first (the gateway is the responder): ESP no inside
    // host has claimed goes to the redirect's gateway, as with libalias.
    Packet first = esp_packet(ext, masq, 0x0000e001);
    REQUIRE(nat.in(first) == PKT_ALIAS_OK);
    CHECK(str(first.dst()) == str(prv1));
    CHECK(checksums_ok(first));

    // The gateway's own tunnel learns as usual.
    const Client gw{prv1, 0x0101010101010101ull, 0x0202020202020202ull, 0x0000c001, 0x0000d001};
    establish_v1(nat, gw, ext);

    // A second inside client talking to another peer gets its own ESP, not
    // the gateway's, although the redirect matches any remote.
    const Client laptop{prv2, 0x0303030303030303ull, 0x0404040404040404ull, 0x0000c002, 0x0000d002};
    establish_v1(nat, laptop, ext2);
    receive_esp(nat, laptop, ext2, 2);
    receive_esp(nat, gw, ext, 2);

    // Unclaimed ESP from that peer still falls through to the redirect.
    Packet stray = esp_packet(ext2, masq, 0x0000f00d);
    REQUIRE(nat.in(stray) == PKT_ALIAS_OK);
    CHECK(str(stray.dst()) == str(prv1));
}

TEST_CASE("how-to: without the redirect, unclaimed ESP stays at the NAT", "[ipsec]") {
    Nat nat;
    Packet stray = esp_packet(ext, masq, 0x0000e001);
    REQUIRE(nat.in(stray) == PKT_ALIAS_OK);  // addressed to the NAT host itself, as libalias
    CHECK(same(stray.dst(), masq));
    CHECK(bindings(nat.la, LIBALIAS_IPSEC_ESP).empty());
    alias_stats st{};
    REQUIRE(LibAliasGetStats(nat.la, &st) == 0);
    CHECK(st.total == 0);
}

TEST_CASE("module off: ESP takes libalias's generic link, one client per peer", "[ipsec]") {
    Nat nat;
    REQUIRE(LibAliasIpsecSetEnabled(nat.la, 0) == 1);
    Packet a = esp_packet(prv1, ext, 0x0000c001);
    Packet b = esp_packet(prv2, ext, 0x0000c002);
    REQUIRE(nat.out(a) == PKT_ALIAS_OK);
    REQUIRE(nat.out(b) == PKT_ALIAS_OK);
    CHECK(same(a.src(), masq));
    CHECK(same(b.src(), masq));
    // Both inbound SPIs reach the host that spoke last: the limitation the
    // module exists to remove.
    Packet ia = esp_packet(ext, masq, 0x0000d001);
    Packet ib = esp_packet(ext, masq, 0x0000d002);
    REQUIRE(nat.in(ia) == PKT_ALIAS_OK);
    REQUIRE(nat.in(ib) == PKT_ALIAS_OK);
    CHECK(str(ia.dst()) == str(prv2));
    CHECK(str(ib.dst()) == str(prv2));
    CHECK(LibAliasIpsecGetBindings(nat.la, nullptr, 0) == 0);

    // IKE is plain UDP again: the second client does not keep port 500.
    Packet i1 = ike_packet(prv1, kIke, ext, kIke, 1, 0, kMainMode);
    Packet i2 = ike_packet(prv2, kIke, ext, kIke, 2, 0, kMainMode);
    REQUIRE(nat.out(i1) == PKT_ALIAS_OK);
    REQUIRE(nat.out(i2) == PKT_ALIAS_OK);
    CHECK(i1.sport() == kIke);
    CHECK(i2.sport() != kIke);

    // And on again.
    REQUIRE(LibAliasIpsecSetEnabled(nat.la, 1) == 0);
    Packet i3 = ike_packet(prv3, kIke, ext, kIke, 3, 0, kMainMode);
    REQUIRE(nat.out(i3) == PKT_ALIAS_OK);
    CHECK(i3.sport() == kIke);
}

namespace {

// A third-party handler after the module in the chain: counts the inbound
// UDP from port 500 it is given.
int later_handler_calls = 0;
int later_fingerprint(libalias*, alias_data* ad) { return ad->sport && *ad->sport == htons(kIke) ? 0 : -1; }
int later_count(libalias*, ip*, alias_data*) {
    ++later_handler_calls;
    return 0;
}
proto_handler later_handlers[] = {
    {.pri = 900, .dir = IN, .proto = UDP, .fingerprint = later_fingerprint, .protohandler = later_count, .link = {}},
    {.pri = 0, .dir = NODIR, .proto = 0, .fingerprint = nullptr, .protohandler = nullptr, .link = {}}};

// An inbound reply from peer:peer_port to masq:alias_port must reach
// host:host_port with nothing else changed.
void reply_reaches(Nat& nat, uint16_t peer_port, uint16_t alias_port, in_addr host, uint16_t host_port,
                   const std::string& payload) {
    Packet i = udp_packet(ext, peer_port, masq, alias_port, payload);
    REQUIRE(nat.in(i) == PKT_ALIAS_OK);
    CHECK(str(i.dst()) == str(host));
    CHECK(i.dport() == host_port);
    CHECK(same(i.src(), ext));
    CHECK(i.sport() == peer_port);
    CHECK(i.payload() == payload);
    CHECK(checksums_ok(i));
}

}  // namespace

TEST_CASE("module off: IKE and NAT-T replies are plain UDP, as in libalias", "[ipsec]") {
    Nat nat;
    REQUIRE(LibAliasIpsecSetEnabled(nat.la, 0) == 1);
    const std::string ike1 = ike_message(0x0a0a, 0, kIkeSaInit, kIkeV2);
    const std::string ike2 = ike_message(0x0b0b, 0, kIkeSaInit, kIkeV2);
    Packet o1 = udp_packet(prv1, kIke, ext, kIke, ike1);
    Packet o2 = udp_packet(prv2, kIke, ext, kIke, ike2);
    REQUIRE(nat.out(o1) == PKT_ALIAS_OK);
    REQUIRE(nat.out(o2) == PKT_ALIAS_OK);
    REQUIRE(o1.sport() == kIke);  // SAME_PORTS: the first client keeps 500
    REQUIRE(o2.sport() != kIke);  // the second does not: no module to share it
    CHECK(checksums_ok(o1));
    CHECK(checksums_ok(o2));
    reply_reaches(nat, kIke, kIke, prv1, kIke, ike_message(0x0a0a, 0x1a1a, kIkeSaInit, kIkeV2));
    reply_reaches(nat, kIke, o2.sport(), prv2, kIke, ike_message(0x0b0b, 0x1b1b, kIkeSaInit, kIkeV2));

    Packet n1 = natt_ike_packet(prv1, kNatt, ext, kNatt, 0x0a0a, 0x1a1a, kIkeAuth);
    REQUIRE(nat.out(n1) == PKT_ALIAS_OK);
    REQUIRE(n1.sport() == kNatt);
    reply_reaches(nat, kNatt, kNatt, prv1, kNatt, std::string(1, '\xff'));
    reply_reaches(nat, kNatt, kNatt, prv1, kNatt, esp_body(0x0d0d, 1));
    CHECK(LibAliasIpsecGetBindings(nat.la, nullptr, 0) == 0);

    // The module's fingerprint declines, so the chain goes on exactly as
    // without the module: a later handler for port 500 is consulted.
    struct Attached {
        Attached() { REQUIRE(LibAliasAttachHandlers(later_handlers) == 0); }
        ~Attached() { LibAliasDetachHandlers(later_handlers); }
    } attached;
    later_handler_calls = 0;
    reply_reaches(nat, kIke, kIke, prv1, kIke, ike_message(0x0a0a, 0x1a1a, kInfoV2, kIkeV2));
    CHECK(later_handler_calls == 1);
}

TEST_CASE("ipsec API refuses a bad instance", "[ipsec]") {
    CHECK(LibAliasIpsecSetEnabled(nullptr, 1) == -1);
    CHECK(LibAliasIpsecSetTimeouts(nullptr, 1, 2, 3) == -1);
    CHECK(LibAliasIpsecGetBindings(nullptr, nullptr, 0) == -1);
}

TEST_CASE("how-to: IKE the peer opens goes to the redirect_port gateway", "[ipsec]") {
    Nat nat;
    REQUIRE(LibAliasRedirectPort(nat.la, prv1, htons(kIke), any_addr, 0, masq, htons(kIke), IPPROTO_UDP) != nullptr);
    const Client laptop{prv2, 0x0505050505050505ull, 0x0606060606060606ull, 0x0000c003, 0x0000d003};
    establish_v1(nat, laptop, ext);  // replies come back through the redirect, by SPI

    // The peer opens a new exchange (responder SPI 0): the gateway's.
    Packet open = ike_packet(ext, kIke, masq, kIke, 0x0707070707070707ull, 0, kMainMode);
    REQUIRE(nat.in(open) == PKT_ALIAS_OK);
    CHECK(str(open.dst()) == str(prv1));
    CHECK(open.dport() == kIke);
    CHECK(checksums_ok(open));

    // An answer under SPIs nobody announced (an IKE SA the peer rekeyed):
    // the peer's most recent IKE partner.
    Packet rekeyed = ike_packet(ext, kIke, masq, kIke, 0x0808080808080808ull, 0x0909090909090909ull, kInfoV1);
    REQUIRE(nat.in(rekeyed) == PKT_ALIAS_OK);
    CHECK(str(rekeyed.dst()) == str(prv2));
    CHECK(checksums_ok(rekeyed));
    CHECK(bindings(nat.la, LIBALIAS_IPSEC_IKE).size() == 1);  // nothing learnt from either
}
