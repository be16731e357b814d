// SPDX-License-Identifier: BSD-2-Clause
//
// log.hpp: PKT_ALIAS_LOG, libalias's link statistics log.
//
// With the flag set, every link creation and deletion appends libalias's
// statistics line to /var/log/alias.log; the NALIAS_LOG_FILE environment
// variable names another file (tests, unprivileged users).
#pragma once

#include "instance.hpp"

namespace nalias {

// Opens the log; false when it cannot be opened (SetMode then returns -1).
bool open_log(Instance& la) noexcept;
void close_log(Instance& la) noexcept;
void log_link_stats(Instance& la) noexcept;

}  // namespace nalias
