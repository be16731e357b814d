// SPDX-License-Identifier: BSD-2-Clause
#include "packet.hpp"

namespace test {

uint16_t checksum(const uint8_t* data, std::size_t len, uint32_t sum) {
    for (std::size_t i = 0; i + 1 < len; i += 2) sum += static_cast<uint32_t>((data[i] << 8) | data[i + 1]);
    if (len & 1) sum += static_cast<uint32_t>(data[len - 1] << 8);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(~sum);
}

namespace {

uint32_t pseudo_sum(const Packet& p) {
    uint32_t s = 0;
    for (int i = 12; i < 20; i += 2) s += p.be16(static_cast<std::size_t>(i));
    s += p.proto();
    s += static_cast<uint32_t>(p.l4_len());
    return s;
}

uint16_t l4_sum(const Packet& p, std::size_t cksum_off) {
    std::vector<uint8_t> seg(p.l4(), p.l4() + p.l4_len());
    seg[cksum_off] = seg[cksum_off + 1] = 0;
    const bool pseudo = p.proto() == IPPROTO_TCP || p.proto() == IPPROTO_UDP;
    return checksum(seg.data(), seg.size(), pseudo ? pseudo_sum(p) : 0);
}

std::size_t cksum_offset(uint8_t proto) {
    return proto == IPPROTO_TCP ? 16 : proto == IPPROTO_UDP ? 6 : 2;
}

}  // namespace

std::string Packet::payload() const {
    std::size_t off = hl();
    if (proto() == IPPROTO_TCP) off += static_cast<std::size_t>(buf[off + 12] >> 4) * 4;
    else if (proto() == IPPROTO_UDP) off += 8;
    if (off > len()) return {};
    return std::string(reinterpret_cast<const char*>(&buf[off]), len() - off);
}

Packet ip_packet(uint8_t proto, in_addr src, in_addr dst, std::size_t l4_len, std::size_t capacity) {
    Packet p(capacity);
    p.buf[0] = 0x45;
    p.put16(2, static_cast<uint16_t>(20 + l4_len));
    p.put16(4, 0x1234);
    p.buf[8] = 64;
    p.buf[9] = proto;
    p.set_src(src);
    p.set_dst(dst);
    fix_checksums(p);
    return p;
}

void fix_checksums(Packet& p) {
    p.put16(10, 0);
    p.put16(10, checksum(p.data(), p.hl()));
    const uint8_t proto = p.proto();
    if (proto != IPPROTO_TCP && proto != IPPROTO_UDP && proto != IPPROTO_ICMP) return;
    if ((p.be16(6) & 0x1fff) != 0) return;
    const std::size_t off = cksum_offset(proto);
    if (p.l4_len() < off + 2) return;
    uint16_t c = l4_sum(p, off);
    if (proto == IPPROTO_UDP && c == 0) c = 0xffff;
    p.put16(p.hl() + off, c);
}

Packet udp_packet(in_addr src, uint16_t sport, in_addr dst, uint16_t dport, const std::string& payload,
                  std::size_t capacity) {
    Packet p = ip_packet(IPPROTO_UDP, src, dst, 8 + payload.size(), capacity);
    p.put16(20, sport);
    p.put16(22, dport);
    p.put16(24, static_cast<uint16_t>(8 + payload.size()));
    std::memcpy(&p.buf[28], payload.data(), payload.size());
    fix_checksums(p);
    return p;
}

Packet tcp_packet(in_addr src, uint16_t sport, in_addr dst, uint16_t dport, uint8_t flags, uint32_t seq,
                  uint32_t ack, const std::string& payload, std::size_t capacity) {
    Packet p = ip_packet(IPPROTO_TCP, src, dst, 20 + payload.size(), capacity);
    p.put16(20, sport);
    p.put16(22, dport);
    p.put32(24, seq);
    p.put32(28, ack);
    p.buf[32] = 5 << 4;
    p.buf[33] = flags;
    p.put16(34, 65535);
    std::memcpy(&p.buf[40], payload.data(), payload.size());
    fix_checksums(p);
    return p;
}

Packet icmp_echo(in_addr src, in_addr dst, uint16_t id, uint16_t seq, bool reply) {
    Packet p = ip_packet(IPPROTO_ICMP, src, dst, 8 + 16);
    p.buf[20] = reply ? 0 : 8;
    p.put16(24, id);
    p.put16(26, seq);
    for (int i = 0; i < 16; ++i) p.buf[28 + static_cast<std::size_t>(i)] = static_cast<uint8_t>('a' + i);
    fix_checksums(p);
    return p;
}

Packet icmp_error(in_addr src, in_addr dst, uint8_t type, uint8_t code, const Packet& offending,
                  std::size_t quote_bytes) {
    const std::size_t quoted = offending.hl() + quote_bytes;
    Packet p = ip_packet(IPPROTO_ICMP, src, dst, 8 + quoted);
    p.buf[20] = type;
    p.buf[21] = code;
    std::memcpy(&p.buf[28], offending.data(), quoted);
    fix_checksums(p);
    return p;
}

bool ip_checksum_ok(const Packet& p) { return checksum(p.data(), p.hl()) == 0; }

bool l4_checksum_ok(const Packet& p) {
    const uint8_t proto = p.proto();
    if (proto != IPPROTO_TCP && proto != IPPROTO_UDP && proto != IPPROTO_ICMP) return true;
    const std::size_t off = cksum_offset(proto);
    if (p.l4_len() < off + 2) return false;
    const uint16_t stored = p.be16(p.hl() + off);
    if (proto == IPPROTO_UDP && stored == 0) return true;
    uint16_t c = l4_sum(p, off);
    if (proto == IPPROTO_UDP && c == 0) c = 0xffff;
    return c == stored;
}

}  // namespace test
