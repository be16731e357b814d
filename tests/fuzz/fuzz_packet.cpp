// SPDX-License-Identifier: BSD-2-Clause
//
// Target: LibAliasOut and LibAliasIn on arbitrary bytes with an arbitrary
// maxpacketsize.  Input: [mode:2][maxsize:2][direction:1][packet...].
// A few flows (TCP, UDP, an ICMP echo) exist beforehand so that inbound
// bytes can hit real links.
#include "fuzz_common.hpp"

#include <netinet/in.h>

using namespace fuzz;

namespace {

libalias* make_instance() {
    libalias* la = LibAliasInit(nullptr);
    LibAliasSetAddress(la, ip4(198, 51, 100, 1));
    LibAliasSetMode(la, 0, PKT_ALIAS_USE_SOCKETS);  // no host sockets from fuzz input
    LibAliasRedirectPort(la, ip4(10, 0, 0, 9), htons(80), ip4(0, 0, 0, 0), 0, ip4(0, 0, 0, 0), htons(8080),
                         IPPROTO_TCP);
    for (uint16_t i = 0; i < 4; ++i) {
        auto p = l4_datagram(i % 2 ? IPPROTO_UDP : IPPROTO_TCP, ip4(10, 0, 0, 1), static_cast<uint16_t>(1000 + i),
                             ip4(192, 0, 2, 1), 80, {}, 0x02, 1);
        LibAliasOut(la, p.data(), static_cast<int>(p.size()));
    }
    // An echo request (id 7), so that quoted ICMP in error messages can match.
    auto echo = ip_datagram(IPPROTO_ICMP, ip4(10, 0, 0, 1), ip4(192, 0, 2, 1), {8, 0, 0xf7, 0xf8, 0, 7, 0, 0});
    LibAliasOut(la, echo.data(), static_cast<int>(echo.size()));
    return la;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    static libalias* la = make_instance();
    static unsigned runs = 0;
    // A fresh instance now and then keeps a long run from filling the table
    // with fuzz-created links (the probe below must not be refused).
    if (++runs % 20000 == 0) {
        LibAliasUninit(la);
        la = make_instance();
    }
    FuzzInput in(data, size);
    const uint16_t mode = in.u16();
    const int maxsize = static_cast<int>(in.u16() % 2048);
    const uint8_t dir = in.u8();
    const std::vector<uint8_t> packet = in.rest();
    LibAliasSetMode(la, mode & ~(PKT_ALIAS_LOG | PKT_ALIAS_USE_SOCKETS), 0xffff);
    run_exact(packet, maxsize, [&](void* p, int m) {
        switch (dir % 4) {
        case 0: return LibAliasOut(la, p, m);
        case 1: return LibAliasIn(la, p, m);
        case 2: return LibAliasOutTry(la, p, m, 0);
        default: return LibAliasUnaliasOut(la, p, m);
        }
    });
    // The instance must still translate a valid flow afterwards.
    LibAliasSetMode(la, 0, 0xffff);
    auto probe = l4_datagram(IPPROTO_UDP, ip4(10, 0, 0, 2), 5353, ip4(192, 0, 2, 2), 53, {}, 0, 0);
    if (LibAliasOut(la, probe.data(), static_cast<int>(probe.size())) != PKT_ALIAS_OK) __builtin_trap();
    return 0;
}
