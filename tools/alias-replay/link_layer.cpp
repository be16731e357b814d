// SPDX-License-Identifier: BSD-2-Clause
#include "link_layer.hpp"

#include <pcap/pcap.h>

namespace replay {

namespace {

constexpr uint16_t kEthertypeIPv4 = 0x0800;
constexpr uint16_t kEthertypeVlan = 0x8100;   // IEEE 802.1Q
constexpr uint16_t kEthertypeQinQ = 0x88a8;   // IEEE 802.1ad
constexpr int kMaxVlanTags = 2;
constexpr uint16_t kLinuxPacketOutgoing = 4;  // PACKET_OUTGOING in <linux/if_packet.h>
constexpr uint32_t kBsdAfInet = 2;            // AF_INET in DLT_NULL / DLT_LOOP headers

// DLT_IPV4 is missing from old libpcap headers; its value is fixed by tcpdump.org.
#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif

uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

FrameInfo ethernet(const uint8_t* f, std::size_t len) {
    FrameInfo info;
    std::size_t type_at = 12;
    for (int tags = 0; tags <= kMaxVlanTags; ++tags) {
        if (len < type_at + 2) return info;
        const uint16_t type = be16(f + type_at);
        if (type != kEthertypeVlan && type != kEthertypeQinQ) {
            info.complete = true;
            info.ipv4 = type == kEthertypeIPv4;
            info.ip_offset = type_at + 2;
            return info;
        }
        type_at += 4;
    }
    info.complete = true;  // more tags than any real network stacks: not for us
    return info;
}

FrameInfo raw_ip(const uint8_t* f, std::size_t len) {
    FrameInfo info;
    info.complete = len >= 1;
    info.ipv4 = info.complete && (f[0] >> 4) == 4;
    return info;
}

FrameInfo linux_cooked(const uint8_t* f, std::size_t len) {
    FrameInfo info;
    if (len < 16) return info;
    info.complete = true;
    info.ipv4 = be16(f + 14) == kEthertypeIPv4;
    info.ip_offset = 16;
    info.direction = be16(f) == kLinuxPacketOutgoing ? Direction::Out : Direction::In;
    return info;
}

FrameInfo linux_cooked_v2(const uint8_t* f, std::size_t len) {
    FrameInfo info;
    if (len < 20) return info;
    info.complete = true;
    info.ipv4 = be16(f) == kEthertypeIPv4;
    info.ip_offset = 20;
    info.direction = f[10] == kLinuxPacketOutgoing ? Direction::Out : Direction::In;
    return info;
}

FrameInfo bsd_loopback(const uint8_t* f, std::size_t len, bool network_order) {
    FrameInfo info;
    if (len < 4) return info;
    info.complete = true;
    // DLT_NULL stores the family in the capturing host's byte order, which
    // the file does not record; AF_INET reads as 2 one way or the other.
    const uint32_t be = uint32_t{f[0]} << 24 | uint32_t{f[1]} << 16 | uint32_t{f[2]} << 8 | f[3];
    const uint32_t le = uint32_t{f[3]} << 24 | uint32_t{f[2]} << 16 | uint32_t{f[1]} << 8 | f[0];
    info.ipv4 = be == kBsdAfInet || (!network_order && le == kBsdAfInet);
    info.ip_offset = 4;
    return info;
}

}  // namespace

LinkLayer::LinkLayer(int dlt) : dlt_(dlt), dlt_is_cooked_(dlt == DLT_LINUX_SLL || dlt == DLT_LINUX_SLL2) {}

std::optional<LinkLayer> LinkLayer::for_dlt(int dlt) {
    switch (dlt) {
    case DLT_EN10MB:
    case DLT_RAW:
    case DLT_IPV4:
    case DLT_LINUX_SLL:
    case DLT_LINUX_SLL2:
    case DLT_NULL:
    case DLT_LOOP:
        return LinkLayer(dlt);
    default:
        return std::nullopt;
    }
}

const char* LinkLayer::supported_list() {
    return "EN10MB (Ethernet, with 802.1Q tags), RAW, IPV4, LINUX_SLL, LINUX_SLL2, NULL, LOOP";
}

std::string LinkLayer::name() const {
    const char* n = pcap_datalink_val_to_description(dlt_);
    return n ? n : "DLT " + std::to_string(dlt_);
}

FrameInfo LinkLayer::decode(const uint8_t* frame, std::size_t caplen) const {
    switch (dlt_) {
    case DLT_EN10MB: return ethernet(frame, caplen);
    case DLT_LINUX_SLL: return linux_cooked(frame, caplen);
    case DLT_LINUX_SLL2: return linux_cooked_v2(frame, caplen);
    case DLT_NULL: return bsd_loopback(frame, caplen, false);
    case DLT_LOOP: return bsd_loopback(frame, caplen, true);
    default: return raw_ip(frame, caplen);
    }
}

}  // namespace replay
