// SPDX-License-Identifier: BSD-2-Clause
//
// Target: LibAliasProxyRule's parser on arbitrary text, then one outbound
// TCP packet through whatever rules were accepted.
#include "fuzz_common.hpp"

#include <netinet/in.h>

#include <string>

using namespace fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    libalias* la = LibAliasInit(nullptr);
    LibAliasSetAddress(la, ip4(198, 51, 100, 1));
    LibAliasSetMode(la, 0, PKT_ALIAS_USE_SOCKETS);
    // Several rules separated by newlines; each is parsed on its own.
    std::string text(reinterpret_cast<const char*>(data), size);
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        LibAliasProxyRule(la, text.substr(start, end - start).c_str());
        start = end + 1;
    }
    const std::vector<uint8_t> body = {'G', 'E', 'T', ' ', '/', '\r', '\n'};
    for (uint16_t port : {80, 21, 8080}) {
        auto p = l4_datagram(IPPROTO_TCP, ip4(10, 0, 0, 5), 40000, ip4(192, 0, 2, 10), port, {}, 0x02, 1);
        run_exact(p, static_cast<int>(p.size()) + 64, [&](void* b, int m) { return LibAliasOut(la, b, m); });
        auto d = l4_datagram(IPPROTO_TCP, ip4(10, 0, 0, 5), 40000, ip4(192, 0, 2, 10), port, body, 0x18, 2);
        run_exact(d, static_cast<int>(d.size()) + 64, [&](void* b, int m) { return LibAliasOut(la, b, m); });
    }
    LibAliasUninit(la);
    return 0;
}
