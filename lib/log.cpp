// SPDX-License-Identifier: BSD-2-Clause
#include "log.hpp"

#include "db.hpp"

#include <cstdlib>

namespace nalias {

namespace {

constexpr const char* kDefaultLogPath = "/var/log/alias.log";
constexpr const char* kLogPathEnv = "NALIAS_LOG_FILE";
// libalias's first line (InitPacketAliasLog), kept byte for byte because
// scripts that watch alias.log expect it.
constexpr const char* kLogHeader = "PacketAlias/InitPacketAliasLog: Packet alias logging enabled.\n";

// Indexes of Instance::live_by_kind (see kind_index in lib/db.cpp).
enum Kind { kIcmp = 0, kUdp = 1, kTcp = 2, kSctp = 3, kPptp = 4, kProto = 5, kFragmentId = 6 };

// Counted on demand: only written while logging, which already costs a
// write per link event.
}  // namespace

bool open_log(Instance& la) noexcept {
    if (la.log) return true;
    const char* env = secure_getenv(kLogPathEnv);
    // "w", as libalias: each enabling starts a fresh file.
    la.log = std::fopen(env && *env ? env : kDefaultLogPath, "we");
    if (!la.log) return false;
    std::fputs(kLogHeader, la.log);
    std::fflush(la.log);
    return true;
}

void close_log(Instance& la) noexcept {
    if (la.log) std::fclose(la.log);
    la.log = nullptr;
}

void log_link_stats(Instance& la) noexcept {
    if (!la.log) return;
    const unsigned* k = la.live_by_kind;
    // Address links (RedirectAddr) have their own slot, which libalias's
    // line does not show.
    const unsigned proto = k[kProto];
    const unsigned frag_ptr = static_cast<unsigned>(la.fragments.size());
    const unsigned total = k[kIcmp] + k[kUdp] + k[kTcp] + k[kSctp] + k[kPptp] + proto + k[kFragmentId] + frag_ptr;
    std::fprintf(la.log, "icmp=%u, udp=%u, tcp=%u, sctp=%u, pptp=%u, proto=%u, frag_id=%u frag_ptr=%u / tot=%u",
                 k[kIcmp], k[kUdp], k[kTcp], k[kSctp], k[kPptp], proto, k[kFragmentId], frag_ptr, total);
    std::fprintf(la.log, " (sock=%u)\n", la.placeholder_sockets);
    std::fflush(la.log);
}

}  // namespace nalias
