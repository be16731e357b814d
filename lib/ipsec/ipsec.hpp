// SPDX-License-Identifier: BSD-2-Clause
//
// ipsec.hpp: per-instance state of the ESP/IKE proxy module.
//
// Data model.  ESP (IP 50) carries no ports, only the receiver's 32-bit SPI,
// and IKE runs on UDP 500 with peers that may answer only to port 500.  The
// module therefore keeps two small tables beside the link table, both filled
// ONLY by packets from inside (nothing a remote sends creates an entry):
//
//   IKE exchanges  (peer, initiator SPI) -> inside host and port, plus the
//                  responder SPI once the peer has answered.  Every inside
//                  host talking IKE to peer:500 is aliased to alias:500; one
//                  UDP link (the "anchor") owns the key (alias:500, peer:500)
//                  in the link table, and the IKE handler re-addresses each
//                  inbound message to the host whose SPIs it carries.
//
//   ESP SAs        one entry per SA pair seen: (inside host, peer, alias
//                  address, outbound SPI, inbound SPI).  The outbound SPI
//                  is learnt from the host's packets; the inbound SPI (the
//                  one the peer writes) is learnt from the first inbound
//                  packet nobody claims: it goes to the entry still
//                  "awaiting" (inbound SPI 0) whose claim on that peer is the
//                  most recent, within the pending window.  A claim is opened
//                  or renewed only by what announces a new SA: a message of
//                  an SA-creating IKE exchange, or the first packet under a
//                  new outbound SPI.  DPD and ESP of established SAs do not
//                  renew it, or a busy client's leftover claim (an IKE SA
//                  rekey, a rejected Quick Mode) would take the next client's
//                  SPI minutes later.  That is per-peer serialisation, as
//                  Linux's VPN Masquerade did.
//
// Invariants: SPI 0 never names an SA (RFC 4303 reserves it), so 0 means
// "not learnt"; every index entry points at a live slot whose key matches;
// a slot is in `awaiting_` iff it is live and its inbound SPI is 0; neither
// table ever holds more than its cap, and at the cap a new entry is refused
// rather than an existing one evicted, so a flood cannot displace live SAs.
// Addresses are in network order, SPIs in host order, times are the
// instance's `now` (seconds).
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

struct libalias;

namespace nalias {

// Idle time after which a learnt IKE exchange is forgotten.  One hour
// outlives the usual child-SA lifetime (racoon, strongSwan, Cisco: 3600 s),
// so a peer-initiated rekey over a quiet IKEv1 phase 1 still finds its host.
constexpr uint32_t kIpsecIkeIdleSeconds = 3600;
// Idle time after which an ESP SPI binding is forgotten.  Twice the common
// one-hour SA lifetime: an SA still in use is refreshed by every packet, and
// a quiet one has been replaced by a rekey long before its binding goes.
constexpr uint32_t kIpsecSpiIdleSeconds = 7200;
// How long a claim on an unknown inbound SPI from the peer lasts after the
// host opened or renewed it (see above).  60 s is libalias's lifetime for
// the generic ESP link, and far longer than a peer takes to use an SA it
// has just installed.
constexpr uint32_t kIpsecPendingSeconds = 60;
// NAT-T (UDP 4500) links: RFC 3948 section 4 suggests 20 s keep-alives;
// five minutes survives many lost keep-alives and the 30-60 s DPD intervals
// of common clients, where the 60 s UDP default would drop a quiet tunnel.
constexpr uint32_t kNattExpireSeconds = 300;
// Largest timeout LibAliasIpsecSetTimeouts keeps (about 68 years); larger
// values are clamped.  The IKE idle time is also the port-500 link's
// lifetime, which the link layer takes as an int where negative means
// "permanent", so 2^31 and above would turn that link into a redirect.
constexpr uint32_t kIpsecMaxTimeoutSeconds = INT32_MAX;
// Table caps.  Entries are created only by inside hosts; each is ~40 bytes.
constexpr std::size_t kIpsecMaxIkeExchanges = 4096;
constexpr std::size_t kIpsecMaxEspSas = 4096;
// Slots examined per packet by the expiry sweep (bounded housekeeping).
constexpr unsigned kIpsecSweepBudget = 8;

constexpr uint16_t kIkePort = 500;
constexpr uint16_t kNattPort = 4500;

struct IkeExchange {
    uint32_t peer = 0, host = 0, alias = 0;
    uint16_t host_port = 0;     // network order
    uint64_t spi_i = 0, spi_r = 0;
    uint32_t created = 0, last_used = 0;
    bool live = false;
};

struct EspSa {
    uint32_t peer = 0, host = 0, alias = 0;
    uint32_t spi_out = 0, spi_in = 0;
    uint32_t created = 0, last_out = 0, last_in = 0;
    uint32_t claimed = 0;       // claim opened or last renewed (recency for claims)
    bool live = false;
};

struct IpsecCounters {
    unsigned long long esp_out = 0, esp_in_known = 0, esp_in_learnt = 0, esp_in_unmatched = 0;
    unsigned long long ike_out = 0, ike_in_matched = 0, ike_in_fallback = 0, ike_invalid = 0;
    unsigned long long natt_ike = 0, natt_esp = 0, natt_keepalive = 0;
    unsigned long long refused_full = 0;
};

class IpsecState {
public:
    bool enabled = true;
    uint32_t ike_idle = kIpsecIkeIdleSeconds;
    uint32_t spi_idle = kIpsecSpiIdleSeconds;
    uint32_t pending = kIpsecPendingSeconds;
    IpsecCounters counters;

    // Bounded housekeeping: expires at most kIpsecSweepBudget slots.
    void sweep(uint32_t now) noexcept;
    // Forgets everything (module turned off).
    void clear() noexcept;

    // --- IKE ---------------------------------------------------------------
    // Outbound IKE from host:port to peer carrying (spi_i, spi_r): records or
    // refreshes the exchange.  Returns false when the table is full.
    bool note_ike_out(uint32_t host, uint16_t host_port, uint32_t peer, uint32_t alias, uint64_t spi_i,
                      uint64_t spi_r, uint32_t now) noexcept;
    // Inbound IKE: the exchange with these SPIs, or nullptr.  Learns the
    // responder SPI when the exchange has none yet; never creates.
    const IkeExchange* match_ike_in(uint32_t peer, uint32_t alias, uint64_t spi_i, uint64_t spi_r,
                                    uint32_t now) noexcept;
    // The exchange whose host most recently sent IKE to peer via alias.
    const IkeExchange* latest_ike_to(uint32_t peer, uint32_t alias, uint32_t now) noexcept;

    // --- ESP ---------------------------------------------------------------
    // Host announced new SAs with peer (an SA-creating IKE exchange): opens
    // an awaiting entry, or renews the claim of the one the host already
    // has for that peer.
    void note_sa_negotiation(uint32_t host, uint32_t peer, uint32_t alias, uint32_t now) noexcept;
    // Outbound ESP with SPI spi_out; a new SPI opens or renews a claim.
    // Returns false only when the table was full and the SPI could not be
    // recorded (the packet is still aliased).
    bool note_esp_out(uint32_t host, uint32_t peer, uint32_t alias, uint32_t spi_out, bool create,
                      uint32_t now) noexcept;
    // Has this host ever been seen sending this SPI? (for LibAliasOutTry)
    bool knows_esp_out(uint32_t host, uint32_t peer, uint32_t spi_out) const noexcept;
    // Inbound ESP: the inside host for (peer, alias, spi_in), learning the
    // binding from the awaiting claims if needed; 0 when nothing matches.
    uint32_t resolve_esp_in(uint32_t peer, uint32_t alias, uint32_t spi_in, uint32_t now) noexcept;

    // Diagnostics.
    template <class Fn> void for_each_ike(Fn&& fn) const {
        for (const auto& e : ike_)
            if (e.live) fn(e);
    }
    template <class Fn> void for_each_esp(Fn&& fn) const {
        for (const auto& e : esp_)
            if (e.live) fn(e);
    }
    std::size_t ike_count() const noexcept { return ike_index_.size(); }
    std::size_t esp_count() const noexcept { return esp_live_; }

private:
    struct IkeKey {
        uint32_t peer;
        uint64_t spi_i;
        friend bool operator==(const IkeKey& a, const IkeKey& b) noexcept {
            return a.peer == b.peer && a.spi_i == b.spi_i;
        }
    };
    struct IkeKeyHash {
        std::size_t operator()(const IkeKey& k) const noexcept;
    };
    static uint64_t spi_key(uint32_t peer, uint32_t spi) noexcept { return (uint64_t{peer} << 32) | spi; }

    bool ike_expired(const IkeExchange& e, uint32_t now) const noexcept { return now - e.last_used >= ike_idle; }
    bool esp_expired(const EspSa& e, uint32_t now) const noexcept;
    void drop_ike(uint32_t slot) noexcept;
    void drop_esp(uint32_t slot) noexcept;
    uint32_t new_esp_slot() noexcept;  // UINT32_MAX when full
    void set_spi_in(uint32_t slot, uint32_t spi) noexcept;

    std::vector<IkeExchange> ike_;
    std::vector<uint32_t> ike_free_;
    std::unordered_map<IkeKey, uint32_t, IkeKeyHash> ike_index_;
    std::unordered_map<uint64_t, uint32_t> ike_latest_;  // (peer, alias) -> slot of the last outbound IKE

    std::vector<EspSa> esp_;
    std::vector<uint32_t> esp_free_;
    std::size_t esp_live_ = 0;
    std::unordered_map<uint64_t, uint32_t> esp_by_out_;  // (peer, spi_out) -> slot
    std::unordered_map<uint64_t, uint32_t> esp_by_in_;   // (peer, spi_in) -> slot
    std::vector<uint32_t> awaiting_;                     // slots with spi_in == 0, usually a handful

    std::size_t ike_cursor_ = 0, esp_cursor_ = 0;
};

// The instance's module state, created on first use with the defaults.
// nullptr only when memory is exhausted.
IpsecState* ipsec_state(struct libalias& la) noexcept;
// The state if the module is on for this instance, else nullptr.
IpsecState* ipsec_active(struct libalias& la) noexcept;
// Whether the module is on, without the housekeeping ipsec_active does
// (for the handler fingerprints, which run before the handler itself).
bool ipsec_enabled(struct libalias& la) noexcept;

}  // namespace nalias
