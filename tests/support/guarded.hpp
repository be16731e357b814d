// SPDX-License-Identifier: BSD-2-Clause
//
// guarded.hpp: runs a libalias call on a packet that ends exactly at a page
// boundary followed by an inaccessible (PROT_NONE) page, so that any read or
// write at or beyond ptr + maxpacketsize faults at once, with or without a
// sanitizer.  Used by the test support when NALIAS_GUARD=1 is set (the whole
// suite then runs this way), and by the corpus replay test.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace test {

class GuardedBuffer {
public:
    explicit GuardedBuffer(std::size_t size) : size_(size) {
        const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
        const std::size_t data_pages = (size + page - 1) / page;
        map_len_ = (data_pages + 1) * page;
        void* m = mmap(nullptr, map_len_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) std::abort();
        base_ = static_cast<uint8_t*>(m);
        if (mprotect(base_ + data_pages * page, page, PROT_NONE) != 0) std::abort();
        data_ = base_ + data_pages * page - size;
    }
    ~GuardedBuffer() { munmap(base_, map_len_); }
    GuardedBuffer(const GuardedBuffer&) = delete;
    GuardedBuffer& operator=(const GuardedBuffer&) = delete;
    uint8_t* data() { return data_; }
    std::size_t size() const { return size_; }

private:
    uint8_t* base_ = nullptr;
    uint8_t* data_ = nullptr;
    std::size_t size_ = 0;
    std::size_t map_len_ = 0;
};

inline bool guard_enabled() {
    static const bool on = [] {
        const char* v = std::getenv("NALIAS_GUARD");
        return v && *v && *v != '0';
    }();
    return on;
}

// Calls fn(ptr, maxpacketsize) on `buf` of `size` bytes; with the guard on,
// through a copy that ends at the guard page, copied back afterwards.
template <class Fn> int call_guarded(uint8_t* buf, int size, Fn&& fn) {
    if (!guard_enabled() || size <= 0) return fn(static_cast<void*>(buf), size);
    GuardedBuffer g(static_cast<std::size_t>(size));
    std::memcpy(g.data(), buf, static_cast<std::size_t>(size));
    const int r = fn(static_cast<void*>(g.data()), size);
    std::memcpy(buf, g.data(), static_cast<std::size_t>(size));
    return r;
}

}  // namespace test
