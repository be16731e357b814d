// SPDX-License-Identifier: BSD-2-Clause
#include "checksum.hpp"

namespace nalias::csum {

uint32_t accumulate(const uint8_t* data, size_t len, uint32_t sum) noexcept {
    // 64-bit accumulation of 32-bit words defers carries; folded at the end.
    uint64_t acc = sum;
    while (len >= 4) {
        acc += wire::load32(data);
        data += 4;
        len -= 4;
    }
    if (len >= 2) {
        acc += wire::load16(data);
        data += 2;
        len -= 2;
    }
    if (len == 1) {
        uint8_t last[2] = {data[0], 0};
        acc += wire::load16(last);
    }
    while (acc >> 32) acc = (acc & 0xffffffffu) + (acc >> 32);
    uint32_t r = static_cast<uint32_t>(acc & 0xffff) + static_cast<uint32_t>((acc >> 16) & 0xffff);
    return r;
}

uint16_t transport_checksum(const uint8_t* ip, size_t hl, size_t total, uint8_t proto) noexcept {
    const size_t seglen = total - hl;
    uint8_t pseudo[12];
    std::memcpy(pseudo, ip + wire::ip::kSrc, 8);
    pseudo[8] = 0;
    pseudo[9] = proto;
    wire::put_be16(pseudo + 10, static_cast<uint16_t>(seglen));
    uint32_t sum = accumulate(pseudo, sizeof pseudo);
    const uint8_t* seg = ip + hl;
    const size_t cksum_off = proto == 6 ? wire::tcp::kChecksum : wire::udp::kChecksum;
    // Sum around the checksum field instead of zeroing it in place.
    sum = accumulate(seg, cksum_off, sum);
    if (seglen > cksum_off + 2) sum = accumulate(seg + cksum_off + 2, seglen - cksum_off - 2, sum);
    uint16_t c = finish(sum);
    if (proto == 17 && c == 0) c = 0xffff;
    return c;
}

void refresh_ip_header(uint8_t* ip, size_t hl) noexcept {
    wire::store16(ip + wire::ip::kChecksum, 0);
    wire::store16(ip + wire::ip::kChecksum, internet_checksum(ip, hl));
}

}  // namespace nalias::csum
