// SPDX-License-Identifier: BSD-2-Clause
//
// Target: one instance driven by a program the fuzzer writes.  Each op byte
// picks a call (packets both ways, redirects and their deletion, LSNAT
// servers, mode and address changes, resets, fragments, proxy rules, the
// clock, the alias port range, the inbound target, the link limit);
// operands come from the following bytes.  Whatever the sequence, nothing
// may crash, leak or read outside a buffer; whenever the program asks, the
// instance's counters must agree with a walk of its links; and at the end
// it must still translate a fresh flow both ways.
#include "fuzz_common.hpp"

#include <netinet/in.h>

#include <string>

using namespace fuzz;

namespace {

struct Clock {
    unsigned now = 1;
    static unsigned read(void* c) { return static_cast<Clock*>(c)->now; }
};

int count_link(const alias_link_info*, void* n) {
    ++*static_cast<unsigned*>(n);
    return 0;
}

// The counters agree with the links the instance holds.
void check_consistent(libalias* la) {
    alias_stats st{};
    if (LibAliasGetStats(la, &st) != 0) __builtin_trap();
    unsigned walked = 0;
    LibAliasForEachLink(la, &count_link, &walked);
    if (walked != st.total) __builtin_trap();
    const unsigned by_kind = st.icmp + st.udp + st.tcp + st.sctp + st.pptp + st.proto + st.frag_id + st.frag_ptr;
    if (by_kind > st.total) __builtin_trap();
}

in_addr pick_addr(FuzzInput& in) {
    static const in_addr pool[] = {ip4(10, 0, 0, 1), ip4(10, 0, 0, 2), ip4(192, 168, 1, 7), ip4(100, 64, 0, 1),
                                   ip4(198, 51, 100, 1), ip4(198, 51, 100, 2), ip4(192, 0, 2, 1), ip4(0, 0, 0, 0)};
    return pool[in.u8() % 8];
}

uint16_t pick_port(FuzzInput& in) {
    static const uint16_t ports[] = {0, 21, 53, 69, 80, 137, 138, 500, 554, 1723, 2000, 4500, 6667, 7648, 8080, 40000};
    const uint8_t b = in.u8();
    return b < 192 ? ports[b % 16] : in.u16();
}

}  // namespace

constexpr uint8_t kOps = 19;  // 0-17 as in the switch, 18: check the counters

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    FuzzInput in(data, size);
    Clock clock;
    libalias* la = LibAliasInit(nullptr);
    LibAliasSetClock(la, &Clock::read, &clock);
    LibAliasSetAddress(la, ip4(198, 51, 100, 1));
    LibAliasSetMode(la, 0, PKT_ALIAS_USE_SOCKETS);
    LibAliasSetLinkLimit(la, 512);
    alias_link* redirects[8] = {};
    unsigned ops = 0;
    while (in.remaining() && ops++ < 256) {
        const uint8_t op = in.u8();
        switch (op % kOps) {
        case 0:
        case 1: {  // a TCP/UDP packet out (0) or in (1)
            const uint8_t proto = in.u8() & 1 ? IPPROTO_UDP : IPPROTO_TCP;
            const in_addr s = pick_addr(in), d = pick_addr(in);
            const uint16_t sp = pick_port(in), dp = pick_port(in);
            const uint8_t flags = in.u8();
            const uint32_t seq = in.u32();
            auto p = l4_datagram(proto, s, htons(sp) ? sp : sp, d, dp, in.bytes(in.u8()), flags, seq);
            const int max = static_cast<int>(p.size()) + in.u8();
            run_exact(p, max, [&](void* b, int m) { return op % kOps == 0 ? LibAliasOut(la, b, m) : LibAliasIn(la, b, m); });
            break;
        }
        case 2: {  // another IP protocol (ICMP, GRE, ESP, ...) either way
            const uint8_t protos[] = {1, 47, 50, 51, 132, 253};
            const uint8_t proto = protos[in.u8() % 6];
            auto p = ip_datagram(proto, pick_addr(in), pick_addr(in), in.bytes(in.u8()));
            const bool out = in.u8() & 1;
            run_exact(p, static_cast<int>(p.size()), [&](void* b, int m) { return out ? LibAliasOut(la, b, m) : LibAliasIn(la, b, m); });
            break;
        }
        case 3: {  // redirect port
            alias_link*& slot = redirects[in.u8() % 8];
            slot = LibAliasRedirectPort(la, pick_addr(in), htons(pick_port(in)), pick_addr(in), htons(pick_port(in)),
                                        pick_addr(in), htons(pick_port(in)), in.u8() & 1 ? IPPROTO_UDP : IPPROTO_TCP);
            break;
        }
        case 4: redirects[in.u8() % 8] = LibAliasRedirectAddr(la, pick_addr(in), pick_addr(in)); break;
        case 5: redirects[in.u8() % 8] = LibAliasRedirectProto(la, pick_addr(in), pick_addr(in), pick_addr(in), in.u8()); break;
        case 6: {  // delete (possibly an already deleted handle: must be harmless)
            alias_link* l = redirects[in.u8() % 8];
            LibAliasRedirectDelete(la, l);
            break;
        }
        case 7: LibAliasAddServer(la, redirects[in.u8() % 8], pick_addr(in), htons(pick_port(in))); break;
        case 8: LibAliasRedirectDynamic(la, redirects[in.u8() % 8]); break;
        case 9: LibAliasSetMode(la, in.u16() & ~(PKT_ALIAS_LOG | PKT_ALIAS_USE_SOCKETS), in.u16()); break;
        case 10: LibAliasSetAddress(la, pick_addr(in)); break;
        case 11: clock.now += in.u16(); break;
        case 12: {  // proxy rule text
            const auto b = in.bytes(in.u8() % 96);
            LibAliasProxyRule(la, std::string(b.begin(), b.end()).c_str());
            break;
        }
        case 13: {  // fragments: save a copy, then try to get it back
            auto p = ip_datagram(IPPROTO_UDP, pick_addr(in), ip4(198, 51, 100, 1), in.bytes(in.u8() % 64));
            p[6] = 0x00;
            p[7] = 0x10;  // offset 128 bytes: a tail fragment
            auto* copy = static_cast<uint8_t*>(std::malloc(p.size()));
            std::memcpy(copy, p.data(), p.size());
            if (LibAliasSaveFragment(la, copy) != PKT_ALIAS_OK) std::free(copy);
            if (void* f = LibAliasGetFragment(la, p.data())) std::free(f);
            if (in.u8() % 8 == 0) LibAliasInit(la);
            break;
        }
        case 14: {  // a small alias port range (lo 0: back to the default)
            const uint16_t lo = pick_port(in);
            LibAliasSetAliasPortRange(la, lo, static_cast<uint16_t>(lo + in.u8() % 16));
            break;
        }
        case 15: LibAliasSetTarget(la, pick_addr(in)); break;
        case 16: LibAliasSetLinkLimit(la, 1u + in.u8() % 64u); break;
        case 17: {  // a header fragment in, then a tail fragment of it
            auto head = l4_datagram(IPPROTO_UDP, pick_addr(in), 53, ip4(198, 51, 100, 1), pick_port(in), {}, 0, 0);
            head[6] = 0x20;  // more fragments
            auto tail = ip_datagram(IPPROTO_UDP, ip4(192, 0, 2, 1), ip4(198, 51, 100, 1), in.bytes(in.u8() % 32));
            tail[4] = head[4];
            tail[5] = head[5];
            tail[7] = 0x01;  // offset 8 bytes
            LibAliasIn(la, head.data(), static_cast<int>(head.size()));
            LibAliasFragmentIn(la, head.data(), tail.data());
            break;
        }
        default: check_consistent(la); break;
        }
    }
    check_consistent(la);
    // Still usable: a fresh flow out and its reply back.
    LibAliasSetMode(la, 0, ~0u);
    LibAliasSetAliasPortRange(la, 0, 0);
    LibAliasSetLinkLimit(la, 512);
    LibAliasSetAddress(la, ip4(198, 51, 100, 1));
    clock.now += 100000;  // let every fuzz-made dynamic link expire
    auto out = l4_datagram(IPPROTO_UDP, ip4(10, 9, 9, 9), 7777, ip4(192, 0, 2, 99), 53, {}, 0, 0);
    if (LibAliasOut(la, out.data(), static_cast<int>(out.size())) != PKT_ALIAS_OK) __builtin_trap();
    const uint16_t aport = static_cast<uint16_t>(out[20] << 8 | out[21]);
    auto back = l4_datagram(IPPROTO_UDP, ip4(192, 0, 2, 99), 53, ip4(198, 51, 100, 1), aport, {}, 0, 0);
    if (LibAliasIn(la, back.data(), static_cast<int>(back.size())) != PKT_ALIAS_OK) __builtin_trap();
    if (back[16] != 10 || back[17] != 9 || back[18] != 9 || back[19] != 9) __builtin_trap();
    LibAliasUninit(la);
    return 0;
}
