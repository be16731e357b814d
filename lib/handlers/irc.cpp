// SPDX-License-Identifier: BSD-2-Clause
//
// irc.cpp: IRC DCC offers, as libalias's alias_irc module.
//
// A client behind the NAT offers a direct connection to another IRC user by
// sending, through the server, a CTCP message inside a PRIVMSG or NOTICE:
//     \001DCC <type> <argument> <address> <port>[ <more>]\001
// where <type> is CHAT, SEND, MOVE, TSEND, TMOVE, ..., <argument> a word or
// a "quoted file name", and <address> the client's IPv4 address as one
// unsigned decimal integer.  Outbound to the server (TCP 6667/6668), each
// offer naming the sender itself is rewritten to the alias address and a
// fresh alias port, with a link whose remote side is unknown waiting for
// the peer's connection.  Every offer in the segment is handled; the rest
// of the text is kept byte for byte.  An offer split across segments, or
// one that does not parse, passes untouched.  Length changes are recorded as
// sequence deltas on the control link.
#include "payload.hpp"

#include "../handler.hpp"

#include <netinet/in.h>
#include <netinet/ip.h>

#include <string_view>

namespace nalias {

namespace {

using payload::Cursor;
using payload::Edit;
using payload::Segment;

constexpr uint16_t kIrcPort = 6667;
constexpr uint16_t kIrcAltPort = 6668;
// Bounds on the fields of one offer: the type names are short words; file
// names longer than this are not offered by any client seen in practice.
constexpr std::size_t kMaxDccType = 16;
constexpr std::size_t kMaxDccArgument = 512;
// Offers rewritten per segment; a segment holding more is pathological.
constexpr std::size_t kMaxOffersPerSegment = 8;
// As libalias: offers of a privileged port are not honoured.
constexpr uint16_t kLowestDccPort = 1024;

constexpr char kCtcpDelim = '\001';

// ----- detect ------------------------------------------------------------

struct DccOffer {
    uint32_t addr;  // network order
    uint16_t port;  // network order
    std::size_t addr_offset, addr_length;
    std::size_t port_offset, port_length;
    std::size_t end;  // the closing \001
};

bool is_word_char(char c) noexcept { return c != ' ' && c != kCtcpDelim && c != '\r' && c != '\n' && c != '\0'; }

bool skip_word(Cursor& c, std::size_t max) noexcept {
    std::size_t n = 0;
    while (!c.done() && is_word_char(c.peek())) {
        if (++n > max) return false;
        ++c.pos;
    }
    return n > 0;
}

bool skip_argument(Cursor& c) noexcept {
    if (!c.take('"')) return skip_word(c, kMaxDccArgument);
    std::size_t n = 0;
    while (!c.done() && c.peek() != '"') {
        if (c.peek() == kCtcpDelim || c.peek() == '\r' || c.peek() == '\n' || ++n > kMaxDccArgument) return false;
        ++c.pos;
    }
    return c.take('"');
}

// Parses the offer whose "DCC" starts at `c` (just after the opening
// \001); offsets are relative to `base`.
bool parse_offer(Cursor c, const char* base, DccOffer& o) noexcept {
    if (!c.take('D') || !c.take('C') || !c.take('C')) return false;
    if (c.skip_spaces() == 0 || !skip_word(c, kMaxDccType)) return false;
    if (c.skip_spaces() == 0 || !skip_argument(c)) return false;
    if (c.skip_spaces() == 0) return false;
    const char* addr = c.pos;
    uint32_t a, p;
    if (!c.number(0xffffffffu, 10, a)) return false;
    o.addr_offset = static_cast<std::size_t>(addr - base);
    o.addr_length = static_cast<std::size_t>(c.pos - addr);
    if (c.skip_spaces() == 0) return false;
    const char* port = c.pos;
    if (!c.number(65535, 5, p)) return false;
    o.port_offset = static_cast<std::size_t>(port - base);
    o.port_length = static_cast<std::size_t>(c.pos - port);
    if (c.peek() != ' ' && c.peek() != kCtcpDelim) return false;
    // The whole CTCP message must be in this segment.
    while (!c.done() && c.peek() != kCtcpDelim) {
        if (c.peek() == '\r' || c.peek() == '\n') return false;
        ++c.pos;
    }
    if (c.done()) return false;
    o.end = static_cast<std::size_t>(c.pos - base);
    o.addr = htonl(a);
    o.port = htons(static_cast<uint16_t>(p));
    return true;
}

// ----- rewrite -----------------------------------------------------------

// The offer's link: the one a retransmission (or an earlier offer of the
// same port) made, else a new one, which `created` reports.
Link* dcc_link(Instance& la, uint32_t client, uint16_t port, uint32_t alias, bool& created) noexcept {
    created = false;
    if (Link* l = search_out(la, IPPROTO_TCP, client, port, 0, 0)) return l;
    Link* l = add_link(la, client, 0, alias, port, 0, kGetAliasPort, IPPROTO_TCP);
    created = l != nullptr;
    return l;
}

int fingerprint(struct libalias*, struct alias_data* ad) {
    if (!ad || !ad->lnk || !ad->dport || ad->maxpktsize == 0) return -1;
    const uint16_t d = ntohs(*ad->dport);
    return (d == kIrcPort || d == kIrcAltPort) ? 0 : -1;
}

int handle_out(struct libalias* la, struct ip* pip, struct alias_data* ad) {
    Segment s;
    if (!payload::tcp_segment(pip, ad->maxpktsize, s)) return 0;
    const std::string_view text = s.text();
    const uint32_t sender = s.src();
    const uint32_t alias = ad->aaddr->s_addr;

    char storage[kMaxOffersPerSegment][2][12];
    Edit edits[kMaxOffersPerSegment * 2];
    Link* created[kMaxOffersPerSegment];
    std::size_t offers = 0, fresh = 0;
    for (std::size_t at = text.find(kCtcpDelim); at != std::string_view::npos && offers < kMaxOffersPerSegment;
         at = text.find(kCtcpDelim, at + 1)) {
        DccOffer o;
        Cursor c{text.data() + at + 1, text.data() + text.size()};
        if (!parse_offer(c, text.data(), o)) continue;
        at = o.end;  // resume after this offer's closing delimiter
        if (o.addr == 0 || o.addr != sender || ntohs(o.port) < kLowestDccPort) continue;
        bool is_new = false;
        Link* data = dcc_link(*la, sender, o.port, alias, is_new);
        if (!data) continue;
        if (is_new) created[fresh++] = data;
        const std::size_t na = payload::format_decimal(storage[offers][0], sizeof storage[0][0], ntohl(alias));
        const std::size_t np = payload::format_decimal(storage[offers][1], sizeof storage[0][1], ntohs(data->alias_port));
        edits[offers * 2] = Edit{o.addr_offset, o.addr_length, std::string_view(storage[offers][0], na)};
        edits[offers * 2 + 1] = Edit{o.port_offset, o.port_length, std::string_view(storage[offers][1], np)};
        ++offers;
    }
    // The alias ports, and so the result's length, are only known once the
    // links exist.  If the rewrite is then refused, the offers go out naming
    // the client's own address, which nobody outside can reach: links made
    // for them would only hold alias ports until they expire.
    if (offers && !payload::splice(s, ad->lnk, edits, offers * 2))
        for (std::size_t i = 0; i < fresh; ++i) delete_link(*la, created[i]);
    return 0;
}

struct proto_handler irc_handlers[] = {
    {.pri = 90, .dir = OUT, .proto = TCP, .fingerprint = &fingerprint, .protohandler = &handle_out, .link = {}},
    {.pri = 0, .dir = NODIR, .proto = 0, .fingerprint = nullptr, .protohandler = nullptr, .link = {}},  // EOH
};

constexpr uint16_t irc_ports[] = {kIrcPort, kIrcAltPort, 0};

}  // namespace

extern const BuiltinHandlerSet kIrcHandlerSet;
const BuiltinHandlerSet kIrcHandlerSet{"irc", irc_handlers, irc_ports};

}  // namespace nalias
