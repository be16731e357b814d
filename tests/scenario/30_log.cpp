// SPDX-License-Identifier: BSD-2-Clause
// PKT_ALIAS_LOG: libalias's statistics line on every link creation and
// deletion, the file's open mode and first line, and SetMode's -1 when the
// file cannot be opened.
#include <catch2/catch.hpp>

#include "packet.hpp"

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

using namespace test;

namespace {

const std::string kHeader = "PacketAlias/InitPacketAliasLog: Packet alias logging enabled.";

struct LogFile {
    std::string path;
    LogFile() {
        char tmpl[] = "/tmp/nalias-logtest-XXXXXX";
        const int fd = mkstemp(tmpl);
        REQUIRE(fd >= 0);
        close(fd);
        path = tmpl;
        setenv("NALIAS_LOG_FILE", path.c_str(), 1);
    }
    ~LogFile() {
        unsetenv("NALIAS_LOG_FILE");
        std::remove(path.c_str());
    }
    std::vector<std::string> lines() const {
        std::ifstream f(path);
        std::vector<std::string> v;
        for (std::string l; std::getline(f, l);) v.push_back(l);
        return v;
    }
};

std::string stats(unsigned icmp, unsigned udp, unsigned tcp, unsigned proto, unsigned tot, unsigned sock = 0) {
    char b[160];
    std::snprintf(b, sizeof b,
                  "icmp=%u, udp=%u, tcp=%u, sctp=0, pptp=0, proto=%u, frag_id=0 frag_ptr=0 / tot=%u (sock=%u)", icmp,
                  udp, tcp, proto, tot, sock);
    return b;
}

}  // namespace

TEST_CASE("log: the file is truncated, starts with libalias's line, and gets one line per link event", "[log]") {
    LogFile log;
    { std::ofstream(log.path) << "stale content\n"; }
    Nat nat;
    FakeClock clock;
    clock.attach(nat.la);
    const unsigned mode = LibAliasSetMode(nat.la, PKT_ALIAS_LOG, PKT_ALIAS_LOG);
    REQUIRE(mode != static_cast<unsigned>(-1));
    CHECK((mode & PKT_ALIAS_LOG) != 0);
    CHECK(log.lines() == std::vector<std::string>{kHeader});

    Packet u = udp_packet(prv1, 1000, ext, 53, "q");
    REQUIRE(nat.out(u) == PKT_ALIAS_OK);
    Packet t = tcp_packet(prv1, 1001, ext, 80, kSyn);
    REQUIRE(nat.out(t) == PKT_ALIAS_OK);
    Packet e = icmp_echo(prv1, ext, 77, 1);
    REQUIRE(nat.out(e) == PKT_ALIAS_OK);
    Packet g = ip_packet(253, prv1, ext, 16);  // experimental protocol: a generic protocol link
    REQUIRE(nat.out(g) == PKT_ALIAS_OK);
    CHECK(log.lines() == std::vector<std::string>{kHeader, stats(0, 1, 0, 0, 1), stats(0, 1, 1, 0, 2),
                                                  stats(1, 1, 1, 0, 3), stats(1, 1, 1, 1, 4)});

    // Setting LOG again while it is on neither reopens nor truncates.
    REQUIRE(LibAliasSetMode(nat.la, PKT_ALIAS_LOG, PKT_ALIAS_LOG) != static_cast<unsigned>(-1));
    CHECK(log.lines().size() == 5);

    // Expiry is a deletion: the UDP, ICMP and GRE links go after 60 s.
    clock.now += 120;
    Packet again = udp_packet(prv1, 1000, ext, 53, "q");
    REQUIRE(nat.out(again) == PKT_ALIAS_OK);
    const auto after = log.lines();
    REQUIRE(after.size() > 5);
    CHECK(after.back() == stats(0, 1, 1, 0, 2));  // the UDP flow's new link, beside the live TCP one
    bool saw_udp_gone = false;
    for (std::size_t i = 5; i + 1 < after.size(); ++i) saw_udp_gone |= after[i].find("udp=0,") != std::string::npos;
    CHECK(saw_udp_gone);
}

TEST_CASE("log: address redirects are not counted but placeholder sockets are", "[log]") {
    LogFile log;
    Nat nat;
    REQUIRE(LibAliasSetMode(nat.la, PKT_ALIAS_LOG, PKT_ALIAS_LOG) != static_cast<unsigned>(-1));
    alias_link* addr_redirect = LibAliasRedirectAddr(nat.la, prv2, pub);
    REQUIRE(addr_redirect != nullptr);
    // A partial TCP redirect with an allocated alias port holds a socket
    // (USE_SOCKETS is on by default).
    alias_link* port_redirect = LibAliasRedirectPort(nat.la, prv1, htons(8080), any_addr, 0, masq, 0, IPPROTO_TCP);
    REQUIRE(port_redirect != nullptr);
    LibAliasRedirectDelete(nat.la, port_redirect);
    LibAliasRedirectDelete(nat.la, addr_redirect);
    const auto lines = log.lines();
    REQUIRE(lines.size() == 5);
    CHECK(lines[0] == kHeader);
    CHECK(lines[1] == stats(0, 0, 0, 0, 0));
    CHECK(lines[2] == stats(0, 0, 1, 0, 1, 1));
    // Deleting the socket's link: the counts drop at once.  (Whether `sock`
    // still counts that socket depends on the core passing the dying link
    // to log_link_stats; libalias closes it first.)
    const std::string deleted = stats(0, 0, 0, 0, 0);
    CHECK(lines[3].substr(0, lines[3].find(" (sock=")) == deleted.substr(0, deleted.find(" (sock=")));
    CHECK(lines[4] == stats(0, 0, 0, 0, 0));
}

TEST_CASE("log: turning LOG off closes the file and turning it on again starts a new one", "[log]") {
    LogFile log;
    Nat nat;
    REQUIRE(LibAliasSetMode(nat.la, PKT_ALIAS_LOG, PKT_ALIAS_LOG) != static_cast<unsigned>(-1));
    Packet a = udp_packet(prv1, 2000, ext, 53);
    REQUIRE(nat.out(a) == PKT_ALIAS_OK);
    REQUIRE(log.lines().size() == 2);

    const unsigned off = LibAliasSetMode(nat.la, 0, PKT_ALIAS_LOG);
    CHECK((off & PKT_ALIAS_LOG) == 0);
    Packet b = udp_packet(prv1, 2001, ext, 53);
    REQUIRE(nat.out(b) == PKT_ALIAS_OK);
    CHECK(log.lines().size() == 2);  // nothing written while off

    REQUIRE(LibAliasSetMode(nat.la, PKT_ALIAS_LOG, PKT_ALIAS_LOG) != static_cast<unsigned>(-1));
    CHECK(log.lines() == std::vector<std::string>{kHeader});
    Packet c = udp_packet(prv1, 2002, ext, 53);
    REQUIRE(nat.out(c) == PKT_ALIAS_OK);
    CHECK(log.lines() == std::vector<std::string>{kHeader, stats(0, 3, 0, 0, 3)});
}

TEST_CASE("log: an unwritable log makes SetMode return -1 and leaves the mode unchanged", "[log]") {
    setenv("NALIAS_LOG_FILE", "/nonexistent-nalias-dir/alias.log", 1);
    Nat nat;
    const unsigned before = LibAliasSetMode(nat.la, 0, 0);
    CHECK(LibAliasSetMode(nat.la, PKT_ALIAS_LOG | PKT_ALIAS_DENY_INCOMING, PKT_ALIAS_LOG | PKT_ALIAS_DENY_INCOMING) ==
          static_cast<unsigned>(-1));
    CHECK(LibAliasSetMode(nat.la, 0, 0) == before);
    // Packets still flow, unlogged.
    Packet p = udp_packet(prv1, 3000, ext, 53);
    CHECK(nat.out(p) == PKT_ALIAS_OK);
    unsetenv("NALIAS_LOG_FILE");
}
