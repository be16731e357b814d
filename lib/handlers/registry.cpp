// SPDX-License-Identifier: BSD-2-Clause
//
// The built-in protocol handlers: one line per handler file.  Adding a
// handler = one file under lib/handlers/, one line here, one test file.
#include "../handler.hpp"

namespace nalias {

const BuiltinHandlerSet* const kBuiltinHandlerSets[] = {
    nullptr,
};
const std::size_t kBuiltinHandlerSetCount = 0;

}  // namespace nalias
