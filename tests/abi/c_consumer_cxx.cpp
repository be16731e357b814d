// SPDX-License-Identifier: BSD-2-Clause
// The same consumer compiled as C++: alias.h must be usable from C++ as is.
#include "c_consumer.c"
