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

#include <cstdint>

struct ip;

namespace nalias {

enum HandlerClass : uint8_t { kClassIp = IP, kClassTcp = TCP, kClassUdp = UDP };
enum HandlerDir : int16_t { kDirIn = IN, kDirOut = OUT };

// Returns ENOENT-like 1 when no handler took the packet, else the handler's result.
constexpr int kNoHandler = 1 << 30;
int run_handlers(struct libalias* la, int16_t dir, uint8_t proto_class, struct ip* pip, struct alias_data* ad) noexcept;

// Cheap pre-filter for TCP/UDP: false when no handler can want these ports.
bool handlers_may_want(uint8_t proto_class, uint16_t sport_net, uint16_t dport_net) noexcept;

// Declares a TCP/UDP port (host order) that a built-in handler fingerprints on.
void declare_handler_port(uint16_t port) noexcept;

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
