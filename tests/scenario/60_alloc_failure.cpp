// SPDX-License-Identifier: BSD-2-Clause
//
// Allocation failure: the library under a malloc/operator new/mmap that
// refuses (tests/fault/alloc_fault.hpp).  Whatever allocation fails, no call
// crashes or throws into C, a packet that needed a link it could not get is
// answered PKT_ALIAS_ERROR (or IGNORED) and left as it came, the instance
// stays consistent (its link count agrees with a walk of its links), and it
// works normally once memory is back.  LeakSanitizer (tools/test's ASan
// pass) checks that nothing allocated before a failure is lost.
//
// Built only into nalias_fault_tests (tests/fault/CMakeLists.txt), whose
// allocator is replaced; in nalias_tests this file is empty.  While the
// injector is armed the tests make only library calls: Catch2's assertions
// and the packet builders allocate, so results are kept in plain variables
// and checked after disarming.
#ifdef NALIAS_FAULT_INJECTION

#include <catch2/catch.hpp>

#include "inspect.hpp"
#include "packet.hpp"

#include "alloc_fault.hpp"

#include <alias_mod.h>

#include <dlfcn.h>
#include <netinet/in.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <string>
#include <vector>

using namespace test;

namespace {

constexpr unsigned kNoSockets = 0;  // mode: PKT_ALIAS_USE_SOCKETS cleared

// The instance's own bookkeeping agrees with what it holds.
void check_consistent(libalias* la) {
    CHECK(walked_links(la) == stats_of(la).total);
}

// A fresh UDP flow from `inside` translates out and its reply comes back.
void check_translates(libalias* la, in_addr inside, uint16_t port) {
    Packet o = udp_packet(inside, port, ext2, 53, "query");
    REQUIRE(LibAliasOut(la, o.data(), o.capacity()) == PKT_ALIAS_OK);
    CHECK(o.src().s_addr == masq.s_addr);
    CHECK(checksums_ok(o));
    Packet r = udp_packet(ext2, 53, masq, o.sport(), "answer");
    REQUIRE(LibAliasIn(la, r.data(), r.capacity()) == PKT_ALIAS_OK);
    CHECK(r.dst().s_addr == inside.s_addr);
    CHECK(r.dport() == port);
    CHECK(checksums_ok(r));
}

bool allowed_result(int r) {
    return r == PKT_ALIAS_OK || r == PKT_ALIAS_IGNORED || r == PKT_ALIAS_ERROR ||
           r == PKT_ALIAS_FOUND_HEADER_FRAGMENT || r == PKT_ALIAS_UNRESOLVED_FRAGMENT;
}

// An ISAKMP header (IKEv1 when `exchange` < 34) as a UDP payload.
std::string ike_header(uint8_t spi_fill, uint8_t exchange) {
    std::string h(28, '\0');
    for (int i = 0; i < 8; ++i) h[static_cast<std::size_t>(i)] = static_cast<char>(spi_fill);
    h[17] = static_cast<char>(exchange >= 34 ? 0x20 : 0x10);
    h[18] = static_cast<char>(exchange);
    h[27] = 28;
    return h;
}

}  // namespace

TEST_CASE("the allocation-failure injector is what the library calls", "[fault]") {
    REQUIRE(fault::interposed());
    // Through a volatile pointer: a compiler may assume a malloc it sees succeeds.
    void* (*volatile allocate)(std::size_t) = &std::malloc;
    void* p;
    {
        fault::Armed a(fault::after(0));
        p = allocate(8);
    }
    CHECK(p == nullptr);
    CHECK(fault::refused() == 1);
    std::free(p);
}

TEST_CASE("LibAliasInit short of memory returns NULL or a working instance", "[fault]") {
    // Every prefix of the allocations LibAliasInit makes, then every other.
    for (long n = 0; n < 16; ++n) {
        libalias* la;
        {
            fault::Armed a(n < 8 ? fault::after(n) : fault::every(n - 6));
            la = LibAliasInit(nullptr);
        }
        INFO("allocations allowed: " << n);
        if (n == 0) CHECK(la == nullptr);
        if (!la) continue;
        LibAliasSetAddress(la, masq);
        LibAliasSetMode(la, kNoSockets, PKT_ALIAS_USE_SOCKETS);
        check_translates(la, prv1, 3000);
        check_consistent(la);
        LibAliasUninit(la);
    }
}

TEST_CASE("resetting a live instance with LibAliasInit needs no memory", "[fault]") {
    Nat nat(masq, kNoSockets, PKT_ALIAS_USE_SOCKETS);
    for (uint16_t i = 0; i < 20; ++i) check_translates(nat.la, prv1, static_cast<uint16_t>(3000 + i));
    REQUIRE(LibAliasProxyRule(nat.la, "port 80 server 10.0.0.9:3128") == 0);
    Packet tail = ip_packet(IPPROTO_UDP, ext, masq, 40);
    tail.put16(6, 0x0010);
    REQUIRE(LibAliasSaveFragment(nat.la, malloc_copy(tail)) == PKT_ALIAS_OK);
    for (const auto& rule : {fault::after(0), fault::every(1)}) {
        libalias* again;
        {
            fault::Armed a(rule);
            again = LibAliasInit(nat.la);
        }
        CHECK(again == nat.la);
        const alias_stats s = stats_of(nat.la);
        CHECK(s.total == 0);
        CHECK(s.frag_ptr == 0);
        LibAliasSetAddress(nat.la, masq);
        LibAliasSetMode(nat.la, kNoSockets, PKT_ALIAS_USE_SOCKETS);
        check_translates(nat.la, prv2, 4000);
    }
}

TEST_CASE("with the link pool carved, new flows need no allocation at all", "[fault]") {
    // link_table.hpp: links come from a slot pool; only a new chunk mallocs.
    Nat nat(masq, kNoSockets, PKT_ALIAS_USE_SOCKETS);
    check_translates(nat.la, prv1, 2999);
    std::vector<Packet> out;
    for (uint16_t i = 0; i < 200; ++i)
        out.push_back(i % 2 ? udp_packet(prv1, static_cast<uint16_t>(3000 + i), ext, 53, "q")
                            : tcp_packet(prv2, static_cast<uint16_t>(3000 + i), ext, 80, kSyn));
    std::array<int, 200> result{};
    {
        fault::Armed a(fault::after(0));
        for (std::size_t i = 0; i < out.size(); ++i) result[i] = LibAliasOut(nat.la, out[i].data(), out[i].capacity());
    }
    CHECK(fault::refused() == 0);
    for (std::size_t i = 0; i < out.size(); ++i) {
        CHECK(result[i] == PKT_ALIAS_OK);
        CHECK(out[i].src().s_addr == masq.s_addr);
    }
    CHECK(stats_of(nat.la).total == 201);
}

TEST_CASE("a flow refused for lack of memory: PKT_ALIAS_ERROR, packet untouched, fine afterwards", "[fault]") {
    Nat nat(masq, kNoSockets, PKT_ALIAS_USE_SOCKETS);
    LibAliasSetTarget(nat.la, prv3);  // unsolicited inbound then needs a link
    Packet udp = udp_packet(prv1, 5000, ext, 53, "q");
    Packet tcp = tcp_packet(prv1, 5001, ext, 80, kSyn);
    Packet icmp = icmp_echo(prv1, ext, 77, 1);
    Packet gre = ip_packet(47, prv1, ext, 16);
    Packet unsolicited = udp_packet(ext2, 4444, masq, 7777, "probe");
    std::vector<Packet*> all = {&udp, &tcp, &icmp, &gre};
    std::vector<Packet> before;
    for (Packet* p : all) before.push_back(*p);
    const Packet unsolicited_before = unsolicited;
    std::array<int, 5> result{};
    {
        fault::Armed a(fault::after(0));
        for (std::size_t i = 0; i < all.size(); ++i) result[i] = LibAliasOut(nat.la, all[i]->data(), all[i]->capacity());
        result[4] = LibAliasIn(nat.la, unsolicited.data(), unsolicited.capacity());
    }
    CHECK(fault::refused() > 0);
    for (std::size_t i = 0; i < all.size(); ++i) {
        INFO("packet " << i);
        CHECK(result[i] == PKT_ALIAS_ERROR);
        CHECK(all[i]->buf == before[i].buf);
    }
    CHECK(result[4] == PKT_ALIAS_ERROR);
    CHECK(unsolicited.buf == unsolicited_before.buf);
    CHECK(stats_of(nat.la).total == 0);

    // Memory is back: the same packets go through.
    for (Packet* p : all) {
        CHECK(LibAliasOut(nat.la, p->data(), p->capacity()) == PKT_ALIAS_OK);
        CHECK(p->src().s_addr == masq.s_addr);
        CHECK(checksums_ok(*p));
    }
    CHECK(LibAliasIn(nat.la, unsolicited.data(), unsolicited.capacity()) == PKT_ALIAS_OK);
    CHECK(unsolicited.dst().s_addr == prv3.s_addr);
    check_consistent(nat.la);
}

TEST_CASE("redirects and LSNAT servers short of memory fail by value", "[fault]") {
    Nat nat(masq, kNoSockets, PKT_ALIAS_USE_SOCKETS);
    alias_link* early;
    {
        fault::Armed a(fault::after(0));  // no pool chunk yet: nothing can be created
        early = LibAliasRedirectPort(nat.la, prv3, htons(80), any_addr, 0, masq, htons(8080), IPPROTO_TCP);
    }
    CHECK(early == nullptr);
    CHECK(stats_of(nat.la).total == 0);

    alias_link* web = LibAliasRedirectPort(nat.la, prv3, htons(80), any_addr, 0, masq, htons(8080), IPPROTO_TCP);
    REQUIRE(web != nullptr);
    alias_link* addr_link;
    int server;
    {
        fault::Armed a(fault::after(0));
        addr_link = LibAliasRedirectAddr(nat.la, prv2, pub);  // from the pool: works
        server = LibAliasAddServer(nat.la, web, prv1, htons(80));  // needs the link's cold part: refused
    }
    CHECK(addr_link != nullptr);
    CHECK(server == -1);
    // The redirect still works as a plain port redirect.
    Packet syn = tcp_packet(ext, 40000, masq, 8080, kSyn);
    REQUIRE(nat.in(syn) == PKT_ALIAS_OK);
    CHECK(syn.dst().s_addr == prv3.s_addr);
    CHECK(syn.dport() == 80);
    CHECK(checksums_ok(syn));
    // With memory back, LSNAT servers can be added.
    CHECK(LibAliasAddServer(nat.la, web, prv1, htons(80)) == 0);
    CHECK(LibAliasAddServer(nat.la, web, prv2, htons(80)) == 0);
    check_consistent(nat.la);
}

TEST_CASE("an FTP PORT rewrite short of memory keeps the TCP stream consistent", "[fault][ftp]") {
    // A rewrite that changes the segment length must record the sequence
    // delta; if it cannot, it must not rewrite at all.
    for (const auto& rule : {fault::after(0), fault::every(1), fault::every(2)}) {
        Nat nat(masq, kNoSockets, PKT_ALIAS_USE_SOCKETS);
        Packet syn = tcp_packet(prv1, 40000, ext, 21, kSyn, 1000);
        REQUIRE(nat.out(syn) == PKT_ALIAS_OK);
        const uint16_t control_port = syn.sport();
        Packet synack = tcp_packet(ext, 21, masq, control_port, kSyn | kAck, 5000, 1001);
        REQUIRE(nat.in(synack) == PKT_ALIAS_OK);

        const std::string port_cmd = "PORT 10,0,0,1,156,65\r\n";  // 10.0.0.1:40001
        Packet port = tcp_packet(prv1, 40000, ext, 21, kAck | kPsh, 1001, 5001, port_cmd);
        int r;
        {
            fault::Armed a(rule);
            r = LibAliasOut(nat.la, port.data(), port.capacity());
        }
        CHECK(r == PKT_ALIAS_OK);
        CHECK(checksums_ok(port));
        const long delta = static_cast<long>(port.payload().size()) - static_cast<long>(port_cmd.size());
        if (port.payload() != port_cmd) {
            CHECK(port.payload().rfind("PORT 85,214,10,12,", 0) == 0);
        }
        // The next segment is shifted by exactly what the PORT rewrite added.
        const uint32_t next_seq = 1001 + static_cast<uint32_t>(port_cmd.size());
        Packet noop = tcp_packet(prv1, 40000, ext, 21, kAck | kPsh, next_seq, 5001, "NOOP\r\n");
        REQUIRE(nat.out(noop) == PKT_ALIAS_OK);
        CHECK(noop.tcp_seq() == next_seq + static_cast<uint32_t>(delta));
        CHECK(checksums_ok(noop));
        // And the server's acknowledgement of it is shifted back.
        Packet ack = tcp_packet(ext, 21, masq, control_port, kAck, 5001, noop.tcp_seq() + 6);
        REQUIRE(nat.in(ack) == PKT_ALIAS_OK);
        CHECK(ack.tcp_ack() == next_seq + 6);
        check_consistent(nat.la);
    }
}

TEST_CASE("SaveFragment short of memory refuses by value and every saved fragment comes back", "[fault][fragments]") {
    Nat nat(masq, kNoSockets, PKT_ALIAS_USE_SOCKETS);
    constexpr int kFragments = 300;
    std::vector<void*> copies;
    for (int i = 0; i < kFragments; ++i) {
        Packet t = ip_packet(IPPROTO_UDP, ext, masq, 40);
        t.put16(4, static_cast<uint16_t>(i + 1));
        t.put16(6, 0x0010);
        copies.push_back(malloc_copy(t));
    }
    std::array<int, kFragments> result{};
    {
        fault::Armed a(fault::every(2));
        for (int i = 0; i < kFragments; ++i) result[static_cast<std::size_t>(i)] = LibAliasSaveFragment(nat.la, copies[static_cast<std::size_t>(i)]);
    }
    unsigned saved = 0;
    for (int i = 0; i < kFragments; ++i) {
        const int r = result[static_cast<std::size_t>(i)];
        CHECK((r == PKT_ALIAS_OK || r == PKT_ALIAS_ERROR));
        if (r == PKT_ALIAS_OK) ++saved;
        else std::free(copies[static_cast<std::size_t>(i)]);  // refused: still the caller's
    }
    CHECK(stats_of(nat.la).frag_ptr == saved);
    unsigned back = 0;
    for (int i = 0; i < kFragments; ++i) {
        Packet header = ip_packet(IPPROTO_UDP, ext, masq, 40);
        header.put16(4, static_cast<uint16_t>(i + 1));
        if (void* f = LibAliasGetFragment(nat.la, header.data())) {
            CHECK(result[static_cast<std::size_t>(i)] == PKT_ALIAS_OK);
            std::free(f);
            ++back;
        }
    }
    CHECK(back == saved);
    CHECK(stats_of(nat.la).frag_ptr == 0);
}

TEST_CASE("IKE short of memory is still translated, and answered once memory is back", "[fault][ipsec]") {
    Nat nat(masq, kNoSockets, PKT_ALIAS_USE_SOCKETS);
    check_translates(nat.la, prv2, 3000);  // the pool exists
    Packet ike = udp_packet(prv1, 500, ext, 500, ike_header(0x11, 2));
    int r;
    {
        fault::Armed a(fault::after(0));
        r = LibAliasOut(nat.la, ike.data(), ike.capacity());
    }
    CHECK(r == PKT_ALIAS_OK);
    CHECK(ike.src().s_addr == masq.s_addr);
    CHECK(ike.sport() == 500);
    CHECK(checksums_ok(ike));
    Packet again = udp_packet(prv1, 500, ext, 500, ike_header(0x11, 2));
    REQUIRE(LibAliasOut(nat.la, again.data(), again.capacity()) == PKT_ALIAS_OK);
    std::string reply_body = ike_header(0x11, 2);
    reply_body[8] = 0x22;  // responder SPI
    Packet reply = udp_packet(ext, 500, masq, 500, reply_body);
    REQUIRE(LibAliasIn(nat.la, reply.data(), reply.capacity()) == PKT_ALIAS_OK);
    CHECK(reply.dst().s_addr == prv1.s_addr);
    CHECK(reply.dport() == 500);
    CHECK(checksums_ok(reply));
}

TEST_CASE("a mixed workload with every n-th allocation failing stays consistent", "[fault]") {
    for (long n : {1L, 2L, 3L, 5L, 8L, 13L}) {
        DYNAMIC_SECTION("every " << n << "th allocation fails") {
            FakeClock clock;
            Nat nat(masq, kNoSockets, PKT_ALIAS_USE_SOCKETS);
            clock.attach(nat.la);
            // Everything the program sends, built before arming.
            std::vector<Packet> out, in;
            for (uint16_t i = 0; i < 40; ++i) {
                out.push_back(udp_packet(i % 2 ? prv1 : prv2, static_cast<uint16_t>(6000 + i), ext, 53, "q"));
                out.push_back(tcp_packet(prv1, static_cast<uint16_t>(7000 + i), ext2, 80, kSyn));
                out.push_back(icmp_echo(prv2, ext, static_cast<uint16_t>(100 + i), 1));
            }
            out.push_back(tcp_packet(prv1, 41000, ext, 21, kAck | kPsh, 1, 1, "PORT 10,0,0,1,160,41\r\n"));
            out.push_back(tcp_packet(prv1, 41001, ext, 6667, kAck | kPsh, 1, 1,
                                     "PRIVMSG b :\001DCC CHAT chat 167772161 40042\001\r\n"));
            out.push_back(tcp_packet(prv1, 41002, ext, 554, kAck | kPsh, 1, 1,
                                     "SETUP rtsp://x/a RTSP/1.0\r\nTransport: RTP/AVP;unicast;client_port=5000-5001\r\n\r\n"));
            out.push_back(udp_packet(prv1, 500, ext, 500, ike_header(0x33, 32)));
            out.push_back(udp_packet(prv1, 41003, ext, 69, std::string("\0\1f\0octet\0", 11)));
            for (uint16_t i = 0; i < 20; ++i) in.push_back(tcp_packet(ext2, static_cast<uint16_t>(9000 + i), masq, 8080, kSyn));
            Packet tail = ip_packet(IPPROTO_UDP, ext, masq, 40);
            tail.put16(6, 0x0010);
            std::vector<void*> frags;
            for (int i = 0; i < 30; ++i) {
                tail.put16(4, static_cast<uint16_t>(i + 1));
                frags.push_back(malloc_copy(tail));
            }
            std::vector<int> results(out.size() + in.size() + frags.size(), 0);
            int proxy = 0, server = 0;
            alias_link* redirect = nullptr;
            {
                fault::Armed a(fault::every(n));
                std::size_t k = 0;
                redirect = LibAliasRedirectPort(nat.la, prv3, htons(80), any_addr, 0, masq, htons(8080), IPPROTO_TCP);
                if (redirect) server = LibAliasAddServer(nat.la, redirect, prv3, htons(80));
                LibAliasRedirectAddr(nat.la, prv2, pub);
                LibAliasRedirectProto(nat.la, prv1, any_addr, masq, 47);
                proxy = LibAliasProxyRule(nat.la, "type encode_tcp_stream port 8081 server 10.0.0.9:3128");
                for (Packet& p : out) results[k++] = LibAliasOut(nat.la, p.data(), p.capacity());
                for (Packet& p : in) results[k++] = LibAliasIn(nat.la, p.data(), p.capacity());
                for (void* f : frags) results[k++] = LibAliasSaveFragment(nat.la, f);
                clock.now += 61;
                LibAliasSetAddress(nat.la, pub);
                LibAliasSetAddress(nat.la, masq);
            }
            INFO("allocations refused: " << fault::refused());
            CHECK((proxy == 0 || proxy == -1));
            CHECK((server == 0 || server == -1));
            for (std::size_t k = 0; k < out.size() + in.size(); ++k) CHECK(allowed_result(results[k]));
            for (std::size_t i = 0; i < frags.size(); ++i) {
                const int r = results[out.size() + in.size() + i];
                CHECK((r == PKT_ALIAS_OK || r == PKT_ALIAS_ERROR));
                if (r != PKT_ALIAS_OK) std::free(frags[i]);
            }
            check_consistent(nat.la);
            // Memory is back: the instance works normally.
            check_translates(nat.la, prv1, 12345);
            check_translates(nat.la, addr("10.0.0.7"), 12346);  // prv2 has a RedirectAddr to pub
            if (!redirect) redirect = LibAliasRedirectPort(nat.la, prv3, htons(80), any_addr, 0, masq, htons(8080), IPPROTO_TCP);
            REQUIRE(redirect != nullptr);
            Packet syn = tcp_packet(ext, 33333, masq, 8080, kSyn);
            REQUIRE(nat.in(syn) == PKT_ALIAS_OK);
            CHECK(syn.dst().s_addr == prv3.s_addr);
            CHECK(checksums_ok(syn));
            check_consistent(nat.la);
        }
    }
}

TEST_CASE("mmap refused: the indexes keep their initial buckets and the pool takes aligned heap blocks", "[fault]") {
    libalias* la;
    {
        fault::Armed a(fault::mmap_only());
        la = LibAliasInit(nullptr);
    }
    REQUIRE(la != nullptr);
    LibAliasSetAddress(la, masq);
    LibAliasSetMode(la, PKT_ALIAS_SAME_PORTS, PKT_ALIAS_USE_SOCKETS | PKT_ALIAS_SAME_PORTS);
    // More flows than the small first chunks hold (8 x 4095), so the pool
    // also asks for 2 MiB blocks; every mmap is refused and it falls back.
    constexpr unsigned kFlows = 36000;
    std::vector<uint16_t> alias_port(kFlows);
    Packet p = udp_packet(prv1, 1, ext, 53, "q");
    unsigned ok = 0;
    {
        fault::Armed a(fault::mmap_only());
        for (unsigned i = 0; i < kFlows; ++i) {
            p = udp_packet(prv1, static_cast<uint16_t>(1024 + i), ext, static_cast<uint16_t>(1 + i / 4000), "q");
            if (LibAliasOut(la, p.data(), p.capacity()) == PKT_ALIAS_OK && p.src().s_addr == masq.s_addr) ++ok;
            alias_port[i] = p.sport();
        }
    }
    CHECK(fault::refused() > 0);
    CHECK(ok == kFlows);
    CHECK(stats_of(la).total == kFlows);
    unsigned back = 0;
    for (unsigned i = 0; i < kFlows; i += 7) {
        Packet r = udp_packet(ext, static_cast<uint16_t>(1 + i / 4000), masq, alias_port[i], "a");
        if (LibAliasIn(la, r.data(), r.capacity()) == PKT_ALIAS_OK && r.dst().s_addr == prv1.s_addr &&
            r.dport() == 1024 + i)
            ++back;
    }
    CHECK(back == (kFlows + 6) / 7);
    LibAliasUninit(la);
}

namespace {

// A handler of the test's own: takes outbound UDP to kProbePort and counts
// the packets it is given.
constexpr uint16_t kProbePort = 7777;
int probe_handler_calls = 0;
int probe_fingerprint(libalias*, alias_data* ad) { return ad->dport && *ad->dport == htons(kProbePort) ? 0 : -1; }
int probe_count(libalias*, ip*, alias_data*) {
    ++probe_handler_calls;
    return 0;
}
proto_handler probe_handlers[] = {
    {.pri = 900, .dir = OUT, .proto = UDP, .fingerprint = probe_fingerprint, .protohandler = probe_count, .link = {}},
    {.pri = 0, EOH, .proto = 0, .fingerprint = nullptr, .protohandler = nullptr, .link = {}}};

// Whether the probe handler is in the chain: one datagram to its port.
bool probe_attached(Nat& nat, uint16_t sport) {
    const int before = probe_handler_calls;
    Packet p = udp_packet(prv1, sport, ext2, kProbePort, "probe");
    REQUIRE(nat.out(p) == PKT_ALIAS_OK);
    CHECK(checksums_ok(p));
    return probe_handler_calls != before;
}

// Whether the built-in FTP handler still rewrites a PORT command.
bool ftp_port_rewritten(Nat& nat, uint16_t sport) {
    Packet syn = tcp_packet(prv1, sport, ext, 21, kSyn, 1000);
    REQUIRE(nat.out(syn) == PKT_ALIAS_OK);
    Packet port = tcp_packet(prv1, sport, ext, 21, kAck | kPsh, 1001, 5001, "PORT 10,0,0,1,156,65\r\n");
    REQUIRE(nat.out(port) == PKT_ALIAS_OK);
    CHECK(checksums_ok(port));
    return port.payload().rfind("PORT 85,214,10,12,", 0) == 0;
}

}  // namespace

TEST_CASE("attaching or detaching a handler short of memory changes the chain all or nothing", "[fault][modules]") {
    Nat nat;
    uint16_t sport = 20000;
    REQUIRE_FALSE(probe_attached(nat, sport++));
    // Allow 0, 1, 2, ... allocations until the attach goes through: every
    // refusal is -ENOMEM with the chain as it was.
    int refused = 0, r = -ENOMEM;
    for (long n = 0; n < 1000 && r != 0; ++n) {
        {
            fault::Armed a(fault::after(n));
            r = LibAliasAttachHandlers(probe_handlers);
        }
        REQUIRE((r == 0 || r == -ENOMEM));
        if (r != 0) ++refused;
        CHECK(probe_attached(nat, sport++) == (r == 0));
        CHECK(ftp_port_rewritten(nat, sport++));
    }
    REQUIRE(r == 0);
    CHECK(refused > 0);

    refused = 0;
    r = -ENOMEM;
    for (long n = 0; n < 1000 && r != 0; ++n) {
        {
            fault::Armed a(fault::after(n));
            r = LibAliasDetachHandlers(probe_handlers);
        }
        REQUIRE((r == 0 || r == -ENOMEM));
        if (r != 0) ++refused;
        CHECK(probe_attached(nat, sport++) == (r != 0));
        CHECK(ftp_port_rewritten(nat, sport++));
    }
    REQUIRE(r == 0);
    CHECK(refused > 0);
    CHECK(LibAliasDetachHandlers(probe_handlers) == 0);  // not attached: skipped, as libalias returns
    check_consistent(nat.la);
}

#ifdef NALIAS_SAMPLE_MODULE
namespace {

// Whether the sample module (tests/modules/sample_handler.c) is mapped in
// the process at all, whoever holds it.
bool sample_module_mapped() {
    void* h = dlopen(NALIAS_SAMPLE_MODULE, RTLD_LAZY | RTLD_NOLOAD);
    if (h) dlclose(h);
    return h != nullptr;
}

// Whether the sample module's handler answers "MARK" with "SEEN".
bool sample_handler_active(Nat& nat, uint16_t sport) {
    Packet p = udp_packet(prv1, sport, ext, 5555, std::string("MARK") + std::string(6, '\0'));
    REQUIRE(nat.out(p) == PKT_ALIAS_OK);
    CHECK(checksums_ok(p));
    return p.payload().rfind("SEEN", 0) == 0;
}

}  // namespace

TEST_CASE("a module that cannot load for lack of memory leaves nothing loaded or mapped", "[fault][modules]") {
    Nat nat;
    uint16_t sport = 30000;
    std::string path = NALIAS_SAMPLE_MODULE;
    REQUIRE_FALSE(sample_module_mapped());
    // dlopen itself allocates, so a refusal can come from the dynamic
    // loader (EINVAL, as for any dlopen failure) or from nalias (ENOMEM).
    int refused = 0, r = ENOMEM;
    for (long n = 0; n < 4000 && r != 0; ++n) {
        {
            fault::Armed a(fault::after(n));
            r = LibAliasLoadModule(path.data());
        }
        REQUIRE((r == 0 || r == ENOMEM || r == EINVAL));
        if (r != 0) {
            ++refused;
            CHECK_FALSE(sample_handler_active(nat, sport++));
            CHECK_FALSE(sample_module_mapped());
        }
    }
    REQUIRE(r == 0);
    CHECK(refused > 0);
    CHECK(sample_handler_active(nat, sport++));
    CHECK(ftp_port_rewritten(nat, sport++));

    // Unloading short of memory: the module is either gone (detached and
    // unmapped) or still fully loaded, never unmapped while attached.
    int kept = 0;
    bool gone = false;
    for (long n = 0; n < 1000 && !gone; ++n) {
        {
            fault::Armed a(fault::after(n));
            r = LibAliasUnLoadAllModule();
        }
        CHECK(r == 1);  // libalias's value, whatever happened
        const bool active = sample_handler_active(nat, sport++), mapped = sample_module_mapped();
        CHECK(active == mapped);
        gone = !mapped;
        if (!gone) ++kept;
    }
    CHECK(gone);
    CHECK(kept > 0);
    CHECK(ftp_port_rewritten(nat, sport++));
}
#endif  // NALIAS_SAMPLE_MODULE

#endif  // NALIAS_FAULT_INJECTION
