// SPDX-License-Identifier: BSD-2-Clause
//
// esp.hpp: ESP (IP protocol 50) through the NAT, by SPI.
//
// Called by the protocol path (lib/alias_proto.cpp) before the handler chain
// for every first fragment of protocol 50: libalias's IP-class fingerprint
// sees no packet, so a chain entry could not tell ESP from GRE and one of
// the two handlers would shadow the other.  Each function returns true when
// it fully translated the datagram (the caller reports PKT_ALIAS_OK) and
// false to let the generic protocol link (and RedirectProto) handle it,
// which is exactly libalias's behaviour when the module is off.
#pragma once

#include "../translate.hpp"

namespace nalias {

bool ipsec_esp_out(Instance& la, Datagram& d, bool create) noexcept;
bool ipsec_esp_in(Instance& la, Datagram& d) noexcept;

}  // namespace nalias
