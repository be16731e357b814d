// SPDX-License-Identifier: BSD-2-Clause
//
// pptp.cpp: PPTP (RFC 2637), as libalias's alias_pptp module: the control
// connection on TCP 1723 and the "enhanced GRE" (protocol 47, version 1)
// data packets it sets up.
//
// Why a NAT must touch PPTP.  Each call has two 16-bit Call IDs, one chosen
// by each end; a GRE packet carries, in its key field, the Call ID chosen by
// its *receiver*.  Two clients behind one alias address that both call the
// same server may choose the same Call ID, and the server's GRE packets to
// them would then be indistinguishable.  So the Call ID chosen by the inside
// end ("own" below) is replaced, in the control messages, by an "alias"
// Call ID unique per (alias address, server), and restored in the server's
// GRE packets on the way in.  The Call ID chosen by the outside end ("peer")
// needs no change; outbound GRE carries it and only needs its source
// address aliased.
//
// Data model: two links of type kLinkPptp per call, so that every packet
// path lookup is one probe of the link table's hash indexes (libalias
// scans a list of all PPTP links for every GRE packet instead):
//   call link   src=inside  dst=server  src_port=own  dst_port=0
//               alias_port=alias Call ID, allocated like an alias port.
//               In key (alias, server, alias id, 0): inbound GRE and
//               inbound control messages quoting our id.  Out key (inside,
//               server, own, 0): outbound control messages.
//               extra->protocol_flags = kPeerKnown | peer once known.
//   peer link   src=inside  dst=server  src_port=0  dst_port=peer
//               alias_port=0, created when a reply accepts the call.
//               Out key (inside, server, 0, peer): outbound GRE, and the
//               inbound Call-Clear-Request and Call-Disconnect-Notify,
//               which carry only the peer's id (their control connection
//               names the inside end).  The in key is unused: the peer's
//               ids are unique per control connection only, so two inside
//               hosts' peer links may share it.
//               extra->protocol_flags = own.
// Keys of the two kinds never collide: a call link has remote "port" 0, a
// peer link a nonzero one (a peer id of 0 gets no peer link; its GRE then
// takes the generic protocol path).  Using links rather than a private
// table means expiry, the link limit, LibAliasInit resets and the "pptp="
// statistics all apply unchanged; a call counts as two PPTP links.
//
// Control messages are handled when whole in one segment (as libalias; they
// are 16 to 220 bytes).  Every message of a segment is handled; the segment
// is left untouched when any message header in it is malformed.  Call IDs
// are fixed-size fields, so the TCP stream never changes length.
//
// GRE: the IP-class handler sees every non-TCP/UDP/ICMP first fragment.  It
// takes only enhanced GRE carrying PPP (the bits libalias checks) with a
// known call; it then rewrites the addresses itself, since for IP-class
// handlers the core does nothing more.  Anything else is declined and takes
// the generic protocol path (libalias passes unknown PPTP GRE untranslated).
#include "payload.hpp"

#include "../checksum.hpp"
#include "../handler.hpp"
#include "../wire.hpp"

#include <netinet/in.h>
#include <netinet/ip.h>

#include <climits>

namespace nalias {

namespace {

using namespace wire;

constexpr uint16_t kPptpControlPort = 1723;
constexpr uint32_t kPptpMagicCookie = 0x1a2b3c4d;
constexpr uint16_t kControlMessageType = 1;  // RFC 2637 2.1: 1 = control, 2 = management
// A call being cleared gets this long before it goes unless its
// Call-Disconnect-Notify deletes it first (nalias's choice; libalias waits
// for the notify or the 24 h PPTP link expiry).
constexpr int kCallClearingSeconds = 30;
// Messages examined per segment; a real segment holds a handful.
constexpr std::size_t kMaxMessagesPerSegment = 32;

enum PptpControl : uint16_t {
    kOutgoingCallRequest = 7,
    kOutgoingCallReply = 8,
    kIncomingCallRequest = 9,
    kIncomingCallReply = 10,
    kIncomingCallConnected = 11,
    kCallClearRequest = 12,
    kCallDisconnectNotify = 13,
    kWanErrorNotify = 14,
    kSetLinkInfo = 15,
};

// Control message layout (RFC 2637 2.1, 2.7-2.15): a 12-byte header, then
// the first Call ID field, the second, and in replies the result code.
constexpr std::size_t kHeaderLength = 12;
constexpr std::size_t kLengthField = 0, kPptpTypeField = 2, kMagicField = 4, kControlTypeField = 8;
constexpr std::size_t kFirstCallId = 12, kSecondCallId = 14, kResultCode = 16;
constexpr std::size_t kMinMessageLength = kSecondCallId + 2;
constexpr std::size_t kMinReplyLength = kResultCode + 1;
constexpr uint8_t kResultConnected = 1;  // Outgoing/Incoming-Call-Reply: call accepted

// Enhanced GRE (RFC 2637 4.1): flags+version, protocol, payload length,
// call id.  Mask and value as libalias: C=0 R=0 K=1 s=0 recur=0 flags=0
// version=1, protocol 0x880b (PPP); S and A may be either.
constexpr std::size_t kGreHeader = 8, kGreCallId = 6;
constexpr uint32_t kEnhancedGreMask = 0xef7fffff;
constexpr uint32_t kEnhancedGreValue = 0x2001880b;

// protocol_flags of the two link kinds.
constexpr int kPeerKnown = 0x10000;
constexpr int kCallIdMask = 0xffff;

// ----- detect ------------------------------------------------------------

struct ControlMessage {
    uint16_t type;         // control message type, host order
    std::size_t offset;    // of the message within the TCP payload
    uint16_t first_id;     // raw (network order)
    uint16_t second_id;    // raw
    uint8_t result;        // replies only
};

// Parses the control messages of one segment.  Returns false (segment to
// be left alone) when a message header is malformed; a trailing message cut
// short by the segment end is ignored.
bool parse_control(const uint8_t* data, std::size_t size, ControlMessage* out, std::size_t& count) noexcept {
    count = 0;
    std::size_t off = 0;
    while (size - off >= kHeaderLength && count < kMaxMessagesPerSegment) {
        const uint8_t* m = data + off;
        const std::size_t length = get_be16(m + kLengthField);
        if (get_be16(m + kPptpTypeField) != kControlMessageType || get_be32(m + kMagicField) != kPptpMagicCookie ||
            length < kHeaderLength)
            return false;
        const uint16_t type = get_be16(m + kControlTypeField);
        const bool reply = type == kOutgoingCallReply || type == kIncomingCallReply;
        const std::size_t needed = reply ? kMinReplyLength : kMinMessageLength;
        if (length > size - off) break;  // continues in the next segment
        if (type >= kOutgoingCallRequest && type <= kSetLinkInfo) {
            if (length < needed) return false;
            out[count++] = {type, off, load16(m + kFirstCallId), load16(m + kSecondCallId),
                            reply ? m[kResultCode] : uint8_t{0}};
        }
        off += length;
    }
    return true;
}

// ----- call state ---------------------------------------------------------

int flags_of(const Link& l) noexcept { return l.extra() ? l.extra()->protocol_flags : 0; }

Link* call_by_own_id(Instance& la, uint32_t inside, uint32_t server, uint16_t own) noexcept {
    return search_out(la, kLinkPptp, inside, own, server, 0);
}
Link* call_by_alias_id(Instance& la, uint32_t alias, uint32_t server, uint16_t alias_id) noexcept {
    return alias_id == 0 ? nullptr : search_in(la, kLinkPptp, alias, alias_id, server, 0);
}
Link* peer_link_out(Instance& la, uint32_t inside, uint32_t server, uint16_t peer) noexcept {
    return peer == 0 ? nullptr : search_out(la, kLinkPptp, inside, 0, server, peer);
}

// The call link a peer link belongs to, if both still agree.
Link* call_of_peer_link(Instance& la, const Link& p) noexcept {
    Link* c = call_by_own_id(la, p.src_addr, p.dst_addr, static_cast<uint16_t>(flags_of(p) & kCallIdMask));
    if (!c || flags_of(*c) != (kPeerKnown | p.dst_port)) return nullptr;
    return c;
}
// The peer link of a call link, if any.
Link* peer_of_call(Instance& la, const Link& c) noexcept {
    const int f = flags_of(c);
    if (!(f & kPeerKnown)) return nullptr;
    Link* p = peer_link_out(la, c.src_addr, c.dst_addr, static_cast<uint16_t>(f & kCallIdMask));
    if (!p || (flags_of(*p) & kCallIdMask) != c.src_port) return nullptr;
    return p;
}

Link* find_or_add_call(Instance& la, const Link& control, uint16_t own) noexcept {
    if (Link* c = call_by_own_id(la, control.src_addr, control.dst_addr, own)) return c;
    return add_link(la, control.src_addr, control.dst_addr, effective_alias(la, control), own, 0, kGetAliasPort,
                    kLinkPptp);
}

// Records the peer's Call ID of an accepted call and creates its peer link.
void set_peer(Instance& la, Link& call, uint16_t peer) noexcept {
    if (flags_of(call) == (kPeerKnown | peer) && peer_of_call(la, call)) return;
    if (Link* old = peer_of_call(la, call)) delete_link(la, old);
    LinkExtra* e = call.ensure_extra();
    if (!e) return;
    e->protocol_flags = 0;
    if (peer == 0) return;
    // A leftover peer link with this key belongs to a call the server has
    // since ended and reused the id of.
    if (Link* stale = peer_link_out(la, call.src_addr, call.dst_addr, peer)) delete_link(la, stale);
    Link* p = add_link(la, call.src_addr, call.dst_addr, effective_alias(la, call), 0, peer, 0, kLinkPptp);
    if (!p) return;
    LinkExtra* pe = p->ensure_extra();
    if (!pe) {
        delete_link(la, p);
        return;
    }
    pe->protocol_flags = call.src_port;
    e->protocol_flags = kPeerKnown | peer;
}

void end_call(Instance& la, Link* call) noexcept {
    if (Link* p = peer_of_call(la, *call)) delete_link(la, p);
    delete_link(la, call);
}

void start_clearing(Instance& la, Link& call) noexcept {
    if (Link* p = peer_of_call(la, call)) set_expire(la, *p, kCallClearingSeconds);
    set_expire(la, call, kCallClearingSeconds);
}

// The call an inbound message names by the peer's own Call ID.  Looked up
// by the control connection's inside end, not by the alias address: the
// peer chooses its Call IDs per control connection (RFC 2637 only makes
// them unique between one client and one server), so two inside hosts
// calling one server may well be given the same one, and their peer links
// then share the inbound key (alias, server, 0, peer).
Link* call_by_peer_id(Instance& la, const Link& control, uint16_t peer) noexcept {
    Link* p = peer_link_out(la, control.src_addr, control.dst_addr, peer);
    return p ? call_of_peer_link(la, *p) : nullptr;
}

// ----- rewrite --------------------------------------------------------------

// Writes a Call ID field of message `m`, fixing the TCP checksum.
void patch_call_id(const payload::Segment& s, const ControlMessage& m, std::size_t field, uint16_t value) noexcept {
    csum::patch16(s.data() + m.offset + field, s.l4() + tcp::kChecksum, value);
}

void control_out(Instance& la, const payload::Segment& s, const Link& control, const ControlMessage& m) noexcept {
    Link* call = nullptr;
    switch (m.type) {
    case kOutgoingCallRequest:
    case kIncomingCallRequest:
        if ((call = find_or_add_call(la, control, m.first_id))) {
            use_link(la, *call);
            patch_call_id(s, m, kFirstCallId, call->alias_port);
        }
        break;
    case kOutgoingCallReply:
    case kIncomingCallReply:
        // A call behind the NAT answering one from outside.
        call = m.result == kResultConnected ? find_or_add_call(la, control, m.first_id)
                                            : call_by_own_id(la, control.src_addr, control.dst_addr, m.first_id);
        if (!call) break;
        use_link(la, *call);
        patch_call_id(s, m, kFirstCallId, call->alias_port);
        if (m.result == kResultConnected) set_peer(la, *call, m.second_id);
        else end_call(la, call);
        break;
    case kCallClearRequest:
        if ((call = call_by_own_id(la, control.src_addr, control.dst_addr, m.first_id))) {
            patch_call_id(s, m, kFirstCallId, call->alias_port);
            start_clearing(la, *call);
        }
        break;
    case kCallDisconnectNotify:
        if ((call = call_by_own_id(la, control.src_addr, control.dst_addr, m.first_id))) {
            patch_call_id(s, m, kFirstCallId, call->alias_port);
            end_call(la, call);
        }
        break;
    default:
        break;  // the other messages carry the peer's id, or none
    }
}

void control_in(Instance& la, const payload::Segment& s, const Link& control, const ControlMessage& m) noexcept {
    const uint32_t alias = effective_alias(la, control);
    auto our_call = [&](uint16_t alias_id) -> Link* {
        Link* c = call_by_alias_id(la, alias, control.dst_addr, alias_id);
        return c && c->src_addr == control.src_addr ? c : nullptr;
    };
    Link* call = nullptr;
    switch (m.type) {
    case kIncomingCallConnected:
    case kWanErrorNotify:
    case kSetLinkInfo:
        if ((call = our_call(m.first_id))) {
            use_link(la, *call);
            patch_call_id(s, m, kFirstCallId, call->src_port);
        }
        break;
    case kOutgoingCallReply:
    case kIncomingCallReply:
        if (!(call = our_call(m.second_id))) break;
        use_link(la, *call);
        patch_call_id(s, m, kSecondCallId, call->src_port);
        if (m.result == kResultConnected) set_peer(la, *call, m.first_id);
        else end_call(la, call);
        break;
    case kCallClearRequest:
        if ((call = call_by_peer_id(la, control, m.first_id))) start_clearing(la, *call);
        break;
    case kCallDisconnectNotify:
        if ((call = call_by_peer_id(la, control, m.first_id))) end_call(la, call);
        break;
    default:
        break;
    }
}

// ----- handler entry points ---------------------------------------------------

int fingerprint_control(struct libalias*, struct alias_data* ad) {
    if (!ad->lnk || !ad->sport || !ad->dport) return -1;
    return ntohs(*ad->sport) == kPptpControlPort || ntohs(*ad->dport) == kPptpControlPort ? 0 : -1;
}

template <bool kOutbound>
int handle_control(struct libalias* la, struct ip* pip, struct alias_data* ad) {
    payload::Segment s;
    if (!payload::tcp_segment(pip, ad->maxpktsize, s)) return 0;
    ControlMessage msgs[kMaxMessagesPerSegment];
    std::size_t count = 0;
    if (!parse_control(s.data(), s.size(), msgs, count)) return 0;
    const Link& control = *ad->lnk;
    for (std::size_t i = 0; i < count; ++i) {
        if constexpr (kOutbound) control_out(*la, s, control, msgs[i]);
        else control_in(*la, s, control, msgs[i]);
    }
    return 0;
}

int fingerprint_gre(struct libalias*, struct alias_data*) { return 0; }

// The GRE header of an enhanced-GRE datagram, or nullptr.
uint8_t* enhanced_gre(struct ip* pip, uint16_t maxpktsize) noexcept {
    auto* p = reinterpret_cast<uint8_t*>(pip);
    if (maxpktsize < wire::ip::kMinHeader || p[wire::ip::kProtocol] != IPPROTO_GRE) return nullptr;
    const std::size_t hl = static_cast<std::size_t>(p[wire::ip::kVerIhl] & 0x0f) * 4;
    const std::size_t total = get_be16(p + wire::ip::kTotalLength);
    if (hl < wire::ip::kMinHeader || total > maxpktsize || total < hl || total - hl < kGreHeader) return nullptr;
    uint8_t* gre = p + hl;
    if ((get_be32(gre) & kEnhancedGreMask) != kEnhancedGreValue) return nullptr;
    return gre;
}

int handle_gre_out(struct libalias* la, struct ip* pip, struct alias_data* ad) {
    uint8_t* gre = enhanced_gre(pip, ad->maxpktsize);
    if (!gre) return -1;
    auto* p = reinterpret_cast<uint8_t*>(pip);
    const uint32_t src = load32(p + wire::ip::kSrc), dst = load32(p + wire::ip::kDst);
    Link* peer = peer_link_out(*la, src, dst, load16(gre + kGreCallId));
    if (!peer) return -1;
    // The call link is refreshed with the first packet of each clock second
    // only: one hash probe per packet otherwise.
    const bool refresh_call = peer->last_used != la->now;
    use_link(*la, *peer);
    if (refresh_call)
        if (Link* call = call_of_peer_link(*la, *peer)) use_link(*la, *call);
    csum::patch32(p + wire::ip::kSrc, p + wire::ip::kChecksum, effective_alias(*la, *peer));
    return 0;
}

int handle_gre_in(struct libalias* la, struct ip* pip, struct alias_data* ad) {
    uint8_t* gre = enhanced_gre(pip, ad->maxpktsize);
    if (!gre) return -1;
    if (la->mode & PKT_ALIAS_PROXY_ONLY) return 0;  // as libalias: passed as is
    auto* p = reinterpret_cast<uint8_t*>(pip);
    Link* call = call_by_alias_id(*la, load32(p + wire::ip::kDst), load32(p + wire::ip::kSrc), load16(gre + kGreCallId));
    if (!call) return -1;
    const bool refresh_peer = call->last_used != la->now;  // as above
    use_link(*la, *call);
    if (refresh_peer)
        if (Link* peer = peer_of_call(*la, *call)) use_link(*la, *peer);
    // Enhanced GRE has no checksum of its own (C is 0); only the IP header's.
    store16(gre + kGreCallId, call->src_port);
    csum::patch32(p + wire::ip::kDst, p + wire::ip::kChecksum, call->src_addr);
    return 0;
}

// Priorities as libalias; the GRE pair goes last because its fingerprint
// takes every IP-class packet.
struct proto_handler pptp_handlers[] = {
    {.pri = 200, .dir = IN, .proto = TCP, .fingerprint = &fingerprint_control,
     .protohandler = &handle_control<false>, .link = {}},
    {.pri = 210, .dir = OUT, .proto = TCP, .fingerprint = &fingerprint_control,
     .protohandler = &handle_control<true>, .link = {}},
    {.pri = INT_MAX, .dir = IN, .proto = IP, .fingerprint = &fingerprint_gre, .protohandler = &handle_gre_in,
     .link = {}},
    {.pri = INT_MAX, .dir = OUT, .proto = IP, .fingerprint = &fingerprint_gre, .protohandler = &handle_gre_out,
     .link = {}},
    // End of handlers (EOH), spelled out so every member is initialised.
    {.pri = 0, .dir = NODIR, .proto = 0, .fingerprint = nullptr, .protohandler = nullptr, .link = {}},
};

constexpr uint16_t pptp_ports[] = {kPptpControlPort, 0};

}  // namespace

extern const BuiltinHandlerSet kPptpHandlerSet;
const BuiltinHandlerSet kPptpHandlerSet{"pptp", pptp_handlers, pptp_ports};

}  // namespace nalias
