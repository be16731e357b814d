// SPDX-License-Identifier: BSD-2-Clause
//
// skinny.cpp: Cisco Skinny Client Control Protocol (SCCP), as libalias's
// alias_skinny module: an IP phone behind the NAT talking to a Call Manager
// outside, on TCP 2000 or the port set with LibAliasSetSkinnyPort.
//
// A segment holds one or more messages, each
//     length (4) | reserved (4) | message id (4) | body
// in little-endian byte order, where `length` counts the bytes from the
// message id on.  Three messages from the phone carry its own endpoint:
//  - Register (0x0001): the phone's IP address (at body offset 24), which
//    becomes the alias address;
//  - IpPort (0x0002): the station's TCP port, which becomes the control
//    connection's alias port;
//  - OpenReceiveChannelAck (0x0022): the IP address and UDP port where the
//    phone wants the call's media; a UDP link from that port to any remote
//    is created (as libalias) and its alias address and port replace them.
// StartMediaTransmission (0x008a) names the remote party and needs nothing,
// as in libalias.  Ports are 32-bit little-endian fields.
//
// Detect (the message walk, bounded by each length field and by the
// segment) runs over the whole segment before anything is rewritten; a
// segment with a malformed message header is left as it came.  Fields are
// rewritten in place with incremental TCP checksum updates, so the stream
// keeps its length.
//
// Differences from libalias, on purpose: only segments from the phone
// (outbound, to the Skinny port) are rewritten (libalias also rewrote an
// inbound Register from an outside phone to a Call Manager behind the NAT,
// which broke it); Register's address is replaced only when it is the
// phone's own; the port is 2000 until LibAliasSetSkinnyPort sets another
// (libalias does nothing until it is set).
#include "payload.hpp"

#include "../checksum.hpp"
#include "../handler.hpp"
#include "../wire.hpp"

#include <netinet/in.h>
#include <netinet/ip.h>

namespace nalias {

namespace {

using namespace wire;

constexpr uint16_t kSkinnyDefaultPort = 2000;  // Cisco's registered SCCP port
// Messages examined per segment; libalias notes ORC acks "buried in a
// packet some 400 bytes long", a few messages.
constexpr std::size_t kMaxMessagesPerSegment = 64;

// Message header and the fields rewritten, offsets from the message start.
constexpr std::size_t kLengthField = 0, kMessageIdField = 8, kHeader = 12;
constexpr std::size_t kLengthCovered = 8;  // `length` counts from the message id on
enum SkinnyMessage : uint32_t {
    kRegister = 0x0001,
    kIpPort = 0x0002,
    kOpenReceiveChannelAck = 0x0022,
    kStartMediaTransmission = 0x008a,
};
// Register: id, device name[16], user id, instance, IP address, device
// type, max streams (libalias's struct, 40 bytes with its padding).
constexpr std::size_t kRegisterAddress = 8 + 28, kRegisterLength = 40;
// IpPort: id, station port.
constexpr std::size_t kIpPortPort = 8 + 4, kIpPortLength = 8;
// OpenReceiveChannelAck: id, status, IP address, port, pass-through id.
constexpr std::size_t kOrcAckAddress = 8 + 8, kOrcAckPort = 8 + 12, kOrcAckLength = 20;

uint32_t get_le32(const uint8_t* p) noexcept {
    return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}
// The raw 32-bit word whose bytes are `v` in little-endian order.
uint32_t le32_word(uint32_t v) noexcept {
    const uint8_t b[4] = {static_cast<uint8_t>(v), static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v >> 16),
                          static_cast<uint8_t>(v >> 24)};
    return load32(b);
}

uint16_t skinny_port(const Instance& la) noexcept {
    return la.skinny_port > 0 && la.skinny_port <= 0xffff ? static_cast<uint16_t>(la.skinny_port) : kSkinnyDefaultPort;
}

// ----- detect ------------------------------------------------------------

struct Message {
    uint32_t id;
    std::size_t offset;  // of the message within the payload
};

// Walks the messages of a segment.  False when a header is malformed (the
// segment is then left alone); a trailing message the segment cuts short
// is not examined.
bool parse_messages(const uint8_t* data, std::size_t size, Message* out, std::size_t& count) noexcept {
    count = 0;
    std::size_t off = 0;
    while (size - off >= kHeader && count < kMaxMessagesPerSegment) {
        const uint32_t length = get_le32(data + off + kLengthField);
        if (length < kHeader - kLengthCovered) return false;
        if (length > size - off - kLengthCovered) break;
        const uint32_t id = get_le32(data + off + kMessageIdField);
        const std::size_t needed = id == kRegister ? kRegisterLength
                                   : id == kIpPort ? kIpPortLength
                                   : id == kOpenReceiveChannelAck ? kOrcAckLength
                                                                  : 0;
        if (length < needed) return false;
        if (needed) out[count++] = {id, off};
        off += kLengthCovered + length;
    }
    return true;
}

// ----- rewrite --------------------------------------------------------------

void patch32(const payload::Segment& s, std::size_t payload_offset, uint32_t raw) noexcept {
    csum::patch32(s.data() + payload_offset, s.l4() + tcp::kChecksum, raw);
}

void rewrite_from_phone(Instance& la, const payload::Segment& s, uint32_t phone, uint32_t alias, uint16_t alias_port,
                        const Message& m) noexcept {
    const std::size_t at = m.offset;
    switch (m.id) {
    case kRegister:
        if (load32(s.data() + at + kRegisterAddress) == phone) patch32(s, at + kRegisterAddress, alias);
        break;
    case kIpPort:
        patch32(s, at + kIpPortPort, le32_word(ntohs(alias_port)));
        break;
    case kOpenReceiveChannelAck: {
        const uint32_t media_port = get_le32(s.data() + at + kOrcAckPort);
        if (media_port == 0 || media_port > 0xffff) break;
        Link* media = find_udp_tcp_out(la, phone, 0, htons(static_cast<uint16_t>(media_port)), 0, IPPROTO_UDP, true);
        if (!media) break;
        patch32(s, at + kOrcAckAddress, effective_alias(la, *media));
        patch32(s, at + kOrcAckPort, le32_word(ntohs(media->alias_port)));
        break;
    }
    default:
        break;
    }
}

// ----- handler entry points ---------------------------------------------------

int fingerprint(struct libalias* la, struct alias_data* ad) {
    if (!ad->lnk || !ad->sport || !ad->dport) return -1;
    const uint16_t port = skinny_port(*la);
    return ntohs(*ad->sport) == port || ntohs(*ad->dport) == port ? 0 : -1;
}

int handle(struct libalias* la, struct ip* pip, struct alias_data* ad) {
    payload::Segment s;
    if (!payload::tcp_segment(pip, ad->maxpktsize, s)) return 0;
    const Link& control = *ad->lnk;
    const auto* p = reinterpret_cast<const uint8_t*>(pip);
    const uint32_t phone = load32(p + wire::ip::kSrc);
    // Only the phone's own segments, on their way out to the Call Manager.
    if (phone != control.src_addr || ntohs(s.dport()) != skinny_port(*la)) return 0;
    Message msgs[kMaxMessagesPerSegment];
    std::size_t count = 0;
    if (!parse_messages(s.data(), s.size(), msgs, count)) return 0;
    for (std::size_t i = 0; i < count; ++i)
        rewrite_from_phone(*la, s, phone, ad->aaddr->s_addr, *ad->aport, msgs[i]);
    return 0;
}

struct proto_handler skinny_handlers[] = {
    {.pri = 110, .dir = IN | OUT, .proto = TCP, .fingerprint = &fingerprint, .protohandler = &handle, .link = {}},
    // End of handlers (EOH), spelled out so every member is initialised.
    {.pri = 0, .dir = NODIR, .proto = 0, .fingerprint = nullptr, .protohandler = nullptr, .link = {}},
};

constexpr uint16_t skinny_ports[] = {kSkinnyDefaultPort, 0};

}  // namespace

extern const BuiltinHandlerSet kSkinnyHandlerSet;
const BuiltinHandlerSet kSkinnyHandlerSet{"skinny", skinny_handlers, skinny_ports};

}  // namespace nalias
