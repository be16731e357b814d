// SPDX-License-Identifier: BSD-2-Clause
//
// Target template: reaches one protocol handler by construction.  Built once
// per handler with FUZZ_PROTO (IPPROTO_TCP/UDP, or another IP protocol for
// the GRE/ESP handlers) and FUZZ_PORT (the handler's well-known port).  The
// fuzzer's bytes become the payload of a valid datagram on that port, sent
// in one of four roles: client to server (out), server's reply (in), and the
// same for a server behind the NAT published with a port redirect; the
// server's reply goes to the alias port the client's last packet left with.
// The GRE and ESP targets first set up a PPTP call or an IKE Quick Mode, so
// that the fuzzer's packets can match known state.
// Input: [role:1][tcp flags:1][seq:4][maxsize slack:1][payload...]; role
// bytes 0xf0-0xff also advance the instance's clock by (low nibble) x 300 s.
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

// The instance's clock; inputs move it forward (see the input layout).
struct Clock {
    unsigned now = 1000;
    static unsigned read(void* c) { return static_cast<Clock*>(c)->now; }
};

struct Setup {
    libalias* la;
    Clock clock;
    uint16_t client_alias_port = 0;
    Setup() : la(LibAliasInit(nullptr)) {
        LibAliasSetClock(la, &Clock::read, &clock);
        LibAliasSetAddress(la, kAlias);
        LibAliasSetMode(la, 0, PKT_ALIAS_USE_SOCKETS);
        LibAliasRedirectPort(la, kServerInside, htons(FUZZ_PORT), ip4(0, 0, 0, 0), 0, kAlias, htons(FUZZ_PORT),
                             FUZZ_PROTO == IPPROTO_UDP ? IPPROTO_UDP : IPPROTO_TCP);
        if (FUZZ_PROTO == IPPROTO_TCP || FUZZ_PROTO == IPPROTO_UDP) {
            auto syn = l4_datagram(FUZZ_PROTO, kClient, kClientPort, kPeer, FUZZ_PORT, {}, 0x02, 1);
            LibAliasOut(la, syn.data(), static_cast<int>(syn.size()));
            client_alias_port = static_cast<uint16_t>(syn[20] << 8 | syn[21]);
        }
        prime();
    }

    // GRE and ESP reach their handlers' interesting paths only for a known
    // PPTP call or a negotiated SA: set one up, as a client would.
    void prime() {
#if FUZZ_PROTO == 47
        constexpr uint16_t kPptp = 1723;
        auto syn = l4_datagram(IPPROTO_TCP, kClient, kClientPort, kPeer, kPptp, {}, 0x02, 1);
        LibAliasOut(la, syn.data(), static_cast<int>(syn.size()));
        const uint16_t control_port = static_cast<uint16_t>(syn[20] << 8 | syn[21]);
        // Outgoing-Call-Request with our call id 0x1234, and the server's
        // Outgoing-Call-Reply (its id 0x5678) quoting the alias call id.
        std::vector<uint8_t> request = {0, 168, 0, 1, 0x1a, 0x2b, 0x3c, 0x4d, 0, 7, 0, 0, 0x12, 0x34};
        request.resize(168, 0);
        auto out = l4_datagram(IPPROTO_TCP, kClient, kClientPort, kPeer, kPptp, request, 0x18, 2);
        LibAliasOut(la, out.data(), static_cast<int>(out.size()));
        std::vector<uint8_t> reply = {0, 32, 0, 1, 0x1a, 0x2b, 0x3c, 0x4d, 0, 8, 0, 0, 0x56, 0x78, out[52], out[53], 1};
        reply.resize(32, 0);
        auto in = l4_datagram(IPPROTO_TCP, kPeer, kPptp, kAlias, control_port, reply, 0x18, 1);
        LibAliasIn(la, in.data(), static_cast<int>(in.size()));
#elif FUZZ_PROTO == 50
        // IKEv1 Quick Mode from the client: its ESP SA is then awaited.
        std::vector<uint8_t> ike(28, 0x11);
        for (int i = 8; i < 16; ++i) ike[static_cast<std::size_t>(i)] = 0x22;
        const uint8_t tail[12] = {8, 0x10, 32, 1, 0, 0, 0, 7, 0, 0, 0, 28};
        std::memcpy(&ike[16], tail, sizeof tail);
        auto qm = l4_datagram(IPPROTO_UDP, kClient, 500, kPeer, 500, ike, 0, 0);
        LibAliasOut(la, qm.data(), static_cast<int>(qm.size()));
#endif
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
    const uint8_t role_byte = in.u8();
    const uint8_t role = role_byte % 4;
    // One input in sixteen (role byte 0xf0-0xff) first lets up to 75 minutes
    // pass, so handler state also meets its timeouts (IKE idles at 3600 s);
    // the PPTP call or IKE exchange is then set up again, or jumps would
    // soon leave the GRE and ESP targets nothing to match.
    if (role_byte >= 0xf0) {
        s.clock.now += (role_byte & 0x0fu) * 300u;
        s.prime();
    }
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
    run_exact(p, static_cast<int>(p.size()) + slack, [&](void* b, int m) {
        const int r = out ? LibAliasOut(s.la, b, m) : LibAliasIn(s.la, b, m);
        // The server answers the alias port it saw, which a handler may
        // have moved (IKE moves the client to alias port 500).
        if (role == 0 && r == PKT_ALIAS_OK && s.client_alias_port != 0) {
            const auto* q = static_cast<const uint8_t*>(b);
            s.client_alias_port = static_cast<uint16_t>(q[20] << 8 | q[21]);
        }
        return r;
    });
    return 0;
}
