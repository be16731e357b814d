// SPDX-License-Identifier: BSD-2-Clause
//
// fragments.hpp: fragments saved by LibAliasSaveFragment until their header
// fragment arrives.
//
// libalias keeps each saved fragment as a link with no bound on their number;
// a peer that sends only tails can fill memory.  nalias keeps them in one
// FIFO with a fixed cap: when it is full, the oldest saved fragment is freed
// to make room, and every fragment is freed after 30 s (libalias's
// FRAGMENT_PTR lifetime) or at LibAliasUninit.  The caller malloc'd each
// buffer and handed ownership to the library; the library frees it with
// free() unless GetFragment hands it back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>

namespace nalias {

class FragmentStore {
public:
    static constexpr std::size_t kMaxSaved = 4096;  // saved fragments per instance

    FragmentStore() noexcept = default;
    FragmentStore(const FragmentStore&) = delete;
    FragmentStore& operator=(const FragmentStore&) = delete;
    ~FragmentStore() { clear(); }

    // Takes ownership of `buffer` (a fragment whose IP header says src/id).
    bool save(void* buffer, uint32_t src, uint16_t id, uint32_t now) noexcept;
    // Returns (and gives back ownership of) one saved fragment from src/id.
    void* take(uint32_t src, uint16_t id) noexcept;
    void expire(uint32_t now, uint32_t lifetime) noexcept;
    void clear() noexcept;
    std::size_t size() const noexcept { return saved_ ? saved_->size() : 0; }
    unsigned long long dropped = 0;

private:
    struct Saved {
        void* buffer;
        uint32_t src;
        uint16_t id;
        uint32_t saved_at;
    };
    // Made on the first save: libstdc++'s deque allocates even when empty,
    // and an instance (LibAliasInit, also resetting one in place) must be
    // constructible without memory.
    std::optional<std::deque<Saved>> saved_;
};

}  // namespace nalias
