// SPDX-License-Identifier: BSD-2-Clause
//
// payload.hpp: what the application-level handlers (FTP, IRC, RTSP, ...)
// share: a bounded view of a TCP or UDP payload, an in-place splice that
// resizes the datagram, and small bounded ASCII parsers and formatters.
//
// Data model.  A Segment is a view of one datagram the core has already
// validated (IPv4, header lengths consistent, ip_len <= maxpktsize); it
// points into the caller's buffer and records `capacity`, the number of
// bytes from the IP header that may be written (alias_data.maxpktsize).
// An Edit replaces the payload bytes [offset, offset + length) with `text`.
//
// Invariants the helpers keep:
//  - nothing is read outside [ip, ip + ip_len) nor written outside
//    [ip, ip + capacity); a splice whose result would not fit is refused
//    and leaves the packet byte-for-byte untouched, and one whose result
//    fits never needs more room on the way (no step of it makes the
//    datagram longer than both the original and the result);
//  - after a successful splice ip_len and the IP header checksum are patched
//    (RFC 1624, through lib/checksum.hpp) and the transport checksum is
//    recomputed from scratch over the new payload;
//  - for TCP, a splice that changes the length records the cumulative
//    sequence delta on the control link (add_seq), so the core shifts the
//    sequence numbers of later outbound segments and the acknowledgements of
//    inbound ones; retransmitting the same original segment yields the same
//    delta record instead of a second one.
//
// The parsers read only inside the span they are given and bound every
// numeric field (digit count and value), so a hostile payload can neither
// overflow them nor make them scan past the segment.
#pragma once

#include "../../include/alias_mod.h"
#include "../db.hpp"
#include "../wire.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace nalias::payload {

struct Segment {
    uint8_t* ip = nullptr;
    std::size_t ip_hl = 0;     // IP header length
    std::size_t l4_hl = 0;     // TCP header length (data offset) or 8 for UDP
    std::size_t total = 0;     // ip_len
    std::size_t capacity = 0;  // maxpktsize: writable bytes from `ip`
    uint8_t proto = 0;         // IPPROTO_TCP or IPPROTO_UDP

    uint8_t* l4() const noexcept { return ip + ip_hl; }
    uint8_t* data() const noexcept { return ip + ip_hl + l4_hl; }
    std::size_t size() const noexcept { return total - ip_hl - l4_hl; }
    std::string_view text() const noexcept {
        return {reinterpret_cast<const char*>(data()), size()};
    }
    uint32_t src() const noexcept;    // network order
    uint32_t dst() const noexcept;    // network order
    uint16_t sport() const noexcept;  // network order
    uint16_t dport() const noexcept;  // network order
    uint32_t seq() const noexcept;    // host order, TCP only
};

// Builds the view of `pip` as the handler chain passes it; false when the
// datagram is not a consistent TCP (or UDP) datagram within `maxpktsize`.
bool tcp_segment(struct ip* pip, uint16_t maxpktsize, Segment& s) noexcept;
bool udp_datagram(struct ip* pip, uint16_t maxpktsize, Segment& s) noexcept;

struct Edit {
    std::size_t offset;     // into the payload
    std::size_t length;     // bytes replaced
    std::string_view text;  // replacement
};

// Applies `edits` (sorted by offset, non-overlapping, inside the payload) in
// place, shrinking ones first.  On TCP, a length change is recorded on
// `control` (the link the segment travels on) as libalias's AddSeq does.
// Returns false, with the packet untouched, when the edits are inconsistent
// or the result would not fit in `capacity` or in 65535 bytes.
bool splice(Segment& s, Link* control, const Edit* edits, std::size_t count) noexcept;
inline bool splice(Segment& s, Link* control, const Edit& e) noexcept { return splice(s, control, &e, 1); }

// ----- bounded ASCII parsing --------------------------------------------

// A cursor over [pos, end): every step checks the bound first.
struct Cursor {
    const char* pos;
    const char* end;

    bool done() const noexcept { return pos >= end; }
    std::size_t left() const noexcept { return pos < end ? static_cast<std::size_t>(end - pos) : 0; }
    char peek() const noexcept { return pos < end ? *pos : '\0'; }
    bool take(char c) noexcept;                         // consumes `c` if next
    bool take_ci(std::string_view word) noexcept;       // ASCII case-insensitive prefix
    std::size_t skip_spaces() noexcept;                 // ' ' and '\t'
    // Decimal number of 1..max_digits digits whose value is <= max_value.
    bool number(uint32_t max_value, std::size_t max_digits, uint32_t& out) noexcept;
};

// Address and port in network order, as found in a control message.
struct Endpoint {
    uint32_t addr = 0;
    uint16_t port = 0;
};

// "h1,h2,h3,h4,p1,p2" (RFC 959 host-port): each field 1-3 digits <= 255.
bool parse_host_port(Cursor& c, Endpoint& out) noexcept;
// "<d>1<d>a.b.c.d<d>port<d>" (RFC 2428 EPRT, IPv4 only), where <d> is the
// delimiter the first character names (printable ASCII 33-126).
bool parse_eprt_argument(Cursor& c, Endpoint& out) noexcept;
// "<d><d><d>port<d>" (RFC 2428 EPSV reply); only the port is set.
bool parse_epsv_argument(Cursor& c, Endpoint& out) noexcept;

// Formatters: write into `buf` (size `cap`) and return the length, or 0
// when `cap` is too small.  Addresses and ports in network order.
std::size_t format_host_port(char* buf, std::size_t cap, uint32_t addr, uint16_t port) noexcept;  // h1,..,p2
std::size_t format_dotted(char* buf, std::size_t cap, uint32_t addr) noexcept;                   // a.b.c.d
std::size_t format_decimal(char* buf, std::size_t cap, uint32_t value) noexcept;

// Offset of the first CRLF in `text`, or npos.
std::size_t find_crlf(std::string_view text) noexcept;
// ASCII case-insensitive search; npos when absent.
std::size_t find_ci(std::string_view haystack, std::string_view needle, std::size_t from = 0) noexcept;

}  // namespace nalias::payload
