// SPDX-License-Identifier: BSD-2-Clause
#include "fragments.hpp"

#include <cstdlib>
#include <iterator>

namespace nalias {

bool FragmentStore::save(void* buffer, uint32_t src, uint16_t id, uint32_t now) noexcept {
    try {
        if (!saved_) saved_.emplace();
        if (saved_->size() >= kMaxSaved) {
            std::free(saved_->front().buffer);
            saved_->pop_front();
            ++dropped;
        }
        saved_->push_back({buffer, src, id, now});
        return true;
    } catch (...) {
        return false;
    }
}

void* FragmentStore::take(uint32_t src, uint16_t id) noexcept {
    if (!saved_) return nullptr;
    // Newest first, the order libalias's list of fragment links gives.
    for (auto it = saved_->rbegin(); it != saved_->rend(); ++it) {
        if (it->src == src && it->id == id) {
            void* b = it->buffer;
            saved_->erase(std::next(it).base());
            return b;
        }
    }
    return nullptr;
}

void FragmentStore::expire(uint32_t now, uint32_t lifetime) noexcept {
    while (saved_ && !saved_->empty() && now - saved_->front().saved_at >= lifetime) {
        std::free(saved_->front().buffer);
        saved_->pop_front();
        ++dropped;
    }
}

void FragmentStore::clear() noexcept {
    if (!saved_) return;
    for (auto& s : *saved_) std::free(s.buffer);
    saved_->clear();
}

}  // namespace nalias
