// SPDX-License-Identifier: BSD-2-Clause
//
// tftp.cpp: TFTP (RFC 1350) transfers from clients behind the NAT.
//
// A TFTP client sends its read or write request to the server's port 69;
// the server answers from a NEW port (its transfer identifier, TID) to the
// client's port.  To the NAT that answer belongs to no link: the link of the
// request is keyed on remote port 69.  So, for each well-formed request
// outbound to port 69, this handler adds a link from the client's endpoint
// to the server's address with the remote port unknown, on the SAME alias
// port the request leaves from; the server's first answer completes it
// (ReLink) and the transfer flows both ways.
//
// libalias does this only as a side effect of its smedia (RTSP) module, for
// any UDP packet to port 69 without looking at it; here the request is
// parsed first (opcode RRQ/WRQ, a NUL-terminated file name and mode), so
// stray traffic to port 69 opens nothing.  No payload is rewritten: TFTP
// carries no addresses.
#include "payload.hpp"

#include "../handler.hpp"

#include <netinet/in.h>
#include <netinet/ip.h>

#include <string_view>

namespace nalias {

namespace {

using payload::Segment;

constexpr uint16_t kTftpPort = 69;
constexpr uint16_t kOpReadRequest = 1;
constexpr uint16_t kOpWriteRequest = 2;
// RFC 1350 requests fit in one 512-byte block; RFC 2347 options may make
// them longer, but never beyond a datagram a TFTP server accepts.
constexpr std::size_t kMaxRequest = 1472;
constexpr std::size_t kMaxFileName = 1024;

// ----- detect ------------------------------------------------------------

struct TftpRequest {
    uint16_t opcode;
    std::string_view file;
    std::string_view mode;
};

// The next NUL-terminated string from `text` at `at`; false when there is
// no terminator or the string is empty.
bool take_string(std::string_view text, std::size_t& at, std::size_t max, std::string_view& out) noexcept {
    const std::size_t nul = text.find('\0', at);
    if (nul == std::string_view::npos || nul == at || nul - at > max) return false;
    out = text.substr(at, nul - at);
    at = nul + 1;
    return true;
}

bool equals_ci(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && payload::find_ci(a, b) == 0;
}

bool parse_request(std::string_view text, TftpRequest& r) noexcept {
    if (text.size() < 2 || text.size() > kMaxRequest) return false;
    r.opcode = static_cast<uint16_t>((static_cast<uint8_t>(text[0]) << 8) | static_cast<uint8_t>(text[1]));
    if (r.opcode != kOpReadRequest && r.opcode != kOpWriteRequest) return false;
    std::size_t at = 2;
    if (!take_string(text, at, kMaxFileName, r.file) || !take_string(text, at, 16, r.mode)) return false;
    return equals_ci(r.mode, "netascii") || equals_ci(r.mode, "octet") || equals_ci(r.mode, "mail");
}

// ----- act -----------------------------------------------------------------

int fingerprint(struct libalias*, struct alias_data* ad) {
    if (!ad || !ad->lnk || !ad->sport || !ad->dport || !ad->aport) return -1;
    return ntohs(*ad->dport) == kTftpPort ? 0 : -1;
}

int handle_out(struct libalias* la, struct ip* pip, struct alias_data* ad) {
    Segment s;
    TftpRequest r;
    if (!payload::udp_datagram(pip, ad->maxpktsize, s) || !parse_request(s.text(), r)) return 0;
    const uint32_t client = s.src();
    const uint32_t server = s.dst();
    if (search_out(*la, IPPROTO_UDP, client, *ad->sport, server, 0)) return 0;
    add_link(*la, client, server, ad->aaddr->s_addr, *ad->sport, 0, *ad->aport, IPPROTO_UDP);
    return 0;
}

struct proto_handler tftp_handlers[] = {
    {.pri = 100, .dir = OUT, .proto = UDP, .fingerprint = &fingerprint, .protohandler = &handle_out, .link = {}},
    {.pri = 0, .dir = NODIR, .proto = 0, .fingerprint = nullptr, .protohandler = nullptr, .link = {}},  // EOH
};

constexpr uint16_t tftp_ports[] = {kTftpPort, 0};

}  // namespace

extern const BuiltinHandlerSet kTftpHandlerSet;
const BuiltinHandlerSet kTftpHandlerSet{"tftp", tftp_handlers, tftp_ports};

}  // namespace nalias
