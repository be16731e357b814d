// SPDX-License-Identifier: BSD-2-Clause
//
// packet.hpp: packet builders, named addresses and checks for tests.
//
// Tests drive the library only through the C API (alias.h).  A Packet is a
// byte buffer with an IPv4 header at offset 0, larger than the datagram so
// that handlers may grow it up to `capacity`.  Builders write network-order
// fields and valid checksums; checks recompute every checksum from scratch,
// so a test asserting `checksums_ok(p)` fails on any incremental-update bug.
#pragma once

#include <alias.h>

#include "guarded.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace test {

inline in_addr addr(const char* dotted) {
    in_addr a{};
    inet_pton(AF_INET, dotted, &a);
    return a;
}
inline std::string str(in_addr a) {
    char b[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &a, b, sizeof b);
    return b;
}
inline bool operator_eq(in_addr a, in_addr b) { return a.s_addr == b.s_addr; }

// Named addresses, as FreeBSD's libalias tests name them.
inline const in_addr masq = addr("85.214.10.12");   // the NAT's public (alias) address
inline const in_addr pub = addr("85.214.10.13");    // another public address of the NAT
inline const in_addr prv1 = addr("10.0.0.1");       // inside hosts
inline const in_addr prv2 = addr("10.0.0.2");
inline const in_addr prv3 = addr("192.168.0.3");
inline const in_addr cgn = addr("100.64.1.2");      // RFC 6598 shared space
inline const in_addr ext = addr("12.20.30.40");     // remote peers
inline const in_addr ext2 = addr("12.20.30.41");
inline const in_addr any_addr = addr("0.0.0.0");

uint16_t checksum(const uint8_t* data, std::size_t len, uint32_t sum = 0);

struct Packet {
    std::vector<uint8_t> buf;
    explicit Packet(std::size_t capacity = 1500) : buf(capacity, 0) {}
    uint8_t* data() { return buf.data(); }
    const uint8_t* data() const { return buf.data(); }
    int capacity() const { return static_cast<int>(buf.size()); }
    std::size_t hl() const { return static_cast<std::size_t>(buf[0] & 0x0f) * 4; }
    std::size_t len() const { return (static_cast<std::size_t>(buf[2]) << 8) | buf[3]; }
    uint8_t proto() const { return buf[9]; }
    uint8_t* l4() { return buf.data() + hl(); }
    const uint8_t* l4() const { return buf.data() + hl(); }
    std::size_t l4_len() const { return len() - hl(); }
    in_addr src() const { in_addr a; std::memcpy(&a, &buf[12], 4); return a; }
    in_addr dst() const { in_addr a; std::memcpy(&a, &buf[16], 4); return a; }
    void set_src(in_addr a) { std::memcpy(&buf[12], &a, 4); }
    void set_dst(in_addr a) { std::memcpy(&buf[16], &a, 4); }
    uint16_t be16(std::size_t off) const { return static_cast<uint16_t>((buf[off] << 8) | buf[off + 1]); }
    uint32_t be32(std::size_t off) const {
        return (uint32_t{buf[off]} << 24) | (uint32_t{buf[off + 1]} << 16) | (uint32_t{buf[off + 2]} << 8) | buf[off + 3];
    }
    void put16(std::size_t off, uint16_t v) { buf[off] = static_cast<uint8_t>(v >> 8); buf[off + 1] = static_cast<uint8_t>(v); }
    void put32(std::size_t off, uint32_t v) { put16(off, static_cast<uint16_t>(v >> 16)); put16(off + 2, static_cast<uint16_t>(v)); }
    // Transport fields (host order).
    uint16_t sport() const { return be16(hl()); }
    uint16_t dport() const { return be16(hl() + 2); }
    uint16_t icmp_id() const { return be16(hl() + 4); }
    uint32_t tcp_seq() const { return be32(hl() + 4); }
    uint32_t tcp_ack() const { return be32(hl() + 8); }
    std::string payload() const;  // TCP/UDP payload as a string
};

// An IPv4 datagram of `proto` with `payload_len` zero bytes after the
// transport header (none for unknown protocols), valid IP checksum.
Packet ip_packet(uint8_t proto, in_addr src, in_addr dst, std::size_t l4_len, std::size_t capacity = 1500);
// Builders that set the ports/flags and payload and recompute checksums.
Packet udp_packet(in_addr src, uint16_t sport, in_addr dst, uint16_t dport, const std::string& payload = "",
                  std::size_t capacity = 1500);
Packet tcp_packet(in_addr src, uint16_t sport, in_addr dst, uint16_t dport, uint8_t flags, uint32_t seq = 1000,
                  uint32_t ack = 0, const std::string& payload = "", std::size_t capacity = 1500);
Packet icmp_echo(in_addr src, in_addr dst, uint16_t id, uint16_t seq, bool reply = false);
// An ICMP error of `type`/`code` from `src` to `dst` quoting the first
// header plus `quote_bytes` of `offending`.
Packet icmp_error(in_addr src, in_addr dst, uint8_t type, uint8_t code, const Packet& offending,
                  std::size_t quote_bytes = 8);

constexpr uint8_t kSyn = 0x02, kAck = 0x10, kFin = 0x01, kRst = 0x04, kPsh = 0x08;

// Recomputes checksums in place after a test edits fields by hand.
void fix_checksums(Packet& p);

// Checks from scratch: IP header checksum, and the transport checksum (TCP,
// UDP unless zero, ICMP over the whole message).
bool ip_checksum_ok(const Packet& p);
bool l4_checksum_ok(const Packet& p);
inline bool checksums_ok(const Packet& p) { return ip_checksum_ok(p) && l4_checksum_ok(p); }

// An instance with libalias's defaults and the alias address set.
struct Nat {
    libalias* la;
    explicit Nat(in_addr alias = masq, unsigned mode = ~0u, unsigned mask = 0) : la(LibAliasInit(nullptr)) {
        LibAliasSetAddress(la, alias);
        if (mask) LibAliasSetMode(la, mode, mask);
    }
    ~Nat() { LibAliasUninit(la); }
    Nat(const Nat&) = delete;
    Nat& operator=(const Nat&) = delete;
    // With NALIAS_GUARD=1 each packet ends at a PROT_NONE page (guarded.hpp).
    int out(Packet& p) {
        return call_guarded(p.data(), p.capacity(), [&](void* b, int m) { return LibAliasOut(la, b, m); });
    }
    int in(Packet& p) {
        return call_guarded(p.data(), p.capacity(), [&](void* b, int m) { return LibAliasIn(la, b, m); });
    }
};

// xorshift64: a seeded, repeatable generator for the mutation tests.
struct XorShift64 {
    uint64_t state;
    uint64_t operator()() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return state;
    }
};

// A settable clock for LibAliasSetClock.
struct FakeClock {
    unsigned now = 1000;
    static unsigned read(void* self) { return static_cast<FakeClock*>(self)->now; }
    void attach(libalias* la) { LibAliasSetClock(la, &FakeClock::read, this); }
};

}  // namespace test
