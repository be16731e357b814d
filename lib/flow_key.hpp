// SPDX-License-Identifier: BSD-2-Clause
//
// flow_key.hpp: the lookup key of the two link indexes, and its hash.
//
// Both indexes of the link table are keyed by one 16-byte, trivially
// copyable struct, two 64-bit words, so that equality is two compares and
// hashing reads two words.  Each word is the byte image of a run of the
// link's own fields (network order, see alias_link in link.hpp), so a
// stored link yields its key with two loads and a mask instead of being
// rebuilt field by field on every compare:
//   out index: [inside addr, remote addr] [inside port, remote port, 0, type]
//   in index:  [remote addr, alias addr]  [remote port, alias port, type, 0]
// `type` is the IP protocol number for protocol links and one of the
// LinkType values above 255 for the address, fragment and PPTP links.  A
// wildcard (a redirect that accepts any remote) has remote address 0 and/or
// remote port 0.  Lookups build a key on the stack (a "needle") with
// FlowKey::out / FlowKey::in and never allocate.
//
// The hash is keyed with a per-instance random secret so that a remote peer,
// who chooses the remote half of every inbound key, cannot aim many keys at
// one bucket: it is a two-round multiply-fold (the construction wyhash uses),
// whose output an attacker cannot predict without the secret.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace nalias {

struct FlowKey {
    uint64_t w0 = 0, w1 = 0;

    static FlowKey out(uint32_t inside, uint32_t remote, uint16_t inside_port, uint16_t remote_port,
                       uint16_t type) noexcept {
        const Image img{inside, remote, inside_port, remote_port, 0, type};
        return from(img);
    }
    static FlowKey in(uint32_t alias, uint32_t remote, uint16_t alias_port, uint16_t remote_port,
                      uint16_t type) noexcept {
        const Image img{remote, alias, remote_port, alias_port, type, 0};
        return from(img);
    }
    friend bool operator==(const FlowKey& a, const FlowKey& b) noexcept { return a.w0 == b.w0 && a.w1 == b.w1; }

private:
    // The layout both words are images of.
    struct Image {
        uint32_t addr0, addr1;
        uint16_t lane0, lane1, lane2, lane3;
    };
    static_assert(sizeof(Image) == 16);
    static FlowKey from(const Image& img) noexcept {
        FlowKey k;
        std::memcpy(&k.w0, &img, 8);
        std::memcpy(&k.w1, reinterpret_cast<const char*>(&img) + 8, 8);
        return k;
    }
};
static_assert(sizeof(FlowKey) == 16, "FlowKey must stay two 64-bit words");
static_assert(std::is_trivially_copyable_v<FlowKey>);

// Masks that clear, in a link's port/type run, the 16-bit lane that is not
// part of the key (alias port for the out key, the next field for the in key).
inline constexpr uint64_t kOutWord1Mask = std::bit_cast<uint64_t>(std::array<uint16_t, 4>{0xffff, 0xffff, 0, 0xffff});
inline constexpr uint64_t kInWord1Mask = std::bit_cast<uint64_t>(std::array<uint16_t, 4>{0xffff, 0xffff, 0xffff, 0});

struct HashSecret {
    uint64_t k0, k1, k2;
};

inline uint64_t mix_multiply(uint64_t a, uint64_t b) noexcept {
    const unsigned __int128 p = static_cast<unsigned __int128>(a) * b;
    return static_cast<uint64_t>(p) ^ static_cast<uint64_t>(p >> 64);
}

class KeyedFlowHash {
public:
    explicit KeyedFlowHash(const HashSecret& s) noexcept : secret_(s) {}
    std::size_t operator()(const FlowKey& k) const noexcept {
        const uint64_t h = mix_multiply(k.w0 ^ secret_.k0, k.w1 ^ secret_.k1);
        return static_cast<std::size_t>(mix_multiply(h ^ secret_.k2, 0x9e3779b97f4a7c15ull ^ secret_.k1));
    }

private:
    HashSecret secret_;
};

// Draws a fresh secret from the kernel's random source (falls back to the
// clock and addresses if getrandom is unavailable).
HashSecret make_hash_secret() noexcept;

}  // namespace nalias
