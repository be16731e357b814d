// SPDX-License-Identifier: BSD-2-Clause
// libalias's rules for the handler chain, through the C ABI: attach refuses
// an entry whose pri, dir and proto equal an attached one's with positive
// EEXIST and keeps the entries before it; detaching what is not attached is
// 0; LibAliasUnLoadAllModule leaves only the built-ins.  And the loader's
// refusals: unresolved imports (RTLD_NOW) and conflicting handlers.
#include <catch2/catch.hpp>

#include "packet.hpp"

#include <alias_mod.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#if !defined(NALIAS_SAMPLE_MODULE) || !defined(NALIAS_SAMPLE_MODULE_STRICT) || !defined(NALIAS_UNRESOLVED_MODULE)
#error "tests/modules/CMakeLists.txt defines the test module paths"
#endif

using namespace test;

namespace {

constexpr uint16_t kProbePort = 7777;  // the test handlers' fingerprint
constexpr uint16_t kSamplePort = 5555;  // sample_handler.c's

int hits[6];

// The probe peer's port is the destination going out, the source coming in.
int probe_fingerprint(struct libalias*, struct alias_data* ad) {
    const uint16_t port = htons(kProbePort);
    return (ad->dport && *ad->dport == port) || (ad->sport && *ad->sport == port) ? 0 : -1;
}
template <int N>
int count(struct libalias*, struct ip*, struct alias_data*) {
    ++hits[N];
    return 0;
}

constexpr proto_handler entry(u_int pri, int16_t dir, uint8_t proto, int (*h)(struct libalias*, struct ip*, struct alias_data*)) {
    return proto_handler{.pri = pri, .dir = dir, .proto = proto, .fingerprint = &probe_fingerprint, .protohandler = h, .link = {}};
}
constexpr proto_handler kEoh{.pri = 0, .dir = NODIR, .proto = 0, .fingerprint = nullptr, .protohandler = nullptr, .link = {}};

// A and B tie on (700, OUT, UDP); C's second entry ties with A.
proto_handler A[] = {entry(700, OUT, UDP, &count<0>), kEoh};
proto_handler B[] = {entry(700, OUT, UDP, &count<1>), kEoh};
proto_handler C[] = {entry(701, IN, UDP, &count<2>), entry(700, OUT, UDP, &count<3>), kEoh};
proto_handler D[] = {entry(699, OUT, UDP, &count<4>), kEoh};
proto_handler Never[] = {entry(702, OUT, UDP, &count<5>), kEoh};
// The built-in FTP handler's outbound entry is (80, OUT, TCP).
proto_handler FtpTwin[] = {entry(80, OUT, TCP, &count<5>), kEoh};
proto_handler FtpBothWays[] = {entry(80, IN | OUT, TCP, &count<5>), kEoh};
// The sample module's handler is (500, OUT, UDP).
proto_handler SampleTwin[] = {entry(500, OUT, UDP, &count<5>), kEoh};

// Each test leaves the chain as it found it, even when a check fails.
struct DetachAtExit {
    ~DetachAtExit() {
        for (proto_handler* p : {A, B, C, D, Never, FtpTwin, FtpBothWays, SampleTwin}) LibAliasDetachHandlers(p);
        LibAliasUnLoadAllModule();
        std::fill(std::begin(hits), std::end(hits), 0);
    }
};

// Handler calls since the last look, as "A B C0 C1 D X".
std::string take_hits() {
    std::ostringstream s;
    s << hits[0] << ' ' << hits[1] << ' ' << hits[2] << ' ' << hits[3] << ' ' << hits[4] << ' ' << hits[5];
    std::fill(std::begin(hits), std::end(hits), 0);
    return s.str();
}

// Returns the alias port (host order).
uint16_t probe_out(Nat& nat, uint16_t sport) {
    Packet p = udp_packet(prv1, sport, ext, kProbePort, "x");
    REQUIRE(nat.out(p) == PKT_ALIAS_OK);
    return p.sport();
}

// An outbound packet opens the flow (its handler calls are dropped), then
// the peer's reply comes in.
void probe_in(Nat& nat, uint16_t sport) {
    const uint16_t alias_port = probe_out(nat, sport);
    take_hits();
    Packet p = udp_packet(ext, kProbePort, masq, alias_port, "y");
    REQUIRE(nat.in(p) == PKT_ALIAS_OK);
    CHECK(p.dst().s_addr == prv1.s_addr);
}

bool mapped(const char* path) {
    void* h = dlopen(path, RTLD_LAZY | RTLD_NOLOAD);
    if (h) dlclose(h);
    return h != nullptr;
}

int load(const char* path) {
    std::string p = path;
    return LibAliasLoadModule(p.data());
}

bool sample_active(Nat& nat, uint16_t sport) {
    Packet p = udp_packet(prv1, sport, ext, kSamplePort, std::string("MARK") + std::string(6, '\0'));
    REQUIRE(nat.out(p) == PKT_ALIAS_OK);
    return p.payload().rfind("SEEN", 0) == 0;
}

bool ftp_port_rewritten(Nat& nat, uint16_t sport) {
    Packet syn = tcp_packet(prv1, sport, ext, 21, kSyn, 1000);
    REQUIRE(nat.out(syn) == PKT_ALIAS_OK);
    Packet port = tcp_packet(prv1, sport, ext, 21, kAck | kPsh, 1001, 5001, "PORT 10,0,0,1,156,65\r\n");
    REQUIRE(nat.out(port) == PKT_ALIAS_OK);
    return port.payload().rfind("PORT 85,214,10,12,", 0) == 0;
}

std::string temp_path() {
    char tmpl[] = "/tmp/nalias-rules-XXXXXX";
    const int fd = mkstemp(tmpl);
    REQUIRE(fd >= 0);
    close(fd);
    return tmpl;
}

std::string slurp(const std::string& path) {
    std::ifstream f(path);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

// What `f` writes to stderr (the loader's diagnostics).
template <class F>
std::string stderr_of(F f) {
    const std::string path = temp_path();
    std::fflush(stderr);
    const int saved = dup(2);
    const int fd = open(path.c_str(), O_WRONLY | O_TRUNC);
    REQUIRE((saved >= 0 && fd >= 0));
    dup2(fd, 2);
    close(fd);
    f();
    std::fflush(stderr);
    dup2(saved, 2);
    close(saved);
    std::string text = slurp(path);
    std::remove(path.c_str());
    return text;
}

}  // namespace

TEST_CASE("module: a module importing a function nalias does not export is refused at load", "[modules]") {
    DetachAtExit guard;
    int r = -1;
    const std::string err = stderr_of([&] { r = load(NALIAS_UNRESOLVED_MODULE); });
    CHECK(r == EINVAL);
    CHECK(err.rfind("libalias: ", 0) == 0);
    CHECK(err.find("nalias_test_never_exported") != std::string::npos);
    CHECK_FALSE(mapped(NALIAS_UNRESOLVED_MODULE));
    // The packet its handler would take passes untouched, and the process lives.
    Nat nat;
    Packet p = tcp_packet(prv1, 4500, ext, 7000, kSyn, 1000);
    CHECK(nat.out(p) == PKT_ALIAS_OK);
    CHECK(p.src().s_addr == masq.s_addr);
}

TEST_CASE("handlers: attach refuses an attached pri/dir/proto with positive EEXIST, as libalias", "[modules]") {
    DetachAtExit guard;
    Nat nat;
    CHECK(LibAliasAttachHandlers(A) == 0);
    CHECK(LibAliasAttachHandlers(A) == EEXIST);  // the same array again
    CHECK(LibAliasAttachHandlers(B) == EEXIST);  // another array, same pri/dir/proto
    probe_out(nat, 4600);
    CHECK(take_hits() == "1 0 0 0 0 0");  // once: A is attached once, B not at all

    // A lower pri on the same dir/proto is no conflict and runs first.
    CHECK(LibAliasAttachHandlers(D) == 0);
    probe_out(nat, 4601);
    CHECK(take_hits() == "0 0 0 0 1 0");
    CHECK(LibAliasDetachHandlers(D) == 0);
    CHECK(LibAliasDetachHandlers(A) == 0);
    // Freed pri: B attaches now.
    CHECK(LibAliasAttachHandlers(B) == 0);
    probe_out(nat, 4602);
    CHECK(take_hits() == "0 1 0 0 0 0");
}

TEST_CASE("handlers: attach stops at a conflicting entry and keeps the earlier ones attached", "[modules]") {
    DetachAtExit guard;
    Nat nat;
    REQUIRE(LibAliasAttachHandlers(A) == 0);
    CHECK(LibAliasAttachHandlers(C) == EEXIST);  // C[0] attached, C[1] conflicts with A
    probe_in(nat, 4700);
    CHECK(take_hits() == "0 0 1 0 0 0");  // C[0] (IN) took the reply
    probe_out(nat, 4701);
    CHECK(take_hits() == "1 0 0 0 0 0");  // A, never C[1]
    // Detaching the partly attached array removes what is there.
    CHECK(LibAliasDetachHandlers(C) == 0);
    probe_in(nat, 4702);
    CHECK(take_hits() == "0 0 0 0 0 0");
}

TEST_CASE("handlers: the built-in handlers' pri/dir/proto are taken, dir compared whole", "[modules]") {
    DetachAtExit guard;
    Nat nat;
    CHECK(LibAliasAttachHandlers(FtpTwin) == EEXIST);       // built-in FTP out is (80, OUT, TCP)
    CHECK(LibAliasAttachHandlers(FtpBothWays) == 0);        // IN|OUT is another dir, as in libalias
    CHECK(ftp_port_rewritten(nat, 4800));                   // FTP (attached first) still runs
    CHECK(LibAliasDetachHandlers(FtpBothWays) == 0);
}

TEST_CASE("handlers: detaching an array that is not attached returns 0 and changes nothing", "[modules]") {
    DetachAtExit guard;
    Nat nat;
    REQUIRE(LibAliasAttachHandlers(A) == 0);
    CHECK(LibAliasDetachHandlers(Never) == 0);
    probe_out(nat, 4900);
    CHECK(take_hits() == "1 0 0 0 0 0");
    CHECK(LibAliasDetachHandlers(A) == 0);
    CHECK(LibAliasDetachHandlers(A) == 0);  // twice: a stock module's MOD_UNLOAD after the loader's detach
    probe_out(nat, 4901);
    CHECK(take_hits() == "0 0 0 0 0 0");
    CHECK(LibAliasAttachHandlers(A) == 0);  // the chain is intact: A attaches again
}

TEST_CASE("module: a module whose handler conflicts is refused with EEXIST and nothing of it stays", "[modules]") {
    DetachAtExit guard;
    const std::string events = temp_path();
    setenv("NALIAS_SAMPLE_EVENTS", events.c_str(), 1);
    Nat nat;
    REQUIRE(LibAliasAttachHandlers(SampleTwin) == 0);
    int r = -1;
    const std::string err = stderr_of([&] { r = load(NALIAS_SAMPLE_MODULE); });
    CHECK(r == EEXIST);
    CHECK(err.rfind("libalias: ", 0) == 0);
    CHECK_FALSE(mapped(NALIAS_SAMPLE_MODULE));
    CHECK(slurp(events).empty());  // never got MOD_LOAD
    CHECK_FALSE(sample_active(nat, 5000));
    CHECK(LibAliasDetachHandlers(SampleTwin) == 0);
    CHECK(load(NALIAS_SAMPLE_MODULE) == 0);
    CHECK(sample_active(nat, 5001));
    unsetenv("NALIAS_SAMPLE_EVENTS");
    std::remove(events.c_str());
}

TEST_CASE("module: a module whose MOD_LOAD returns its own attach's EEXIST still loads", "[modules]") {
    DetachAtExit guard;
    Nat nat;
    CHECK(load(NALIAS_SAMPLE_MODULE_STRICT) == 0);
    CHECK(sample_active(nat, 5100));
    CHECK(mapped(NALIAS_SAMPLE_MODULE_STRICT));
}

TEST_CASE("module: LibAliasUnLoadAllModule detaches directly attached handlers too, not the built-ins", "[modules]") {
    DetachAtExit guard;
    Nat nat;
    REQUIRE(LibAliasAttachHandlers(A) == 0);
    REQUIRE(LibAliasAttachHandlers(C) == EEXIST);  // C[0] attached
    REQUIRE(load(NALIAS_SAMPLE_MODULE) == 0);
    CHECK(LibAliasUnLoadAllModule() == 1);
    probe_out(nat, 5200);
    CHECK(take_hits() == "0 0 0 0 0 0");
    probe_in(nat, 5201);
    CHECK(take_hits() == "0 0 0 0 0 0");
    CHECK_FALSE(sample_active(nat, 5202));
    CHECK_FALSE(mapped(NALIAS_SAMPLE_MODULE));
    CHECK(ftp_port_rewritten(nat, 5203));
    // Detached, so they attach again without a conflict.
    CHECK(LibAliasAttachHandlers(A) == 0);
    CHECK(LibAliasAttachHandlers(C) == EEXIST);
}
