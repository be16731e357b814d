// SPDX-License-Identifier: BSD-2-Clause
//
// Replays every fuzz corpus file (seeds and crash regressions) through
// LibAliasOut, LibAliasIn, LibAliasOutTry and LibAliasUnaliasOut with the
// packet ending exactly at a PROT_NONE page and maxpacketsize equal to its
// length, so that a single byte read or written past the caller's buffer
// faults.  Each file is tried both as a raw datagram and, where it has the
// fuzz_packet framing, as the datagram inside it.  Exit 0 when every call
// returned (whatever the code) and the instance still translates a flow.
#include <alias.h>

#include "guarded.hpp"

#include <arpa/inet.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

namespace fs = std::filesystem;

namespace {

int run_all(libalias* la, const std::vector<uint8_t>& bytes) {
    int calls = 0;
    for (int op = 0; op < 4; ++op) {
        for (std::size_t cut : {bytes.size(), bytes.size() / 2, std::size_t{20}, std::size_t{1}}) {
            if (cut == 0 || cut > bytes.size()) continue;
            test::GuardedBuffer g(cut);
            std::memcpy(g.data(), bytes.data(), cut);
            const int m = static_cast<int>(cut);
            switch (op) {
            case 0: LibAliasOut(la, g.data(), m); break;
            case 1: LibAliasIn(la, g.data(), m); break;
            case 2: LibAliasOutTry(la, g.data(), m, 0); break;
            default: LibAliasUnaliasOut(la, g.data(), m); break;
            }
            ++calls;
        }
    }
    return calls;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: guard_corpus CORPUS_DIR...\n");
        return 2;
    }
    libalias* la = LibAliasInit(nullptr);
    in_addr alias;
    inet_pton(AF_INET, "198.51.100.1", &alias);
    LibAliasSetAddress(la, alias);
    LibAliasSetMode(la, 0, PKT_ALIAS_USE_SOCKETS);
    long files = 0, calls = 0;
    for (int i = 1; i < argc; ++i) {
        if (!fs::exists(argv[i])) continue;
        for (const auto& e : fs::recursive_directory_iterator(argv[i])) {
            if (!e.is_regular_file()) continue;
            std::ifstream f(e.path(), std::ios::binary);
            std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
            if (bytes.empty()) continue;
            ++files;
            calls += run_all(la, bytes);
            if (bytes.size() > 5) calls += run_all(la, std::vector<uint8_t>(bytes.begin() + 5, bytes.end()));
            if (bytes.size() > 7) calls += run_all(la, std::vector<uint8_t>(bytes.begin() + 7, bytes.end()));
        }
    }
    // Still usable afterwards.
    uint8_t pkt[28] = {0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 192, 0, 2, 1, 0x13, 0x88, 0, 53, 0, 8, 0, 0};
    const int r = LibAliasOut(la, pkt, sizeof pkt);
    LibAliasUninit(la);
    std::printf("guard_corpus: %ld files, %ld guarded calls, final flow %s\n", files, calls,
                r == PKT_ALIAS_OK ? "ok" : "FAILED");
    return files > 0 && r == PKT_ALIAS_OK ? 0 : 1;
}
