// SPDX-License-Identifier: BSD-2-Clause
//
// nbt.cpp: NetBIOS over TCP/IP (RFC 1001/1002), name service (UDP 137) and
// datagram service (UDP 138), as libalias's alias_nbt module.
//
// NetBIOS carries IPv4 addresses inside its payload:
//  - a datagram (RFC 1002 4.4) names its sender in the header (SOURCE_IP,
//    SOURCE_PORT); a receiver replies there, so an outbound datagram from an
//    inside host gets the alias address and alias port;
//  - name service answers, registrations, refreshes and releases carry
//    NB records (NB_FLAGS + NB_ADDRESS, 6 bytes each) and A records with
//    addresses; outbound, the inside host's address becomes the alias
//    address, inbound the alias address becomes the inside host's address.
//
// Detect and rewrite are separate passes.  The parser walks the whole
// message, bounded on every field: label lengths (<= 63), name length
// (<= 255 encoded bytes), compression pointers (only backwards, each hop
// strictly before the last, so a loop cannot exist), record counts
// (checked against the smallest possible record size before the walk),
// RDLENGTH (inside the message; NB data a multiple of 6, A data of 4), and
// the UDP length field.  It collects the offsets of the address fields; only
// if the whole message parses are any of them rewritten, so a malformed
// message is left byte for byte as it came (FreeBSD's parser rewrote as it
// walked and read past the packet: SA-20:12).
//
// Differences from libalias, on purpose: an inbound datagram's header is
// left alone (libalias overwrites the outside sender's SOURCE_IP/PORT with
// the alias address and port); an outbound datagram's SOURCE_IP and
// SOURCE_PORT are rewritten only when they are the inside sender's own; the
// UDP checksum is updated for address fields at odd offsets too.
#include "payload.hpp"

#include "../checksum.hpp"
#include "../handler.hpp"
#include "../wire.hpp"

#include <netinet/in.h>
#include <netinet/ip.h>

namespace nalias {

namespace {

using namespace wire;

constexpr uint16_t kNameServicePort = 137;
constexpr uint16_t kDatagramPort = 138;

// Name encoding (RFC 1002 4.1, RFC 1035 4.1.4).
constexpr std::size_t kMaxLabel = 63;
constexpr std::size_t kMaxEncodedName = 255;
constexpr uint8_t kPointerTag = 0xc0;
constexpr uint8_t kLabelTagMask = 0xc0;
// Pointer hops followed while validating one name; the strictly-backwards
// rule already bounds them, this only caps the work.
constexpr unsigned kMaxPointerHops = 16;

// Name service message (RFC 1002 4.2.1).
constexpr std::size_t kNsHeader = 12;
constexpr std::size_t kQdCount = 4, kAnCount = 6, kNsCount = 8, kArCount = 10;
constexpr std::size_t kQuestionTail = 4;  // QUESTION_TYPE, QUESTION_CLASS
constexpr std::size_t kRecordTail = 10;   // RR_TYPE, RR_CLASS, TTL, RDLENGTH
constexpr std::size_t kMinQuestion = 1 + kQuestionTail;
constexpr std::size_t kMinRecord = 1 + kRecordTail;
constexpr uint16_t kTypeA = 0x0001, kTypeNb = 0x0020;
constexpr std::size_t kNbEntry = 6, kNbAddress = 2;  // NB_FLAGS, NB_ADDRESS
constexpr std::size_t kAEntry = 4;
// Address fields rewritten per message; a group answer listing more
// members is left untouched rather than half rewritten.
constexpr std::size_t kMaxAddressFields = 256;

// Datagram service header (RFC 1002 4.4.1).
constexpr uint8_t kDirectUnique = 0x10, kDirectGroup = 0x11, kBroadcast = 0x12, kDatagramError = 0x13,
                  kQueryRequest = 0x14, kPositiveQueryResponse = 0x15, kNegativeQueryResponse = 0x16;
constexpr std::size_t kDgmSourceIp = 4, kDgmSourcePort = 8, kDgmLength = 10;
constexpr std::size_t kDgmDataHeader = 14;    // direct and broadcast datagrams
constexpr std::size_t kDgmErrorLength = 11;   // ERROR_CODE at 10
constexpr std::size_t kDgmQueryHeader = 10;   // DESTINATION_NAME follows

// ----- detect ------------------------------------------------------------

// A bounded view of a message: offsets are relative to its first byte,
// which is also what compression pointers count from.
struct Message {
    const uint8_t* base;
    std::size_t size;
};

// Checks the name at `pos`, returns the offset just after it (the pointer,
// if it ends in one) or 0 when malformed.
std::size_t skip_name(const Message& m, std::size_t pos, bool pointers_allowed) noexcept {
    std::size_t end = 0;        // where the name ends in the message body
    std::size_t encoded = 0;    // bytes of labels seen, across pointer hops
    std::size_t limit = pos;    // a pointer must point before this
    unsigned hops = 0;
    while (true) {
        if (pos >= m.size) return 0;
        const uint8_t len = m.base[pos];
        if ((len & kLabelTagMask) == kPointerTag) {
            if (!pointers_allowed || m.size - pos < 2 || ++hops > kMaxPointerHops) return 0;
            const std::size_t target = (static_cast<std::size_t>(len & ~kLabelTagMask) << 8) | m.base[pos + 1];
            if (end == 0) end = pos + 2;
            if (target < kNsHeader || target >= limit) return 0;
            limit = target;
            pos = target;
            continue;
        }
        if (len & kLabelTagMask) return 0;  // 0x40 and 0x80 are reserved
        encoded += 1u + len;
        if (encoded > kMaxEncodedName) return 0;
        if (len == 0) return end != 0 ? end : pos + 1;
        if (len > kMaxLabel || m.size - pos - 1 < len) return 0;
        pos += 1u + len;
    }
}

struct AddressFields {
    std::size_t offset[kMaxAddressFields];  // within the message
    std::size_t count = 0;
    bool add(std::size_t off) noexcept {
        if (count == kMaxAddressFields) return false;
        offset[count++] = off;
        return true;
    }
};

// Parses a name service message and collects its address fields.
bool parse_name_service(const Message& m, AddressFields& fields) noexcept {
    if (m.size < kNsHeader) return false;
    const std::size_t questions = get_be16(m.base + kQdCount);
    const std::size_t records =
        std::size_t{get_be16(m.base + kAnCount)} + get_be16(m.base + kNsCount) + get_be16(m.base + kArCount);
    if (questions * kMinQuestion + records * kMinRecord > m.size - kNsHeader) return false;

    std::size_t pos = kNsHeader;
    for (std::size_t i = 0; i < questions; ++i) {
        pos = skip_name(m, pos, true);
        if (pos == 0 || m.size - pos < kQuestionTail) return false;
        pos += kQuestionTail;
    }
    for (std::size_t i = 0; i < records; ++i) {
        pos = skip_name(m, pos, true);
        if (pos == 0 || m.size - pos < kRecordTail) return false;
        const uint16_t type = get_be16(m.base + pos);
        const std::size_t rdlength = get_be16(m.base + pos + 8);
        pos += kRecordTail;
        if (m.size - pos < rdlength) return false;
        // A WACK carries an NB record of 2 bytes (RFC 1002 4.2.16): no
        // addresses.  Other sizes that are not whole entries are opaque too.
        if (type == kTypeNb && rdlength % kNbEntry == 0) {
            for (std::size_t e = 0; e < rdlength; e += kNbEntry)
                if (!fields.add(pos + e + kNbAddress)) return false;
        } else if (type == kTypeA && rdlength % kAEntry == 0) {
            for (std::size_t e = 0; e < rdlength; e += kAEntry)
                if (!fields.add(pos + e)) return false;
        }
        pos += rdlength;
    }
    return true;  // trailing bytes (padding) are allowed, as by receivers
}

// Checks a datagram service message; true when well formed.
bool parse_datagram(const Message& m) noexcept {
    if (m.size < 1) return false;
    switch (m.base[0]) {
    case kDirectUnique:
    case kDirectGroup:
    case kBroadcast: {
        if (m.size < kDgmDataHeader) return false;
        if (get_be16(m.base + kDgmLength) > m.size - kDgmDataHeader) return false;
        std::size_t pos = skip_name(m, kDgmDataHeader, false);         // SOURCE_NAME
        return pos != 0 && skip_name(m, pos, false) != 0;              // DESTINATION_NAME
    }
    case kDatagramError:
        return m.size >= kDgmErrorLength;
    case kQueryRequest:
    case kPositiveQueryResponse:
    case kNegativeQueryResponse:
        return m.size > kDgmQueryHeader && skip_name(m, kDgmQueryHeader, false) != 0;
    default:
        return false;
    }
}

// The UDP payload as the UDP length field bounds it.
bool udp_message(struct ip* pip, uint16_t maxpktsize, payload::Segment& s, Message& m) noexcept {
    if (!payload::udp_datagram(pip, maxpktsize, s)) return false;
    const std::size_t udp_length = get_be16(s.l4() + udp::kLength);
    if (udp_length < udp::kHeader || udp_length > s.total - s.ip_hl) return false;
    m = {s.data(), udp_length - udp::kHeader};
    return true;
}

// ----- rewrite --------------------------------------------------------------

uint16_t swap_bytes(uint16_t v) noexcept { return static_cast<uint16_t>((v << 8) | (v >> 8)); }

// Writes a 32-bit address at `udp_offset` bytes into the UDP datagram and
// updates the UDP checksum (zero, "none", stays zero).  A field at an odd
// offset straddles the checksum's 16-bit words; its contribution is then
// the byte-swapped sum of its own words, so the RFC 1624 update is applied
// to the byte-swapped checksum.
void write_address(const payload::Segment& s, std::size_t udp_offset, uint32_t value) noexcept {
    uint8_t* field = s.l4() + udp_offset;
    uint8_t* cksum = s.l4() + udp::kChecksum;
    const uint32_t old = load32(field);
    if (old == value) return;
    store32(field, value);
    if (udp_offset % 2 == 0) {
        csum::adjust32_udp(cksum, old, value);
        return;
    }
    const uint16_t stored = load16(cksum);
    if (stored == 0) return;
    const uint16_t c = swap_bytes(csum::update32(swap_bytes(stored), old, value));
    store16(cksum, c == 0 ? 0xffff : c);
}

void write_port(const payload::Segment& s, std::size_t udp_offset, uint16_t value) noexcept {
    uint8_t* field = s.l4() + udp_offset;
    const uint16_t old = load16(field);
    if (old == value) return;
    store16(field, value);
    csum::adjust16_udp(s.l4() + udp::kChecksum, old, value);
}

// ----- handler entry points ---------------------------------------------------

bool has_port(const alias_data* ad, uint16_t port) noexcept {
    return ad->lnk && ad->sport && ad->dport && ad->aaddr && ad->aport && ad->oaddr &&
           (ntohs(*ad->sport) == port || ntohs(*ad->dport) == port);
}

int fingerprint_datagram(struct libalias*, struct alias_data* ad) { return has_port(ad, kDatagramPort) ? 0 : -1; }
int fingerprint_name_service(struct libalias*, struct alias_data* ad) {
    return has_port(ad, kNameServicePort) ? 0 : -1;
}

// Both directions, as libalias; -1 for a malformed datagram, which the core
// turns into PKT_ALIAS_IGNORED inbound.
int handle_datagram(struct libalias*, struct ip* pip, struct alias_data* ad) {
    payload::Segment s;
    Message m;
    if (!udp_message(pip, ad->maxpktsize, s, m) || !parse_datagram(m)) return -1;
    const auto* p = reinterpret_cast<const uint8_t*>(pip);
    const bool outbound = load32(p + wire::ip::kSrc) == ad->oaddr->s_addr;
    if (!outbound) return 0;
    // Every datagram type starts with the sender's endpoint (parse_datagram
    // checked it is there); an inside sender naming itself names the alias
    // endpoint instead.
    if (load32(m.base + kDgmSourceIp) == ad->oaddr->s_addr)
        write_address(s, udp::kHeader + kDgmSourceIp, ad->aaddr->s_addr);
    if (load16(m.base + kDgmSourcePort) == s.sport())
        write_port(s, udp::kHeader + kDgmSourcePort, *ad->aport);
    return 0;
}

template <bool kOutbound>
int handle_name_service(struct libalias*, struct ip* pip, struct alias_data* ad) {
    payload::Segment s;
    Message m;
    if (!udp_message(pip, ad->maxpktsize, s, m)) return kOutbound ? -1 : 0;
    AddressFields fields;
    if (!parse_name_service(m, fields)) return kOutbound ? -1 : 0;
    const auto* p = reinterpret_cast<const uint8_t*>(pip);
    // Outbound the sender's inside address becomes the alias; inbound the
    // alias becomes the inside host's address.
    const uint32_t from = kOutbound ? load32(p + wire::ip::kSrc) : ad->aaddr->s_addr;
    const uint32_t to = kOutbound ? ad->aaddr->s_addr : ad->oaddr->s_addr;
    if (from == to) return 0;
    for (std::size_t i = 0; i < fields.count; ++i)
        if (load32(m.base + fields.offset[i]) == from) write_address(s, udp::kHeader + fields.offset[i], to);
    return 0;
}

// Priorities and directions as libalias (the inbound name service handler
// never reports an error there, so neither does this one).
struct proto_handler nbt_handlers[] = {
    {.pri = 130, .dir = IN | OUT, .proto = UDP, .fingerprint = &fingerprint_datagram,
     .protohandler = &handle_datagram, .link = {}},
    {.pri = 140, .dir = IN, .proto = UDP, .fingerprint = &fingerprint_name_service,
     .protohandler = &handle_name_service<false>, .link = {}},
    {.pri = 140, .dir = OUT, .proto = UDP, .fingerprint = &fingerprint_name_service,
     .protohandler = &handle_name_service<true>, .link = {}},
    // End of handlers (EOH), spelled out so every member is initialised.
    {.pri = 0, .dir = NODIR, .proto = 0, .fingerprint = nullptr, .protohandler = nullptr, .link = {}},
};

constexpr uint16_t nbt_ports[] = {kNameServicePort, kDatagramPort, 0};

}  // namespace

extern const BuiltinHandlerSet kNbtHandlerSet;
const BuiltinHandlerSet kNbtHandlerSet{"nbt", nbt_handlers, nbt_ports};

}  // namespace nalias
