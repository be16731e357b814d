// SPDX-License-Identifier: BSD-2-Clause
//
// Instances on two threads at once, under ThreadSanitizer, through the C API.
//
// What docs/performance.md promises: distinct instances may be used on
// distinct threads concurrently (each thread serialises its own instance);
// the process-wide handler chain may be changed while packets walk it.  So:
// two workers, each with its own instance and clock, run flows both ways
// (new, established, redirected, expired, address change, statistics, link
// walk, a Skinny port set per round); with --handler-churn a third thread attaches and detaches a
// handler meanwhile, so every packet walks a chain that is being replaced.
// Every translation is checked; TSan (halt_on_error) fails the run on any
// race.
#include <alias.h>
#include <alias_mod.h>

#include "packet.hpp"

#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

using namespace test;

namespace {

std::atomic<bool> workers_done{false};
std::atomic<unsigned long> fingerprint_calls{0};

int count_and_decline(struct libalias*, struct alias_data*) {
    fingerprint_calls.fetch_add(1, std::memory_order_relaxed);
    return -1;  // not ours: the packet continues untouched
}
int never_called(struct libalias*, struct ip*, struct alias_data*) { return 0; }

struct proto_handler probe_handlers[] = {
    {.pri = 777, .dir = IN | OUT, .proto = TCP | UDP, .fingerprint = count_and_decline, .protohandler = never_called, .link = {}},
    {.pri = 0, EOH, .proto = 0, .fingerprint = nullptr, .protohandler = nullptr, .link = {}}};

struct Worker {
    in_addr alias;
    in_addr inside;
    unsigned failures = 0;
    unsigned translated = 0;

    void check(bool ok, const char* what) {
        if (ok) {
            ++translated;
        } else if (failures++ < 5) {
            std::fprintf(stderr, "worker %s: %s failed\n", str(alias).c_str(), what);
        }
    }

    void run() {
        FakeClock clock;
        libalias* la = LibAliasInit(nullptr);
        LibAliasSetAddress(la, alias);
        LibAliasSetMode(la, 0, PKT_ALIAS_SAME_PORTS | PKT_ALIAS_USE_SOCKETS);
        clock.attach(la);
        alias_link* redirect = LibAliasRedirectPort(la, inside, htons(8080), any_addr, 0, alias, htons(80), IPPROTO_TCP);
        check(redirect != nullptr, "redirect");

        constexpr unsigned kRounds = 6, kFlows = 1500;
        for (unsigned round = 0; round < kRounds; ++round) {
            // Configuration that touches process-wide state (the handler
            // chain's port filter) while the other worker translates.
            LibAliasSetSkinnyPort(la, 2000 + round);
            std::vector<uint16_t> aport(kFlows);
            for (unsigned i = 0; i < kFlows; ++i) {
                const in_addr remote{htonl(0x0c000000u + round * kFlows + i)};
                Packet o = i % 2 ? udp_packet(inside, static_cast<uint16_t>(1024 + i), remote, 53, "q")
                                 : tcp_packet(inside, static_cast<uint16_t>(1024 + i), remote, 443, kSyn);
                check(LibAliasOut(la, o.data(), o.capacity()) == PKT_ALIAS_OK && o.src().s_addr == alias.s_addr &&
                          checksums_ok(o),
                      "new flow out");
                aport[i] = o.sport();
            }
            for (unsigned i = 0; i < kFlows; ++i) {
                const in_addr remote{htonl(0x0c000000u + round * kFlows + i)};
                Packet r = i % 2 ? udp_packet(remote, 53, alias, aport[i], "a")
                                 : tcp_packet(remote, 443, alias, aport[i], kSyn | kAck, 5000, 1001);
                check(LibAliasIn(la, r.data(), r.capacity()) == PKT_ALIAS_OK && r.dst().s_addr == inside.s_addr &&
                          r.dport() == 1024 + i && checksums_ok(r),
                      "reply in");
            }
            // The redirect: an inbound connection to alias:80 reaches inside:8080.
            Packet syn = tcp_packet(ext, static_cast<uint16_t>(20000 + round), alias, 80, kSyn);
            check(LibAliasIn(la, syn.data(), syn.capacity()) == PKT_ALIAS_OK && syn.dst().s_addr == inside.s_addr &&
                      syn.dport() == 8080,
                  "redirect in");
            alias_stats st{};
            check(LibAliasGetStats(la, &st) == 0 && st.total >= kFlows, "stats");
            unsigned walked = 0;
            LibAliasForEachLink(
                la, [](const alias_link_info*, void* n) { ++*static_cast<unsigned*>(n); return 0; }, &walked);
            check(walked == st.total, "link walk");
            clock.now += 400;  // every dynamic link of this round expires
        }
        LibAliasSetAddress(la, inside.s_addr == prv1.s_addr ? pub : masq);  // address change resets
        LibAliasUninit(la);
    }
};

}  // namespace

int main(int argc, char** argv) {
    const bool churn = argc > 1 && std::string(argv[1]) == "--handler-churn";
    Worker a{masq, prv1}, b{pub, prv2};
    std::thread handler_churn([churn] {
        unsigned cycles = 0;
        while (churn && (!workers_done.load() || cycles < 10)) {
            LibAliasAttachHandlers(probe_handlers);
            std::this_thread::yield();
            LibAliasDetachHandlers(probe_handlers);
            ++cycles;
        }
    });
    std::thread ta([&] { a.run(); }), tb([&] { b.run(); });
    ta.join();
    tb.join();
    workers_done = true;
    handler_churn.join();
    std::printf("translated %u + %u packets, %u + %u failures; handler fingerprint called %lu times\n", a.translated,
                b.translated, a.failures, b.failures, fingerprint_calls.load());
    return a.failures == 0 && b.failures == 0 ? 0 : 1;
}
