// SPDX-License-Identifier: BSD-2-Clause
//
// Transparent-proxy rules: the LibAliasProxyRule parser, the per-packet
// match, and the two ways of telling the proxy server the original
// destination.  Parsing (detect) and encoding (rewrite) are kept apart.
#include "proxy.hpp"

#include "handlers/payload.hpp"
#include "translate.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>
#include <string_view>

namespace nalias {

// ----- rule list --------------------------------------------------------

void ProxyRules::add(const ProxyRule& r) {
    auto at = std::find_if(rules_.begin(), rules_.end(), [&](const ProxyRule& x) { return x.number >= r.number; });
    rules_.insert(at, r);
}

bool ProxyRules::remove(int number) noexcept {
    const auto before = rules_.size();
    rules_.erase(std::remove_if(rules_.begin(), rules_.end(), [&](const ProxyRule& x) { return x.number == number; }),
                 rules_.end());
    return rules_.size() != before;
}

// ----- parser -----------------------------------------------------------

namespace {

// libalias copies the command into a 256-byte buffer and refuses longer ones.
constexpr std::size_t kMaxCommandLength = 255;

// Whole-token decimal number in [lo, hi]; libalias's sscanf("%d") would also
// take "80abc" as 80, which nalias refuses as malformed.
bool parse_int(std::string_view s, long lo, long hi, long& out) noexcept {
    if (s.empty() || s.size() > 11) return false;
    std::size_t i = 0;
    bool negative = false;
    if (s[0] == '-' || s[0] == '+') {
        negative = s[0] == '-';
        i = 1;
        if (s.size() == 1) return false;
    }
    long v = 0;
    for (; i < s.size(); ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (s[i] - '0');
    }
    if (negative) v = -v;
    if (v < lo || v > hi) return false;
    out = v;
    return true;
}

// inet_aton, as libalias (it also takes the short and hex forms).
bool parse_addr(std::string_view s, uint32_t& out) noexcept {
    if (s.empty() || s.size() > 63) return false;
    char buf[64];
    std::memcpy(buf, s.data(), s.size());
    buf[s.size()] = '\0';
    in_addr a{};
    if (inet_aton(buf, &a) == 0) return false;
    out = a.s_addr;
    return true;
}

// "a.b.c.d[/bits]" for src and dst: a bare address means /32.
bool parse_masked(std::string_view s, uint32_t& addr, uint32_t& mask) noexcept {
    const std::size_t slash = s.find('/');
    long bits = 32;
    if (slash != std::string_view::npos && !parse_int(s.substr(slash + 1), 0, 32, bits)) return false;
    if (!parse_addr(s.substr(0, slash), addr)) return false;
    mask = bits == 0 ? 0 : htonl(~uint32_t{0} << (32 - bits));
    addr &= mask;
    return true;
}

// A port is numeric or, as in userland libalias, a service name looked up
// for the rule's protocol (which may be given after the port).
bool parse_port(std::string_view s, uint8_t proto, uint16_t& out) noexcept {
    long v;
    if (parse_int(s, 0, 65535, v)) {
        out = htons(static_cast<uint16_t>(v));
        return true;
    }
    if (s.empty() || s.size() > 63 || s[0] == '-' || s[0] == '+' || std::isdigit(static_cast<unsigned char>(s[0])))
        return false;
    char name[64];
    std::memcpy(name, s.data(), s.size());
    name[s.size()] = '\0';
    servent se{}, *found = nullptr;
    char buf[1024];
    if (getservbyname_r(name, proto == IPPROTO_UDP ? "udp" : "tcp", &se, buf, sizeof buf, &found) != 0 || !found)
        return false;
    out = static_cast<uint16_t>(found->s_port);
    return true;
}

// Every character isspace() accepts in the C locale.  libalias splits on
// blanks only, but reads each value with sscanf("%d") or "%s %s", which stop
// at any of these: natd and ipfw may hand over a line still ending in "\n"
// or "\r\n", and libalias accepts it.
constexpr std::string_view kSpace = " \t\r\n\v\f";

// Splits on runs of whitespace, skipping empty tokens, so that leading and
// trailing whitespace never makes a token of its own.
class Tokens {
public:
    explicit Tokens(std::string_view s) : rest_(s) {}
    bool next(std::string_view& tok) noexcept {
        const std::size_t b = rest_.find_first_not_of(kSpace);
        if (b == std::string_view::npos) return false;
        rest_.remove_prefix(b);
        const std::size_t e = std::min(rest_.find_first_of(kSpace), rest_.size());
        tok = rest_.substr(0, e);
        rest_.remove_prefix(e);
        return true;
    }

private:
    std::string_view rest_;
};

enum class ParseResult { kAdd, kDelete, kError };

// Parses one command into `rule` (kAdd) or `delete_number` (kDelete).  The
// command is already lower-cased.  Stricter than libalias in two ways,
// documented in docs/handlers.md: a keyword without its value, and tokens
// after `delete N`, are errors rather than ignored.
ParseResult parse_command(std::string_view cmd, ProxyRule& rule, int& delete_number) noexcept {
    Tokens toks(cmd);
    std::string_view key, value;
    std::string_view port_text, server_port_text;
    bool first = true;
    while (toks.next(key)) {
        if (!toks.next(value)) return ParseResult::kError;
        long n;
        if (key == "delete") {
            std::string_view extra;
            if (!first || !parse_int(value, INT_MIN, INT_MAX, n) || toks.next(extra)) return ParseResult::kError;
            delete_number = static_cast<int>(n);
            return ParseResult::kDelete;
        }
        first = false;
        if (key == "type") {
            if (value == "encode_ip_hdr") rule.type = kProxyEncodeIpHdr;
            else if (value == "encode_tcp_stream") rule.type = kProxyEncodeTcpStream;
            else if (value == "no_encode") rule.type = kProxyEncodeNone;
            else return ParseResult::kError;
        } else if (key == "port") {
            port_text = value;
        } else if (key == "server") {
            const std::size_t colon = value.find(':');
            if (colon != std::string_view::npos) {
                server_port_text = value.substr(colon + 1);
                if (server_port_text.empty()) return ParseResult::kError;
            } else {
                server_port_text = {};
            }
            if (!parse_addr(value.substr(0, colon), rule.server_addr)) return ParseResult::kError;
        } else if (key == "rule") {
            if (!parse_int(value, 0, INT_MAX, n)) return ParseResult::kError;
            rule.number = static_cast<int>(n);
        } else if (key == "proto") {
            if (value == "tcp") rule.proto = IPPROTO_TCP;
            else if (value == "udp") rule.proto = IPPROTO_UDP;
            else return ParseResult::kError;
        } else if (key == "src") {
            if (!parse_masked(value, rule.src_addr, rule.src_mask)) return ParseResult::kError;
        } else if (key == "dst") {
            if (!parse_masked(value, rule.dst_addr, rule.dst_mask)) return ParseResult::kError;
        } else {
            return ParseResult::kError;
        }
    }
    // Ports last: a symbolic port depends on `proto`, which may come later.
    if (!port_text.empty() && !parse_port(port_text, rule.proto, rule.port)) return ParseResult::kError;
    if (!server_port_text.empty() && !parse_port(server_port_text, rule.proto, rule.server_port))
        return ParseResult::kError;
    if (rule.server_addr == 0) return ParseResult::kError;  // `server` is mandatory
    return ParseResult::kAdd;
}

}  // namespace

int proxy_rule(Instance& la, const char* cmd) noexcept {
    if (!cmd) return -1;
    // libalias skips leading blanks before it measures the command.
    cmd += std::strspn(cmd, kSpace.data());
    const std::size_t len = strnlen(cmd, kMaxCommandLength + 1);
    if (len > kMaxCommandLength) return -1;
    char lowered[kMaxCommandLength + 1];
    for (std::size_t i = 0; i < len; ++i) lowered[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(cmd[i])));

    ProxyRule rule;
    int delete_number = 0;
    switch (parse_command(std::string_view(lowered, len), rule, delete_number)) {
    case ParseResult::kError:
        return -1;
    case ParseResult::kDelete:
        // libalias answers 0 whether or not a rule had that number (its
        // RuleNumberDelete result is overwritten); nalias keeps that answer.
        if (la.proxy) {
            la.proxy->remove(delete_number);
            if (la.proxy->empty()) la.proxy.reset();
        }
        return 0;
    case ParseResult::kAdd:
        break;
    }
    try {
        if (!la.proxy) la.proxy = std::make_unique<ProxyRules>();
        la.proxy->add(rule);
    } catch (...) {
        if (la.proxy && la.proxy->empty()) la.proxy.reset();
        return -1;
    }
    return 0;
}

// ----- packet path ------------------------------------------------------

ProxyTarget proxy_check(Instance& la, uint32_t src, uint32_t dst, uint16_t dport, uint8_t proto) noexcept {
    if (!la.proxy) return {};
    for (const ProxyRule& r : la.proxy->rules()) {
        if (r.matches(src, dst, dport, proto)) return {r.type, r.server_addr, r.server_port};
    }
    return {};
}

namespace {

using namespace wire;

// libalias's option: class 3 (reserved), number 4, length 8, followed by the
// original destination address and port.
constexpr uint8_t kDestOptionType = 0x64;
constexpr std::size_t kDestOptionLength = 8;
constexpr std::size_t kMaxIpHeader = 60;

// "[DEST a.b.c.d port]" padded to an even length with " \n" or "\n", as
// libalias pads it (the padding keeps later 16-bit checksum words aligned).
std::size_t format_dest_line(char* buf, std::size_t cap, uint32_t addr, uint16_t port) noexcept {
    char dotted[INET_ADDRSTRLEN];
    in_addr a{addr};
    if (!inet_ntop(AF_INET, &a, dotted, sizeof dotted)) return 0;
    const int n = std::snprintf(buf, cap, "[DEST %s %u]", dotted, static_cast<unsigned>(ntohs(port)));
    if (n <= 0 || static_cast<std::size_t>(n) + 2 >= cap) return 0;
    std::size_t len = static_cast<std::size_t>(n);
    if (len % 2 == 0) buf[len++] = ' ';
    buf[len++] = '\n';
    return len;
}

// A retransmission of the segment that got the line: its end and delta are
// already on record, so it gets the same line again (libalias would send it
// bare and desynchronise the stream).
bool is_first_data_again(const Link& l, uint32_t seq, std::size_t size, std::size_t line_len) noexcept {
    if (!l.extra()) return false;
    const int delta = delta_seq_out(l, seq) + static_cast<int>(line_len);
    for (const SeqDelta& d : l.extra()->seq) {
        if (d.valid && d.end_old == seq + static_cast<uint32_t>(size) && d.delta == delta) return true;
    }
    return false;
}

void encode_tcp_stream(Link& l, Datagram& d) noexcept {
    if (d.proto != IPPROTO_TCP || !l.extra()) return;
    payload::Segment s;
    const auto max = static_cast<uint16_t>(std::min<std::size_t>(d.max, 0xffff));
    if (!payload::tcp_segment(reinterpret_cast<struct ip*>(d.ip), max, s)) return;
    // Only a segment with data gets the line, never the SYN.
    if (s.size() == 0) return;
    char line[48];
    const std::size_t n = format_dest_line(line, sizeof line, l.extra()->proxy_addr, l.extra()->proxy_port);
    if (n == 0) return;
    if ((l.flags & kAckModified) && !is_first_data_again(l, s.seq(), s.size(), n)) return;
    if (!payload::splice(s, &l, payload::Edit{0, 0, std::string_view(line, n)})) return;
    d.len = s.total;
}

void encode_ip_header(const Link& l, Datagram& d) noexcept {
    if (!l.extra()) return;
    const std::size_t new_hl = d.hl + kDestOptionLength;
    const std::size_t new_len = d.len + kDestOptionLength;
    if (new_hl > kMaxIpHeader || new_len > d.max || new_len > 0xffff) return;
    // The option goes right after the fixed header, where libalias puts it,
    // so that it comes before any end-of-options marker already present.
    uint8_t* opt = d.ip + ip::kMinHeader;
    std::memmove(opt + kDestOptionLength, opt, d.len - ip::kMinHeader);
    opt[0] = kDestOptionType;
    opt[1] = static_cast<uint8_t>(kDestOptionLength);
    store32(opt + 2, l.extra()->proxy_addr);
    store16(opt + 6, l.extra()->proxy_port);
    d.ip[ip::kVerIhl] = static_cast<uint8_t>(0x40 | (new_hl / 4));
    put_be16(d.ip + ip::kTotalLength, static_cast<uint16_t>(new_len));
    // The whole header changed shape: recompute its checksum.  The
    // transport checksum does not cover the IP header, so it stays valid.
    csum::refresh_ip_header(d.ip, new_hl);
    d.hl = new_hl;
    d.len = new_len;
}

}  // namespace

void proxy_modify(Instance&, Link& l, Datagram& d, int type) noexcept {
    switch (type) {
    case kProxyEncodeIpHdr: encode_ip_header(l, d); break;
    case kProxyEncodeTcpStream: encode_tcp_stream(l, d); break;
    default: break;
    }
}

}  // namespace nalias
