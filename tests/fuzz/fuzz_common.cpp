// SPDX-License-Identifier: BSD-2-Clause
#include "fuzz_common.hpp"

#include <netinet/in.h>

namespace fuzz {

namespace {

void put16(uint8_t* p, uint16_t v) {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}

uint16_t fold(uint32_t s) {
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return static_cast<uint16_t>(~s);
}

uint32_t sum(const uint8_t* p, std::size_t n, uint32_t s = 0) {
    for (std::size_t i = 0; i + 1 < n; i += 2) s += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
    if (n & 1) s += static_cast<uint32_t>(p[n - 1] << 8);
    return s;
}

void ip_header(std::vector<uint8_t>& b, uint8_t proto, in_addr src, in_addr dst) {
    b[0] = 0x45;
    put16(&b[2], static_cast<uint16_t>(b.size()));
    put16(&b[4], 0x4242);
    b[8] = 64;
    b[9] = proto;
    std::memcpy(&b[12], &src, 4);
    std::memcpy(&b[16], &dst, 4);
    put16(&b[10], fold(sum(b.data(), 20)));
}

}  // namespace

std::vector<uint8_t> l4_datagram(uint8_t proto, in_addr src, uint16_t sport, in_addr dst, uint16_t dport,
                                 const std::vector<uint8_t>& payload, uint8_t tcp_flags, uint32_t seq) {
    const std::size_t l4 = proto == IPPROTO_TCP ? 20 : 8;
    std::vector<uint8_t> b(20 + l4 + payload.size(), 0);
    if (b.size() > 0xffff) b.resize(0xffff);
    ip_header(b, proto, src, dst);
    uint8_t* h = &b[20];
    put16(h, sport);
    put16(h + 2, dport);
    if (proto == IPPROTO_TCP) {
        put16(h + 4, static_cast<uint16_t>(seq >> 16));
        put16(h + 6, static_cast<uint16_t>(seq));
        h[12] = 5 << 4;
        h[13] = tcp_flags;
        put16(h + 14, 65535);
    } else {
        put16(h + 4, static_cast<uint16_t>(b.size() - 20));
    }
    if (b.size() > 20 + l4) std::memcpy(h + l4, payload.data(), b.size() - 20 - l4);
    uint32_t pseudo = sum(&b[12], 8) + proto + static_cast<uint32_t>(b.size() - 20);
    put16(h + (proto == IPPROTO_TCP ? 16 : 6), fold(sum(h, b.size() - 20, pseudo)));
    return b;
}

std::vector<uint8_t> ip_datagram(uint8_t proto, in_addr src, in_addr dst, const std::vector<uint8_t>& payload) {
    std::vector<uint8_t> b(20 + payload.size(), 0);
    if (b.size() > 0xffff) b.resize(0xffff);
    ip_header(b, proto, src, dst);
    if (b.size() > 20) std::memcpy(&b[20], payload.data(), b.size() - 20);
    return b;
}

}  // namespace fuzz
