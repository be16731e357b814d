// SPDX-License-Identifier: BSD-2-Clause
//
// Target template: reaches one protocol handler by construction.  Built once
// per handler with FUZZ_PROTO (IPPROTO_TCP/UDP, or another IP protocol for
// the GRE/ESP handlers) and FUZZ_PORT (the handler's well-known port).  The
// fuzzer's bytes become the payload of a valid datagram on that port, sent
// in one of four roles: client to server (out), server's reply (in), and the
// same for a server behind the NAT published with a port redirect.
// Input: [role:1][tcp flags:1][seq:4][maxsize slack:1][payload...].
#include "fuzz_common.hpp"

#include <netinet/in.h>

#include <new>

using namespace fuzz;

#ifndef FUZZ_PROTO
#error "define FUZZ_PROTO and FUZZ_PORT"
#endif

namespace {

const in_addr kAlias = ip4(198, 51, 100, 1);
const in_addr kClient = ip4(10, 0, 0, 5);
const in_addr kServerInside = ip4(10, 0, 0, 80);
const in_addr kPeer = ip4(192, 0, 2, 10);
constexpr uint16_t kClientPort = 40000;

struct Setup {
    libalias* la;
    uint16_t client_alias_port = 0;
    Setup() : la(LibAliasInit(nullptr)) {
        LibAliasSetAddress(la, kAlias);
        LibAliasSetMode(la, 0, PKT_ALIAS_USE_SOCKETS);
        LibAliasRedirectPort(la, kServerInside, htons(FUZZ_PORT), ip4(0, 0, 0, 0), 0, kAlias, htons(FUZZ_PORT),
                             FUZZ_PROTO == IPPROTO_UDP ? IPPROTO_UDP : IPPROTO_TCP);
        if (FUZZ_PROTO == IPPROTO_TCP || FUZZ_PROTO == IPPROTO_UDP) {
            auto syn = l4_datagram(FUZZ_PROTO, kClient, kClientPort, kPeer, FUZZ_PORT, {}, 0x02, 1);
            LibAliasOut(la, syn.data(), static_cast<int>(syn.size()));
            client_alias_port = static_cast<uint16_t>(syn[20] << 8 | syn[21]);
        }
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    static Setup s;
    static unsigned runs = 0;
    if (++runs % 5000 == 0) {  // bound the state a long run accumulates
        LibAliasUninit(s.la);
        new (&s) Setup();
    }
    FuzzInput in(data, size);
    const uint8_t role = in.u8() % 4;
    const uint8_t flags = in.u8();
    const uint32_t seq = in.u32();
    const uint8_t slack = in.u8();
    const std::vector<uint8_t> payload = in.rest();
    std::vector<uint8_t> p;
    bool out = true;
    if (FUZZ_PROTO == IPPROTO_TCP || FUZZ_PROTO == IPPROTO_UDP) {
        switch (role) {
        case 0: p = l4_datagram(FUZZ_PROTO, kClient, kClientPort, kPeer, FUZZ_PORT, payload, flags, seq); break;
        case 1:
            p = l4_datagram(FUZZ_PROTO, kPeer, FUZZ_PORT, kAlias, s.client_alias_port, payload, flags, seq);
            out = false;
            break;
        case 2: p = l4_datagram(FUZZ_PROTO, kServerInside, FUZZ_PORT, kPeer, 50000, payload, flags, seq); break;
        default:
            p = l4_datagram(FUZZ_PROTO, kPeer, 50000, kAlias, FUZZ_PORT, payload, flags, seq);
            out = false;
            break;
        }
    } else {
        out = role % 2 == 0;
        p = out ? ip_datagram(FUZZ_PROTO, kClient, kPeer, payload) : ip_datagram(FUZZ_PROTO, kPeer, kAlias, payload);
    }
    run_exact(p, static_cast<int>(p.size()) + slack,
              [&](void* b, int m) { return out ? LibAliasOut(s.la, b, m) : LibAliasIn(s.la, b, m); });
    return 0;
}
