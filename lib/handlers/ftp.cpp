// SPDX-License-Identifier: BSD-2-Clause
//
// ftp.cpp: the FTP control-connection handler (RFC 959, RFC 2428), as
// libalias's alias_ftp module.
//
// Outbound on a control connection (TCP port 21):
//  - from a client behind the NAT, `PORT h1,..,p2` and `EPRT |1|a.b.c.d|p|`
//    name the client's own data endpoint; it becomes the alias address and
//    a fresh alias port, with a partial link (remote port unknown) waiting
//    for the server's active data connection;
//  - from a server behind the NAT (source port 21, e.g. published with
//    LibAliasRedirectPort), the `227` (PASV) and `229` (EPSV) replies name
//    the server's passive endpoint; rewritten the same way, the link waits
//    for the client's passive data connection.
// Inbound, a PORT/EPRT from an outside client to a server behind the NAT
// pre-creates the link for the server's active connection from port 20.
//
// Only the argument is replaced: the verb, the reply text and any further
// pipelined lines in the segment are kept.  A message is rewritten only
// when it is the first line of the segment, is complete (ends in CRLF) and
// the previous segment in that direction ended a line; a command split
// across segments passes untouched, as in libalias.  When the rewrite
// changes the length the cumulative sequence delta is recorded on the
// control link and the core shifts seq/ack numbers from then on.
#include "payload.hpp"

#include "../handler.hpp"

#include <netinet/in.h>
#include <netinet/ip.h>

#include <string_view>

namespace nalias {

namespace {

using payload::Cursor;
using payload::Edit;
using payload::Endpoint;
using payload::Segment;

constexpr uint16_t kFtpControlPort = 21;
constexpr uint16_t kFtpActiveDataPort = 20;  // RFC 959: the server's default data port (L-1)
// Longest control line parsed: PORT and 227 lines are well under 100 bytes;
// libalias gives up on anything above 128.
constexpr std::size_t kMaxControlLine = 256;
// Data endpoints below this are refused (libalias: IPPORT_RESERVED), so a
// client cannot open a path to a privileged service through the NAT.
constexpr uint16_t kLowestDataPort = 1024;

// protocol_flags bits on the control link: the last segment seen in that
// direction ended in the middle of a line.
constexpr int kOutMidLine = 0x1;
constexpr int kInMidLine = 0x2;

// ----- detect ------------------------------------------------------------

enum class FtpKind { kPort, kEprt, kPassive227, kExtPassive229 };

struct FtpMessage {
    FtpKind kind;
    Endpoint endpoint;          // network order; addr unset for 229
    std::size_t arg_offset;     // the host-port / EPRT / EPSV argument in the line
    std::size_t arg_length;
};

bool at_line_end(Cursor c) noexcept {
    c.skip_spaces();
    return c.done();
}

// `line` excludes its CRLF.  PORT and EPRT: verb, spaces, argument, end.
bool parse_command(std::string_view line, FtpMessage& m) noexcept {
    Cursor c{line.data(), line.data() + line.size()};
    const bool port = c.take_ci("PORT");
    if (!port && !c.take_ci("EPRT")) return false;
    if (c.skip_spaces() == 0) return false;
    const char* arg = c.pos;
    const bool ok = port ? payload::parse_host_port(c, m.endpoint) : payload::parse_eprt_argument(c, m.endpoint);
    if (!ok || !at_line_end(c)) return false;
    m.kind = port ? FtpKind::kPort : FtpKind::kEprt;
    m.arg_offset = static_cast<std::size_t>(arg - line.data());
    m.arg_length = static_cast<std::size_t>(c.pos - arg);
    return true;
}

// 227 and 229: the code, a space, free text, and the argument, which for
// 227 may stand in parentheses or bare (both are seen in the wild), and for
// 229 stands in parentheses (RFC 2428).
bool parse_reply(std::string_view line, FtpMessage& m) noexcept {
    Cursor c{line.data(), line.data() + line.size()};
    const bool pasv = c.take_ci("227 ");
    if (!pasv && !c.take_ci("229 ")) return false;
    if (pasv) {
        // With parentheses the tuple follows the first '(' (the text before
        // may hold digits); without, it is the first number.
        const std::size_t open = line.find('(', 4);
        const bool paren = open != std::string_view::npos;
        if (paren) c.pos = line.data() + open + 1;
        else while (!c.done() && !(c.peek() >= '0' && c.peek() <= '9')) ++c.pos;
        const char* arg = c.pos;
        if (!payload::parse_host_port(c, m.endpoint)) return false;
        m.kind = FtpKind::kPassive227;
        m.arg_offset = static_cast<std::size_t>(arg - line.data());
        m.arg_length = static_cast<std::size_t>(c.pos - arg);
        return !paren || c.take(')');
    }
    while (!c.done() && c.peek() != '(') ++c.pos;
    if (!c.take('(')) return false;
    const char* arg = c.pos;
    if (!payload::parse_epsv_argument(c, m.endpoint)) return false;
    m.kind = FtpKind::kExtPassive229;
    m.arg_offset = static_cast<std::size_t>(arg - line.data());
    m.arg_length = static_cast<std::size_t>(c.pos - arg);
    return c.take(')');
}

// The first line of the segment when it is complete and short enough.
bool first_line(const Segment& s, std::string_view& line) noexcept {
    const std::string_view text = s.text();
    const std::size_t crlf = payload::find_crlf(text.substr(0, kMaxControlLine + 2));
    if (crlf == std::string_view::npos || crlf > kMaxControlLine) return false;
    line = text.substr(0, crlf);
    return true;
}

void track_line_end(Link& l, const Segment& s, int bit) noexcept {
    if (s.size() == 0) return;
    const std::string_view t = s.text();
    const bool ended = t.size() >= 2 && t[t.size() - 2] == '\r' && t[t.size() - 1] == '\n';
    if (LinkExtra* e = l.ensure_extra()) e->protocol_flags = ended ? (e->protocol_flags & ~bit) : (e->protocol_flags | bit);
}

bool mid_line(const Link& l, int bit) noexcept { return l.extra() && (l.extra()->protocol_flags & bit); }

// ----- rewrite -----------------------------------------------------------

// The link for the data connection of `local` (the inside endpoint named in
// the message) with `remote`'s address and any remote port.  A retransmitted
// message finds the link its first copy created, so it is rewritten to the
// same bytes.
Link* data_link(Instance& la, uint32_t local_addr, uint16_t local_port, uint32_t remote, uint32_t alias) noexcept {
    if (Link* l = search_out(la, IPPROTO_TCP, local_addr, local_port, remote, 0)) return l;
    return add_link(la, local_addr, remote, alias, local_port, 0, kGetAliasPort, IPPROTO_TCP);
}

std::size_t format_argument(char* buf, std::size_t cap, FtpKind kind, uint32_t alias, uint16_t aport,
                            char delim) noexcept {
    switch (kind) {
    case FtpKind::kPort:
    case FtpKind::kPassive227:
        return payload::format_host_port(buf, cap, alias, aport);
    case FtpKind::kEprt: {
        // <d>1<d>a.b.c.d<d>port<d>
        if (cap < 4) return 0;
        std::size_t n = 0;
        buf[n++] = delim;
        buf[n++] = '1';
        buf[n++] = delim;
        const std::size_t a = payload::format_dotted(buf + n, cap - n, alias);
        if (a == 0) return 0;
        n += a;
        if (n >= cap) return 0;
        buf[n++] = delim;
        const std::size_t p = payload::format_decimal(buf + n, cap - n, ntohs(aport));
        if (p == 0 || n + p >= cap) return 0;
        n += p;
        buf[n++] = delim;
        return n;
    }
    case FtpKind::kExtPassive229: {
        if (cap < 4) return 0;
        std::size_t n = 0;
        for (int i = 0; i < 3; ++i) buf[n++] = delim;
        const std::size_t p = payload::format_decimal(buf + n, cap - n, ntohs(aport));
        if (p == 0 || n + p >= cap) return 0;
        n += p;
        buf[n++] = delim;
        return n;
    }
    }
    return 0;
}

void rewrite_outbound(Instance& la, Segment& s, Link& control, uint32_t alias, const FtpMessage& m,
                      std::string_view line) noexcept {
    const uint32_t sender = s.src();
    const uint32_t peer = s.dst();
    const uint32_t named = m.kind == FtpKind::kExtPassive229 ? sender : m.endpoint.addr;
    // The message must name the sender itself, on an unprivileged port.
    if (named != sender || ntohs(m.endpoint.port) < kLowestDataPort) return;
    Link* data = data_link(la, sender, m.endpoint.port, peer, alias);
    if (!data) return;
    char text[64];
    const char delim = (m.kind == FtpKind::kEprt || m.kind == FtpKind::kExtPassive229) ? line[m.arg_offset] : ',';
    const std::size_t n = format_argument(text, sizeof text, m.kind, alias, data->alias_port, delim);
    if (n == 0) return;
    payload::splice(s, &control, Edit{m.arg_offset, m.arg_length, std::string_view(text, n)});
}

int fingerprint(struct libalias*, struct alias_data* ad) {
    if (!ad || !ad->lnk || !ad->sport || !ad->dport || ad->maxpktsize == 0) return -1;
    return (ntohs(*ad->dport) == kFtpControlPort || ntohs(*ad->sport) == kFtpControlPort) ? 0 : -1;
}

int handle_out(struct libalias* la, struct ip* pip, struct alias_data* ad) {
    Segment s;
    if (!payload::tcp_segment(pip, ad->maxpktsize, s)) return 0;
    Link& control = *ad->lnk;
    const bool continues_line = mid_line(control, kOutMidLine);
    std::string_view line;
    FtpMessage m{};
    if (!continues_line && first_line(s, line)) {
        const bool from_client = ntohs(*ad->dport) == kFtpControlPort;
        if (from_client ? parse_command(line, m) : parse_reply(line, m))
            rewrite_outbound(*la, s, control, ad->aaddr->s_addr, m, line);
    }
    track_line_end(control, s, kOutMidLine);
    return 0;
}

// An outside client's active-mode request to a server behind the NAT: the
// server will connect from its port 20 to the endpoint named.
int handle_in(struct libalias* la, struct ip* pip, struct alias_data* ad) {
    Segment s;
    if (!payload::tcp_segment(pip, ad->maxpktsize, s)) return 0;
    Link& control = *ad->lnk;
    std::string_view line;
    FtpMessage m{};
    if (!mid_line(control, kInMidLine) && ntohs(*ad->dport) == kFtpControlPort && first_line(s, line) &&
        parse_command(line, m) && m.endpoint.addr != 0 && m.endpoint.port != 0) {
        // The inside server this control connection reached (ad->oaddr: an
        // LSNAT redirect may have picked one of several).
        const uint32_t server = ad->oaddr->s_addr;
        const uint16_t server_port = htons(kFtpActiveDataPort);
        if (!search_out(*la, IPPROTO_TCP, server, server_port, m.endpoint.addr, m.endpoint.port))
            add_link(*la, server, m.endpoint.addr, ad->aaddr->s_addr, server_port, m.endpoint.port, kGetAliasPort,
                     IPPROTO_TCP);
    }
    track_line_end(control, s, kInMidLine);
    return 0;
}

struct proto_handler ftp_handlers[] = {
    {.pri = 80, .dir = OUT, .proto = TCP, .fingerprint = &fingerprint, .protohandler = &handle_out, .link = {}},
    {.pri = 80, .dir = IN, .proto = TCP, .fingerprint = &fingerprint, .protohandler = &handle_in, .link = {}},
    {.pri = 0, .dir = NODIR, .proto = 0, .fingerprint = nullptr, .protohandler = nullptr, .link = {}},  // EOH
};

constexpr uint16_t ftp_ports[] = {kFtpControlPort, 0};

}  // namespace

extern const BuiltinHandlerSet kFtpHandlerSet;
const BuiltinHandlerSet kFtpHandlerSet{"ftp", ftp_handlers, ftp_ports};

}  // namespace nalias
