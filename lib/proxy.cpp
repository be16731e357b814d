// SPDX-License-Identifier: BSD-2-Clause
//
// Placeholder until the proxy-rule parser lands: no rule ever matches and
// LibAliasProxyRule fails the way libalias fails on a bad rule (-1).
#include "proxy.hpp"

namespace nalias {

ProxyTarget proxy_check(Instance&, uint32_t, uint32_t, uint16_t, uint8_t) noexcept { return {}; }
void proxy_modify(Instance&, Link&, uint8_t*, std::size_t, int) noexcept {}
int proxy_rule(Instance&, const char*) noexcept { return -1; }

}  // namespace nalias
