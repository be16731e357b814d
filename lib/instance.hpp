// SPDX-License-Identifier: BSD-2-Clause
//
// instance.hpp: `struct libalias`, one NAT instance.
//
// Data model.  An instance is configuration (mode flags, alias address,
// target address, alias port range, ...) plus state: the link table, saved
// fragments, a clock sample, and the optional state of the proxy-rule and
// IPsec modules.  The C API hands out pointers to this struct itself;
// `magic` lets every entry point refuse a pointer that is not a live
// instance (NULL, freed, or foreign) instead of crashing, as far as reading
// one word allows.
//
// Invariants: `now` never decreases; every address is in network order and
// ports in the link table too; `port_lower`/`port_count` are in host order
// and describe a non-empty range.  One instance is used by one thread at a
// time (the caller serialises, as ipfw nat and natd do); distinct instances
// share nothing mutable but the handler chain, which is read-mostly and
// lock-free for readers.
#pragma once

#include "fragments.hpp"
#include "link_table.hpp"

#include "../include/alias.h"

#include <cstdint>
#include <cstdio>
#include <memory>

namespace nalias {

// Link lifetimes, as libalias defines them (alias_db.h, unchanged since 1997).
constexpr uint32_t kIcmpExpireSeconds = 60;          // ICMP query links
constexpr uint32_t kUdpExpireSeconds = 60;           // UDP links
constexpr uint32_t kProtoExpireSeconds = 60;         // ESP, GRE and other protocol links
constexpr uint32_t kFragmentIdExpireSeconds = 10;    // inbound header-fragment links
constexpr uint32_t kFragmentPtrExpireSeconds = 30;   // saved fragments (SaveFragment)
constexpr uint32_t kTcpExpireInitialSeconds = 300;   // TCP before both sides have sent SYN
constexpr uint32_t kTcpExpireConnectedSeconds = 86400;  // TCP established both ways
constexpr uint32_t kTcpExpireSingleDeadSeconds = 90;    // one side sent FIN or RST
constexpr uint32_t kTcpExpireDeadSeconds = 10;          // both sides closed

// Alias port range default: libalias's 0x8000..0xffff.
constexpr uint16_t kDefaultPortLower = 0x8000;
constexpr uint32_t kDefaultPortCount = 0x8000;

constexpr uint64_t kInstanceMagic = 0x6e616c6961734c41ull;  // "nalias" + "LA"

class ProxyRules;    // lib/proxy.cpp
class IpsecState;    // lib/ipsec/

// xoshiro256**, seeded from the kernel; used for alias ports and ICMP ids.
class PortRandom {
public:
    PortRandom() noexcept;
    uint64_t next() noexcept {
        const uint64_t result = rotl(s_[1] * 5, 7) * 9;
        const uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }
    // Uniform in [0, n) for n <= 2^32 (bias below n / 2^32), by a multiply
    // rather than a division: a new flow draws one of these per port tried.
    uint32_t below(uint32_t n) noexcept { return static_cast<uint32_t>(((next() >> 32) * n) >> 32); }

private:
    static uint64_t rotl(uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
    uint64_t s_[4];
};

}  // namespace nalias

struct libalias {
    libalias();
    ~libalias();
    libalias(const libalias&) = delete;
    libalias& operator=(const libalias&) = delete;

    uint64_t magic = nalias::kInstanceMagic;

    // Configuration.
    unsigned mode;
    uint32_t alias_addr = 0;    // network order; 0 = not set
    uint32_t target_addr = 0;   // SetTarget: 0 = leave dst, 0xffffffff = alias addr
    uint16_t port_lower = nalias::kDefaultPortLower;
    uint32_t port_count = nalias::kDefaultPortCount;
    unsigned skinny_port = 0;
    unsigned fw_base = 0, fw_num = 0;

    // State.
    nalias::HashSecret secret;
    nalias::LinkTable links;
    nalias::FragmentStore fragments;
    nalias::PortRandom random;
    uint32_t now = 0;
    uint32_t last_clock = 0;
    libalias_clock_fn clock = nullptr;
    void* clock_ctx = nullptr;
    bool new_default_link = false;
    bool create_failed = false;  // this packet needed a link the limit or memory refused

    // Links whose remote address or port is a wildcard, links whose alias
    // address follows the instance's, and links whose local address does:
    // lookups try the extra wildcard keys only while such links exist, so
    // misses stay one probe.
    std::size_t partial_links = 0;
    std::size_t any_alias_links = 0;
    std::size_t any_source_links = 0;    // local address 0: the NAT host's own services
    std::size_t addr_links = 0;          // RedirectAddr links
    unsigned live_by_kind[8] = {};       // icmp udp tcp sctp pptp proto frag_id address (lib/db.cpp kind_index)
    unsigned placeholder_sockets = 0;    // USE_SOCKETS sockets held by links

    std::unique_ptr<nalias::ProxyRules> proxy;
    std::unique_ptr<nalias::IpsecState> ipsec;

    FILE* log = nullptr;
};

namespace nalias {
using Instance = ::libalias;
}
