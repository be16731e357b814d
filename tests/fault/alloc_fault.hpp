// SPDX-License-Identifier: BSD-2-Clause
//
// alloc_fault.hpp: an allocation-failure injector for the fault tests.
//
// alloc_fault.cpp defines malloc, calloc, realloc, aligned_alloc,
// posix_memalign, free, every replaceable operator new/delete, and mmap in
// the test executable itself.  The dynamic linker binds the library's calls
// to these definitions (an executable's symbols come first in the lookup
// scope), and each forwards to the next definition (RTLD_NEXT: libc's, or
// AddressSanitizer's when it is linked), so the sanitizers keep tracking
// every block.  Nothing fails until a test arms the injector on its own
// thread; other threads are never affected.
//
// While armed, the injector refuses allocations by a rule: allow the next
// `n` and refuse every one after (after(n)), or refuse every n-th
// (every(n)); mmap can be refused separately.  A refused malloc returns
// NULL with errno ENOMEM, a refused operator new throws std::bad_alloc (the
// nothrow forms return NULL), as the real ones do when memory runs out.
//
// Tests must not use Catch2 assertions or build std::strings while armed:
// those allocate too.  Arm around the library calls only (Armed, below).
#pragma once

#include <cstddef>

namespace fault {

struct Rule {
    long allow_first = -1;  // >= 0: allow this many, then refuse all
    long every = 0;         // > 0: refuse every n-th allocation
    bool mmap = false;      // refuse anonymous mmap too
};

inline Rule after(long n) { return Rule{n, 0, false}; }
inline Rule every(long n) { return Rule{-1, n, false}; }
inline Rule mmap_only() { return Rule{-1, 0, true}; }

void arm(const Rule& rule) noexcept;
void disarm() noexcept;
// Allocations seen and refused on this thread since the last arm().
long seen() noexcept;
long refused() noexcept;
// Whether the definitions in alloc_fault.cpp are the ones every object of
// the process binds to (false if something, e.g. valgrind, replaced them).
bool interposed() noexcept;

// Arms for the lifetime of the object.
class Armed {
public:
    explicit Armed(const Rule& rule) noexcept { arm(rule); }
    ~Armed() { disarm(); }
    Armed(const Armed&) = delete;
    Armed& operator=(const Armed&) = delete;
};

}  // namespace fault
