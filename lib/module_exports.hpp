// SPDX-License-Identifier: BSD-2-Clause
//
// module_exports.hpp: what the packet path provides to the libalias-internal
// functions that modules call (lib/module_exports.cpp: AddLink, SetExpire,
// GetAliasAddress, ...).
//
// libalias's links point back to their instance, so a module may call
// SetExpire(lnk, 0) or GetAliasAddress(lnk) with the link alone.  nalias's
// links hold no such pointer (it would cost 8 bytes in every link); the
// instance is found from the link's address instead (LinkPool::owner_of).
// While a handler chain runs, the packet path also sets the exported
// `LibAliasTime` to the instance's clock, which is what modules read it for.
#pragma once

#include "instance.hpp"

namespace nalias {

// Sets the exported LibAliasTime to `la`'s clock, before its handlers run.
void publish_handler_clock(const Instance& la) noexcept;

}  // namespace nalias
