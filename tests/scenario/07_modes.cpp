// SPDX-License-Identifier: BSD-2-Clause
// Every PKT_ALIAS_* mode flag, one behaviour each, through real packets.
#include <catch2/catch.hpp>

#include "packet.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

using namespace test;

namespace {

bool same(in_addr a, in_addr b) { return a.s_addr == b.s_addr; }

std::string slurp(const std::string& path) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

// Binds a socket of `type` to INADDR_ANY:port; returns errno (0 on success).
int try_bind(int type, uint16_t port) {
    const int fd = ::socket(AF_INET, type, 0);
    if (fd < 0) return errno;
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_ANY);
    const int r = ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    const int e = r == 0 ? 0 : errno;
    ::close(fd);
    return e;
}

}  // namespace

TEST_CASE("LOG: SetMode opens the log, writes libalias's lines, and closes it", "[modes][log]") {
    char path[] = "/tmp/nalias-log-XXXXXX";
    const int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    ::close(fd);
    REQUIRE(setenv("NALIAS_LOG_FILE", path, 1) == 0);
    {
        Nat nat(masq);
        const unsigned mode = LibAliasSetMode(nat.la, PKT_ALIAS_LOG, PKT_ALIAS_LOG);
        REQUIRE(mode != static_cast<unsigned>(-1));
        CHECK((mode & PKT_ALIAS_LOG) != 0);
        CHECK(slurp(path).find("Packet alias logging enabled.") != std::string::npos);

        Packet u = udp_packet(prv1, 1000, ext, 53);
        REQUIRE(nat.out(u) == PKT_ALIAS_OK);
        Packet t = tcp_packet(prv1, 1001, ext, 80, kSyn);
        REQUIRE(nat.out(t) == PKT_ALIAS_OK);
        const std::string log = slurp(path);
        CHECK(log.find("icmp=0, udp=1, tcp=0, sctp=0, pptp=0, proto=0, frag_id=0 frag_ptr=0 / tot=1") !=
              std::string::npos);
        CHECK(log.find("icmp=0, udp=1, tcp=1, sctp=0, pptp=0, proto=0, frag_id=0 frag_ptr=0 / tot=2") !=
              std::string::npos);

        // Logging off: nothing more is written.
        CHECK((LibAliasSetMode(nat.la, 0, PKT_ALIAS_LOG) & PKT_ALIAS_LOG) == 0);
        const std::size_t size_off = slurp(path).size();
        Packet i = icmp_echo(prv2, ext, 7, 1);
        REQUIRE(nat.out(i) == PKT_ALIAS_OK);
        CHECK(slurp(path).size() == size_off);
    }
    // A log that cannot be opened: SetMode returns -1 and the mode is unchanged.
    REQUIRE(setenv("NALIAS_LOG_FILE", "/nonexistent-dir/alias.log", 1) == 0);
    {
        Nat nat(masq);
        const unsigned before = LibAliasSetMode(nat.la, 0, 0);
        CHECK(LibAliasSetMode(nat.la, PKT_ALIAS_LOG, PKT_ALIAS_LOG) == static_cast<unsigned>(-1));
        CHECK(LibAliasSetMode(nat.la, 0, 0) == before);
    }
    unsetenv("NALIAS_LOG_FILE");
    std::remove(path);
}

TEST_CASE("DENY_INCOMING refuses unsolicited flows of every kind, replies still pass", "[modes]") {
    Nat nat(masq, PKT_ALIAS_DENY_INCOMING, PKT_ALIAS_DENY_INCOMING);
    Packet unsolicited[] = {udp_packet(ext, 53, masq, 5000), tcp_packet(ext, 80, masq, 5001, kSyn),
                            icmp_echo(ext, masq, 9, 1), ip_packet(50, ext, masq, 20)};
    for (Packet& p : unsolicited) {
        const Packet before = p;
        CHECK(nat.in(p) == PKT_ALIAS_IGNORED);
        CHECK(p.buf == before.buf);
    }
    Packet out = udp_packet(prv1, 5000, ext, 53);
    REQUIRE(nat.out(out) == PKT_ALIAS_OK);
    Packet reply = udp_packet(ext, 53, masq, out.sport());
    REQUIRE(nat.in(reply) == PKT_ALIAS_OK);
    CHECK(same(reply.dst(), prv1));
    // Without the flag, unsolicited traffic is for the NAT host and passes.
    LibAliasSetMode(nat.la, 0, PKT_ALIAS_DENY_INCOMING);
    Packet host = tcp_packet(ext, 80, masq, 22, kSyn);
    CHECK(nat.in(host) == PKT_ALIAS_OK);
    CHECK(same(host.dst(), masq));
}

TEST_CASE("SAME_PORTS on and off", "[modes]") {
    Nat nat(masq, PKT_ALIAS_SAME_PORTS, ~0u);
    Packet a = tcp_packet(prv1, 2222, ext, 80, kSyn);
    REQUIRE(nat.out(a) == PKT_ALIAS_OK);
    CHECK(a.sport() == 2222);
    LibAliasSetMode(nat.la, 0, PKT_ALIAS_SAME_PORTS);
    Packet b = tcp_packet(prv1, 2223, ext, 80, kSyn);
    REQUIRE(nat.out(b) == PKT_ALIAS_OK);
    CHECK(b.sport() >= 0x8000);
    CHECK(checksums_ok(b));
}

TEST_CASE("USE_SOCKETS binds a placeholder socket for a partial link", "[modes][sockets]") {
    Nat nat(masq);  // USE_SOCKETS is a default
    REQUIRE((LibAliasSetMode(nat.la, 0, 0) & PKT_ALIAS_USE_SOCKETS) != 0);
    // Random alias ports: no fixed port another program on this host might hold.
    LibAliasSetMode(nat.la, 0, PKT_ALIAS_SAME_PORTS);
    alias_link* l = LibAliasRedirectPort(nat.la, prv1, htons(6000), any_addr, 0, masq, 0, IPPROTO_UDP);
    REQUIRE(l != nullptr);
    // The inside host's packet leaves from the alias port the redirect holds.
    Packet p = udp_packet(prv1, 6000, ext, 7000);
    REQUIRE(nat.out(p) == PKT_ALIAS_OK);
    const uint16_t aport = p.sport();
    CHECK(aport != 0);
    CHECK(checksums_ok(p));
    CHECK(try_bind(SOCK_DGRAM, aport) == EADDRINUSE);
    // Deleting the redirect releases the port.
    LibAliasRedirectDelete(nat.la, l);
    CHECK(try_bind(SOCK_DGRAM, aport) == 0);

    // TCP too, and a port the host already uses is skipped.
    alias_link* t = LibAliasRedirectPort(nat.la, prv1, htons(6001), any_addr, 0, masq, 0, IPPROTO_TCP);
    REQUIRE(t != nullptr);
    Packet syn = tcp_packet(prv1, 6001, ext, 7001, kSyn);
    REQUIRE(nat.out(syn) == PKT_ALIAS_OK);
    CHECK(try_bind(SOCK_STREAM, syn.sport()) == EADDRINUSE);

    // Without USE_SOCKETS no socket is held.
    LibAliasSetMode(nat.la, 0, PKT_ALIAS_USE_SOCKETS);
    alias_link* n = LibAliasRedirectPort(nat.la, prv2, htons(6002), any_addr, 0, masq, 0, IPPROTO_UDP);
    REQUIRE(n != nullptr);
    Packet q = udp_packet(prv2, 6002, ext, 7002);
    REQUIRE(nat.out(q) == PKT_ALIAS_OK);
    CHECK(try_bind(SOCK_DGRAM, q.sport()) == 0);
}

TEST_CASE("RESET_ON_ADDR_CHANGE keeps redirects and drops dynamic links", "[modes]") {
    Nat nat(masq, PKT_ALIAS_RESET_ON_ADDR_CHANGE | PKT_ALIAS_DENY_INCOMING, ~0u);
    REQUIRE(LibAliasRedirectPort(nat.la, prv1, htons(25), any_addr, 0, any_addr, htons(25), IPPROTO_TCP) != nullptr);
    Packet out = udp_packet(prv2, 5000, ext, 53);
    REQUIRE(nat.out(out) == PKT_ALIAS_OK);
    LibAliasSetAddress(nat.la, pub);
    Packet stale = udp_packet(ext, 53, masq, out.sport());
    CHECK(nat.in(stale) == PKT_ALIAS_IGNORED);
    Packet smtp = tcp_packet(ext, 40000, pub, 25, kSyn);
    REQUIRE(nat.in(smtp) == PKT_ALIAS_OK);
    CHECK(same(smtp.dst(), prv1));
    // Setting the same address again changes nothing.
    Packet again = udp_packet(prv2, 5001, ext, 53);
    REQUIRE(nat.out(again) == PKT_ALIAS_OK);
    LibAliasSetAddress(nat.la, pub);
    Packet reply = udp_packet(ext, 53, pub, again.sport());
    REQUIRE(nat.in(reply) == PKT_ALIAS_OK);
    CHECK(same(reply.dst(), prv2));
}

TEST_CASE("PROXY_ONLY without a rule leaves every packet untouched", "[modes]") {
    Nat nat(masq, PKT_ALIAS_PROXY_ONLY, PKT_ALIAS_PROXY_ONLY);
    Packet packets[] = {udp_packet(prv1, 1, ext, 2), tcp_packet(prv1, 3, ext, 4, kSyn), icmp_echo(prv1, ext, 5, 1),
                        ip_packet(47, prv1, ext, 20)};
    for (Packet& p : packets) {
        const Packet before = p;
        CHECK(nat.out(p) == PKT_ALIAS_OK);
        CHECK(p.buf == before.buf);
    }
    Packet frag = ip_packet(IPPROTO_UDP, prv1, ext, 40);
    frag.put16(6, 10);
    fix_checksums(frag);
    const Packet fb = frag;
    CHECK(nat.out(frag) == PKT_ALIAS_OK);
    CHECK(frag.buf == fb.buf);
    Packet icmp_in = icmp_echo(ext, masq, 5, 1, true);
    const Packet ib = icmp_in;
    CHECK(nat.in(icmp_in) == PKT_ALIAS_OK);
    CHECK(icmp_in.buf == ib.buf);
}

TEST_CASE("REVERSE swaps the directions", "[modes]") {
    // The instance runs on the inside interface: LibAliasIn sees what leaves.
    Nat nat(masq, PKT_ALIAS_REVERSE, PKT_ALIAS_REVERSE);
    Packet out = udp_packet(prv1, 4444, ext, 53);
    REQUIRE(nat.in(out) == PKT_ALIAS_OK);
    CHECK(same(out.src(), masq));
    CHECK(checksums_ok(out));
    Packet reply = udp_packet(ext, 53, masq, out.sport());
    REQUIRE(nat.out(reply) == PKT_ALIAS_OK);
    CHECK(same(reply.dst(), prv1));
    CHECK(reply.dport() == 4444);
    CHECK(checksums_ok(reply));
    // The flag itself survives the calls.
    CHECK((LibAliasSetMode(nat.la, 0, 0) & PKT_ALIAS_REVERSE) != 0);
}

TEST_CASE("PUNCH_FW and SKIP_GLOBAL are accepted and change no translation", "[modes]") {
    Nat plain(masq, 0, ~0u);
    Nat flagged(masq, PKT_ALIAS_PUNCH_FW | PKT_ALIAS_SKIP_GLOBAL, ~0u);
    LibAliasSetFWBase(flagged.la, 1000, 100);
    CHECK(LibAliasSetMode(flagged.la, 0, 0) == (PKT_ALIAS_PUNCH_FW | PKT_ALIAS_SKIP_GLOBAL));
    Packet a = tcp_packet(prv1, 4000, ext, 21, kSyn);
    Packet b = tcp_packet(prv1, 4000, ext, 21, kSyn);
    LibAliasSetMode(plain.la, PKT_ALIAS_SAME_PORTS, PKT_ALIAS_SAME_PORTS);
    LibAliasSetMode(flagged.la, PKT_ALIAS_SAME_PORTS, PKT_ALIAS_SAME_PORTS);
    REQUIRE(plain.out(a) == PKT_ALIAS_OK);
    REQUIRE(flagged.out(b) == PKT_ALIAS_OK);
    CHECK(a.buf == b.buf);
}

TEST_CASE("SetMode applies only the masked bits and returns the new mode", "[modes]") {
    Nat nat(masq);
    const unsigned start = LibAliasSetMode(nat.la, 0, 0);
    CHECK(LibAliasSetMode(nat.la, ~0u & ~PKT_ALIAS_LOG, PKT_ALIAS_DENY_INCOMING) == (start | PKT_ALIAS_DENY_INCOMING));
    CHECK(LibAliasSetMode(nat.la, 0, PKT_ALIAS_SAME_PORTS) == ((start | PKT_ALIAS_DENY_INCOMING) & ~PKT_ALIAS_SAME_PORTS));
    CHECK(LibAliasSetMode(nat.la, PKT_ALIAS_UDP_EIM, PKT_ALIAS_UDP_EIM) & PKT_ALIAS_UDP_EIM);
}
