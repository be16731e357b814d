// SPDX-License-Identifier: BSD-2-Clause
//
// db.hpp: link lookup, creation and deletion, as the packet path and the
// protocol handlers use them.
//
// Lookups are layered, one policy per layer (as libalias's alias_db.c):
//   search_out/search_in   exact key, lazily expiring what they find;
//   find_link_out/_in      plus wildcard (partial) links, which, when
//                          `replace_partial` is set, are turned into a fully
//                          specified link for this remote (ReLink; LSNAT
//                          picks the next server); the in side also tries
//                          links bound to "the instance's alias address";
//   find_udp_tcp_out/_in, find_icmp_*, find_proto_*
//                          plus creation when `create` is set.
// Every hit goes through use_link(), which refreshes the link for expiry.
// All addresses and ports are in network order.
#pragma once

#include "instance.hpp"
#include "wire.hpp"

#include <cstdint>
#include <time.h>

namespace nalias {

// AddLink's alias_port_param sentinel: allocate an alias port (or ICMP id).
constexpr int kGetAliasPort = -1;

// Reads the clock (the instance's own, or CLOCK_MONOTONIC_COARSE) into
// la.now.  Every packet samples it, so that expiry stays exact to the second
// and a caller's clock is honoured on every packet; inline, as the packet
// path's call overhead was a measurable share of an established flow.
inline uint32_t sample_clock(Instance& la) noexcept {
    uint32_t t;
    if (la.clock) {
        t = la.clock(la.clock_ctx);
    } else {
        timespec ts;
        clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
        t = static_cast<uint32_t>(ts.tv_sec);
    }
    // The table assumes time never goes backwards; a clock that does is
    // followed only forwards, by its increments.
    if (t >= la.last_clock) la.now += t - la.last_clock;
    la.last_clock = t;
    return la.now;
}

// Per-packet bounded expiry: links within the sweep budget, then fragments
// when the second changed.
inline void housekeeping(Instance& la) noexcept {
    const uint32_t before = la.now;
    sample_clock(la);
    la.links.sweep(la.now, LinkTable::kSweepBudget);
    if (la.now != before && la.fragments.size()) la.fragments.expire(la.now, kFragmentPtrExpireSeconds);
}

uint32_t timeout_for_type(uint16_t type) noexcept;
// A link with alias address 0 follows the instance's alias address.
inline uint32_t effective_alias(const Instance& la, const Link& l) noexcept {
    return l.alias_addr ? l.alias_addr : la.alias_addr;
}
// A link with local address 0 (a redirect to "the alias address") stands for
// the NAT host itself, whatever its address is when the packet arrives
// (libalias's GetOriginalAddress).
inline uint32_t original_address(const Instance& la, const Link& l) noexcept {
    return l.src_addr ? l.src_addr : la.alias_addr;
}

// Address mapping for the no-port paths (RedirectAddr, SetTarget).
uint32_t find_alias_address(Instance& la, uint32_t original) noexcept;
uint32_t find_original_address(Instance& la, uint32_t alias) noexcept;

// `out_key_absent`: the caller has just looked the out key up and found
// nothing, so add_link need not look again (the new-flow path).
Link* add_link(Instance& la, uint32_t src, uint32_t dst, uint32_t alias, uint16_t sport, uint16_t dport,
               int alias_port_param, uint16_t type, uint16_t extra_flags = 0, bool out_key_absent = false) noexcept;
void delete_link(Instance& la, Link* l) noexcept;
Link* relink(Instance& la, Link* old, uint32_t src, uint32_t dst, uint32_t alias, uint16_t sport, uint16_t dport,
             uint16_t aport, uint16_t type) noexcept;

Link* search_out(Instance& la, uint16_t type, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport) noexcept;
Link* search_in(Instance& la, uint16_t type, uint32_t alias, uint16_t aport, uint32_t dst, uint16_t dport) noexcept;
Link* find_link_out(Instance& la, uint16_t type, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
                    bool replace_partial) noexcept;
Link* find_link_in(Instance& la, uint16_t type, uint32_t alias, uint16_t aport, uint32_t dst, uint16_t dport,
                   bool replace_partial) noexcept;

Link* find_udp_tcp_out(Instance& la, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint8_t proto,
                       bool create) noexcept;
// The *_in finders set *for_host when no link exists and none is needed:
// the packet is addressed to the NAT host itself and passes unchanged.
Link* find_udp_tcp_in(Instance& la, uint32_t dst, uint32_t alias, uint16_t dport, uint16_t aport, uint8_t proto,
                      bool create, bool* for_host = nullptr) noexcept;
Link* find_icmp_out(Instance& la, uint32_t src, uint32_t dst, uint16_t id, bool create) noexcept;
Link* find_icmp_in(Instance& la, uint32_t dst, uint32_t alias, uint16_t id_alias, bool create,
                   bool* for_host = nullptr) noexcept;
Link* find_proto_out(Instance& la, uint32_t src, uint32_t dst, uint8_t proto) noexcept;
Link* find_proto_in(Instance& la, uint32_t dst, uint32_t alias, uint8_t proto, bool* for_host = nullptr) noexcept;

inline void use_link(Instance& la, Link& l) noexcept { la.links.touch(l, la.now); }
void set_expire(Instance& la, Link& l, int seconds) noexcept;  // 0 delete, -1 permanent

// TCP state and sequence tracking (libalias TcpMonitorIn/Out, AddSeq).
// The monitors are inline for the common case, a segment that cannot change
// the direction's state (no SYN or RST before the connection, no FIN or RST
// during it, anything after it).
void tcp_monitor(Instance& la, Link& l, uint8_t tcp_flags, bool inbound) noexcept;
// The timeout the link's connection state calls for (RedirectDynamic).
uint32_t tcp_timeout_for_state(const Link& l) noexcept;
// Indexed by the 4-bit state field, so any value it can hold is in bounds.
inline constexpr uint8_t kTcpStateTriggers[16] = {wire::tcp::kSyn | wire::tcp::kRst,
                                                  wire::tcp::kFin | wire::tcp::kRst, 0};
static_assert(kTcpNotConnected == 0 && kTcpConnected == 1 && kTcpDisconnected == 2);
inline void tcp_monitor_in(Instance& la, Link& l, uint8_t tcp_flags) noexcept {
    if (tcp_flags & kTcpStateTriggers[l.tcp_in]) tcp_monitor(la, l, tcp_flags, true);
}
inline void tcp_monitor_out(Instance& la, Link& l, uint8_t tcp_flags) noexcept {
    if (tcp_flags & kTcpStateTriggers[l.tcp_out]) tcp_monitor(la, l, tcp_flags, false);
}
void add_seq(Link& l, int delta, uint32_t seq_host, uint32_t payload_len) noexcept;
int delta_seq_out(const Link& l, uint32_t seq_host) noexcept;
int delta_ack_in(const Link& l, uint32_t ack_host) noexcept;

// Counts of live links by kind, for stats and the LOG line.
int kind_index(uint16_t type) noexcept;

// Names the instance as the table's owner and wires the table's destroy
// callback to the instance's counters.
void install_link_hooks(Instance& la) noexcept;

// Reset, as LibAliasInit on a live instance or an address change.
void flush_links(Instance& la, bool keep_permanent) noexcept;

}  // namespace nalias
