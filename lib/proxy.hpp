// SPDX-License-Identifier: BSD-2-Clause
//
// proxy.hpp: transparent-proxy rules (LibAliasProxyRule).
//
// A rule redirects outbound TCP/UDP flows that match (port, proto, src, dst)
// to a proxy server, and optionally tells the server the original
// destination, in the TCP stream or in an IP option.  Rules are ordered by
// their `rule` number.  The packet path asks proxy_check() before the link
// lookup and proxy_modify() after it, as libalias does.
#pragma once

#include "instance.hpp"

#include <cstddef>
#include <cstdint>

namespace nalias {

// libalias's PROXY_TYPE_* values.
enum ProxyType : int {
    kProxyNone = 0,
    kProxyEncodeNone = 1,       // no_encode
    kProxyEncodeTcpStream = 2,  // encode_tcp_stream
    kProxyEncodeIpHdr = 3,      // encode_ip_hdr
};

// The instance's rule list (empty until the parser lands).
class ProxyRules {};

struct ProxyTarget {
    int type = kProxyNone;
    uint32_t server_addr = 0;  // network order
    uint16_t server_port = 0;  // network order; 0 = keep the destination port
};

ProxyTarget proxy_check(Instance& la, uint32_t src, uint32_t dst, uint16_t dport, uint8_t proto) noexcept;
// Encodes the original destination (type 2 or 3) into the outbound packet.
void proxy_modify(Instance& la, Link& l, uint8_t* ip, std::size_t maxpacketsize, int type) noexcept;
// LibAliasProxyRule: 0 on success, -1 on a malformed rule (nothing changed).
int proxy_rule(Instance& la, const char* cmd) noexcept;

}  // namespace nalias
