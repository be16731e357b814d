// SPDX-License-Identifier: BSD-2-Clause
//
// handler.hpp: the process-wide chain of protocol handlers.
//
// Built-in handlers (lib/handlers/, one file each, listed in one registry
// table) and third-party ones (LibAliasAttachHandlers, modules) are the same
// `struct proto_handler` entries in one chain sorted by priority.  The chain
// is published as an immutable snapshot behind an atomic pointer: the packet
// path reads it without a lock, and attach/detach (rare: start-up, SIGHUP)
// build a new snapshot.  Retired snapshots are kept until exit, because a
// packet on another thread may still be walking one.
//
// To keep the packet path cheap, the chain also keeps a bitmap of "ports of
// interest" that built-in handlers declare; when only built-ins are attached,
// a TCP/UDP packet whose ports are all outside the bitmap skips the walk.
#pragma once

#include "../include/alias_mod.h"

#include <atomic>
#include <cstdint>

struct ip;

namespace nalias {

enum HandlerClass : uint8_t { kClassIp = IP, kClassTcp = TCP, kClassUdp = UDP };
enum HandlerDir : int16_t { kDirIn = IN, kDirOut = OUT };

// Returns ENOENT-like 1 when no handler took the packet, else the handler's result.
constexpr int kNoHandler = 1 << 30;
int run_handlers(struct libalias* la, int16_t dir, uint8_t proto_class, struct ip* pip, struct alias_data* ad) noexcept;

namespace detail {

// What the pre-filter below may conclude, republished with every chain.
enum class ChainGate : uint8_t {
    kEmpty,         // no handler attached: nothing wants any packet
    kBuiltinPorts,  // only built-ins: TCP/UDP packets on declared ports only
    kEverything,    // a third-party handler is attached: every packet may be wanted
};
extern std::atomic<ChainGate> chain_gate;

// Ports of interest, one bit each, indexed by the port as it lies in the
// packet (network order), so the packet path tests it without a byte swap.
// Written at start-up and by LibAliasSetSkinnyPort while other threads may be
// reading, hence atomic words; relaxed order suffices because a bit only goes
// from 0 to 1, and a reader that misses a fresh bit skips the chain once.
class PortBitmap {
public:
    void set(uint16_t port_net) noexcept { words_[port_net >> 6].fetch_or(bit(port_net), std::memory_order_relaxed); }
    bool test(uint16_t port_net) const noexcept {
        return words_[port_net >> 6].load(std::memory_order_relaxed) & bit(port_net);
    }

private:
    static uint64_t bit(uint16_t port) noexcept { return uint64_t{1} << (port & 63); }
    std::atomic<uint64_t> words_[65536 / 64] = {};
};
extern PortBitmap interesting_ports;

}  // namespace detail

// Cheap pre-filter for TCP/UDP: false when no handler can want these ports.
// Inline: it runs on every packet.
inline bool handlers_may_want(uint8_t proto_class, uint16_t sport_net, uint16_t dport_net) noexcept {
    switch (detail::chain_gate.load(std::memory_order_acquire)) {
    case detail::ChainGate::kEmpty:
        return false;
    case detail::ChainGate::kBuiltinPorts:
        return proto_class == kClassIp || detail::interesting_ports.test(sport_net) ||
               detail::interesting_ports.test(dport_net);
    case detail::ChainGate::kEverything:
        break;
    }
    return true;
}

// Declares a TCP/UDP port (host order) that a built-in handler fingerprints on.
void declare_handler_port(uint16_t port) noexcept;

// For the module loader, which must never dlclose an object with part of its
// array still in the chain: attaches every entry of `p` or, on a libalias
// priority conflict (an attached handler with the same pri, dir and proto),
// none.  0, EEXIST, or -ENOMEM (nothing attached).
int attach_handlers_whole(struct proto_handler* p);

// LibAliasUnLoadAllModule empties libalias's chain; here the built-ins stay.
// Detaches every other handler, module or direct.  false when the new chain
// cannot be allocated, and then nothing changed.
bool detach_all_but_builtins() noexcept;

// A built-in handler set: the handlers plus the ports it declares.
struct BuiltinHandlerSet {
    const char* name;
    struct proto_handler* handlers;  // EOH-terminated
    const uint16_t* ports;           // 0-terminated, host order
};

// Registry (lib/handlers/registry.cpp): the built-in sets, attached at load.
extern const BuiltinHandlerSet* const kBuiltinHandlerSets[];
extern const std::size_t kBuiltinHandlerSetCount;

}  // namespace nalias
