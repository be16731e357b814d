// SPDX-License-Identifier: BSD-2-Clause
#include "log.hpp"

#include <cstdlib>

namespace nalias {

namespace {
constexpr const char* kDefaultLogPath = "/var/log/alias.log";
}

bool open_log(Instance& la) noexcept {
    if (la.log) return true;
    const char* path = std::getenv("NALIAS_LOG_FILE");
    la.log = std::fopen(path && *path ? path : kDefaultLogPath, "a");
    return la.log != nullptr;
}

void close_log(Instance& la) noexcept {
    if (la.log) std::fclose(la.log);
    la.log = nullptr;
}

void log_link_stats(Instance& la) noexcept {
    const unsigned* k = la.live_by_kind;
    const unsigned frag_ptr = static_cast<unsigned>(la.fragments.size());
    const unsigned total = k[0] + k[1] + k[2] + k[3] + k[4] + k[5] + k[6] + frag_ptr;
    std::fprintf(la.log,
                 "icmp=%u, udp=%u, tcp=%u, sctp=%u, pptp=%u, proto=%u, frag_id=%u frag_ptr=%u / tot=%u (sock=%u)\n",
                 k[0], k[1], k[2], k[3], k[4], k[5], k[6], frag_ptr, total, 0u);
    std::fflush(la.log);
}

}  // namespace nalias
