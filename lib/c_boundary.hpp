// SPDX-License-Identifier: BSD-2-Clause
//
// c_boundary.hpp: the one place where C handles become C++ objects.
//
// `struct libalias` and `struct alias_link` are the C++ types themselves, so
// unwrapping is validation, not a cast: unwrap() accepts only a live
// instance (non-NULL, magic intact) and returns nullptr otherwise, and every
// exported function turns that into libalias's failure value.  LA_TRY /
// LA_CATCH_RETURN bracket each body so that no C++ exception crosses into C;
// the internals are noexcept and report failure by value, so the catch is a
// last line of defence, not a control path.
#pragma once

#include "instance.hpp"

namespace nalias {

inline Instance* unwrap(struct libalias* la) noexcept {
    return (la != nullptr && la->magic == kInstanceMagic) ? la : nullptr;
}

}  // namespace nalias

#define LA_TRY try {
#define LA_CATCH_RETURN(value) \
    }                          \
    catch (...) {              \
        return value;          \
    }
#define LA_CATCH_VOID \
    }                 \
    catch (...) {     \
    }
