// SPDX-License-Identifier: BSD-2-Clause
//
// rtsp.cpp: RTSP (RFC 2326) and RealNetworks PNA, the TCP half of
// libalias's alias_smedia module (its UDP half, TFTP, is in tftp.cpp).
//
// RTSP negotiates the UDP ports of each media stream in the Transport
// header of SETUP and of its reply:
//     Transport: RTP/AVP;unicast;client_port=8000-8001
//     Transport: RTP/AVP;unicast;client_port=8000-8001;server_port=6970-6971
// Outbound to an RTSP port (TCP 554, 7070, 8554), a client's SETUP has each
// `client_port` value replaced by a pair of alias ports (even-aligned, as
// libalias's FindNewPortGroup, so RTP keeps the even port and RTCP the odd
// one), with one UDP link per port whose remote side is unknown.  Outbound
// from an RTSP port, a server's "200" reply has `server_port` rewritten the
// same way.  Only the port digits change; the rest of the message is kept.
//
// The Transport header line must be complete (CRLF) within the segment and
// at most kMaxTransportLine long, every port value must be a number, or an
// n-(n+1) pair, followed by ';', ',' or the end of the line; anything else
// leaves the segment untouched.  (FreeBSD's SA-20:12 fixed overflows in this
// parser; here every field is bounded and the splice checks maxpktsize.)
//
// PNA, the protocol of early RealPlayers on TCP 7070, is a binary request
// "PNA" + version followed by (id, length, value) options; options 1 and 7
// carry the UDP port the client receives on, replaced in place by an alias
// port with a link for the server's stream.
#include "payload.hpp"

#include "../handler.hpp"
#include "../wire.hpp"

#include <netinet/in.h>
#include <netinet/ip.h>

#include <string_view>

namespace nalias {

namespace {

using payload::Cursor;
using payload::Edit;
using payload::Segment;

constexpr uint16_t kRtspPort = 554;
constexpr uint16_t kRtspAltPort = 7070;      // RealServer; also PNA
constexpr uint16_t kRtspUnprivPort = 8554;   // common unprivileged RTSP port
constexpr uint16_t kPortGroupSize = 2;       // RTP and RTCP
// A Transport header longer than this is refused rather than parsed.
constexpr std::size_t kMaxTransportLine = 1024;
// Port parameters rewritten in one Transport header (one per offered
// transport; clients offer two or three).
constexpr std::size_t kMaxPortParams = 8;
// Random draws for a free even-aligned pair, as libalias's
// GET_NEW_PORT_MAX_ATTEMPTS.
constexpr int kPortGroupAttempts = 20;
// PNA option walk bound: real requests carry a handful of options.
constexpr int kMaxPnaOptions = 64;
constexpr std::size_t kPnaHeader = 5;         // "PNA" + 16-bit version
constexpr uint16_t kPnaUdpPortOption = 1;     // client's UDP port
constexpr uint16_t kPnaAltUdpPortOption = 7;

bool is_rtsp_port(uint16_t host_port) noexcept {
    return host_port == kRtspPort || host_port == kRtspAltPort || host_port == kRtspUnprivPort;
}

// ----- detect ------------------------------------------------------------

struct PortParam {
    std::size_t offset, length;  // of the value in the payload
    uint16_t first;              // host order
    bool pair;                   // "n-(n+1)" rather than "n"
};

struct TransportPorts {
    PortParam params[kMaxPortParams];
    std::size_t count = 0;
};

enum class Parse { kNone, kFound, kMalformed };

// Finds every `name=value` in the Transport header line `line` (without
// CRLF) that starts at payload offset `base`.
Parse parse_port_params(std::string_view line, std::size_t base, std::string_view name, TransportPorts& out) noexcept {
    std::size_t from = 0;
    for (;;) {
        const std::size_t at = payload::find_ci(line, name, from);
        if (at == std::string_view::npos) break;
        from = at + name.size();
        // A parameter starts after ';' (possibly with blanks); "x_client_port" is another name.
        std::size_t before = at;
        while (before > 0 && (line[before - 1] == ' ' || line[before - 1] == '\t')) --before;
        if (before == 0 || line[before - 1] != ';') continue;
        Cursor c{line.data() + from, line.data() + line.size()};
        if (!c.take('=')) continue;
        const char* value = c.pos;
        uint32_t first, second = 0;
        if (!c.number(65535, 5, first) || first == 0) return Parse::kMalformed;
        const bool pair = c.take('-');
        if (pair && (!c.number(65535, 5, second) || second != first + 1)) return Parse::kMalformed;
        if (!c.done() && c.peek() != ';' && c.peek() != ',') return Parse::kMalformed;
        if (!pair && first == 65535) return Parse::kMalformed;  // its RTCP port would not exist
        if (out.count == kMaxPortParams) return Parse::kMalformed;
        out.params[out.count++] = PortParam{base + static_cast<std::size_t>(value - line.data()),
                                            static_cast<std::size_t>(c.pos - value), static_cast<uint16_t>(first),
                                            pair};
    }
    return out.count ? Parse::kFound : Parse::kNone;
}

// Walks the header lines after the start line for "Transport:".
Parse parse_transport(std::string_view text, std::string_view name, TransportPorts& out) noexcept {
    std::size_t line_start = 0;
    bool first_line = true;
    while (line_start < text.size()) {
        const std::string_view rest = text.substr(line_start);
        const std::size_t crlf = payload::find_crlf(rest.substr(0, kMaxTransportLine + 2));
        Cursor c{rest.data(), rest.data() + rest.size()};
        const bool transport = !first_line && c.take_ci("Transport:");
        if (crlf == std::string_view::npos) {
            // Headers other than Transport may be long (URLs, cookies); skip
            // them to their end, but a Transport line must be complete here.
            if (transport) return Parse::kMalformed;
            const std::size_t far = payload::find_crlf(rest);
            if (far == std::string_view::npos) return Parse::kNone;
            line_start += far + 2;
            first_line = false;
            continue;
        }
        if (crlf == 0) return Parse::kNone;  // end of headers
        if (transport) {
            const std::string_view line = rest.substr(0, crlf);
            const Parse r = parse_port_params(line, line_start, name, out);
            if (r != Parse::kNone) return r;
        }
        line_start += crlf + 2;
        first_line = false;
    }
    return Parse::kNone;
}

bool is_setup_request(std::string_view text) noexcept { return text.substr(0, 6) == "SETUP "; }

bool is_ok_reply(std::string_view text) noexcept {
    Cursor c{text.data(), text.data() + text.size()};
    uint32_t major, minor;
    return c.take_ci("RTSP/") && c.number(9, 1, major) && c.take('.') && c.number(9, 1, minor) &&
           c.skip_spaces() > 0 && c.take_ci("200") && (c.peek() == ' ' || c.peek() == '\r');
}

// ----- rewrite -----------------------------------------------------------

bool pair_free(Instance& la, uint32_t alias, uint16_t base) noexcept {
    for (uint16_t j = 0; j < kPortGroupSize; ++j)
        if (search_in(la, IPPROTO_UDP, alias, htons(static_cast<uint16_t>(base + j)), 0, 0)) return false;
    return true;
}

// Returns the alias base port (host order) of the pair of links for
// `local`:first and first+1, creating them when needed; 0 when no pair can
// be had.  A retransmitted SETUP finds the pair its first copy created.
uint16_t port_group(Instance& la, uint32_t local, uint16_t first, uint32_t alias) noexcept {
    Link* have[kPortGroupSize];
    for (uint16_t j = 0; j < kPortGroupSize; ++j)
        have[j] = search_out(la, IPPROTO_UDP, local, htons(static_cast<uint16_t>(first + j)), 0, 0);
    if (have[0] && have[1] && ntohs(have[1]->alias_port) == ntohs(have[0]->alias_port) + 1)
        return ntohs(have[0]->alias_port);
    for (Link* l : have)
        if (l && !l->permanent()) delete_link(la, l);

    uint16_t base = 0;
    if ((la.mode & PKT_ALIAS_SAME_PORTS) && (first % 2) == 0 && pair_free(la, alias, first)) base = first;
    const uint32_t span = la.port_count >= kPortGroupSize ? la.port_count - kPortGroupSize + 1 : 0;
    for (int i = 0; base == 0 && span > 0 && i < kPortGroupAttempts; ++i) {
        uint32_t b = la.port_lower + la.random.below(span);
        if (b % 2) b = (b + 1 < la.port_lower + span) ? b + 1 : b - 1;
        if (b >= la.port_lower && b % 2 == 0 && pair_free(la, alias, static_cast<uint16_t>(b)))
            base = static_cast<uint16_t>(b);
    }
    if (base == 0) return 0;
    Link* made[kPortGroupSize] = {};
    for (uint16_t j = 0; j < kPortGroupSize; ++j) {
        made[j] = add_link(la, local, 0, alias, htons(static_cast<uint16_t>(first + j)), 0,
                           htons(static_cast<uint16_t>(base + j)), IPPROTO_UDP);
        if (!made[j]) {
            for (uint16_t k = 0; k < j; ++k) delete_link(la, made[k]);
            return 0;
        }
    }
    return base;
}

void rewrite_transport(Instance& la, Segment& s, Link& control, uint32_t alias, std::string_view name) noexcept {
    TransportPorts ports;
    if (parse_transport(s.text(), name, ports) != Parse::kFound) return;
    const uint32_t local = s.src();
    char storage[kMaxPortParams][12];
    Edit edits[kMaxPortParams];
    for (std::size_t i = 0; i < ports.count; ++i) {
        const PortParam& p = ports.params[i];
        const uint16_t base = port_group(la, local, p.first, alias);
        if (base == 0) return;
        std::size_t n = payload::format_decimal(storage[i], sizeof storage[i], base);
        if (p.pair) {
            storage[i][n++] = '-';
            n += payload::format_decimal(storage[i] + n, sizeof storage[i] - n, base + 1u);
        }
        edits[i] = Edit{p.offset, p.length, std::string_view(storage[i], n)};
    }
    payload::splice(s, &control, edits, ports.count);
}

void rewrite_pna(Instance& la, Segment& s, Link& control, uint32_t alias) noexcept {
    const uint8_t* data = s.data();
    const std::size_t size = s.size();
    const uint32_t client = s.src();
    const uint32_t server = s.dst();
    uint16_t ports[kMaxPnaOptions];
    Edit edits[kMaxPnaOptions];
    std::size_t count = 0;
    std::size_t off = kPnaHeader;
    for (int i = 0; i < kMaxPnaOptions && size >= 4 && off <= size - 4; ++i) {
        const uint16_t id = wire::get_be16(data + off);
        const uint16_t len = wire::get_be16(data + off + 2);
        off += 4;
        if (id == 0) break;  // end of options
        if (len > size - off) break;
        if ((id == kPnaUdpPortOption || id == kPnaAltUdpPortOption) && len >= 2) {
            const uint16_t port = wire::load16(data + off);
            Link* l = search_out(la, IPPROTO_UDP, client, port, server, 0);
            if (!l) l = add_link(la, client, server, alias, port, 0, kGetAliasPort, IPPROTO_UDP);
            if (l) {
                ports[count] = l->alias_port;
                edits[count] = Edit{off, 2, std::string_view(reinterpret_cast<const char*>(&ports[count]), 2)};
                ++count;
            }
        }
        off += len;
    }
    if (count) payload::splice(s, &control, edits, count);
}

int fingerprint(struct libalias*, struct alias_data* ad) {
    if (!ad || !ad->lnk || !ad->sport || !ad->dport || ad->maxpktsize == 0) return -1;
    return (is_rtsp_port(ntohs(*ad->dport)) || is_rtsp_port(ntohs(*ad->sport))) ? 0 : -1;
}

int handle_out(struct libalias* la, struct ip* pip, struct alias_data* ad) {
    Segment s;
    if (!payload::tcp_segment(pip, ad->maxpktsize, s) || s.size() == 0) return 0;
    const uint32_t alias = ad->aaddr->s_addr;
    const std::string_view text = s.text();
    if (is_rtsp_port(ntohs(*ad->dport))) {
        if (is_setup_request(text))
            rewrite_transport(*la, s, *ad->lnk, alias, "client_port");
        else if (ntohs(*ad->dport) == kRtspAltPort && text.substr(0, 3) == "PNA")
            rewrite_pna(*la, s, *ad->lnk, alias);
    } else if (is_ok_reply(text)) {
        rewrite_transport(*la, s, *ad->lnk, alias, "server_port");
    }
    return 0;
}

struct proto_handler rtsp_handlers[] = {
    {.pri = 100, .dir = OUT, .proto = TCP, .fingerprint = &fingerprint, .protohandler = &handle_out, .link = {}},
    {.pri = 0, .dir = NODIR, .proto = 0, .fingerprint = nullptr, .protohandler = nullptr, .link = {}},  // EOH
};

constexpr uint16_t rtsp_ports[] = {kRtspPort, kRtspAltPort, kRtspUnprivPort, 0};

}  // namespace

extern const BuiltinHandlerSet kRtspHandlerSet;
// Named as libalias's module, so that loading FreeBSD's alias_smedia.so is refused
// as a duplicate instead of handling RTSP twice.
const BuiltinHandlerSet kRtspHandlerSet{"smedia", rtsp_handlers, rtsp_ports};

}  // namespace nalias
