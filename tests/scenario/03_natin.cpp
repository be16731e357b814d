// SPDX-License-Identifier: BSD-2-Clause
// Inbound translation through redirects (the semantics of FreeBSD's
// 3_natin.c, with real packets and checksums): port forwarding with
// wildcard remotes where the most specific redirect wins, redirects made
// for "whatever the alias address is", static address mapping where a
// newer mapping hides an older one until it is deleted, LSNAT round robin
// and one-shot (dynamic) redirects.
#include <catch2/catch.hpp>

#include "packet.hpp"

using namespace test;

namespace {

bool same(in_addr a, in_addr b) { return a.s_addr == b.s_addr; }

void udp_unnat_ok(libalias* la, in_addr from, uint16_t fport, in_addr alias, uint16_t aport, in_addr to,
                  uint16_t to_port) {
    Packet p = udp_packet(from, fport, alias, aport, "data");
    REQUIRE(LibAliasIn(la, p.data(), p.capacity()) == PKT_ALIAS_OK);
    CHECK(same(p.src(), from));
    CHECK(p.sport() == fport);
    CHECK(same(p.dst(), to));
    CHECK(p.dport() == to_port);
    CHECK(checksums_ok(p));
}

void udp_unnat_fail(libalias* la, in_addr from, uint16_t fport, in_addr alias, uint16_t aport) {
    Packet p = udp_packet(from, fport, alias, aport, "data");
    const Packet before = p;
    CHECK(LibAliasIn(la, p.data(), p.capacity()) != PKT_ALIAS_OK);
    CHECK(p.buf == before.buf);
}

void unnat_ok(libalias* la, uint8_t proto, in_addr from, in_addr alias, in_addr to) {
    Packet p = ip_packet(proto, from, alias, 40);
    REQUIRE(LibAliasIn(la, p.data(), p.capacity()) == PKT_ALIAS_OK);
    CHECK(same(p.src(), from));
    CHECK(same(p.dst(), to));
    CHECK(checksums_ok(p));
}

void unnat_fail(libalias* la, uint8_t proto, in_addr from, in_addr alias) {
    Packet p = ip_packet(proto, from, alias, 40);
    const Packet before = p;
    CHECK(LibAliasIn(la, p.data(), p.capacity()) != PKT_ALIAS_OK);
    CHECK(p.buf == before.buf);
}

void nat_ok(libalias* la, uint8_t proto, in_addr from, in_addr to, in_addr alias) {
    Packet p = ip_packet(proto, from, to, 40);
    REQUIRE(LibAliasOut(la, p.data(), p.capacity()) == PKT_ALIAS_OK);
    CHECK(same(p.src(), alias));
    CHECK(same(p.dst(), to));
    CHECK(checksums_ok(p));
}

// Drops the dynamic links while keeping the address (and the redirects).
void clear_dynamic(libalias* la) {
    LibAliasSetAddress(la, ext);
    LibAliasSetAddress(la, masq);
}

alias_link* redirect_udp(libalias* la, in_addr local, uint16_t lport, in_addr remote, uint16_t rport, in_addr alias,
                         uint16_t aport) {
    return LibAliasRedirectPort(la, local, htons(lport), remote, htons(rport), alias, htons(aport), IPPROTO_UDP);
}

}  // namespace

TEST_CASE("port forwarding for each kind of remote wildcard", "[natin]") {
    Nat nat(masq, PKT_ALIAS_RESET_ON_ADDR_CHANGE | PKT_ALIAS_DENY_INCOMING, ~0u);
    libalias* la = nat.la;

    SECTION("fully specified remote") {
        alias_link* pf = redirect_udp(la, prv1, 0x1234, ext, 0x5678, masq, 0xabcd);
        REQUIRE(pf != nullptr);
        udp_unnat_ok(la, ext, 0x5678, masq, 0xabcd, prv1, 0x1234);
        udp_unnat_ok(la, ext, 0x5678, masq, 0xabcd, prv1, 0x1234);
        udp_unnat_fail(la, pub, 0x5678, masq, 0xabcd);
        udp_unnat_fail(la, ext, 0xdead, masq, 0xabcd);
        clear_dynamic(la);
        udp_unnat_ok(la, ext, 0x5678, masq, 0xabcd, prv1, 0x1234);  // redirects survive
        LibAliasRedirectDelete(la, pf);
        udp_unnat_fail(la, ext, 0x5678, masq, 0xabcd);
    }
    SECTION("any remote port") {
        alias_link* pf = redirect_udp(la, prv2, 0x1234, ext, 0, masq, 0xabcd);
        REQUIRE(pf != nullptr);
        udp_unnat_ok(la, ext, 0x5678, masq, 0xabcd, prv2, 0x1234);
        udp_unnat_ok(la, ext, 0x5678, masq, 0xabcd, prv2, 0x1234);
        udp_unnat_fail(la, pub, 0x5678, masq, 0xabcd);
        udp_unnat_ok(la, ext, 0xdead, masq, 0xabcd, prv2, 0x1234);
        clear_dynamic(la);
        LibAliasRedirectDelete(la, pf);
        udp_unnat_fail(la, ext, 0x5678, masq, 0xabcd);
    }
    SECTION("any remote host") {
        alias_link* pf = redirect_udp(la, prv3, 0x1234, any_addr, 0x5678, masq, 0xabcd);
        REQUIRE(pf != nullptr);
        udp_unnat_ok(la, ext, 0x5678, masq, 0xabcd, prv3, 0x1234);
        udp_unnat_ok(la, ext, 0x5678, masq, 0xabcd, prv3, 0x1234);
        udp_unnat_ok(la, pub, 0x5678, masq, 0xabcd, prv3, 0x1234);
        udp_unnat_fail(la, ext, 0xdead, masq, 0xabcd);
        clear_dynamic(la);
        LibAliasRedirectDelete(la, pf);
        udp_unnat_fail(la, ext, 0x5678, masq, 0xabcd);
    }
    SECTION("any remote host and port") {
        alias_link* pf = redirect_udp(la, cgn, 0x1234, any_addr, 0, masq, 0xabcd);
        REQUIRE(pf != nullptr);
        udp_unnat_ok(la, ext, 0x5678, masq, 0xabcd, cgn, 0x1234);
        udp_unnat_ok(la, ext, 0x5678, masq, 0xabcd, cgn, 0x1234);
        udp_unnat_ok(la, pub, 0x5678, masq, 0xabcd, cgn, 0x1234);
        udp_unnat_ok(la, ext, 0xdead, masq, 0xabcd, cgn, 0x1234);
        // The inside host answers from its own port; the reply leaves from the redirect's.
        Packet reply = udp_packet(cgn, 0x1234, ext, 0xdead);
        REQUIRE(nat.out(reply) == PKT_ALIAS_OK);
        CHECK(same(reply.src(), masq));
        CHECK(reply.sport() == 0xabcd);
        CHECK(checksums_ok(reply));
        clear_dynamic(la);
        LibAliasRedirectDelete(la, pf);
        udp_unnat_fail(la, ext, 0x5678, masq, 0xabcd);
        // Deleting it again (a stale handle) is ignored.
        LibAliasRedirectDelete(la, pf);
    }
}

TEST_CASE("overlapping port redirects: the most specific one wins", "[natin]") {
    Nat nat(masq, PKT_ALIAS_RESET_ON_ADDR_CHANGE | PKT_ALIAS_DENY_INCOMING, ~0u);
    libalias* la = nat.la;
    REQUIRE(redirect_udp(la, prv2, 0x1234, ext, 0x5678, masq, 0xabcd) != nullptr);
    udp_unnat_ok(la, ext, 0x5678, masq, 0xabcd, prv2, 0x1234);
    clear_dynamic(la);

    // The same fully specified key again: the newer redirect overrides.
    alias_link* full = redirect_udp(la, prv1, 0x1234, ext, 0x5678, masq, 0xabcd);
    REQUIRE(full != nullptr);
    udp_unnat_ok(la, ext, 0x5678, masq, 0xabcd, prv1, 0x1234);
    clear_dynamic(la);

    REQUIRE(redirect_udp(la, prv2, 0x1234, ext, 0, masq, 0xabcd) != nullptr);
    udp_unnat_ok(la, ext, 0x5679, masq, 0xabcd, prv2, 0x1234);
    udp_unnat_ok(la, ext, 0x5678, masq, 0xabcd, prv1, 0x1234);
    clear_dynamic(la);

    REQUIRE(redirect_udp(la, prv3, 0x1234, any_addr, 0x5678, masq, 0xabcd) != nullptr);
    udp_unnat_ok(la, pub, 0x5678, masq, 0xabcd, prv3, 0x1234);
    udp_unnat_ok(la, ext, 0x5679, masq, 0xabcd, prv2, 0x1234);
    udp_unnat_ok(la, ext, 0x5678, masq, 0xabcd, prv1, 0x1234);
    clear_dynamic(la);

    REQUIRE(redirect_udp(la, cgn, 0x1234, any_addr, 0, masq, 0xabcd) != nullptr);
    udp_unnat_ok(la, prv1, 0x5679, masq, 0xabcd, cgn, 0x1234);
    udp_unnat_ok(la, pub, 0x5678, masq, 0xabcd, prv3, 0x1234);
    udp_unnat_ok(la, ext, 0x5679, masq, 0xabcd, prv2, 0x1234);
    udp_unnat_ok(la, ext, 0x5678, masq, 0xabcd, prv1, 0x1234);

    // Deleting the overriding redirect brings the hidden one back.
    clear_dynamic(la);
    LibAliasRedirectDelete(la, full);
    udp_unnat_ok(la, ext, 0x5678, masq, 0xabcd, prv2, 0x1234);
}

TEST_CASE("a redirect to alias address 0 follows the instance's address", "[natin]") {
    libalias* la = LibAliasInit(nullptr);
    LibAliasSetMode(la, PKT_ALIAS_DENY_INCOMING, ~0u);
    REQUIRE(LibAliasRedirectPort(la, prv1, htons(0x1234), any_addr, 0, any_addr, htons(0xabcd), IPPROTO_UDP) !=
            nullptr);
    LibAliasSetAddress(la, masq);
    udp_unnat_ok(la, ext, 0x5678, masq, 0xabcd, prv1, 0x1234);
    udp_unnat_fail(la, pub, 0x5678, pub, 0xabcd);

    LibAliasSetAddress(la, pub);
    udp_unnat_ok(la, pub, 0x5679, pub, 0xabcd, prv1, 0x1234);
    udp_unnat_fail(la, ext, 0x5679, masq, 0xabcd);
    LibAliasUninit(la);
}

TEST_CASE("static address mapping: newest wins, deleting it unhides the older", "[natin]") {
    Nat nat(masq);
    libalias* la = nat.la;
    alias_link* first = LibAliasRedirectAddr(la, prv1, pub);
    REQUIRE(first != nullptr);
    unnat_ok(la, 254, ext, pub, prv1);
    unnat_ok(la, 254, ext, masq, masq);  // unsolicited, for the NAT host itself

    alias_link* second = LibAliasRedirectAddr(la, prv2, pub);
    REQUIRE(second != nullptr);
    unnat_ok(la, 254, ext, pub, prv1);   // an existing flow keeps its host
    unnat_ok(la, 253, ext, pub, prv2);   // new flows go to the newest mapping
    unnat_ok(la, 253, ext, masq, masq);

    nat_ok(la, 252, prv1, ext, pub);     // both inside hosts leave as pub
    nat_ok(la, 252, prv2, ext, pub);
    nat_ok(la, 252, prv3, ext, masq);

    LibAliasSetMode(la, PKT_ALIAS_DENY_INCOMING, ~0u);
    unnat_fail(la, 251, ext, pub);
    unnat_fail(la, 251, ext, masq);

    LibAliasRedirectDelete(la, second);
    LibAliasSetMode(la, 0, ~0u);
    unnat_ok(la, 250, ext, pub, prv1);

    nat_ok(la, 249, prv1, ext, pub);
    nat_ok(la, 249, prv2, ext, masq);
    nat_ok(la, 249, prv3, ext, masq);

    // Static mapping applies to TCP/UDP too, ports untouched.
    Packet in = tcp_packet(ext, 5555, pub, 22, kSyn);
    REQUIRE(nat.in(in) == PKT_ALIAS_OK);
    CHECK(same(in.dst(), prv1));
    CHECK(in.dport() == 22);
    CHECK(checksums_ok(in));
    Packet out = tcp_packet(prv1, 22, ext, 5555, kSyn | kAck);
    REQUIRE(nat.out(out) == PKT_ALIAS_OK);
    CHECK(same(out.src(), pub));
    CHECK(out.sport() == 22);
    CHECK(checksums_ok(out));
}

TEST_CASE("LSNAT: servers are used round robin, the newest first", "[natin][lsnat]") {
    Nat nat(any_addr, 0, ~0u);
    libalias* la = nat.la;
    alias_link* pf = LibAliasRedirectPort(la, cgn, htons(0xdead), any_addr, 0, masq, htons(0xabcd), IPPROTO_UDP);
    REQUIRE(pf != nullptr);
    REQUIRE(LibAliasAddServer(la, pf, prv1, htons(0x1234)) == 0);
    REQUIRE(LibAliasAddServer(la, pf, prv2, htons(0x2345)) == 0);
    REQUIRE(LibAliasAddServer(la, pf, prv3, htons(0x3456)) == 0);

    udp_unnat_ok(la, ext, 0x5678, masq, 0xabcd, prv3, 0x3456);
    udp_unnat_ok(la, ext, 0x5679, masq, 0xabcd, prv2, 0x2345);
    udp_unnat_ok(la, ext, 0x567a, masq, 0xabcd, prv1, 0x1234);
    udp_unnat_ok(la, ext, 0x567b, masq, 0xabcd, prv3, 0x3456);
    udp_unnat_ok(la, ext, 0x567c, masq, 0xabcd, prv2, 0x2345);
    udp_unnat_ok(la, ext, 0x567d, masq, 0xabcd, prv1, 0x1234);
    // An established flow sticks to its server.
    udp_unnat_ok(la, ext, 0x5678, masq, 0xabcd, prv3, 0x3456);
    // The server's replies leave from the public endpoint.
    Packet reply = udp_packet(prv2, 0x2345, ext, 0x5679);
    REQUIRE(nat.out(reply) == PKT_ALIAS_OK);
    CHECK(same(reply.src(), masq));
    CHECK(reply.sport() == 0xabcd);
    CHECK(checksums_ok(reply));
}

TEST_CASE("LSNAT on a static address mapping", "[natin][lsnat]") {
    Nat nat(masq);
    alias_link* l = LibAliasRedirectAddr(nat.la, any_addr, pub);
    REQUIRE(l != nullptr);
    REQUIRE(LibAliasAddServer(nat.la, l, prv1, 0) == 0);
    REQUIRE(LibAliasAddServer(nat.la, l, prv2, 0) == 0);
    unnat_ok(nat.la, 250, ext, pub, prv2);
    unnat_ok(nat.la, 251, ext, pub, prv1);
    unnat_ok(nat.la, 252, ext, pub, prv2);
}

TEST_CASE("RedirectDynamic makes a fully specified redirect one-shot", "[natin]") {
    Nat nat(masq, PKT_ALIAS_RESET_ON_ADDR_CHANGE | PKT_ALIAS_DENY_INCOMING, ~0u);
    libalias* la = nat.la;
    alias_link* partial = redirect_udp(la, prv1, 0x1234, any_addr, 0, masq, 0xabcd);
    REQUIRE(partial != nullptr);
    CHECK(LibAliasRedirectDynamic(la, partial) == -1);  // only for fully specified links
    LibAliasRedirectDelete(la, partial);

    alias_link* full = redirect_udp(la, prv1, 0x1234, ext, 0x5678, masq, 0xabcd);
    REQUIRE(full != nullptr);
    CHECK(LibAliasRedirectDynamic(la, full) == 0);
    udp_unnat_ok(la, ext, 0x5678, masq, 0xabcd, prv1, 0x1234);
    clear_dynamic(la);
    udp_unnat_fail(la, ext, 0x5678, masq, 0xabcd);
    // The handle is dead now; using it is ignored.
    CHECK(LibAliasRedirectDynamic(la, full) == -1);
    LibAliasRedirectDelete(la, full);
}

// libalias tracks TCP state on redirect links too, so a connection that
// was up when RedirectDynamic made its link dynamic keeps the established
// timeout; and address and protocol redirects have no remote port, so they
// cannot be made dynamic at all.
TEST_CASE("RedirectDynamic on a connected TCP redirect keeps the connection's timeout", "[natin]") {
    Nat nat(masq, PKT_ALIAS_DENY_INCOMING, PKT_ALIAS_DENY_INCOMING);
    FakeClock clock;
    clock.attach(nat.la);
    alias_link* full = LibAliasRedirectPort(nat.la, prv1, htons(80), ext, htons(40000), masq, htons(8080), IPPROTO_TCP);
    REQUIRE(full != nullptr);
    Packet syn = tcp_packet(ext, 40000, masq, 8080, kSyn);
    REQUIRE(nat.in(syn) == PKT_ALIAS_OK);
    Packet syn_ack = tcp_packet(prv1, 80, ext, 40000, kSyn | kAck);
    REQUIRE(nat.out(syn_ack) == PKT_ALIAS_OK);
    REQUIRE(LibAliasRedirectDynamic(nat.la, full) == 0);
    unsigned timeout = 0;
    LibAliasForEachLink(
        nat.la,
        [](const alias_link_info* li, void* ctx) {
            if (li->proto == IPPROTO_TCP && li->alias_port == htons(8080)) *static_cast<unsigned*>(ctx) = li->timeout;
            return 0;
        },
        &timeout);
    CHECK(timeout == 86400);
    clock.now += 3600;  // an hour idle: long past the 300 s of a connection never seen
    Packet ack = tcp_packet(ext, 40000, masq, 8080, kAck);
    REQUIRE(nat.in(ack) == PKT_ALIAS_OK);
    CHECK(same(ack.dst(), prv1));
    CHECK(checksums_ok(ack));

    alias_link* address = LibAliasRedirectAddr(nat.la, prv2, pub);
    REQUIRE(address != nullptr);
    CHECK(LibAliasRedirectDynamic(nat.la, address) == -1);
    alias_link* proto = LibAliasRedirectProto(nat.la, prv2, ext, pub, 47);
    REQUIRE(proto != nullptr);
    CHECK(LibAliasRedirectDynamic(nat.la, proto) == -1);
}

TEST_CASE("TCP port forwarding: a connection through a redirect", "[natin]") {
    Nat nat(masq, PKT_ALIAS_DENY_INCOMING, PKT_ALIAS_DENY_INCOMING);
    REQUIRE(LibAliasRedirectPort(nat.la, prv1, htons(80), any_addr, 0, masq, htons(8080), IPPROTO_TCP) != nullptr);
    Packet syn = tcp_packet(ext, 40001, masq, 8080, kSyn, 7000);
    REQUIRE(nat.in(syn) == PKT_ALIAS_OK);
    CHECK(same(syn.dst(), prv1));
    CHECK(syn.dport() == 80);
    CHECK(syn.tcp_seq() == 7000);
    CHECK(checksums_ok(syn));
    Packet synack = tcp_packet(prv1, 80, ext, 40001, kSyn | kAck, 100, 7001);
    REQUIRE(nat.out(synack) == PKT_ALIAS_OK);
    CHECK(same(synack.src(), masq));
    CHECK(synack.sport() == 8080);
    CHECK(checksums_ok(synack));
    // A second client gets its own flow on the same redirect.
    Packet syn2 = tcp_packet(ext2, 40001, masq, 8080, kSyn, 9000);
    REQUIRE(nat.in(syn2) == PKT_ALIAS_OK);
    CHECK(same(syn2.dst(), prv1));
    // Other ports stay closed under DENY_INCOMING.
    Packet other = tcp_packet(ext, 40001, masq, 8081, kSyn);
    CHECK(nat.in(other) == PKT_ALIAS_IGNORED);
}

// A public host routed through the NAT (or another address of the NAT box)
// with no redirect: libalias makes an identity link for the unsolicited
// packet, so the host's answer leaves as it was sent, not masqueraded.
TEST_CASE("unsolicited traffic for a routed public host: its answers leave unchanged", "[natin]") {
    Nat nat(masq);
    const in_addr routed = addr("85.214.10.20");
    Packet syn = tcp_packet(ext, 5001, routed, 80, kSyn);
    const Packet syn_before = syn;
    REQUIRE(nat.in(syn) == PKT_ALIAS_OK);
    CHECK(syn.buf == syn_before.buf);
    Packet syn_ack = tcp_packet(routed, 80, ext, 5001, kSyn | kAck);
    const Packet syn_ack_before = syn_ack;
    REQUIRE(nat.out(syn_ack) == PKT_ALIAS_OK);
    CHECK(syn_ack.buf == syn_ack_before.buf);

    Packet query = udp_packet(ext, 33000, routed, 53, "q");
    REQUIRE(nat.in(query) == PKT_ALIAS_OK);
    Packet answer = udp_packet(routed, 53, ext, 33000, "a");
    const Packet answer_before = answer;
    REQUIRE(nat.out(answer) == PKT_ALIAS_OK);
    CHECK(answer.buf == answer_before.buf);

    Packet ping = icmp_echo(ext, routed, 77, 1);
    REQUIRE(nat.in(ping) == PKT_ALIAS_OK);
    Packet pong = icmp_echo(routed, ext, 77, 1, true);
    const Packet pong_before = pong;
    REQUIRE(nat.out(pong) == PKT_ALIAS_OK);
    CHECK(pong.buf == pong_before.buf);

    Packet tunnel_in = ip_packet(41, ext, routed, 40);
    REQUIRE(nat.in(tunnel_in) == PKT_ALIAS_OK);
    Packet tunnel_out = ip_packet(41, routed, ext, 40);
    const Packet tunnel_before = tunnel_out;
    REQUIRE(nat.out(tunnel_out) == PKT_ALIAS_OK);
    CHECK(tunnel_out.buf == tunnel_before.buf);

    // The NAT host's own address still costs no link per probe.
    alias_stats st{};
    REQUIRE(LibAliasGetStats(nat.la, &st) == 0);
    const unsigned links = st.total;
    Packet probe = tcp_packet(ext, 5002, masq, 22, kSyn);
    REQUIRE(nat.in(probe) == PKT_ALIAS_OK);
    REQUIRE(LibAliasGetStats(nat.la, &st) == 0);
    CHECK(st.total == links);
}
