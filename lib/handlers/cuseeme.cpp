// SPDX-License-Identifier: BSD-2-Clause
//
// cuseeme.cpp: CU-SeeMe video conferencing (UDP 7648), as libalias's
// alias_cuseeme module.
//
// Every CU-SeeMe packet starts with a header naming the destination and the
// sender (family, port, IPv4 address each); an "Open Continue" packet
// (data type 101) then lists the conference's clients, each with its
// address.  Layout, as libalias's structs compile on FreeBSD (natural
// alignment, so 2 bytes of padding close the header and follow the client
// count; Linux's old ip_masq_cuseeme used the same):
//     header        dest family 0, dest port 2, dest addr 4, family 8,
//                   port 10, addr 12, seq 16, msg 20, data type 22,
//                   packet length 24; 28 bytes
//     open continue client count 28 (16 bits), seq 32, user name 36..55,
//                   flags 56..59; client records from 60
//     client record address 0, 8 more bytes; 12 bytes
// Outbound (to port 7648) the sender address, when it is the inside host,
// becomes the alias address, and a UDP link from the inside host's port
// 7648 to any port of the same peer is created (as libalias) so that the
// reflector can reach the client.  Inbound (to port 7648) the destination
// address, when it is the alias address, becomes the inside host's, and so
// does the first client record holding the alias address.
//
// Differences from libalias, on purpose: the UDP checksum is updated (libalias
// left it stale); addresses are replaced only when they hold the address being
// translated (libalias replaced any nonzero sender/destination address); the
// client count is read in network order and every record is checked to lie
// inside the datagram (libalias read the count in host order and one field
// past a 28-byte datagram).
#include "payload.hpp"

#include "../checksum.hpp"
#include "../handler.hpp"
#include "../wire.hpp"

#include <netinet/in.h>
#include <netinet/ip.h>

namespace nalias {

namespace {

using namespace wire;

constexpr uint16_t kCuSeeMePort = 7648;

constexpr std::size_t kDestAddr = 4, kSenderAddr = 12, kDataType = 22, kHeader = 28;
constexpr uint16_t kOpenContinue = 101;
constexpr std::size_t kClientCount = 28, kClientRecords = 60, kClientRecord = 12;

// ----- detect ------------------------------------------------------------

struct CuPacket {
    std::size_t size;          // UDP payload bytes
    std::size_t clients = 0;   // client records wholly inside the payload
};

bool parse(const uint8_t* data, std::size_t size, CuPacket& out) noexcept {
    if (size < kHeader) return false;
    out.size = size;
    if (get_be16(data + kDataType) == kOpenContinue && size >= kClientCount + 2) {
        const std::size_t listed = get_be16(data + kClientCount);
        const std::size_t present = size >= kClientRecords ? (size - kClientRecords) / kClientRecord : 0;
        out.clients = listed < present ? listed : present;
    }
    return true;
}

bool udp_payload(struct ip* pip, uint16_t maxpktsize, payload::Segment& s, std::size_t& size) noexcept {
    if (!payload::udp_datagram(pip, maxpktsize, s)) return false;
    const std::size_t udp_length = get_be16(s.l4() + udp::kLength);
    if (udp_length < udp::kHeader || udp_length > s.total - s.ip_hl) return false;
    size = udp_length - udp::kHeader;
    return true;
}

// ----- rewrite --------------------------------------------------------------

// Addresses sit at 4-byte offsets, so the checksum words line up.
void write_address(const payload::Segment& s, std::size_t payload_offset, uint32_t value) noexcept {
    uint8_t* field = s.data() + payload_offset;
    const uint32_t old = load32(field);
    store32(field, value);
    csum::adjust32_udp(s.l4() + udp::kChecksum, old, value);
}

// ----- handler entry points ---------------------------------------------------

int fingerprint(struct libalias*, struct alias_data* ad) {
    if (!ad->lnk || !ad->dport || !ad->oaddr || !ad->aaddr) return -1;
    return ntohs(*ad->dport) == kCuSeeMePort ? 0 : -1;
}

int handle_out(struct libalias* la, struct ip* pip, struct alias_data* ad) {
    payload::Segment s;
    std::size_t size = 0;
    CuPacket cu;
    if (!udp_payload(pip, ad->maxpktsize, s, size) || !parse(s.data(), size, cu)) return 0;
    const uint32_t inside = ad->oaddr->s_addr, alias = ad->aaddr->s_addr;
    if (load32(s.data() + kSenderAddr) == inside && inside != alias) write_address(s, kSenderAddr, alias);
    find_udp_tcp_out(*la, inside, ad->lnk->dst_addr, s.dport(), 0, IPPROTO_UDP, true);
    return 0;
}

int handle_in(struct libalias*, struct ip* pip, struct alias_data* ad) {
    payload::Segment s;
    std::size_t size = 0;
    CuPacket cu;
    if (!udp_payload(pip, ad->maxpktsize, s, size) || !parse(s.data(), size, cu)) return 0;
    const uint32_t alias = load32(s.ip + wire::ip::kDst), inside = ad->oaddr->s_addr;
    if (alias == inside) return 0;
    if (load32(s.data() + kDestAddr) == alias) write_address(s, kDestAddr, inside);
    for (std::size_t i = 0; i < cu.clients; ++i) {
        const std::size_t at = kClientRecords + i * kClientRecord;
        if (load32(s.data() + at) == alias) {
            write_address(s, at, inside);
            break;
        }
    }
    return 0;
}

struct proto_handler cuseeme_handlers[] = {
    {.pri = 120, .dir = OUT, .proto = UDP, .fingerprint = &fingerprint, .protohandler = &handle_out, .link = {}},
    {.pri = 120, .dir = IN, .proto = UDP, .fingerprint = &fingerprint, .protohandler = &handle_in, .link = {}},
    // End of handlers (EOH), spelled out so every member is initialised.
    {.pri = 0, .dir = NODIR, .proto = 0, .fingerprint = nullptr, .protohandler = nullptr, .link = {}},
};

constexpr uint16_t cuseeme_ports[] = {kCuSeeMePort, 0};

}  // namespace

extern const BuiltinHandlerSet kCuSeeMeHandlerSet;
const BuiltinHandlerSet kCuSeeMeHandlerSet{"cuseeme", cuseeme_handlers, cuseeme_ports};

}  // namespace nalias
