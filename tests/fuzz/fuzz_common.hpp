// SPDX-License-Identifier: BSD-2-Clause
//
// fuzz_common.hpp: shared pieces of the libFuzzer targets.
//
// Every target drives libalias through its public C API only.  Packets are
// placed in a buffer of exactly `maxpacketsize` bytes allocated on its own,
// so AddressSanitizer reports any read or write past the caller's buffer.
// A FuzzInput hands out bytes from the fuzzer's input and never fails: past
// the end it returns zeros, so every input is a valid program.
#pragma once

#include <alias.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace fuzz {

class FuzzInput {
public:
    FuzzInput(const uint8_t* data, std::size_t size) : data_(data), size_(size) {}
    uint8_t u8() { return pos_ < size_ ? data_[pos_++] : 0; }
    uint16_t u16() { return static_cast<uint16_t>(u8() << 8 | u8()); }
    uint32_t u32() { return static_cast<uint32_t>(u16()) << 16 | u16(); }
    std::size_t remaining() const { return size_ - pos_; }
    std::vector<uint8_t> bytes(std::size_t n) {
        n = n < remaining() ? n : remaining();
        std::vector<uint8_t> v(data_ + pos_, data_ + pos_ + n);
        pos_ += n;
        return v;
    }
    std::vector<uint8_t> rest() { return bytes(remaining()); }

private:
    const uint8_t* data_;
    std::size_t size_;
    std::size_t pos_ = 0;
};

// Runs one call on a private copy of `packet` in a buffer of exactly
// `maxsize` bytes (the packet is truncated or zero-padded to fit).
template <class Fn> int run_exact(const std::vector<uint8_t>& packet, int maxsize, Fn&& fn) {
    if (maxsize <= 0) return fn(static_cast<void*>(nullptr), maxsize);
    auto* buf = static_cast<uint8_t*>(std::malloc(static_cast<std::size_t>(maxsize)));
    if (!buf) return 0;
    std::memset(buf, 0, static_cast<std::size_t>(maxsize));
    const std::size_t n = packet.size() < static_cast<std::size_t>(maxsize) ? packet.size() : static_cast<std::size_t>(maxsize);
    if (n) std::memcpy(buf, packet.data(), n);
    const int r = fn(static_cast<void*>(buf), maxsize);
    std::free(buf);
    return r;
}

inline in_addr ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    in_addr x;
    const uint8_t bytes[4] = {a, b, c, d};
    std::memcpy(&x, bytes, 4);
    return x;
}

// Builds a syntactically valid IPv4 + TCP/UDP datagram around `payload` so
// that the fuzzer's bytes reach a protocol handler by construction.
std::vector<uint8_t> l4_datagram(uint8_t proto, in_addr src, uint16_t sport, in_addr dst, uint16_t dport,
                                 const std::vector<uint8_t>& payload, uint8_t tcp_flags, uint32_t seq);
// The same for a protocol without ports (payload right after the IP header).
std::vector<uint8_t> ip_datagram(uint8_t proto, in_addr src, in_addr dst, const std::vector<uint8_t>& payload);

}  // namespace fuzz
