// SPDX-License-Identifier: BSD-2-Clause
//
// link.hpp: the link, nalias's unit of translation state.
//
// A link maps one inside endpoint (src_addr:src_port) to one alias endpoint
// (alias_addr:alias_port) for one remote endpoint (dst_addr:dst_port).  It
// is `struct alias_link` itself, so the handle the C API hands out for a
// redirect is the link, with no wrapper or cast.
//
// Invariants:
//  - The instance owns every link; indexes and lists never do.  A link is
//    created and destroyed only by LinkTable.
//  - A link is in the out index iff kIndexedOut is set, in the in index iff
//    kIndexedIn is set, and in an expiry-wheel bucket iff it is not permanent.
//  - Address and port fields are in network order; a remote address or port
//    of 0 makes the link partial (a wildcard that only redirects create, or a
//    handler's data-connection link waiting for its first packet).
//  - `alias_addr` 0 means "the instance's current alias address".
//  - The hot part (this struct, 64 bytes, one cache line in the pool) holds
//    what the packet path reads; everything rarer (TCP sequence deltas, LSNAT
//    servers, sockets, proxy targets, handler state) lives in a LinkExtra,
//    allocated on first need and held by the owning table under `extra_id`
//    (a 26-bit slot number sharing 4 bytes with `out_tag`, rather than an
//    8-byte pointer: the difference is what makes the link fit one line).
//    The table is found from the link's own address (LinkPool::owner_of),
//    so link-only calls still reach it.
#pragma once

#include "flow_key.hpp"

#include <boost/intrusive/list_hook.hpp>
#include <boost/intrusive/unordered_set_hook.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

struct alias_link;

namespace nalias {

namespace bi = boost::intrusive;

// Link types above the IP protocol numbers.
enum LinkType : uint16_t {
    kLinkAddress = 0x100,     // RedirectAddr: static address mapping, no ports
    kLinkFragmentId = 0x101,  // header fragment seen inbound: (remote, alias, ip_id) -> inside addr
    kLinkPptp = 0x102,        // PPTP call-id link, owned by the PPTP handler
};

enum LinkFlags : uint16_t {
    kPermanent = 0x0001,      // redirect: never expires, kept across address resets
    kIndexedOut = 0x0002,
    kIndexedIn = 0x0004,
    kRequeue = 0x0008,        // unused since expiry moved to timer wheels; value reserved
    kEimMapping = 0x0010,     // UDP endpoint-independent mapping; survives ReLink
    kNoSocket = 0x0020,       // never bind a USE_SOCKETS placeholder for it
    kAckModified = 0x0040,    // TCP sequence deltas are recorded in extra
    kShadowed = 0x0080,       // hidden by a newer link with the same key
    kUnregisteredSelf = 0x0100,  // created while aliasing a public source to itself
};

// Expiry-wheel hook: auto_unlink lets a link leave its bucket in O(1)
// without knowing which bucket it is in (lib/link_table.hpp).
using ExpiryMemberHook = bi::list_member_hook<bi::link_mode<bi::auto_unlink>>;

// TCP state per direction, as libalias tracks it.
enum TcpState : uint8_t { kTcpNotConnected = 0, kTcpConnected = 1, kTcpDisconnected = 2 };
static_assert(kTcpDisconnected < 4, "alias_link keeps each TCP state in two bits");
// Width of alias_link::in_tag and out_tag: two bit numbers of kFilterTagBits/2
// bits each, one per half of an index's miss-filter tag (LinkTable).
constexpr unsigned kFilterTagBits = 6;
// Width of alias_link::flags: every LinkFlags value fits.
constexpr unsigned kLinkFlagBits = 10;
static_assert(kUnregisteredSelf < (1u << kLinkFlagBits) && kLinkFlagBits + kFilterTagBits <= 16,
              "every LinkFlags value fits alias_link::flags, which shares 16 bits with in_tag");
// Width of alias_link::extra_id, which shares 32 bits with out_tag: 64M
// LinkExtra slots, far more than the links a table can index (LinkTable).
constexpr unsigned kExtraIdBits = 32 - kFilterTagBits;

// One recorded payload-length change on a TCP stream (libalias keeps three).
struct SeqDelta {
    uint32_t end_old = 0;  // host order: sequence number after the changed packet, as sent
    uint32_t end_new = 0;  // the same point in the rewritten stream
    int32_t delta = 0;     // cumulative length change up to and including that packet
    bool valid = false;
};
constexpr int kSeqDeltaSlots = 3;

struct LsnatServer {
    uint32_t addr;   // network order
    uint16_t port;   // network order
};

struct LinkExtra {
    SeqDelta seq[kSeqDeltaSlots];
    int seq_next = 0;
    int sockfd = -1;                       // USE_SOCKETS placeholder
    std::vector<LsnatServer> servers;      // LSNAT pool (AddServer)
    std::size_t next_server = 0;
    uint32_t proxy_addr = 0;               // transparent proxy: original destination
    uint16_t proxy_port = 0;
    int protocol_flags = 0;                // handler-private state (Get/SetProtocolFlags)
    uint32_t timeout = 0;                  // custom expiry (SetExpire), 0 = type default
    void* handler_data = nullptr;          // owned by the handler that set it
    void (*handler_data_free)(void*) = nullptr;
    ::alias_link* shadowed = nullptr;     // older link with the same in-key, hidden by this one
    ::alias_link* shadowed_by = nullptr;  // newer link hiding this one
    ~LinkExtra();
};

}  // namespace nalias

struct alias_link {
    boost::intrusive::unordered_set_member_hook<> out_hook;
    boost::intrusive::unordered_set_member_hook<> in_hook;
    nalias::ExpiryMemberHook expiry_hook;
    uint32_t src_addr = 0, dst_addr = 0, alias_addr = 0;
    uint16_t src_port = 0, dst_port = 0, alias_port = 0;
    uint16_t type = 0;
    uint32_t last_used = 0;
    // flags and in_tag share one 16-bit unit: the link has no byte to spare.
    uint16_t flags : nalias::kLinkFlagBits = 0;
    // The in index's miss-filter bits of this link's in key (LinkTable), kept
    // so that a split or an erase rebuilds a bucket's tag without hashing
    // every link in it again.  Valid while kIndexedIn is set.
    uint16_t in_tag : nalias::kFilterTagBits = 0;
    uint8_t queue = 0;
    uint8_t tcp_in : 2 = nalias::kTcpNotConnected;
    uint8_t tcp_out : 2 = nalias::kTcpNotConnected;
    uint32_t extra_id : nalias::kExtraIdBits = 0;  // 0: no LinkExtra
    // The same as in_tag, for the out index; valid while kIndexedOut is set.
    uint32_t out_tag : nalias::kFilterTagBits = 0;

    // The key fields are laid out so that each index key is two 8-byte
    // runs of them (flow_key.hpp): out = [src_addr, dst_addr] and
    // [src_port, dst_port, (alias_port), type]; in = [dst_addr, alias_addr]
    // and [dst_port, alias_port, type, (next field)].
    nalias::FlowKey out_key() const noexcept {
        nalias::FlowKey k;
        std::memcpy(&k.w0, bytes() + kOutAddrRun, 8);
        std::memcpy(&k.w1, bytes() + kOutPortRun, 8);
        k.w1 &= nalias::kOutWord1Mask;
        return k;
    }
    nalias::FlowKey in_key() const noexcept {
        nalias::FlowKey k;
        std::memcpy(&k.w0, bytes() + kInAddrRun, 8);
        std::memcpy(&k.w1, bytes() + kInPortRun, 8);
        k.w1 &= nalias::kInWord1Mask;
        return k;
    }
    bool permanent() const noexcept { return flags & nalias::kPermanent; }
    bool has_ports() const noexcept { return type == 6 || type == 17 || type == 132; }
    // A wildcard flow link; address links (RedirectAddr) have no remote at all.
    bool partial() const noexcept { return type < 0x100 && (dst_addr == 0 || (has_ports() && dst_port == 0)); }
    // The link's LinkExtra, or nullptr.  Only for links of a table's pool.
    nalias::LinkExtra* extra() const noexcept { return extra_id ? lookup_extra() : nullptr; }
    // The link's LinkExtra, created if needed; nullptr when out of memory.
    nalias::LinkExtra* ensure_extra() noexcept;

    // Offsets of the key runs, checked against the fields below the struct.
    static constexpr std::size_t kOutAddrRun = 32, kInAddrRun = 36, kOutPortRun = 44, kInPortRun = 46;

private:
    nalias::LinkExtra* lookup_extra() const noexcept;
    const unsigned char* bytes() const noexcept { return reinterpret_cast<const unsigned char*>(this); }
};

namespace nalias {
using Link = ::alias_link;
static_assert(sizeof(Link) == 64, "a link is one cache line (docs/performance.md)");
static_assert(std::is_standard_layout_v<Link>);
static_assert(offsetof(Link, src_addr) == Link::kOutAddrRun && offsetof(Link, dst_addr) == Link::kOutAddrRun + 4);
static_assert(offsetof(Link, dst_addr) == Link::kInAddrRun && offsetof(Link, alias_addr) == Link::kInAddrRun + 4);
static_assert(offsetof(Link, src_port) == Link::kOutPortRun && offsetof(Link, dst_port) == Link::kOutPortRun + 2 &&
              offsetof(Link, alias_port) == Link::kOutPortRun + 4 && offsetof(Link, type) == Link::kOutPortRun + 6);
static_assert(offsetof(Link, dst_port) == Link::kInPortRun && offsetof(Link, alias_port) == Link::kInPortRun + 2 &&
              offsetof(Link, type) == Link::kInPortRun + 4 && Link::kInPortRun + 8 <= sizeof(Link));
}
