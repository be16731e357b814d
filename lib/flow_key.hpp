// SPDX-License-Identifier: BSD-2-Clause
//
// flow_key.hpp: the lookup key of the two link indexes, and its hash.
//
// Both indexes of the link table are keyed by one 16-byte, trivially
// copyable struct in network byte order, so that equality is two 64-bit
// compares and hashing reads two words:
//   out index: (type, inside address, inside port,  remote address, remote port)
//   in index:  (type, alias address,  alias port,   remote address, remote port)
// `type` is the IP protocol number for protocol links and one of the
// LinkType values above 255 for the address, fragment and PPTP links.  A
// wildcard (a redirect that accepts any remote) has remote address 0 and/or
// remote port 0.  Lookups build a key on the stack (a "needle") and never
// allocate.
//
// The hash is keyed with a per-instance random secret so that a remote peer,
// who chooses the remote half of every inbound key, cannot aim many keys at
// one bucket: it is a two-round multiply-fold (the construction wyhash uses),
// whose output an attacker cannot predict without the secret.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

namespace nalias {

struct FlowKey {
    uint32_t addr = 0;         // inside (out index) or alias (in index) address
    uint32_t remote_addr = 0;  // 0 = any remote address
    uint16_t port = 0;         // inside or alias port / ICMP id; 0 for no-port links
    uint16_t remote_port = 0;  // 0 = any remote port
    uint16_t type = 0;
    uint16_t zero = 0;         // explicit padding, always 0 so memcmp-style compares work

    uint64_t word0() const noexcept { uint64_t w; std::memcpy(&w, this, 8); return w; }
    uint64_t word1() const noexcept { uint64_t w; std::memcpy(&w, reinterpret_cast<const char*>(this) + 8, 8); return w; }
    friend bool operator==(const FlowKey& a, const FlowKey& b) noexcept {
        return a.word0() == b.word0() && a.word1() == b.word1();
    }
};
static_assert(sizeof(FlowKey) == 16, "FlowKey must stay two 64-bit words");
static_assert(std::is_trivially_copyable_v<FlowKey>);

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
        const uint64_t h = mix_multiply(k.word0() ^ secret_.k0, k.word1() ^ secret_.k1);
        return static_cast<std::size_t>(mix_multiply(h ^ secret_.k2, 0x9e3779b97f4a7c15ull ^ secret_.k1));
    }

private:
    HashSecret secret_;
};

// Draws a fresh secret from the kernel's random source (falls back to the
// clock and addresses if getrandom is unavailable).
HashSecret make_hash_secret() noexcept;

}  // namespace nalias
