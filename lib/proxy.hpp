// SPDX-License-Identifier: BSD-2-Clause
//
// proxy.hpp: transparent-proxy rules (LibAliasProxyRule).
//
// Data model.  A rule redirects outbound TCP or UDP flows that match
// (proto, destination port, masked source, masked destination) to a proxy
// server, and optionally tells the server where the flow was going: as a
// "[DEST a.b.c.d port]" line at the start of the TCP stream, or as an 8-byte
// IP option (type 0x64) in every redirected datagram.  An instance's rules
// live in a ProxyRules list, kept sorted by rule number; among rules with
// the same number the newest comes first (libalias inserts before the first
// entry whose number is >= the new one).  The instance holds no ProxyRules
// at all while it has no rule, so the packet path pays one null test.
//
// Packet path (lib/alias_tcp_udp.cpp, libalias's order): proxy_check()
// before the link lookup; the core then rewrites the destination to the
// server and records the original destination in the link (LinkExtra
// proxy_addr/proxy_port), and calls proxy_modify() to encode it; inbound
// replies get the original destination back as their source.
//
// Invariants: every stored address/mask pair has addr == addr & mask; ports
// and addresses are in network order; server_addr is never 0.
#pragma once

#include "instance.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace nalias {

struct Datagram;

// libalias's PROXY_TYPE_* values (proxy_check() returns them).
enum ProxyType : int {
    kProxyNone = 0,
    kProxyEncodeNone = 1,       // no_encode
    kProxyEncodeTcpStream = 2,  // encode_tcp_stream
    kProxyEncodeIpHdr = 3,      // encode_ip_hdr
};

struct ProxyRule {
    int number = 0;             // `rule N`: lower numbers are tried first
    int type = kProxyEncodeNone;
    uint8_t proto = 6;          // IPPROTO_TCP or IPPROTO_UDP
    uint16_t port = 0;          // destination port to match; 0 = any
    uint32_t server_addr = 0;
    uint16_t server_port = 0;   // 0 = keep the destination port
    uint32_t src_addr = 0, src_mask = 0;
    uint32_t dst_addr = 0, dst_mask = 0;

    bool matches(uint32_t src, uint32_t dst, uint16_t dport, uint8_t ip_proto) const noexcept {
        // The server's own connections are never sent back to itself.
        return ip_proto == proto && (port == 0 || port == dport) && src != server_addr &&
               (src & src_mask) == src_addr && (dst & dst_mask) == dst_addr;
    }
};

class ProxyRules {
public:
    // Inserts before the first rule whose number is >= r.number.
    void add(const ProxyRule& r);
    // Removes every rule numbered `number`; false when there was none.
    bool remove(int number) noexcept;
    bool empty() const noexcept { return rules_.empty(); }
    const std::vector<ProxyRule>& rules() const noexcept { return rules_; }

private:
    std::vector<ProxyRule> rules_;
};

struct ProxyTarget {
    int type = kProxyNone;
    uint32_t server_addr = 0;  // network order
    uint16_t server_port = 0;  // network order; 0 = keep the destination port
};

// The first rule matching this outbound flow, or type kProxyNone.
ProxyTarget proxy_check(Instance& la, uint32_t src, uint32_t dst, uint16_t dport, uint8_t proto) noexcept;

// Encodes the original destination (LinkExtra proxy_addr/proxy_port) into
// the outbound datagram for types kProxyEncodeTcpStream and
// kProxyEncodeIpHdr; `d` is updated when the header or total length grows.
// A datagram that cannot grow within maxpacketsize is sent unencoded, as in
// libalias.
void proxy_modify(Instance& la, Link& l, Datagram& d, int type) noexcept;

// LibAliasProxyRule: 0 on success, -1 on a malformed rule, with the rule
// list unchanged.
int proxy_rule(Instance& la, const char* cmd) noexcept;

}  // namespace nalias
