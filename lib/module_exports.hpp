// SPDX-License-Identifier: BSD-2-Clause
//
// module_exports.hpp: what the packet path provides to the libalias-internal
// functions that modules call (lib/module_exports.cpp: AddLink, SetExpire,
// GetAliasAddress, ...).
//
// libalias's links point back to their instance, so a module may call
// SetExpire(lnk, 0) or GetAliasAddress(lnk) with the link alone.  nalias's
// links do not (it would cost 8 bytes in every link), so while a handler
// chain runs, the packet path names the instance in a thread-local slot.
// Calls that need the instance and find none (a module calling outside a
// handler) do nothing, or answer from the link alone.  The same scope sets
// the exported `LibAliasTime` to the instance's clock, which is what
// modules read it for.
#pragma once

#include "instance.hpp"

namespace nalias {

// The instance whose handlers run on this thread, or nullptr.
Instance* handler_instance() noexcept;

// Names `la` as the handler instance for the scope's lifetime (nests).
class HandlerInstanceScope {
public:
    explicit HandlerInstanceScope(Instance& la) noexcept;
    ~HandlerInstanceScope();
    HandlerInstanceScope(const HandlerInstanceScope&) = delete;
    HandlerInstanceScope& operator=(const HandlerInstanceScope&) = delete;

private:
    Instance* saved_;
};

}  // namespace nalias
