// SPDX-License-Identifier: BSD-2-Clause
//
// traffic.hpp: synthetic flows and packets for the benchmarks.
//
// Data model.  Flow number i is a pure function of i (no table to read), so
// a benchmark over a million flows touches the NAT's memory, not ours:
//   inside  10.0.0.0/16 host (i & 0xffff), source port 1024 + (i >> 16)
//   remote  12.0.0.0/8 host scrambled from i, port 443
// Only the alias port the NAT chose is remembered (two bytes per flow),
// because the inbound direction must address it.  Every flow goes through
// ONE alias address, so at a million flows alias ports are reused across
// distinct remote endpoints.
//
// A packet is rewritten in place by the NAT, so each send first writes the
// flow's addresses and ports into a reusable 64-byte buffer.  Checksums are
// not recomputed for each send: the NAT patches them incrementally (RFC 1624)
// and never verifies them, so any starting value costs it the same work.
#pragma once

#include <alias.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

namespace bench {

inline const in_addr kAlias = [] { in_addr a{}; inet_pton(AF_INET, "85.214.10.12", &a); return a; }();
constexpr uint16_t kRemotePort = 443;

// splitmix64: the scrambler for remote addresses and the benchmarks' PRNG.
inline uint64_t mix64(uint64_t x) noexcept {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

struct Rng {
    uint64_t s;
    explicit Rng(uint64_t seed) : s(seed) {}
    uint64_t next() noexcept { return mix64(s++); }
    uint32_t below(uint32_t n) noexcept { return static_cast<uint32_t>(((next() >> 32) * n) >> 32); }
};

struct Flow {
    uint32_t inside;   // network order
    uint32_t remote;   // network order
    uint16_t sport;    // host order
};

inline Flow flow(uint64_t i) noexcept {
    return {htonl(0x0a000000u | static_cast<uint32_t>(i & 0xffff)),
            htonl(0x0c000000u | static_cast<uint32_t>(mix64(i) & 0xffffff)),
            static_cast<uint16_t>(1024 + (i >> 16))};
}

// A 64-byte IPv4 datagram with a TCP or UDP header; fields written per send.
class Wire {
public:
    explicit Wire(uint8_t proto) : proto_(proto) {
        std::memset(buf_, 0, sizeof buf_);
        buf_[0] = 0x45;
        buf_[2] = 0;
        buf_[3] = kLen;
        buf_[8] = 64;  // TTL
        buf_[9] = proto;
        if (proto == IPPROTO_TCP) {
            buf_[20 + 12] = 5 << 4;  // data offset: 20 bytes
        } else {
            buf_[20 + 4] = 0;
            buf_[20 + 5] = kLen - 20;
        }
    }
    void* data() noexcept { return buf_; }
    static constexpr int size() noexcept { return sizeof(buf_); }

    void set(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint8_t tcp_flags = 0x10) noexcept {
        std::memcpy(buf_ + 12, &src, 4);
        std::memcpy(buf_ + 16, &dst, 4);
        const uint16_t s = htons(sport), d = htons(dport);
        std::memcpy(buf_ + 20, &s, 2);
        std::memcpy(buf_ + 22, &d, 2);
        if (proto_ == IPPROTO_TCP) buf_[20 + 13] = tcp_flags;
    }
    uint16_t sport() const noexcept { uint16_t v; std::memcpy(&v, buf_ + 20, 2); return ntohs(v); }
    uint16_t dport() const noexcept { uint16_t v; std::memcpy(&v, buf_ + 22, 2); return ntohs(v); }
    uint32_t src() const noexcept { uint32_t v; std::memcpy(&v, buf_ + 12, 4); return v; }
    uint32_t dst() const noexcept { uint32_t v; std::memcpy(&v, buf_ + 16, 4); return v; }

    // Outbound packet of flow i (SYN for a new TCP flow, ACK otherwise).
    void out(uint64_t i, uint8_t tcp_flags = 0x10) noexcept {
        const Flow f = flow(i);
        set(f.inside, f.remote, f.sport, kRemotePort, tcp_flags);
    }
    // Reply of flow i to the alias port it was given.
    void in(uint64_t i, uint16_t alias_port) noexcept {
        const Flow f = flow(i);
        set(f.remote, kAlias.s_addr, kRemotePort, alias_port, 0x10);
    }

private:
    static constexpr uint8_t kLen = 48;  // 20 IP + 20 TCP/8 UDP + payload; the buffer has room to spare
    alignas(8) uint8_t buf_[64];
    uint8_t proto_;
};

// A clock the benchmark advances by hand (LibAliasSetClock).
struct ManualClock {
    unsigned now = 1'000'000;
    static unsigned read(void* self) { return static_cast<ManualClock*>(self)->now; }
};

// Mode of every benchmark instance: natd's defaults (random alias ports,
// no placeholder sockets), the alias address set.
inline libalias* make_instance(ManualClock* clock = nullptr) {
    libalias* la = LibAliasInit(nullptr);
    LibAliasSetAddress(la, kAlias);
    LibAliasSetMode(la, 0, PKT_ALIAS_SAME_PORTS | PKT_ALIAS_USE_SOCKETS);
    if (clock) LibAliasSetClock(la, &ManualClock::read, clock);
    return la;
}

struct InstanceDeleter {
    void operator()(libalias* la) const noexcept { LibAliasUninit(la); }
};
using InstancePtr = std::unique_ptr<libalias, InstanceDeleter>;

// Bytes currently allocated from the heap (mallinfo2), and resident.
std::size_t heap_in_use() noexcept;
std::size_t rss_bytes() noexcept;

// An instance holding flows [0, n) with their alias ports.
struct Table {
    InstancePtr la;
    std::vector<uint16_t> alias_port;  // host order, by flow number
    uint8_t proto;
    uint64_t failed = 0;
    double rss_bytes_per_link = 0;  // resident-set growth while it was filled, this array excluded

    Table(uint8_t p, std::size_t n, ManualClock* clock = nullptr) : la(make_instance(clock)), proto(p) {
        alias_port.resize(n);  // touched now, so its pages are not counted below
        alias_port.clear();
        const std::size_t before = rss_bytes();
        grow(n);
        if (n) rss_bytes_per_link = (static_cast<double>(rss_bytes()) - static_cast<double>(before)) / static_cast<double>(n);
    }
    // Opens flows [size, n).
    void grow(std::size_t n) {
        Wire w(proto);
        for (std::size_t i = alias_port.size(); i < n; ++i) {
            w.out(i, 0x02);
            if (LibAliasOut(la.get(), w.data(), Wire::size()) != PKT_ALIAS_OK) ++failed;
            alias_port.push_back(w.sport());
        }
    }
    std::size_t size() const noexcept { return alias_port.size(); }
    // alias_port permuted into a visiting order: the loops that send replies
    // read it sequentially, so they add no random read of their own (at 1M
    // flows alias_port[order[k]] is one in a 2 MiB array, ahead of every
    // inbound lookup).
    std::vector<uint16_t> ports_in(const std::vector<uint32_t>& order) const {
        std::vector<uint16_t> ports(order.size());
        for (std::size_t k = 0; k < order.size(); ++k) ports[k] = alias_port[order[k]];
        return ports;
    }
};

// A random visiting order of [0, n), read sequentially by the benchmarks.
std::vector<uint32_t> shuffled(std::size_t n, uint64_t seed);

// Heap calls made by this process so far (malloc, calloc, realloc), counted
// by the interposers in alloc_count.cpp.
uint64_t heap_calls() noexcept;

// Modes beside the Google Benchmark phases.
int run_perf_shape(int argc, char** argv);
int run_pauses(int argc, char** argv);
int run_hit_loop(int argc, char** argv);

}  // namespace bench
