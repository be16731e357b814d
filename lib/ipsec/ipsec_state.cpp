// SPDX-License-Identifier: BSD-2-Clause
//
// The IKE-exchange and ESP-SA tables of the ESP/IKE proxy (see ipsec.hpp).
// Slots live in vectors recycled through free lists; hash maps index them.
// Allocation failures are caught here: the packet is still translated, the
// table just learns nothing from it.
#include "ipsec.hpp"

#include "../instance.hpp"

#include <algorithm>
#include <limits>
#include <new>

namespace nalias {

namespace {
constexpr uint32_t kNoSlot = std::numeric_limits<uint32_t>::max();
}

std::size_t IpsecState::IkeKeyHash::operator()(const IkeKey& k) const noexcept {
    // SPIs are random by specification (RFC 7296 2.6); the peer mixes in so
    // that one SPI seen at two peers lands apart.
    return std::hash<uint64_t>{}(k.spi_i ^ (uint64_t{k.peer} * 0x9e3779b97f4a7c15ull));
}

IpsecState* ipsec_state(struct libalias& la) noexcept {
    if (!la.ipsec) la.ipsec.reset(new (std::nothrow) IpsecState());
    return la.ipsec.get();
}

IpsecState* ipsec_active(struct libalias& la) noexcept {
    IpsecState* s = ipsec_state(la);
    if (!s || !s->enabled) return nullptr;
    s->sweep(la.now);
    return s;
}

bool ipsec_enabled(struct libalias& la) noexcept {
    const IpsecState* s = ipsec_state(la);
    return s && s->enabled;
}

bool IpsecState::esp_expired(const EspSa& e, uint32_t now) const noexcept {
    const uint32_t last = std::max({e.last_out, e.last_in, e.claimed});
    // An entry that never carried an SPI was only a claim from IKE.
    const uint32_t limit = (e.spi_out == 0 && e.spi_in == 0) ? pending : spi_idle;
    return now - last >= limit;
}

void IpsecState::drop_ike(uint32_t slot) noexcept {
    IkeExchange& e = ike_[slot];
    ike_index_.erase(IkeKey{e.peer, e.spi_i});
    auto latest = ike_latest_.find(spi_key(e.peer, e.alias));
    if (latest != ike_latest_.end() && latest->second == slot) ike_latest_.erase(latest);
    e = IkeExchange{};
    try {
        ike_free_.push_back(slot);
    } catch (...) {
        // The slot is lost for reuse, not for correctness.
    }
}

void IpsecState::drop_esp(uint32_t slot) noexcept {
    EspSa& e = esp_[slot];
    if (e.spi_out) esp_by_out_.erase(spi_key(e.peer, e.spi_out));
    if (e.spi_in) esp_by_in_.erase(spi_key(e.peer, e.spi_in));
    else awaiting_.erase(std::remove(awaiting_.begin(), awaiting_.end(), slot), awaiting_.end());
    e = EspSa{};
    --esp_live_;
    try {
        esp_free_.push_back(slot);
    } catch (...) {
    }
}

void IpsecState::sweep(uint32_t now) noexcept {
    for (unsigned i = 0; i < kIpsecSweepBudget && !ike_.empty(); ++i) {
        if (++ike_cursor_ >= ike_.size()) ike_cursor_ = 0;
        if (ike_[ike_cursor_].live && ike_expired(ike_[ike_cursor_], now)) drop_ike(static_cast<uint32_t>(ike_cursor_));
    }
    for (unsigned i = 0; i < kIpsecSweepBudget && !esp_.empty(); ++i) {
        if (++esp_cursor_ >= esp_.size()) esp_cursor_ = 0;
        if (esp_[esp_cursor_].live && esp_expired(esp_[esp_cursor_], now)) drop_esp(static_cast<uint32_t>(esp_cursor_));
    }
}

void IpsecState::clear() noexcept {
    ike_.clear();
    ike_free_.clear();
    ike_index_.clear();
    ike_latest_.clear();
    esp_.clear();
    esp_free_.clear();
    esp_by_out_.clear();
    esp_by_in_.clear();
    awaiting_.clear();
    esp_live_ = 0;
    ike_cursor_ = esp_cursor_ = 0;
}

// --- IKE -------------------------------------------------------------------

bool IpsecState::note_ike_out(uint32_t host, uint16_t host_port, uint32_t peer, uint32_t alias, uint64_t spi_i,
                              uint64_t spi_r, uint32_t now) noexcept {
    try {
        auto it = ike_index_.find(IkeKey{peer, spi_i});
        if (it != ike_index_.end()) {
            IkeExchange& e = ike_[it->second];
            if (ike_expired(e, now)) {
                drop_ike(it->second);
            } else if (e.host != host) {
                // Another host already owns these SPIs (64 random bits each,
                // so this is a spoof from inside or a broken stack): the
                // first owner keeps them.
                return true;
            } else {
                e.host_port = host_port;
                e.alias = alias;
                if (e.spi_r == 0 && spi_r != 0) e.spi_r = spi_r;
                e.last_used = now;
                ike_latest_[spi_key(peer, alias)] = it->second;
                return true;
            }
        }
        if (ike_index_.size() >= kIpsecMaxIkeExchanges) {
            ++counters.refused_full;
            return false;
        }
        uint32_t slot;
        if (!ike_free_.empty()) {
            slot = ike_free_.back();
            ike_free_.pop_back();
        } else {
            ike_.emplace_back();
            slot = static_cast<uint32_t>(ike_.size() - 1);
        }
        IkeExchange& e = ike_[slot];
        e = IkeExchange{peer, host, alias, host_port, spi_i, spi_r, now, now, true};
        try {
            ike_index_.emplace(IkeKey{peer, spi_i}, slot);
        } catch (...) {
            e = IkeExchange{};
            ike_free_.push_back(slot);
            throw;
        }
        ike_latest_[spi_key(peer, alias)] = slot;
        return true;
    } catch (...) {
        ++counters.refused_full;
        return false;
    }
}

const IkeExchange* IpsecState::match_ike_in(uint32_t peer, uint32_t alias, uint64_t spi_i, uint64_t spi_r,
                                            uint32_t now) noexcept {
    auto it = ike_index_.find(IkeKey{peer, spi_i});
    if (it == ike_index_.end()) return nullptr;
    IkeExchange& e = ike_[it->second];
    if (ike_expired(e, now)) {
        drop_ike(it->second);
        return nullptr;
    }
    if (e.alias != alias) return nullptr;
    // The initiator SPI alone names the exchange (64 random bits).  The
    // responder SPI is learnt once; a later different one (a peer that lost
    // its state and answered afresh) still belongs to this host.
    if (e.spi_r == 0) e.spi_r = spi_r;
    e.last_used = now;
    return &e;
}

const IkeExchange* IpsecState::latest_ike_to(uint32_t peer, uint32_t alias, uint32_t now) noexcept {
    auto it = ike_latest_.find(spi_key(peer, alias));
    if (it == ike_latest_.end()) return nullptr;
    const uint32_t slot = it->second;
    const IkeExchange& e = ike_[slot];
    if (!e.live || e.peer != peer || e.alias != alias) {
        ike_latest_.erase(it);
        return nullptr;
    }
    if (ike_expired(e, now)) {
        drop_ike(slot);
        return nullptr;
    }
    return &ike_[slot];
}

// --- ESP -------------------------------------------------------------------

uint32_t IpsecState::new_esp_slot() noexcept {
    if (esp_live_ >= kIpsecMaxEspSas) {
        ++counters.refused_full;
        return kNoSlot;
    }
    try {
        const bool recycled = !esp_free_.empty();
        if (!recycled) esp_.emplace_back();
        const uint32_t slot = recycled ? esp_free_.back() : static_cast<uint32_t>(esp_.size() - 1);
        awaiting_.push_back(slot);  // the only step left that may throw
        if (recycled) esp_free_.pop_back();
        ++esp_live_;
        esp_[slot].live = true;
        return slot;
    } catch (...) {
        // A slot appended above stays dead (live = false) and unindexed.
        ++counters.refused_full;
        return kNoSlot;
    }
}

void IpsecState::set_spi_in(uint32_t slot, uint32_t spi) noexcept {
    try {
        if (!esp_by_in_.emplace(spi_key(esp_[slot].peer, spi), slot).second) return;
    } catch (...) {
        return;  // stays awaiting; the next packet tries again
    }
    esp_[slot].spi_in = spi;
    awaiting_.erase(std::remove(awaiting_.begin(), awaiting_.end(), slot), awaiting_.end());
}

void IpsecState::note_sa_negotiation(uint32_t host, uint32_t peer, uint32_t alias, uint32_t now) noexcept {
    for (uint32_t s : awaiting_) {
        EspSa& e = esp_[s];
        if (e.host == host && e.peer == peer && !esp_expired(e, now)) {
            e.claimed = now;
            e.alias = alias;
            return;
        }
    }
    const uint32_t slot = new_esp_slot();
    if (slot == kNoSlot) return;
    EspSa& e = esp_[slot];
    e.peer = peer;
    e.host = host;
    e.alias = alias;
    e.created = e.claimed = now;
}

bool IpsecState::knows_esp_out(uint32_t host, uint32_t peer, uint32_t spi_out) const noexcept {
    auto it = esp_by_out_.find(spi_key(peer, spi_out));
    return it != esp_by_out_.end() && esp_[it->second].host == host;
}

bool IpsecState::note_esp_out(uint32_t host, uint32_t peer, uint32_t alias, uint32_t spi_out, bool create,
                              uint32_t now) noexcept {
    auto it = esp_by_out_.find(spi_key(peer, spi_out));
    if (it != esp_by_out_.end()) {
        EspSa& e = esp_[it->second];
        if (!esp_expired(e, now)) {
            // Another inside host sending under a live SA's SPI is not
            // allowed to take it over (the peer picks SPIs unique among its
            // live SAs, so only a spoof does this): translated, not learnt.
            // Traffic under a known SPI leaves every claim as it is: an
            // established SA says nothing about SAs still to come.
            if (e.host == host) {
                e.last_out = now;
                e.alias = alias;
            }
            return true;
        }
        drop_esp(it->second);  // the SA is gone; the peer may reuse its SPI
    }
    if (!create) return true;
    // A new outbound SA: pair it with this host's entry for the peer that has
    // no outbound SPI yet (opened by IKE, or an inbound SPI learnt first).
    uint32_t slot = kNoSlot;
    for (uint32_t s : awaiting_) {
        const EspSa& e = esp_[s];
        if (e.host == host && e.peer == peer && e.spi_out == 0) slot = s;
    }
    for (std::size_t s = 0; s < esp_.size() && slot == kNoSlot; ++s) {
        const EspSa& e = esp_[s];
        if (e.live && e.host == host && e.peer == peer && e.spi_out == 0) slot = static_cast<uint32_t>(s);
    }
    const bool fresh = slot == kNoSlot;
    if (fresh) {
        slot = new_esp_slot();
        if (slot == kNoSlot) return false;
        esp_[slot].created = now;
    }
    bool indexed = false;
    try {
        indexed = esp_by_out_.emplace(spi_key(peer, spi_out), slot).second;
    } catch (...) {
    }
    if (!indexed) {
        if (fresh) drop_esp(slot);
        return false;
    }
    EspSa& e = esp_[slot];
    e.peer = peer;
    e.host = host;
    e.alias = alias;
    e.spi_out = spi_out;
    // A new outbound SPI is a new SA whose inbound half is due now.
    e.last_out = e.claimed = now;
    return true;
}

uint32_t IpsecState::resolve_esp_in(uint32_t peer, uint32_t alias, uint32_t spi_in, uint32_t now) noexcept {
    auto it = esp_by_in_.find(spi_key(peer, spi_in));
    if (it != esp_by_in_.end()) {
        EspSa& e = esp_[it->second];
        if (esp_expired(e, now)) {
            drop_esp(it->second);
        } else if (e.alias == alias) {
            e.last_in = now;
            ++counters.esp_in_known;
            return e.host;
        } else {
            return 0;
        }
    }
    // Unknown SPI: the most recently opened or renewed claim on this peer.
    // Ties (same second) go to the newest entry.
    uint32_t best = kNoSlot;
    for (uint32_t s : awaiting_) {
        const EspSa& e = esp_[s];
        if (e.peer != peer || e.alias != alias || now - e.claimed >= pending) continue;
        if (best == kNoSlot || e.claimed > esp_[best].claimed ||
            (e.claimed == esp_[best].claimed && e.created >= esp_[best].created))
            best = s;
    }
    if (best == kNoSlot) {
        ++counters.esp_in_unmatched;
        return 0;
    }
    set_spi_in(best, spi_in);
    esp_[best].last_in = now;
    ++counters.esp_in_learnt;
    return esp_[best].host;
}

}  // namespace nalias
