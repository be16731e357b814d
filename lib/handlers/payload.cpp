// SPDX-License-Identifier: BSD-2-Clause
#include "payload.hpp"

#include "../checksum.hpp"
#include "../wire.hpp"

#include <netinet/in.h>

#include <cstring>

namespace nalias::payload {

using namespace wire;

namespace {

constexpr std::size_t kMaxDatagram = 0xffff;  // ip_len is 16 bits

bool ip_view(struct ip* pip, uint16_t maxpktsize, uint8_t proto, Segment& s) noexcept {
    if (!pip || maxpktsize < ip::kMinHeader) return false;
    auto* p = reinterpret_cast<uint8_t*>(pip);
    const std::size_t hl = static_cast<std::size_t>(p[ip::kVerIhl] & 0x0f) * 4;
    const std::size_t total = get_be16(p + ip::kTotalLength);
    if (hl < ip::kMinHeader || total < hl || total > maxpktsize || p[ip::kProtocol] != proto) return false;
    s.ip = p;
    s.ip_hl = hl;
    s.total = total;
    s.capacity = maxpktsize;
    s.proto = proto;
    return true;
}

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Records the stream's new cumulative delta once per original segment: a
// retransmission of the same bytes finds its record and adds none, so the
// three-entry history is not flushed by a retransmitting peer.
void record_delta(Link& l, uint32_t seq, std::size_t old_len, int change) noexcept {
    const int delta = delta_seq_out(l, seq) + change;
    const uint32_t end_old = seq + static_cast<uint32_t>(old_len);
    if (l.extra()) {
        for (const SeqDelta& d : l.extra()->seq)
            if (d.valid && d.end_old == end_old && d.delta == delta) return;
    }
    add_seq(l, delta, seq, static_cast<uint32_t>(old_len));
}

}  // namespace

uint32_t Segment::src() const noexcept { return load32(ip + ip::kSrc); }
uint32_t Segment::dst() const noexcept { return load32(ip + ip::kDst); }
uint16_t Segment::sport() const noexcept { return load16(l4() + tcp::kSrcPort); }
uint16_t Segment::dport() const noexcept { return load16(l4() + tcp::kDstPort); }
uint32_t Segment::seq() const noexcept { return get_be32(l4() + tcp::kSeq); }

bool tcp_segment(struct ip* pip, uint16_t maxpktsize, Segment& s) noexcept {
    if (!ip_view(pip, maxpktsize, IPPROTO_TCP, s)) return false;
    if (s.total - s.ip_hl < tcp::kMinHeader) return false;
    const std::size_t off = static_cast<std::size_t>(s.l4()[tcp::kDataOffset] >> 4) * 4;
    if (off < tcp::kMinHeader || off > s.total - s.ip_hl) return false;
    s.l4_hl = off;
    return true;
}

bool udp_datagram(struct ip* pip, uint16_t maxpktsize, Segment& s) noexcept {
    if (!ip_view(pip, maxpktsize, IPPROTO_UDP, s)) return false;
    if (s.total - s.ip_hl < udp::kHeader) return false;
    s.l4_hl = udp::kHeader;
    return true;
}

namespace {

// One left-to-right pass over `edits` that applies either the growing ones
// or the others (same length or shrinking) to the `used` payload bytes and
// returns the new length.  An edit's original offset has moved by the
// changes of the edits to its left that are already applied: in the
// shrinking pass only the shrinking ones, in the growing pass all of them.
std::size_t apply_pass(uint8_t* data, std::size_t used, const Edit* edits, std::size_t count, bool growing) noexcept {
    std::ptrdiff_t shift = 0;
    for (std::size_t i = 0; i < count; ++i) {
        const Edit& e = edits[i];
        const bool grows = e.text.size() > e.length;
        if (grows == growing) {
            const std::size_t at = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(e.offset) + shift);
            const std::size_t tail = used - at - e.length;
            if (e.text.size() != e.length) std::memmove(data + at + e.text.size(), data + at + e.length, tail);
            std::memcpy(data + at, e.text.data(), e.text.size());
            used = used - e.length + e.text.size();
        }
        if (growing || !grows)
            shift += static_cast<std::ptrdiff_t>(e.text.size()) - static_cast<std::ptrdiff_t>(e.length);
    }
    return used;
}

}  // namespace

bool splice(Segment& s, Link* control, const Edit* edits, std::size_t count) noexcept {
    if (!s.ip || count == 0) return false;
    const std::size_t old_size = s.size();
    // Validate everything and compute the result's length before the first
    // byte moves, so a refusal leaves the packet untouched.
    std::size_t cursor = 0, length = s.total;
    for (std::size_t i = 0; i < count; ++i) {
        const Edit& e = edits[i];
        if (e.offset < cursor || e.offset > old_size || e.length > old_size - e.offset) return false;
        cursor = e.offset + e.length;
        length = length - e.length + e.text.size();
    }
    // Only the result has to fit, as in libalias (which builds it in a
    // separate buffer): the passes below never make the datagram longer
    // than max(original, result), since every shrinking edit is applied
    // before any growing one.  An address that grows by a digit next to a
    // port that shrinks by one thus needs no spare byte.
    if (length > s.capacity || length > kMaxDatagram) return false;
    // A TCP resize is only safe if its sequence delta can be recorded: the
    // record lives in the link's cold part, which may have to be allocated.
    // Without it the peer's view of the stream would drift, so out of
    // memory the segment is left as it came.
    if (s.proto == IPPROTO_TCP && control && length != s.total && !control->ensure_extra()) return false;

    uint8_t* const data = s.data();
    std::size_t used = apply_pass(data, old_size, edits, count, false);
    used = apply_pass(data, used, edits, count, true);

    const std::size_t new_total = s.total - old_size + used;
    if (new_total != s.total) {
        csum::patch16(s.ip + ip::kTotalLength, s.ip + ip::kChecksum, htons(static_cast<uint16_t>(new_total)));
        if (s.proto == IPPROTO_UDP)
            put_be16(s.l4() + udp::kLength, static_cast<uint16_t>(new_total - s.ip_hl));
    }
    const std::size_t old_total = s.total;
    s.total = new_total;
    if (s.proto == IPPROTO_TCP) {
        store16(s.l4() + tcp::kChecksum, csum::transport_checksum(s.ip, s.ip_hl, s.total, IPPROTO_TCP));
        if (control && new_total != old_total)
            record_delta(*control, s.seq(), old_size, static_cast<int>(new_total) - static_cast<int>(old_total));
    } else if (load16(s.l4() + udp::kChecksum) != 0) {
        // A zero UDP checksum means "none" (RFC 768) and stays so.
        store16(s.l4() + udp::kChecksum, csum::transport_checksum(s.ip, s.ip_hl, s.total, IPPROTO_UDP));
    }
    return true;
}

// ----- Cursor -----------------------------------------------------------

bool Cursor::take(char c) noexcept {
    if (pos >= end || *pos != c) return false;
    ++pos;
    return true;
}

bool Cursor::take_ci(std::string_view word) noexcept {
    if (left() < word.size()) return false;
    for (std::size_t i = 0; i < word.size(); ++i)
        if (lower(pos[i]) != lower(word[i])) return false;
    pos += word.size();
    return true;
}

std::size_t Cursor::skip_spaces() noexcept {
    std::size_t n = 0;
    while (pos < end && (*pos == ' ' || *pos == '\t')) {
        ++pos;
        ++n;
    }
    return n;
}

bool Cursor::number(uint32_t max_value, std::size_t max_digits, uint32_t& out) noexcept {
    const char* p = pos;
    uint64_t v = 0;
    std::size_t digits = 0;
    while (p < end && is_digit(*p)) {
        if (++digits > max_digits) return false;
        v = v * 10 + static_cast<uint64_t>(*p - '0');
        ++p;
    }
    if (digits == 0 || v > max_value) return false;
    out = static_cast<uint32_t>(v);
    pos = p;
    return true;
}

// ----- RFC 959 / RFC 2428 arguments --------------------------------------

bool parse_host_port(Cursor& c, Endpoint& out) noexcept {
    Cursor t = c;
    uint32_t f[6];
    for (int i = 0; i < 6; ++i) {
        if (i > 0 && !t.take(',')) return false;
        if (!t.number(255, 3, f[i])) return false;
    }
    out.addr = htonl((f[0] << 24) | (f[1] << 16) | (f[2] << 8) | f[3]);
    out.port = htons(static_cast<uint16_t>((f[4] << 8) | f[5]));
    c = t;
    return true;
}

bool parse_eprt_argument(Cursor& c, Endpoint& out) noexcept {
    Cursor t = c;
    if (t.done()) return false;
    const char delim = *t.pos++;
    if (delim < 33 || delim > 126 || is_digit(delim) || delim == '.') return false;
    if (!t.take('1') || !t.take(delim)) return false;  // address family 1: IPv4
    uint32_t a[4], port;
    for (int i = 0; i < 4; ++i) {
        if (i > 0 && !t.take('.')) return false;
        if (!t.number(255, 3, a[i])) return false;
    }
    if (!t.take(delim) || !t.number(65535, 5, port) || !t.take(delim)) return false;
    out.addr = htonl((a[0] << 24) | (a[1] << 16) | (a[2] << 8) | a[3]);
    out.port = htons(static_cast<uint16_t>(port));
    c = t;
    return true;
}

bool parse_epsv_argument(Cursor& c, Endpoint& out) noexcept {
    Cursor t = c;
    if (t.done()) return false;
    const char delim = *t.pos++;
    if (delim < 33 || delim > 126 || is_digit(delim)) return false;
    uint32_t port;
    if (!t.take(delim) || !t.take(delim) || !t.number(65535, 5, port) || !t.take(delim)) return false;
    out.port = htons(static_cast<uint16_t>(port));
    c = t;
    return true;
}

// ----- formatting ----------------------------------------------------------

std::size_t format_decimal(char* buf, std::size_t cap, uint32_t value) noexcept {
    char tmp[10];
    std::size_t n = 0;
    do {
        tmp[n++] = static_cast<char>('0' + value % 10);
        value /= 10;
    } while (value != 0);
    if (n > cap) return 0;
    for (std::size_t i = 0; i < n; ++i) buf[i] = tmp[n - 1 - i];
    return n;
}

namespace {

// Writes the fields joined by `sep`; 0 when `cap` is too small.
std::size_t format_fields(char* buf, std::size_t cap, const uint32_t* fields, std::size_t count, char sep) noexcept {
    std::size_t n = 0;
    for (std::size_t i = 0; i < count; ++i) {
        if (i > 0) {
            if (n >= cap) return 0;
            buf[n++] = sep;
        }
        const std::size_t w = format_decimal(buf + n, cap - n, fields[i]);
        if (w == 0) return 0;
        n += w;
    }
    return n;
}

}  // namespace

std::size_t format_host_port(char* buf, std::size_t cap, uint32_t addr, uint16_t port) noexcept {
    const uint32_t a = ntohl(addr);
    const uint16_t p = ntohs(port);
    const uint32_t f[6] = {a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff,
                           static_cast<uint32_t>(p >> 8), static_cast<uint32_t>(p & 0xff)};
    return format_fields(buf, cap, f, 6, ',');
}

std::size_t format_dotted(char* buf, std::size_t cap, uint32_t addr) noexcept {
    const uint32_t a = ntohl(addr);
    const uint32_t f[4] = {a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff};
    return format_fields(buf, cap, f, 4, '.');
}

std::size_t find_crlf(std::string_view text) noexcept {
    for (std::size_t i = 0; i + 1 < text.size(); ++i)
        if (text[i] == '\r' && text[i + 1] == '\n') return i;
    return std::string_view::npos;
}

std::size_t find_ci(std::string_view haystack, std::string_view needle, std::size_t from) noexcept {
    if (needle.empty() || needle.size() > haystack.size()) return std::string_view::npos;
    for (std::size_t i = from; i + needle.size() <= haystack.size(); ++i) {
        std::size_t k = 0;
        while (k < needle.size() && lower(haystack[i + k]) == lower(needle[k])) ++k;
        if (k == needle.size()) return i;
    }
    return std::string_view::npos;
}

}  // namespace nalias::payload
