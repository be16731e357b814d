// SPDX-License-Identifier: BSD-2-Clause
//
// checksum.hpp: the Internet checksum (RFC 1071) and its incremental update
// (RFC 1624, equation 3: HC' = ~(~HC + ~m + m')).
//
// All values are raw 16-bit words as they lie in memory (network order).  The
// one's-complement sum is byte-order independent, so no swapping is needed as
// long as old and new values are taken the same way.  Every rewrite of a
// field covered by a checksum goes through a `patch*` helper, which writes the
// field and fixes the checksum in the same call (as pf's pf_patch_16 does);
// nothing in nalias edits a covered field without its checksum.
#pragma once

#include "wire.hpp"

#include <cstddef>
#include <cstdint>

namespace nalias::csum {

// Sums `len` bytes starting at `data` into a 32-bit accumulator (not folded).
uint32_t accumulate(const uint8_t* data, size_t len, uint32_t sum = 0) noexcept;

// Two end-around-carry steps fold any 32-bit sum: the first leaves at most
// 0x1fffe, the second at most 0xffff (no loop, no branch).
inline uint16_t fold(uint32_t sum) noexcept {
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(sum);
}

// The checksum to store: the complement of the folded sum.
inline uint16_t finish(uint32_t sum) noexcept { return static_cast<uint16_t>(~fold(sum)); }

inline uint16_t internet_checksum(const uint8_t* data, size_t len) noexcept {
    return finish(accumulate(data, len));
}

// RFC 1624 eqn 3 on the stored checksum `cksum` when a 16-bit word changes
// from `old_word` to `new_word`.
inline uint16_t update16(uint16_t cksum, uint16_t old_word, uint16_t new_word) noexcept {
    uint32_t sum = static_cast<uint16_t>(~cksum);
    sum += static_cast<uint16_t>(~old_word);
    sum += new_word;
    return static_cast<uint16_t>(~fold(sum));
}

// Both halves in one sum with one fold: the same result as two update16
// calls, since folding part of a sum first does not change its final fold.
inline uint16_t update32(uint16_t cksum, uint32_t old_word, uint32_t new_word) noexcept {
    uint32_t sum = static_cast<uint16_t>(~cksum);
    sum += static_cast<uint16_t>(~old_word);
    sum += static_cast<uint16_t>(new_word);
    sum += static_cast<uint16_t>(~(old_word >> 16));
    sum += static_cast<uint16_t>(new_word >> 16);
    return static_cast<uint16_t>(~fold(sum));
}

// Writes `value` (raw) into the 16-bit field at `field` and fixes the checksum
// stored at `cksum`.  Returns whether the field changed.
inline bool patch16(uint8_t* field, uint8_t* cksum, uint16_t value) noexcept {
    const uint16_t old = wire::load16(field);
    if (old == value) return false;
    wire::store16(field, value);
    wire::store16(cksum, update16(wire::load16(cksum), old, value));
    return true;
}

inline bool patch32(uint8_t* field, uint8_t* cksum, uint32_t value) noexcept {
    const uint32_t old = wire::load32(field);
    if (old == value) return false;
    wire::store32(field, value);
    wire::store16(cksum, update32(wire::load16(cksum), old, value));
    return true;
}

// Adjusts only the checksum at `cksum` for a change made elsewhere (e.g. the
// IP addresses in a TCP/UDP pseudo-header).  A UDP checksum of zero means "no
// checksum" and stays zero; a computed zero is sent as 0xffff (RFC 768).
inline void adjust32(uint8_t* cksum, uint32_t old_word, uint32_t new_word) noexcept {
    wire::store16(cksum, update32(wire::load16(cksum), old_word, new_word));
}
inline void adjust16(uint8_t* cksum, uint16_t old_word, uint16_t new_word) noexcept {
    wire::store16(cksum, update16(wire::load16(cksum), old_word, new_word));
}
inline void adjust32_udp(uint8_t* cksum, uint32_t old_word, uint32_t new_word) noexcept {
    if (wire::load16(cksum) == 0) return;
    uint16_t c = update32(wire::load16(cksum), old_word, new_word);
    wire::store16(cksum, c == 0 ? 0xffff : c);
}
inline void adjust16_udp(uint8_t* cksum, uint16_t old_word, uint16_t new_word) noexcept {
    if (wire::load16(cksum) == 0) return;
    uint16_t c = update16(wire::load16(cksum), old_word, new_word);
    wire::store16(cksum, c == 0 ? 0xffff : c);
}

// Several fields under one transport checksum change together (a
// translation's port and pseudo-header address): each field is written at
// once, and their RFC 1624 terms go into a single checksum update at
// commit().  The stored result is bit for bit what patching field by field
// gives: an end-around-carry fold of a sum does not depend on where partial
// folds happened, and the terms are the same (a 16-bit field that did not
// change adds none; a 32-bit word that changed adds both halves, as
// update32 does).  Nothing else may touch the checksum before commit().
class BatchedUpdate {
public:
    explicit BatchedUpdate(uint8_t* cksum) noexcept : cksum_(cksum) {}
    // Writes a 16-bit field the checksum covers.
    void field16(uint8_t* field, uint16_t value) noexcept {
        const uint16_t old = wire::load16(field);
        if (old == value) return;
        wire::store16(field, value);
        add16(old, value);
    }
    // Records a covered 32-bit word changed elsewhere (pseudo-header).
    void word32(uint32_t old_word, uint32_t new_word) noexcept {
        add16(static_cast<uint16_t>(old_word), static_cast<uint16_t>(new_word));
        add16(static_cast<uint16_t>(old_word >> 16), static_cast<uint16_t>(new_word >> 16));
    }
    // Stores the updated checksum; `udp` keeps a zero ("no checksum") zero
    // and sends a computed zero as 0xffff (RFC 768).
    void commit(bool udp) noexcept {
        if (!changed_) return;
        const uint16_t c = wire::load16(cksum_);
        if (udp && c == 0) return;
        const uint16_t r = static_cast<uint16_t>(~fold(sum_ + static_cast<uint16_t>(~c)));
        wire::store16(cksum_, udp && r == 0 ? 0xffff : r);
    }

private:
    void add16(uint16_t old_word, uint16_t new_word) noexcept {
        sum_ += static_cast<uint16_t>(~old_word);
        sum_ += new_word;
        changed_ = true;
    }
    uint8_t* cksum_;
    uint32_t sum_ = 0;  // at most 8 terms of 16 bits: no overflow
    bool changed_ = false;
};

// Full TCP or UDP checksum of the datagram whose IP header is at `ip`
// (header length `hl`, total length `total`), pseudo-header included; the
// checksum field is taken as zero.  Used after a payload rewrite.
uint16_t transport_checksum(const uint8_t* ip, size_t hl, size_t total, uint8_t proto) noexcept;

// Recomputes and stores the IPv4 header checksum.
void refresh_ip_header(uint8_t* ip, size_t hl) noexcept;

}  // namespace nalias::csum
