// SPDX-License-Identifier: BSD-2-Clause
//
// ipsec.hpp: per-instance state of the ESP/IKE proxy module.
//
// Placeholder until the module lands: the class exists so that an instance
// can own one; with no state the module is inactive and ESP takes libalias's
// generic protocol-link path.
#pragma once

namespace nalias {

class IpsecState {};

}  // namespace nalias
