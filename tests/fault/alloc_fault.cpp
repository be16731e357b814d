// SPDX-License-Identifier: BSD-2-Clause
//
// The allocation-failure injector (see alloc_fault.hpp for how it is bound
// and used).  The real functions are found with dlsym(RTLD_NEXT) on first
// use; allocations made while dlsym itself runs come from a small static
// arena, whose blocks free() recognises and ignores.
#include "alloc_fault.hpp"

#include <dlfcn.h>
#include <errno.h>
#include <sys/mman.h>
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

namespace {

// Per thread, trivially initialised (no TLS constructor), so it is usable
// from the first malloc of the process on.
struct State {
    bool armed;
    bool fail_mmap;
    long allow_first;
    long every;
    long seen;
    long refused;
};
thread_local State t_state;
thread_local bool t_resolving;

using MallocFn = void* (*)(std::size_t);
using CallocFn = void* (*)(std::size_t, std::size_t);
using ReallocFn = void* (*)(void*, std::size_t);
using FreeFn = void (*)(void*);
using AlignedAllocFn = void* (*)(std::size_t, std::size_t);
using PosixMemalignFn = int (*)(void**, std::size_t, std::size_t);
using MmapFn = void* (*)(void*, std::size_t, int, int, int, off_t);

struct Real {
    MallocFn malloc;
    CallocFn calloc;
    ReallocFn realloc;
    FreeFn free;
    AlignedAllocFn aligned_alloc;
    PosixMemalignFn posix_memalign;
    MmapFn mmap;
};
Real real;
std::atomic<bool> resolved{false};

// Bootstrap arena: only dlsym's own allocations, before `real` is known.
constexpr std::size_t kArenaBytes = 64 * 1024;
alignas(std::max_align_t) unsigned char arena[kArenaBytes];
std::atomic<std::size_t> arena_used{0};

bool in_arena(const void* p) noexcept {
    const auto* b = static_cast<const unsigned char*>(p);
    return b >= arena && b < arena + kArenaBytes;
}

void* arena_alloc(std::size_t n) noexcept {
    const std::size_t rounded = (n + alignof(std::max_align_t) - 1) & ~(alignof(std::max_align_t) - 1);
    const std::size_t at = arena_used.fetch_add(rounded);
    if (at + rounded > kArenaBytes) return nullptr;
    return arena + at;
}

template <class Fn> Fn next_symbol(const char* name) noexcept {
    return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

void resolve() noexcept {
    if (resolved.load(std::memory_order_acquire)) return;
    t_resolving = true;
    Real r;
    r.malloc = next_symbol<MallocFn>("malloc");
    r.calloc = next_symbol<CallocFn>("calloc");
    r.realloc = next_symbol<ReallocFn>("realloc");
    r.free = next_symbol<FreeFn>("free");
    r.aligned_alloc = next_symbol<AlignedAllocFn>("aligned_alloc");
    r.posix_memalign = next_symbol<PosixMemalignFn>("posix_memalign");
    r.mmap = next_symbol<MmapFn>("mmap");
    t_resolving = false;
    if (!r.malloc || !r.calloc || !r.realloc || !r.free || !r.aligned_alloc || !r.posix_memalign || !r.mmap) abort();
    real = r;
    resolved.store(true, std::memory_order_release);
}

// Counts one allocation attempt on this thread; true when it must fail.
bool refuse() noexcept {
    State& s = t_state;
    if (!s.armed) return false;
    ++s.seen;
    bool fail = s.allow_first >= 0 && s.seen > s.allow_first;
    if (s.every > 0 && s.seen % s.every == 0) fail = true;
    if (fail) ++s.refused;
    return fail;
}

void* checked_malloc(std::size_t n) noexcept {
    if (t_resolving) return arena_alloc(n);
    resolve();
    if (refuse()) {
        errno = ENOMEM;
        return nullptr;
    }
    return real.malloc(n);
}

void* checked_memalign(std::size_t alignment, std::size_t n) noexcept {
    resolve();
    if (refuse()) return nullptr;
    void* p = nullptr;
    return real.posix_memalign(&p, alignment < sizeof(void*) ? sizeof(void*) : alignment, n) == 0 ? p : nullptr;
}

void release(void* p) noexcept {
    if (!p || in_arena(p)) return;
    resolve();
    real.free(p);
}

void* new_or_throw(std::size_t n) {
    void* p = checked_malloc(n ? n : 1);
    if (!p) throw std::bad_alloc();
    return p;
}

void* aligned_new_or_throw(std::size_t n, std::align_val_t a) {
    void* p = checked_memalign(static_cast<std::size_t>(a), n ? n : 1);
    if (!p) throw std::bad_alloc();
    return p;
}

}  // namespace

namespace fault {

void arm(const Rule& rule) noexcept {
    resolve();
    t_state = State{true, rule.mmap, rule.allow_first, rule.every, 0, 0};
}

void disarm() noexcept { t_state.armed = false; }
long seen() noexcept { return t_state.seen; }
long refused() noexcept { return t_state.refused; }

bool interposed() noexcept {
    // The process-wide definitions are what every object's calls bind to.
    return dlsym(RTLD_DEFAULT, "malloc") == reinterpret_cast<void*>(&::malloc) &&
           dlsym(RTLD_DEFAULT, "mmap") == reinterpret_cast<void*>(&::mmap);
}

}  // namespace fault

extern "C" {

void* malloc(std::size_t n) noexcept { return checked_malloc(n); }

void* calloc(std::size_t count, std::size_t size) noexcept {
    if (size && count > SIZE_MAX / size) {
        errno = ENOMEM;
        return nullptr;
    }
    if (t_resolving) {
        // dlsym's calloc: the arena is zero-initialised static storage.
        return arena_alloc(count * size);
    }
    resolve();
    if (refuse()) {
        errno = ENOMEM;
        return nullptr;
    }
    return real.calloc(count, size);
}

void* realloc(void* p, std::size_t n) noexcept {
    if (p && in_arena(p)) {
        // Only bootstrap blocks live here; move them to the real heap.
        void* q = checked_malloc(n);
        const auto room = static_cast<std::size_t>(arena + kArenaBytes - static_cast<unsigned char*>(p));
        if (q) std::memcpy(q, p, n < room ? n : room);
        return q;
    }
    resolve();
    if (n != 0 && refuse()) {
        errno = ENOMEM;
        return nullptr;
    }
    return real.realloc(p, n);
}

void free(void* p) noexcept { release(p); }

void* aligned_alloc(std::size_t alignment, std::size_t n) noexcept { return checked_memalign(alignment, n); }

int posix_memalign(void** out, std::size_t alignment, std::size_t n) noexcept {
    resolve();
    if (refuse()) return ENOMEM;
    return real.posix_memalign(out, alignment, n);
}

void* mmap(void* addr, std::size_t len, int prot, int flags, int fd, off_t off) noexcept {
    resolve();
    if (t_state.armed && t_state.fail_mmap && (flags & MAP_ANONYMOUS)) {
        ++t_state.refused;
        errno = ENOMEM;
        return MAP_FAILED;
    }
    return real.mmap(addr, len, prot, flags, fd, off);
}

}  // extern "C"

void* operator new(std::size_t n) { return new_or_throw(n); }
void* operator new[](std::size_t n) { return new_or_throw(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return checked_malloc(n ? n : 1); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return checked_malloc(n ? n : 1); }
void* operator new(std::size_t n, std::align_val_t a) { return aligned_new_or_throw(n, a); }
void* operator new[](std::size_t n, std::align_val_t a) { return aligned_new_or_throw(n, a); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    return checked_memalign(static_cast<std::size_t>(a), n ? n : 1);
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    return checked_memalign(static_cast<std::size_t>(a), n ? n : 1);
}
void operator delete(void* p) noexcept { release(p); }
void operator delete[](void* p) noexcept { release(p); }
void operator delete(void* p, std::size_t) noexcept { release(p); }
void operator delete[](void* p, std::size_t) noexcept { release(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { release(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { release(p); }
void operator delete(void* p, std::align_val_t) noexcept { release(p); }
void operator delete[](void* p, std::align_val_t) noexcept { release(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { release(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { release(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { release(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { release(p); }
