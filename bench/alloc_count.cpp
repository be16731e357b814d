// SPDX-License-Identifier: BSD-2-Clause
//
// Heap-call counting for the "misses allocate nothing" check.  The
// executable's malloc, calloc and realloc take precedence over glibc's for
// the whole process, the shared library included; each forwards to glibc's
// own entry point and counts the call.  A relaxed atomic keeps the count
// correct if Google Benchmark ever runs threads, at no cost worth measuring.
#include "traffic.hpp"

#include <malloc.h>
#include <unistd.h>

#include <cstdio>

#include <algorithm>
#include <atomic>
#include <numeric>

extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
}

namespace {
std::atomic<uint64_t> g_heap_calls{0};
}

extern "C" void* malloc(size_t n) {
    g_heap_calls.fetch_add(1, std::memory_order_relaxed);
    return __libc_malloc(n);
}
extern "C" void* calloc(size_t n, size_t m) {
    g_heap_calls.fetch_add(1, std::memory_order_relaxed);
    return __libc_calloc(n, m);
}
extern "C" void* realloc(void* p, size_t n) {
    g_heap_calls.fetch_add(1, std::memory_order_relaxed);
    return __libc_realloc(p, n);
}

namespace bench {

uint64_t heap_calls() noexcept { return g_heap_calls.load(std::memory_order_relaxed); }

std::size_t heap_in_use() noexcept {
    const struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

std::size_t rss_bytes() noexcept {
    long pages = 0, resident = 0;
    if (FILE* f = std::fopen("/proc/self/statm", "r")) {
        if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
        std::fclose(f);
    }
    return static_cast<std::size_t>(resident) * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

std::vector<uint32_t> shuffled(std::size_t n, uint64_t seed) {
    std::vector<uint32_t> v(n);
    std::iota(v.begin(), v.end(), 0u);
    Rng r(seed);
    for (std::size_t i = n; i > 1; --i) std::swap(v[i - 1], v[r.below(static_cast<uint32_t>(i))]);
    return v;
}

}  // namespace bench
