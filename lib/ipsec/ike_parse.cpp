// SPDX-License-Identifier: BSD-2-Clause
#include "ike_parse.hpp"

#include "../wire.hpp"

namespace nalias::ike {

namespace {

// IKEv1 exchange types (RFC 2408 3.1 and RFC 2409 5.5 / 6): base, identity
// protection (Main Mode), authentication only, aggressive, informational,
// transaction (Mode-Config draft), Quick Mode, New Group Mode.
bool ikev1_exchange(uint8_t x) noexcept { return (x >= 1 && x <= 6) || x == 32 || x == 33; }
// IKEv2 (RFC 7296 3.1 and the IANA registry): IKE_SA_INIT .. IKE_FOLLOWUP_KE.
bool ikev2_exchange(uint8_t x) noexcept { return x >= 34 && x <= 44; }

constexpr uint8_t kQuickMode = 32, kIkeAuth = 35, kCreateChildSa = 36;

uint64_t get_be64(const uint8_t* p) noexcept {
    return (uint64_t{wire::get_be32(p)} << 32) | wire::get_be32(p + 4);
}

}  // namespace

bool parse_header(const uint8_t* p, std::size_t avail, std::size_t udp_payload_len, Header& h) noexcept {
    if (avail < kHeaderLength || udp_payload_len < kHeaderLength) return false;
    h.spi_i = get_be64(p + kSpiI);
    h.spi_r = get_be64(p + kSpiR);
    h.major = static_cast<uint8_t>(p[kVersion] >> 4);
    h.exchange = p[kExchange];
    h.flags = p[kFlags];
    h.length = wire::get_be32(p + kLength);
    if (h.spi_i == 0) return false;
    if (h.length < kHeaderLength || h.length > udp_payload_len) return false;
    if (h.major == 1) return ikev1_exchange(h.exchange);
    if (h.major == 2) return ikev2_exchange(h.exchange);
    return false;
}

bool creates_child_sa(const Header& h) noexcept {
    if (h.major == 1) return h.exchange == kQuickMode;
    return h.exchange == kIkeAuth || h.exchange == kCreateChildSa;
}

NattKind classify_natt(const uint8_t* p, std::size_t avail, std::size_t udp_payload_len) noexcept {
    if (udp_payload_len == 1 && avail >= 1 && p[0] == 0xff) return NattKind::kKeepalive;
    if (avail < kNonEspMarker) return NattKind::kOther;
    if (wire::load32(p) == 0) {
        Header h;
        return parse_header(p + kNonEspMarker, avail - kNonEspMarker, udp_payload_len - kNonEspMarker, h)
                   ? NattKind::kIke
                   : NattKind::kOther;
    }
    return avail >= kEspHeader ? NattKind::kEsp : NattKind::kOther;
}

}  // namespace nalias::ike
