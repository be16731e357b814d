// SPDX-License-Identifier: BSD-2-Clause
#include "describe.hpp"

#include "options.hpp"

#include <netinet/in.h>

#include <cctype>
#include <cstdio>
#include <cstring>

namespace replay {

namespace {

uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t be32(const uint8_t* p) { return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3]; }

std::string addr_at(const uint8_t* p) {
    in_addr a;
    std::memcpy(&a, p, 4);
    return format_addr(a);
}

std::string tcp_flags(uint8_t f) {
    std::string s;
    if (f & 0x02) s += 'S';
    if (f & 0x01) s += 'F';
    if (f & 0x04) s += 'R';
    if (f & 0x08) s += 'P';
    if (f & 0x10) s += 'A';
    return s.empty() ? "-" : s;
}

const char* icmp_kind(uint8_t type) {
    switch (type) {
    case 0: return "ICMP reply";
    case 3: return "ICMP unreach";
    case 4: return "ICMP quench";
    case 5: return "ICMP redirect";
    case 8: return "ICMP echo";
    case 11: return "ICMP timex";
    case 12: return "ICMP param";
    case 13: return "ICMP tstamp";
    case 14: return "ICMP tsreply";
    default: return nullptr;
    }
}

// "src > dst" of an IP header, with ports when the protocol has them and the
// bytes are there.  Used for the outer packet and for ICMP quotes.
std::string endpoints(const uint8_t* ip, std::size_t len, std::size_t hl) {
    const uint8_t proto = ip[9];
    const std::string src = addr_at(ip + 12), dst = addr_at(ip + 16);
    const bool first_fragment = (be16(ip + 6) & 0x1fff) == 0;
    if (first_fragment && (proto == IPPROTO_TCP || proto == IPPROTO_UDP) && len >= hl + 4)
        return src + ":" + std::to_string(be16(ip + hl)) + " > " + dst + ":" + std::to_string(be16(ip + hl + 2));
    return src + " > " + dst;
}

}  // namespace

PacketText describe(const uint8_t* ip, std::size_t len) {
    PacketText t;
    if (len < 20 || (ip[0] >> 4) != 4 || (ip[0] & 0x0f) < 5 || static_cast<std::size_t>(ip[0] & 0x0f) * 4 > len) {
        t.kind = "IPv4?";
        t.endpoints = "(malformed header)";
        return t;
    }
    const std::size_t hl = static_cast<std::size_t>(ip[0] & 0x0f) * 4;
    const uint8_t proto = ip[9];
    const uint16_t frag = be16(ip + 6);
    const uint8_t* l4 = ip + hl;
    const std::size_t l4len = len - hl;
    t.endpoints = endpoints(ip, len, hl);

    if ((frag & 0x1fff) != 0) {
        t.kind = proto_name(proto) + " frag";
        char extra[48];
        std::snprintf(extra, sizeof extra, " id %u off %u", be16(ip + 4), (frag & 0x1fff) * 8u);
        t.endpoints += extra;
        for (char& c : t.kind) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        return t;
    }
    switch (proto) {
    case IPPROTO_TCP:
        t.kind = "TCP " + (l4len >= 14 ? tcp_flags(l4[13]) : std::string("?"));
        break;
    case IPPROTO_UDP:
        t.kind = "UDP";
        break;
    case IPPROTO_ICMP: {
        if (l4len < 8) {
            t.kind = "ICMP";
            break;
        }
        const char* k = icmp_kind(l4[0]);
        t.kind = k ? k : "ICMP " + std::to_string(l4[0]) + "/" + std::to_string(l4[1]);
        const uint8_t type = l4[0];
        if (type == 0 || type == 8 || type == 13 || type == 14) {
            t.endpoints += " id " + std::to_string(be16(l4 + 4));
        } else if ((type == 3 || type == 4 || type == 5 || type == 11 || type == 12) && l4len >= 8 + 20) {
            // An error quotes the offending header; a NAT must translate it too.
            const uint8_t* q = l4 + 8;
            const std::size_t qhl = static_cast<std::size_t>(q[0] & 0x0f) * 4;
            if ((q[0] >> 4) == 4 && qhl >= 20 && qhl <= l4len - 8)
                t.endpoints += " [" + endpoints(q, l4len - 8, qhl) + "]";
        }
        break;
    }
    case IPPROTO_ESP:
        t.kind = "ESP";
        if (l4len >= 4) {
            char spi[24];
            std::snprintf(spi, sizeof spi, " spi 0x%08x", be32(l4));
            t.endpoints += spi;
        }
        break;
    default:
        t.kind = proto_name(proto);
        for (char& c : t.kind) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        break;
    }
    return t;
}

std::size_t payload_offset(const uint8_t* ip, std::size_t len) {
    if (len < 20 || (ip[0] >> 4) != 4) return 0;
    const std::size_t hl = static_cast<std::size_t>(ip[0] & 0x0f) * 4;
    if ((be16(ip + 6) & 0x1fff) != 0) return 0;
    if (ip[9] == IPPROTO_UDP && len >= hl + 8) return hl + 8;
    if (ip[9] == IPPROTO_TCP && len >= hl + 20) {
        const std::size_t off = hl + static_cast<std::size_t>(ip[hl + 12] >> 4) * 4;
        return off <= len ? off : 0;
    }
    return 0;
}

}  // namespace replay
