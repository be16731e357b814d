// SPDX-License-Identifier: BSD-2-Clause
// Loadable modules: a C module built apart (tests/modules/sample_handler.c)
// loaded with LibAliasLoadModule and through a libalias.conf with
// LibAliasRefreshModules, the loader's errors, and the libalias-internal
// functions modules import (alias_mod.h), called here the way a module
// calls them.
#include <catch2/catch.hpp>

#include "packet.hpp"

#include <alias_mod.h>

#include <netinet/in.h>
#include <netinet/ip.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#ifndef NALIAS_SAMPLE_MODULE
#error "tests/modules/CMakeLists.txt defines the sample module paths"
#endif

using namespace test;

namespace {

constexpr uint16_t kSamplePort = 5555;

// A private temporary file, removed at scope exit.
struct TempFile {
    std::string path;
    TempFile() {
        char tmpl[] = "/tmp/nalias-modtest-XXXXXX";
        const int fd = mkstemp(tmpl);
        REQUIRE(fd >= 0);
        close(fd);
        path = tmpl;
    }
    ~TempFile() { std::remove(path.c_str()); }
    void write(const std::string& text) const { std::ofstream(path, std::ios::trunc) << text; }
    std::string read() const {
        std::ifstream f(path);
        std::stringstream s;
        s << f.rdbuf();
        return s.str();
    }
};

// Module events (MOD_LOAD / MOD_UNLOAD) land in a file the test reads.
struct EventLog : TempFile {
    EventLog() { setenv("NALIAS_SAMPLE_EVENTS", path.c_str(), 1); }
    ~EventLog() { unsetenv("NALIAS_SAMPLE_EVENTS"); }
};

// Leaves no module loaded, whatever the test did.
struct UnloadAtExit {
    ~UnloadAtExit() { LibAliasUnLoadAllModule(); }
};

int load(const char* path) {
    std::string p = path;
    return LibAliasLoadModule(p.data());
}

std::string marked_payload() { return std::string("MARK") + std::string(6, '\0'); }

// Sends "MARK..." to the sample port and returns the payload after LibAliasOut.
std::string mark_once(Nat& nat, uint16_t sport) {
    Packet p = udp_packet(prv1, sport, ext, kSamplePort, marked_payload());
    REQUIRE(nat.out(p) == PKT_ALIAS_OK);
    CHECK(checksums_ok(p));
    return p.payload();
}

std::string seen_payload(in_addr alias, uint16_t alias_port_host) {
    std::string s = "SEEN";
    s.append(reinterpret_cast<const char*>(&alias.s_addr), 4);
    s.push_back(static_cast<char>(alias_port_host >> 8));
    s.push_back(static_cast<char>(alias_port_host & 0xff));
    return s;
}

}  // namespace

TEST_CASE("module: LibAliasLoadModule attaches a C module and unloading detaches it", "[modules]") {
    UnloadAtExit guard;
    EventLog events;
    Nat nat;
    CHECK(mark_once(nat, 4000) == marked_payload());  // nothing loaded yet

    REQUIRE(load(NALIAS_SAMPLE_MODULE) == 0);
    CHECK(events.read() == "load\n");
    CHECK(mark_once(nat, 4001) == seen_payload(masq, 4001));  // SAME_PORTS: alias port = 4001

    // The handler sees the packet before the core rewrites it: other ports untouched.
    Packet other = udp_packet(prv1, 4002, ext, 5556, marked_payload());
    REQUIRE(nat.out(other) == PKT_ALIAS_OK);
    CHECK(other.payload() == marked_payload());

    CHECK(LibAliasUnLoadAllModule() == 1);  // libalias's value
    CHECK(events.read() == "load\nunload\n");
    CHECK(mark_once(nat, 4003) == marked_payload());
}

TEST_CASE("module: a module opens a data link with AddLink/SetExpire from its handler", "[modules]") {
    UnloadAtExit guard;
    REQUIRE(load(NALIAS_SAMPLE_MODULE) == 0);
    Nat nat;
    std::string open_cmd = "OPEN";
    open_cmd.push_back(static_cast<char>(7000 >> 8));
    open_cmd.push_back(static_cast<char>(7000 & 0xff));
    Packet ctl = udp_packet(prv1, 4100, ext, kSamplePort, open_cmd);
    REQUIRE(nat.out(ctl) == PKT_ALIAS_OK);
    CHECK(checksums_ok(ctl));
    const std::string reply = ctl.payload();
    REQUIRE(reply.size() == 6);
    CHECK(reply.substr(0, 4) == "OPEN");
    const uint16_t data_alias_port = static_cast<uint16_t>((static_cast<uint8_t>(reply[4]) << 8) |
                                                           static_cast<uint8_t>(reply[5]));
    REQUIRE(data_alias_port != 0);

    // The peer reaches the inside host's port 7000 from a port it chooses.
    Packet data = udp_packet(ext, 9999, masq, data_alias_port, "data");
    REQUIRE(nat.in(data) == PKT_ALIAS_OK);
    CHECK(data.dst().s_addr == prv1.s_addr);
    CHECK(data.dport() == 7000);
    CHECK(checksums_ok(data));
}

TEST_CASE("module: loader errors (missing file, no alias_mod, no handlers, duplicate name)", "[modules]") {
    UnloadAtExit guard;
    EventLog events;
    CHECK(load("/nonexistent/libalias_nothing.so") == EINVAL);
    CHECK(load("libm.so.6") == EINVAL);  // a shared object without alias_mod
    CHECK(load(NALIAS_SAMPLE_MODULE_NOHANDLERS) == EINVAL);
    CHECK(LibAliasLoadModule(nullptr) == EINVAL);
    CHECK(events.read().empty());  // none of them got MOD_LOAD

    REQUIRE(load(NALIAS_SAMPLE_MODULE) == 0);
    CHECK(load(NALIAS_SAMPLE_MODULE) == EEXIST);
    CHECK(load(NALIAS_SAMPLE_MODULE_TWIN) == EEXIST);  // another file, same alias_mod name
    CHECK(events.read() == "load\n");

    // Exactly one copy of the handler is attached and it still works.
    Nat nat;
    CHECK(mark_once(nat, 4200) == seen_payload(masq, 4200));
    LibAliasUnLoadAllModule();
    CHECK(events.read() == "load\nunload\n");
    // The name is free again.
    CHECK(load(NALIAS_SAMPLE_MODULE_TWIN) == 0);
}

TEST_CASE("module: LibAliasRefreshModules reads libalias.conf", "[modules]") {
    UnloadAtExit guard;
    EventLog events;
    TempFile conf;
    setenv("NALIAS_CONF", conf.path.c_str(), 1);
    Nat nat;

    conf.write(std::string("# modules for the test\n\n   \n  # indented comment\n  ") + NALIAS_SAMPLE_MODULE +
               "  \n/nonexistent/libalias_skipped.so\n");
    CHECK(LibAliasRefreshModules() == 0);
    CHECK(events.read() == "load\n");
    CHECK(mark_once(nat, 4300) == seen_payload(masq, 4300));

    // Refresh unloads first, then loads what the file lists: the same module again.
    CHECK(LibAliasRefreshModules() == 0);
    CHECK(events.read() == "load\nunload\nload\n");
    CHECK(mark_once(nat, 4301) == seen_payload(masq, 4301));

    conf.write("# nothing any more\n");
    CHECK(LibAliasRefreshModules() == 0);
    CHECK(events.read() == "load\nunload\nload\nunload\n");
    CHECK(mark_once(nat, 4302) == marked_payload());

    // A missing file is not an error: no modules.
    REQUIRE(LibAliasLoadModule(const_cast<char*>(NALIAS_SAMPLE_MODULE)) == 0);
    setenv("NALIAS_CONF", "/nonexistent/libalias.conf", 1);
    CHECK(LibAliasRefreshModules() == 0);
    CHECK(mark_once(nat, 4303) == marked_payload());
    unsetenv("NALIAS_CONF");
}

TEST_CASE("module exports: link creation and lookup", "[modules]") {
    Nat nat;
    // AddLink with an explicit alias port, then the lookups modules use.
    alias_link* l = AddLink(nat.la, prv1, ext, masq, htons(2000), htons(21), htons(40000), IPPROTO_TCP);
    REQUIRE(l != nullptr);
    CHECK(GetOriginalAddress(l).s_addr == prv1.s_addr);
    CHECK(GetDestAddress(l).s_addr == ext.s_addr);
    CHECK(GetAliasAddress(l).s_addr == masq.s_addr);
    CHECK(GetOriginalPort(l) == htons(2000));
    CHECK(GetDestPort(l) == htons(21));
    CHECK(GetAliasPort(l) == htons(40000));
    CHECK(FindUdpTcpOut(nat.la, prv1, ext, htons(2000), htons(21), IPPROTO_TCP, 0) == l);
    CHECK(FindUdpTcpIn(nat.la, ext, masq, htons(21), htons(40000), IPPROTO_TCP, 0) == l);
    CHECK(FindUdpTcpIn(nat.la, ext, masq, htons(21), htons(40001), IPPROTO_TCP, 0) == nullptr);
    CHECK(FindUdpTcpOut(nat.la, prv1, ext, htons(2000), htons(21), IPPROTO_ICMP, 1) == nullptr);

    // The link translates real packets.
    Packet in = tcp_packet(ext, 21, masq, 40000, kAck);
    REQUIRE(nat.in(in) == PKT_ALIAS_OK);
    CHECK(in.dst().s_addr == prv1.s_addr);
    CHECK(in.dport() == 2000);

    SetProtocolFlags(l, 0x5a);
    CHECK(GetProtocolFlags(l) == 0x5a);
    CHECK(GetAckModified(l) == 0);
    SetAckModified(l);
    CHECK(GetAckModified(l) == 1);

    // Invalid arguments are refused instead of crashing.
    CHECK(AddLink(nullptr, prv1, ext, masq, 1, 2, -1, IPPROTO_UDP) == nullptr);
    CHECK(AddLink(nat.la, prv1, ext, masq, 1, 2, -2, IPPROTO_UDP) == nullptr);
    CHECK(AddLink(nat.la, prv1, ext, masq, 1, 2, -1, 258) == nullptr);  // LINK_FRAGMENT_PTR
    CHECK(GetAliasPort(nullptr) == 0);
    PunchFWHole(l);  // no ipfw: nothing happens

    CHECK(FindAliasAddress(nat.la, prv2).s_addr == masq.s_addr);
    CHECK(FindOriginalAddress(nat.la, masq).s_addr == masq.s_addr);  // no target: unchanged
    CHECK(GetDefaultAliasAddress(nat.la).s_addr == masq.s_addr);
}

TEST_CASE("module exports: FindNewPortGroup and FindRtspOut", "[modules]") {
    Nat nat;
    const int base = FindNewPortGroup(nat.la, ext, masq, htons(6970), htons(554), 2, IPPROTO_UDP, 1);
    REQUIRE(base != 0);
    const uint16_t base_host = ntohs(static_cast<uint16_t>(base));
    CHECK(base_host % 2 == 0);
    CHECK(base_host == 6970);  // SAME_PORTS tries the source port first
    // Occupy base+1: the same group is no longer free.
    REQUIRE(AddLink(nat.la, prv1, ext, masq, htons(1), htons(554), htons(6971), IPPROTO_UDP) != nullptr);
    const int next = FindNewPortGroup(nat.la, ext, masq, htons(6970), htons(554), 2, IPPROTO_UDP, 1);
    CHECK(next != 0);
    CHECK(next != base);
    CHECK(FindNewPortGroup(nat.la, ext, masq, htons(6970), htons(554), 2, IPPROTO_ICMP, 0) == 0);

    alias_link* r = FindRtspOut(nat.la, prv2, ext, htons(6000), htons(6000), IPPROTO_UDP);
    REQUIRE(r != nullptr);
    CHECK(GetAliasPort(r) == htons(6000));
    CHECK(FindRtspOut(nat.la, prv2, ext, htons(6000), htons(6000), IPPROTO_UDP) == r);
    // Any remote port reaches it.
    Packet p = udp_packet(ext, 31337, masq, 6000, "rtp");
    REQUIRE(nat.in(p) == PKT_ALIAS_OK);
    CHECK(p.dst().s_addr == prv2.s_addr);
    CHECK(p.dport() == 6000);
}

TEST_CASE("module exports: PPTP call links", "[modules]") {
    Nat nat;
    alias_link* call = AddPptp(nat.la, prv1, ext, masq, htons(0x1111));
    REQUIRE(call != nullptr);
    const uint16_t alias_call = GetAliasPort(call);
    CHECK(FindPptpOutByCallId(nat.la, prv1, ext, htons(0x1111)) == call);
    CHECK(FindPptpInByPeerCallId(nat.la, ext, masq, alias_call) == call);
    CHECK(FindPptpOutByCallId(nat.la, prv2, ext, htons(0x1111)) == nullptr);
    // Outside a handler too, the link leads to its instance: SetDestCallId
    // re-keys the call with the server's call id (the old handle is dead
    // afterwards, as in libalias).
    SetDestCallId(call, htons(0x2222));
    alias_link* rekeyed = FindPptpOutByPeerCallId(nat.la, prv1, ext, htons(0x2222));
    REQUIRE(rekeyed != nullptr);
    CHECK(GetAliasPort(rekeyed) == alias_call);
    CHECK(FindPptpInByCallId(nat.la, ext, masq, htons(0x2222)) == rekeyed);
}

TEST_CASE("module exports: link-only calls reach the link's own instance outside handlers", "[modules]") {
    Nat a, b;
    LibAliasSetAddress(b.la, pub);
    // A link bound to "the instance's address" (alias 0) reports the
    // current address of the instance it belongs to, not of another one.
    alias_link* la_link = AddLink(a.la, prv1, ext, any_addr, htons(3000), htons(80), htons(41000), IPPROTO_TCP);
    alias_link* lb_link = AddLink(b.la, prv1, ext, any_addr, htons(3000), htons(80), htons(41000), IPPROTO_TCP);
    REQUIRE(la_link != nullptr);
    REQUIRE(lb_link != nullptr);
    CHECK(GetAliasAddress(la_link).s_addr == masq.s_addr);
    CHECK(GetAliasAddress(lb_link).s_addr == pub.s_addr);

    // SetExpire(lnk, 0) deletes the link from its instance, and only there.
    SetExpire(la_link, 0);
    CHECK(FindUdpTcpOut(a.la, prv1, ext, htons(3000), htons(80), IPPROTO_TCP, 0) == nullptr);
    CHECK(FindUdpTcpOut(b.la, prv1, ext, htons(3000), htons(80), IPPROTO_TCP, 0) == lb_link);

    // SetExpire(lnk, -1) makes a link permanent and SetExpire(lnk, n) gives
    // it n seconds, in its own instance's clock.
    FakeClock clock;
    clock.attach(a.la);
    alias_link* kept = AddLink(a.la, prv2, ext, masq, htons(3001), htons(80), htons(41001), IPPROTO_UDP);
    alias_link* brief = AddLink(a.la, prv2, ext, masq, htons(3002), htons(80), htons(41002), IPPROTO_UDP);
    REQUIRE(kept != nullptr);
    REQUIRE(brief != nullptr);
    SetExpire(kept, -1);
    SetExpire(brief, 5);
    clock.now += 10;
    Packet p = udp_packet(prv3, 1, ext, 53, "tick");  // any packet runs the expiry
    REQUIRE(LibAliasOut(a.la, p.data(), p.capacity()) == PKT_ALIAS_OK);
    clock.now += 3600;
    p = udp_packet(prv3, 2, ext, 53, "tick");
    REQUIRE(LibAliasOut(a.la, p.data(), p.capacity()) == PKT_ALIAS_OK);
    CHECK(FindUdpTcpOut(a.la, prv2, ext, htons(3001), htons(80), IPPROTO_UDP, 0) == kept);
    CHECK(FindUdpTcpOut(a.la, prv2, ext, htons(3002), htons(80), IPPROTO_UDP, 0) == nullptr);
}

TEST_CASE("module exports: TCP sequence deltas in network order", "[modules]") {
    Nat nat;
    alias_link* l = AddLink(nat.la, prv1, ext, masq, htons(2001), htons(21), htons(40002), IPPROTO_TCP);
    REQUIRE(l != nullptr);
    // A 40-byte segment (20 IP + 20 TCP + 40 data) at seq 1000 grew by 7.
    AddSeq(l, 7, 5, htons(80), htonl(1000), 5);
    CHECK(GetDeltaSeqOut(htonl(999), l) == 0);
    CHECK(GetDeltaSeqOut(htonl(1040), l) == 7);
    CHECK(GetDeltaAckIn(htonl(1047), l) == 7);
    CHECK(GetDeltaAckIn(htonl(1046), l) == 0);
    // The core applies the delta to later outbound segments of that link.
    Packet later = tcp_packet(prv1, 2001, ext, 21, kAck, 1040, 1);
    REQUIRE(nat.out(later) == PKT_ALIAS_OK);
    CHECK(later.tcp_seq() == 1047);
    CHECK(checksums_ok(later));
}

TEST_CASE("module exports: checksum helpers", "[modules]") {
    Packet p = tcp_packet(prv1, 1234, ext, 80, kAck, 1, 1, "payload");
    auto* ip = reinterpret_cast<struct ip*>(p.data());
    uint16_t stored;
    std::memcpy(&stored, &p.buf[36], 2);
    // As libalias: the sum over the segment as it is, so 0 for a valid one,
    // and the value to store once th_sum is zeroed (both raw, as in memory).
    CHECK(TcpChecksum(ip) == 0);
    std::memset(&p.buf[36], 0, 2);
    CHECK(TcpChecksum(ip) == stored);
    std::memcpy(&p.buf[36], &stored, 2);
    CHECK(IpChecksum(ip) == 0);  // over a header with a valid checksum
    // DifferentialChecksum: rewrite the source address and patch both sums.
    in_addr new_src = pub;
    u_short ip_sum, tcp_sum;
    std::memcpy(&ip_sum, &p.buf[10], 2);
    std::memcpy(&tcp_sum, &p.buf[36], 2);
    DifferentialChecksum(&ip_sum, &new_src, &p.buf[12], 2);
    DifferentialChecksum(&tcp_sum, &new_src, &p.buf[12], 2);
    std::memcpy(&p.buf[10], &ip_sum, 2);
    std::memcpy(&p.buf[36], &tcp_sum, 2);
    p.set_src(new_src);
    CHECK(checksums_ok(p));
    CHECK(TcpChecksum(nullptr) == 0);
    // A count of zero or below changes nothing and reads nothing (a negative
    // int used as an unsigned count would walk far past both buffers).
    const u_short before = ip_sum;
    DifferentialChecksum(&ip_sum, &new_src, &p.buf[12], 0);
    CHECK(ip_sum == before);
    DifferentialChecksum(&ip_sum, &new_src, &p.buf[12], -1);
    CHECK(ip_sum == before);
    DifferentialChecksum(&ip_sum, &new_src, &p.buf[12], INT_MIN);
    CHECK(ip_sum == before);
    // libalias's arithmetic: an edit that changes nothing leaves 0xffff as
    // it is (RFC 1624's form would turn it into 0x0000, "no checksum" in UDP).
    u_short all_ones = 0xffff;
    const uint16_t same_word = 0x1234;
    DifferentialChecksum(&all_ones, const_cast<uint16_t*>(&same_word), const_cast<uint16_t*>(&same_word), 1);
    CHECK(all_ones == 0xffff);
    // And any edit keeps a UDP checksum valid, over random headers and words.
    std::mt19937 rng(0x5eed);
    for (int i = 0; i < 2000; ++i) {
        Packet u = udp_packet(prv1, static_cast<uint16_t>(rng()), ext, static_cast<uint16_t>(rng()), "data");
        const in_addr other{static_cast<in_addr_t>(rng())};
        u_short usum;
        std::memcpy(&usum, &u.buf[26], 2);
        if (usum == 0) continue;  // none: nothing to patch
        DifferentialChecksum(&usum, const_cast<in_addr*>(&other), &u.buf[12], 2);
        u.set_src(other);
        std::memcpy(&u.buf[26], &usum, 2);
        INFO("case " << i);
        CHECK(l4_checksum_ok(u));
    }
}

namespace {

// A handler that ends the link of every TCP segment it sees, as a module
// would on a protocol's "goodbye" message.  libalias frees the link there,
// while its core still holds it for the rest of the packet.
int ends_every_tcp_link_fp(struct libalias*, struct alias_data* ad) {
    return ad && ad->lnk && ad->dport && ntohs(*ad->dport) == 7171 ? 0 : -1;
}
int ends_every_tcp_link(struct libalias*, struct ip*, struct alias_data* ad) {
    SetExpire(ad->lnk, 0);
    return 0;
}
proto_handler link_ending_handlers[] = {
    {900, IN | OUT, TCP, &ends_every_tcp_link_fp, &ends_every_tcp_link, {}},
    {0, NODIR, 0, nullptr, nullptr, {}},
};

}  // namespace

TEST_CASE("module exports: SetExpire(lnk, 0) from a handler ends the link without freeing it under the core",
          "[modules]") {
    REQUIRE(LibAliasAttachHandlers(link_ending_handlers) == 0);
    {
        Nat nat(masq, PKT_ALIAS_DENY_INCOMING, PKT_ALIAS_DENY_INCOMING);
        uint16_t previous_port = 0;
        for (int round = 0; round < 4; ++round) {
            Packet out = tcp_packet(prv1, 40000, ext, 7171, round ? kAck : kSyn);
            REQUIRE(nat.out(out) == PKT_ALIAS_OK);
            CHECK(out.src().s_addr == masq.s_addr);
            CHECK(checksums_ok(out));
            // The ended link is gone for every later packet: each round makes a new one.
            if (round) CHECK(out.sport() != 0);
            previous_port = out.sport();
            Packet back = tcp_packet(ext, 7171, masq, previous_port, kAck);
            CHECK(nat.in(back) == PKT_ALIAS_IGNORED);  // the link ended with the outbound segment
        }
        alias_stats st{};
        REQUIRE(LibAliasGetStats(nat.la, &st) == 0);
        CHECK(st.created == 4);
        CHECK(st.created - st.expired == st.total);
    }  // LibAliasUninit walks every list: it must find them intact
    CHECK(LibAliasDetachHandlers(link_ending_handlers) == 0);
}
