// SPDX-License-Identifier: BSD-2-Clause
// Redirect API details beyond 03_natin: argument checks, SetTarget for
// unsolicited inbound traffic, CheckNewLink, UnaliasOut and OutTry.
#include <catch2/catch.hpp>

#include "packet.hpp"

using namespace test;

namespace {

bool same(in_addr a, in_addr b) { return a.s_addr == b.s_addr; }
const in_addr none_addr = addr("255.255.255.255");

}  // namespace

TEST_CASE("RedirectPort accepts TCP, UDP and SCTP only", "[redirect]") {
    Nat nat(masq);
    CHECK(LibAliasRedirectPort(nat.la, prv1, htons(1), any_addr, 0, masq, htons(2), IPPROTO_TCP) != nullptr);
    CHECK(LibAliasRedirectPort(nat.la, prv1, htons(1), any_addr, 0, masq, htons(2), IPPROTO_UDP) != nullptr);
    CHECK(LibAliasRedirectPort(nat.la, prv1, htons(1), any_addr, 0, masq, htons(2), IPPROTO_SCTP) != nullptr);
    CHECK(LibAliasRedirectPort(nat.la, prv1, htons(1), any_addr, 0, masq, htons(2), IPPROTO_ICMP) == nullptr);
    CHECK(LibAliasRedirectPort(nat.la, prv1, htons(1), any_addr, 0, masq, htons(2), 47) == nullptr);
}

TEST_CASE("a redirect on a second public address", "[redirect]") {
    Nat nat(masq, PKT_ALIAS_DENY_INCOMING, PKT_ALIAS_DENY_INCOMING);
    REQUIRE(LibAliasRedirectPort(nat.la, prv2, htons(443), any_addr, 0, pub, htons(443), IPPROTO_TCP) != nullptr);
    Packet syn = tcp_packet(ext, 50000, pub, 443, kSyn);
    REQUIRE(nat.in(syn) == PKT_ALIAS_OK);
    CHECK(same(syn.dst(), prv2));
    CHECK(checksums_ok(syn));
    Packet wrong = tcp_packet(ext, 50000, masq, 443, kSyn);
    CHECK(nat.in(wrong) == PKT_ALIAS_IGNORED);
    Packet reply = tcp_packet(prv2, 443, ext, 50000, kSyn | kAck);
    REQUIRE(nat.out(reply) == PKT_ALIAS_OK);
    CHECK(same(reply.src(), pub));
    CHECK(reply.sport() == 443);
    CHECK(checksums_ok(reply));
}

TEST_CASE("SetTarget decides where unsolicited inbound traffic goes", "[redirect][target]") {
    SECTION("0.0.0.0 (the default): the destination stays, the packet is for the NAT host") {
        Nat nat(masq);
        LibAliasSetTarget(nat.la, any_addr);
        Packet p = udp_packet(ext, 53, masq, 5000);
        const Packet before = p;
        CHECK(nat.in(p) == PKT_ALIAS_OK);
        CHECK(p.buf == before.buf);
    }
    SECTION("255.255.255.255: the alias address") {
        Nat nat(masq);
        LibAliasSetTarget(nat.la, none_addr);
        Packet p = udp_packet(ext, 53, pub, 5000);  // addressed to another public address
        REQUIRE(nat.in(p) == PKT_ALIAS_OK);
        CHECK(same(p.dst(), masq));
        CHECK(p.dport() == 5000);
        CHECK(checksums_ok(p));
    }
    SECTION("an address: everything unsolicited goes to that host") {
        Nat nat(masq);
        LibAliasSetTarget(nat.la, prv3);
        Packet p = udp_packet(ext, 53, masq, 5000, "hello");
        REQUIRE(nat.in(p) == PKT_ALIAS_OK);
        CHECK(same(p.dst(), prv3));
        CHECK(p.dport() == 5000);
        CHECK(checksums_ok(p));
        CHECK(LibAliasCheckNewLink(nat.la) == 1);
        Packet syn = tcp_packet(ext, 40000, masq, 22, kSyn);
        REQUIRE(nat.in(syn) == PKT_ALIAS_OK);
        CHECK(same(syn.dst(), prv3));
        Packet ping = icmp_echo(ext, masq, 77, 1);
        REQUIRE(nat.in(ping) == PKT_ALIAS_OK);
        CHECK(same(ping.dst(), prv3));
        Packet gre = ip_packet(47, ext, masq, 20);
        REQUIRE(nat.in(gre) == PKT_ALIAS_OK);
        CHECK(same(gre.dst(), prv3));
        // The target's reply leaves through the link that was made.
        Packet reply = udp_packet(prv3, 5000, ext, 53);
        REQUIRE(nat.out(reply) == PKT_ALIAS_OK);
        CHECK(same(reply.src(), masq));
        CHECK(reply.sport() == 5000);
        CHECK(LibAliasCheckNewLink(nat.la) == 0);
        // A reply on the existing link made no new default link either.
        Packet again = udp_packet(ext, 53, masq, 5000);
        REQUIRE(nat.in(again) == PKT_ALIAS_OK);
        CHECK(LibAliasCheckNewLink(nat.la) == 0);
        // A static address mapping takes precedence over the target.
        REQUIRE(LibAliasRedirectAddr(nat.la, prv1, pub) != nullptr);
        Packet mapped = udp_packet(ext, 53, pub, 5001);
        REQUIRE(nat.in(mapped) == PKT_ALIAS_OK);
        CHECK(same(mapped.dst(), prv1));
        CHECK(LibAliasCheckNewLink(nat.la) == 0);
    }
}

TEST_CASE("UnaliasOut restores an aliased outbound packet", "[redirect][unalias]") {
    Nat nat(masq, 0, ~0u);
    Packet u = udp_packet(prv1, 1234, ext, 53, "x");
    REQUIRE(nat.out(u) == PKT_ALIAS_OK);
    REQUIRE(LibAliasUnaliasOut(nat.la, u.data(), u.capacity()) == PKT_ALIAS_OK);
    CHECK(same(u.src(), prv1));
    CHECK(u.sport() == 1234);
    CHECK(checksums_ok(u));

    Packet t = tcp_packet(prv2, 2345, ext, 80, kSyn);
    REQUIRE(nat.out(t) == PKT_ALIAS_OK);
    REQUIRE(LibAliasUnaliasOut(nat.la, t.data(), t.capacity()) == PKT_ALIAS_OK);
    CHECK(same(t.src(), prv2));
    CHECK(t.sport() == 2345);
    CHECK(checksums_ok(t));

    Packet i = icmp_echo(prv3, ext, 0x3131, 1);
    REQUIRE(nat.out(i) == PKT_ALIAS_OK);
    REQUIRE(LibAliasUnaliasOut(nat.la, i.data(), i.capacity()) == PKT_ALIAS_OK);
    CHECK(same(i.src(), prv3));
    CHECK(i.icmp_id() == 0x3131);
    CHECK(checksums_ok(i));

    // Nothing known: ignored and untouched; other protocols are not handled.
    Packet unknown = udp_packet(masq, 999, ext, 53);
    const Packet before = unknown;
    CHECK(LibAliasUnaliasOut(nat.la, unknown.data(), unknown.capacity()) == PKT_ALIAS_IGNORED);
    CHECK(unknown.buf == before.buf);
    Packet gre = ip_packet(47, masq, ext, 20);
    CHECK(LibAliasUnaliasOut(nat.la, gre.data(), gre.capacity()) == PKT_ALIAS_IGNORED);
    // It creates nothing.
    alias_stats st{};
    REQUIRE(LibAliasGetStats(nat.la, &st) == 0);
    CHECK(st.total == 3);
}

TEST_CASE("OutTry with create=0 translates known flows only", "[redirect][outtry]") {
    Nat nat(masq, 0, ~0u);
    Packet fresh = udp_packet(prv1, 1111, ext, 53);
    const Packet before = fresh;
    CHECK(LibAliasOutTry(nat.la, fresh.data(), fresh.capacity(), 0) == PKT_ALIAS_IGNORED);
    CHECK(fresh.buf == before.buf);
    Packet syn = tcp_packet(prv1, 1112, ext, 80, kSyn);
    CHECK(LibAliasOutTry(nat.la, syn.data(), syn.capacity(), 0) == PKT_ALIAS_IGNORED);
    Packet ping = icmp_echo(prv1, ext, 5, 1);
    CHECK(LibAliasOutTry(nat.la, ping.data(), ping.capacity(), 0) == PKT_ALIAS_IGNORED);
    alias_stats st{};
    REQUIRE(LibAliasGetStats(nat.la, &st) == 0);
    CHECK(st.total == 0);

    Packet first = udp_packet(prv1, 1111, ext, 53);
    REQUIRE(LibAliasOutTry(nat.la, first.data(), first.capacity(), 1) == PKT_ALIAS_OK);
    Packet second = udp_packet(prv1, 1111, ext, 53);
    REQUIRE(LibAliasOutTry(nat.la, second.data(), second.capacity(), 0) == PKT_ALIAS_OK);
    CHECK(same(second.src(), masq));
    CHECK(second.sport() == first.sport());
    CHECK(checksums_ok(second));
    // A redirect's server talking to a new peer has no link of its own yet:
    // as in libalias (FindLinkOut without replace_partial_links), the probe
    // does not turn the redirect into one ...
    REQUIRE(LibAliasRedirectPort(nat.la, prv2, htons(80), any_addr, 0, masq, htons(8080), IPPROTO_TCP) != nullptr);
    REQUIRE(LibAliasGetStats(nat.la, &st) == 0);
    const unsigned links_before = st.total;
    Packet srv = tcp_packet(prv2, 80, ext, 40000, kSyn | kAck);
    const Packet srv_before = srv;
    CHECK(LibAliasOutTry(nat.la, srv.data(), srv.capacity(), 0) == PKT_ALIAS_IGNORED);
    CHECK(srv.buf == srv_before.buf);
    REQUIRE(LibAliasGetStats(nat.la, &st) == 0);
    CHECK(st.total == links_before);
    // ... while a connection the redirect let in is known.
    Packet let_in = tcp_packet(ext, 40001, masq, 8080, kSyn);
    REQUIRE(nat.in(let_in) == PKT_ALIAS_OK);
    Packet answer = tcp_packet(prv2, 80, ext, 40001, kSyn | kAck);
    REQUIRE(LibAliasOutTry(nat.la, answer.data(), answer.capacity(), 0) == PKT_ALIAS_OK);
    CHECK(answer.sport() == 8080);
    CHECK(checksums_ok(answer));
}

TEST_CASE("OutTry with create=0 leaves TCP proxy rules alone", "[redirect][outtry][proxy]") {
    Nat nat(masq, 0, ~0u);
    REQUIRE(LibAliasProxyRule(nat.la, "port 80 server 10.0.0.99:3128") == 0);
    Packet probe = tcp_packet(prv1, 40000, ext, 80, kSyn);
    const Packet before = probe;
    CHECK(LibAliasOutTry(nat.la, probe.data(), probe.capacity(), 0) == PKT_ALIAS_IGNORED);
    CHECK(probe.buf == before.buf);
    // With create=1 the same packet goes to the proxy.
    Packet real = tcp_packet(prv1, 40000, ext, 80, kSyn);
    REQUIRE(LibAliasOutTry(nat.la, real.data(), real.capacity(), 1) == PKT_ALIAS_OK);
    CHECK(same(real.dst(), addr("10.0.0.99")));
    CHECK(real.dport() == 3128);
    CHECK(checksums_ok(real));
}

TEST_CASE("redirect handles from another instance are ignored", "[redirect]") {
    Nat a(masq), b(masq);
    alias_link* l = LibAliasRedirectPort(a.la, prv1, htons(1), any_addr, 0, masq, htons(2), IPPROTO_UDP);
    REQUIRE(l != nullptr);
    CHECK(LibAliasAddServer(b.la, l, prv2, htons(3)) == -1);
    CHECK(LibAliasRedirectDynamic(b.la, l) == -1);
    LibAliasRedirectDelete(b.la, l);
    // Still alive in its own instance.
    LibAliasSetMode(a.la, PKT_ALIAS_DENY_INCOMING, PKT_ALIAS_DENY_INCOMING);
    Packet p = udp_packet(ext, 9, masq, 2);
    REQUIRE(a.in(p) == PKT_ALIAS_OK);
    CHECK(same(p.dst(), prv1));
}

TEST_CASE("one server published on two ports and two addresses: every redirect works", "[redirect]") {
    Nat nat(masq, PKT_ALIAS_DENY_INCOMING, PKT_ALIAS_DENY_INCOMING);
    const in_addr third_public = addr("85.214.10.14");
    struct Publication {
        in_addr public_addr;
        uint16_t public_port;
        alias_link* handle;
    } pubs[] = {{masq, 80, nullptr}, {masq, 8080, nullptr}, {pub, 80, nullptr}};
    for (Publication& p : pubs) {
        p.handle = LibAliasRedirectPort(nat.la, prv1, htons(80), any_addr, 0, p.public_addr, htons(p.public_port),
                                        IPPROTO_TCP);
        REQUIRE(p.handle != nullptr);
    }
    uint16_t peer_port = 50000;
    for (const Publication& p : pubs) {
        ++peer_port;
        Packet syn = tcp_packet(ext, peer_port, p.public_addr, p.public_port, kSyn);
        REQUIRE(nat.in(syn) == PKT_ALIAS_OK);
        CHECK(same(syn.dst(), prv1));
        CHECK(syn.dport() == 80);
        CHECK(checksums_ok(syn));
        // Each connection's answer leaves from where the client sent it.
        Packet reply = tcp_packet(prv1, 80, ext, peer_port, kSyn | kAck);
        REQUIRE(nat.out(reply) == PKT_ALIAS_OK);
        CHECK(same(reply.src(), p.public_addr));
        CHECK(reply.sport() == p.public_port);
        CHECK(checksums_ok(reply));
    }
    // The server's own new connections use the first redirect, as in libalias.
    Packet own = tcp_packet(prv1, 80, ext2, 443, kSyn);
    REQUIRE(nat.out(own) == PKT_ALIAS_OK);
    CHECK(same(own.src(), masq));
    CHECK(own.sport() == 80);

    LibAliasRedirectDelete(nat.la, pubs[1].handle);
    Packet gone = tcp_packet(ext, 51000, masq, 8080, kSyn);
    CHECK(nat.in(gone) == PKT_ALIAS_IGNORED);
    Packet kept = tcp_packet(ext, 51001, pub, 80, kSyn);
    REQUIRE(nat.in(kept) == PKT_ALIAS_OK);
    CHECK(same(kept.dst(), prv1));

    // Static NAT of one host on two public addresses: both reach it
    // (address redirects ignore DENY_INCOMING's traffic, hence a new NAT).
    Nat static_nat(masq);
    REQUIRE(LibAliasRedirectAddr(static_nat.la, prv2, pub) != nullptr);
    REQUIRE(LibAliasRedirectAddr(static_nat.la, prv2, third_public) != nullptr);
    uint16_t remote_port = 53;
    for (in_addr public_addr : {pub, third_public}) {
        Packet p = udp_packet(ext, remote_port++, public_addr, 5353);
        REQUIRE(static_nat.in(p) == PKT_ALIAS_OK);
        CHECK(same(p.dst(), prv2));
        CHECK(checksums_ok(p));
    }
}

TEST_CASE("a redirect to local address 0 stands for the NAT host itself", "[redirect]") {
    Nat nat(masq, PKT_ALIAS_DENY_INCOMING, PKT_ALIAS_DENY_INCOMING);
    REQUIRE(LibAliasRedirectPort(nat.la, any_addr, htons(22), any_addr, 0, pub, htons(2222), IPPROTO_TCP) != nullptr);
    Packet syn = tcp_packet(ext, 5001, pub, 2222, kSyn);
    REQUIRE(nat.in(syn) == PKT_ALIAS_OK);
    CHECK(same(syn.dst(), masq));
    CHECK(syn.dport() == 22);
    CHECK(checksums_ok(syn));
    // The host answers from its own address; the answer leaves as the redirect.
    Packet reply = tcp_packet(masq, 22, ext, 5001, kSyn | kAck);
    REQUIRE(nat.out(reply) == PKT_ALIAS_OK);
    CHECK(same(reply.src(), pub));
    CHECK(reply.sport() == 2222);
    CHECK(checksums_ok(reply));

    REQUIRE(LibAliasRedirectPort(nat.la, any_addr, htons(53), any_addr, 0, pub, htons(5353), IPPROTO_UDP) != nullptr);
    Packet query = udp_packet(ext, 33000, pub, 5353, "q");
    REQUIRE(nat.in(query) == PKT_ALIAS_OK);
    CHECK(same(query.dst(), masq));
    CHECK(query.dport() == 53);
    CHECK(checksums_ok(query));

    REQUIRE(LibAliasRedirectProto(nat.la, any_addr, any_addr, pub, 47) != nullptr);
    Packet gre = ip_packet(47, ext, pub, 20);
    REQUIRE(nat.in(gre) == PKT_ALIAS_OK);
    CHECK(same(gre.dst(), masq));
    CHECK(ip_checksum_ok(gre));

    // It follows the alias address, as libalias's GetOriginalAddress does.
    LibAliasSetAddress(nat.la, prv3);
    Packet later = tcp_packet(ext, 5002, pub, 2222, kSyn);
    REQUIRE(nat.in(later) == PKT_ALIAS_OK);
    CHECK(same(later.dst(), prv3));
    CHECK(checksums_ok(later));
}

TEST_CASE("RedirectAddr of local address 0 gives the NAT host's own traffic that public address", "[redirect]") {
    Nat nat(masq);
    REQUIRE(LibAliasRedirectAddr(nat.la, any_addr, pub) != nullptr);
    Packet own = udp_packet(masq, 5353, ext, 53);
    REQUIRE(nat.out(own) == PKT_ALIAS_OK);
    CHECK(same(own.src(), pub));
    CHECK(checksums_ok(own));
    Packet answer = udp_packet(ext, 53, pub, own.sport());
    REQUIRE(nat.in(answer) == PKT_ALIAS_OK);
    CHECK(same(answer.dst(), masq));
    CHECK(answer.dport() == 5353);
}

TEST_CASE("SAME_PORTS does not share a port with a redirect of unknown remote", "[redirect]") {
    Nat nat(masq, PKT_ALIAS_SAME_PORTS | PKT_ALIAS_DENY_INCOMING, PKT_ALIAS_SAME_PORTS | PKT_ALIAS_DENY_INCOMING);
    REQUIRE(LibAliasRedirectPort(nat.la, prv1, htons(8080), any_addr, 0, masq, htons(8080), IPPROTO_TCP) != nullptr);
    Packet syn = tcp_packet(prv2, 8080, ext, 80, kSyn);
    REQUIRE(nat.out(syn) == PKT_ALIAS_OK);
    CHECK(syn.sport() != 8080);
    Packet reply = tcp_packet(ext, 80, masq, syn.sport(), kSyn | kAck);
    REQUIRE(nat.in(reply) == PKT_ALIAS_OK);
    CHECK(same(reply.dst(), prv2));
    CHECK(reply.dport() == 8080);
    // The redirect still serves that very remote.
    Packet in = tcp_packet(ext, 80, masq, 8080, kSyn);
    REQUIRE(nat.in(in) == PKT_ALIAS_OK);
    CHECK(same(in.dst(), prv1));
}

TEST_CASE("a fully specified redirect takes over a live flow with the same endpoints", "[redirect]") {
    Nat nat(masq, PKT_ALIAS_DENY_INCOMING, PKT_ALIAS_DENY_INCOMING | PKT_ALIAS_SAME_PORTS);
    Packet first = udp_packet(prv1, 5000, ext, 53);
    REQUIRE(nat.out(first) == PKT_ALIAS_OK);
    const uint16_t dynamic_port = first.sport();
    REQUIRE(dynamic_port != 7000);
    REQUIRE(LibAliasRedirectPort(nat.la, prv1, htons(5000), ext, htons(53), masq, htons(7000), IPPROTO_UDP) != nullptr);
    Packet next = udp_packet(prv1, 5000, ext, 53);
    REQUIRE(nat.out(next) == PKT_ALIAS_OK);
    CHECK(next.sport() == 7000);
    CHECK(checksums_ok(next));
    Packet old_reply = udp_packet(ext, 53, masq, dynamic_port);
    CHECK(nat.in(old_reply) == PKT_ALIAS_IGNORED);
    Packet reply = udp_packet(ext, 53, masq, 7000);
    REQUIRE(nat.in(reply) == PKT_ALIAS_OK);
    CHECK(same(reply.dst(), prv1));
    CHECK(reply.dport() == 5000);
}
