// SPDX-License-Identifier: BSD-2-Clause
//
// log.hpp: PKT_ALIAS_LOG, libalias's link statistics log.
//
// With the flag set, every link creation and deletion writes libalias's
// statistics line (link counts by kind, the total, and in userland the
// number of USE_SOCKETS placeholder sockets) to /var/log/alias.log.  As in
// libalias the file is opened (truncated) when the flag is turned on,
// starts with libalias's "logging enabled" line, and is closed when the
// flag is turned off or the instance is freed.  The NALIAS_LOG_FILE
// environment variable names another file (tests, unprivileged users); it
// is ignored in set-user-ID programs.
//
// Invariant: la.log is open exactly while PKT_ALIAS_LOG is set.
#pragma once

#include "instance.hpp"

namespace nalias {

// Opens the log unless it is open; false when it cannot be opened
// (LibAliasSetMode then returns -1 and leaves the mode alone).
bool open_log(Instance& la) noexcept;
void close_log(Instance& la) noexcept;
// Writes the statistics line from the instance's counters, which a deletion
// has already updated (libalias also closes a link's socket before logging).
void log_link_stats(Instance& la) noexcept;

}  // namespace nalias
