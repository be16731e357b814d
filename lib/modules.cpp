// SPDX-License-Identifier: BSD-2-Clause
//
// Loadable modules (LibAliasLoadModule & co.).  Placeholder until the module
// loader lands: loading fails as libalias fails (-1); with nothing loaded,
// unloading and refreshing have nothing to do.
#include "../include/alias.h"

extern "C" {

LIBALIAS_API int LibAliasLoadModule(char*) { return -1; }
LIBALIAS_API int LibAliasUnLoadAllModule(void) { return 0; }
LIBALIAS_API int LibAliasRefreshModules(void) { return -1; }

}  // extern "C"
