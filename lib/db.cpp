// SPDX-License-Identifier: BSD-2-Clause
#include "db.hpp"

#include "log.hpp"
#include "wire.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

namespace nalias {

namespace {

constexpr uint32_t kAddrNone = 0xffffffffu;  // INADDR_NONE in SetTarget
// libalias's GET_NEW_PORT_MAX_ATTEMPTS: random draws before giving up.
constexpr uint32_t kRandomPortAttempts = 20;
// Ranges this small are also scanned whole, so a free port is always found.
constexpr uint32_t kScanWholeRangeBelow = 256;

bool is_udp_tcp(uint16_t type) noexcept { return type == IPPROTO_TCP || type == IPPROTO_UDP; }

// Always inline: on the packet path a call costs as much as the compare.
[[gnu::always_inline]] inline Link* probe_out(Instance& la, uint16_t type, uint32_t src, uint16_t sport, uint32_t dst,
                                              uint16_t dport) noexcept {
    return la.links.find_out(FlowKey::out(src, dst, sport, dport, type));
}
[[gnu::always_inline]] inline Link* probe_in(Instance& la, uint16_t type, uint32_t alias, uint16_t aport,
                                             uint32_t dst, uint16_t dport) noexcept {
    return la.links.find_in(FlowKey::in(alias, dst, aport, dport, type));
}

// Drops a link found by a lookup when it is already due (libalias expires
// lazily in UseLink too); returns whether it was dropped.
bool drop_if_expired(Instance& la, Link* l) noexcept {
    if (!la.links.expired(*l, la.now)) return false;
    la.links.destroy_expired(l);
    return true;
}

// The NAT host's own traffic may belong to a link made for "the alias
// address" (local address 0), whatever that address is today.
inline bool from_nat_host(const Instance& la, uint32_t src) noexcept {
    return la.any_source_links && src != 0 && src == la.alias_addr;
}

// Unsolicited traffic for the NAT host itself needs no state (libalias
// would create a link for every probe of a port scan): the host's answers
// keep their address and port anyway (choose_alias_port).  Traffic for any
// other address that nothing redirects (a public host routed through the
// NAT, another address of the NAT host) gets libalias's identity link, so
// that its answer leaves as it was sent instead of masqueraded.
bool stays_with_nat_host(const Instance& la, uint32_t target, uint32_t alias) noexcept {
    return target == alias && (la.alias_addr == 0 || alias == la.alias_addr);
}

bool port_taken(Instance& la, const Link& f, uint16_t aport) noexcept {
    const uint32_t alias = f.alias_addr;
    if (la.links.find_in_before_insert(FlowKey::in(alias, f.dst_addr, aport, f.dst_port, f.type))) return true;
    if (la.partial_links) {
        if (f.dst_port && probe_in(la, f.type, alias, aport, f.dst_addr, 0)) return true;
        if (f.dst_addr && probe_in(la, f.type, alias, aport, 0, f.dst_port)) return true;
        if ((f.dst_addr || f.dst_port) && probe_in(la, f.type, alias, aport, 0, 0)) return true;
    }
    if (la.any_alias_links && alias != 0 && alias == la.alias_addr) {
        if (probe_in(la, f.type, 0, aport, f.dst_addr, f.dst_port)) return true;
        if (la.partial_links && (probe_in(la, f.type, 0, aport, f.dst_addr, 0) ||
                                 probe_in(la, f.type, 0, aport, 0, f.dst_port) || probe_in(la, f.type, 0, aport, 0, 0)))
            return true;
    }
    return false;
}

// USE_SOCKETS: hold the port on the host with a bound socket, so that no
// local program takes a port a partial link is waiting on.
int bind_placeholder(uint16_t type, uint16_t aport) noexcept {
    const int fd = ::socket(AF_INET, (type == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = aport;
    sa.sin_addr.s_addr = INADDR_ANY;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
        ::close(fd);
        return -2;
    }
    return fd;
}

// Chooses the alias port (or ICMP id) for a new link, as libalias's
// GetNewPort: the source port first with SAME_PORTS, then random draws in the
// alias port range.  Traffic of the NAT host itself also keeps its port, so
// that a reply from a local service matches what the peer sent to.
bool choose_alias_port(Instance& la, Link& f, int* sockfd) noexcept {
    const bool need_socket = (la.mode & PKT_ALIAS_USE_SOCKETS) && is_udp_tcp(f.type) && f.partial() &&
                             !(f.flags & (kNoSocket | kEimMapping));
    const bool keep_source = f.src_port != 0 &&
                             ((la.mode & PKT_ALIAS_SAME_PORTS) || (f.src_addr != 0 && f.src_addr == f.alias_addr));
    auto accept = [&](uint16_t aport_net) -> int {
        if (port_taken(la, f, aport_net)) return 0;
        if (need_socket) {
            const int fd = bind_placeholder(f.type, aport_net);
            if (fd == -1) return -1;  // no sockets at all: give up
            if (fd < 0) return 0;     // port busy on the host
            *sockfd = fd;
        }
        f.alias_port = aport_net;
        return 1;
    };
    if (keep_source) {
        const int r = accept(f.src_port);
        if (r != 0) return r > 0;
    }
    const uint32_t count = la.port_count;
    for (uint32_t i = 0; i < kRandomPortAttempts; ++i) {
        const uint16_t p = static_cast<uint16_t>(la.port_lower + la.random.below(count));
        const int r = accept(htons(p));
        if (r != 0) return r > 0;
    }
    if (count <= kScanWholeRangeBelow) {
        const uint32_t start = la.random.below(count);
        for (uint32_t i = 0; i < count; ++i) {
            const uint16_t p = static_cast<uint16_t>(la.port_lower + (start + i) % count);
            const int r = accept(htons(p));
            if (r != 0) return r > 0;
        }
    }
    return false;
}

void count_link(Instance& la, const Link& l, int sign) noexcept {
    if (l.partial()) la.partial_links += sign;
    if (l.alias_addr == 0 && l.type != kLinkFragmentId) la.any_alias_links += sign;
    if (l.src_addr == 0 && l.type != kLinkFragmentId) la.any_source_links += sign;
    if (l.type == kLinkAddress) la.addr_links += sign;
    la.live_by_kind[kind_index(l.type)] += sign;
}

// Hides `older` in the in index behind `newer` (same in-key): the newest
// wins, as in libalias, and deleting it brings the older one back.
void shadow(Instance& la, Link& older, Link& newer) noexcept {
    LinkExtra* ne = newer.ensure_extra();
    LinkExtra* oe = older.ensure_extra();
    if (!ne || !oe) return;
    la.links.erase_in(older);
    older.flags |= kShadowed;
    ne->shadowed = &older;
    oe->shadowed_by = &newer;
}

void unshadow_on_delete(Instance& la, Link& l) noexcept {
    LinkExtra* e = l.extra();
    if (!e) return;
    Link* older = e->shadowed;
    Link* newer = e->shadowed_by;
    if (older) older->extra()->shadowed_by = newer;
    if (newer) {
        newer->extra()->shadowed = older;
    } else if (older) {
        // The dying link still holds the key in the in index; release it
        // first, or the older link could not take it back.
        la.links.erase_in(l);
        older->flags &= ~kShadowed;
        la.links.insert_in(*older);
    }
    e->shadowed = e->shadowed_by = nullptr;
}

void on_link_destroyed(void* ctx, Link& l, bool expired) {
    auto& la = *static_cast<Instance*>(ctx);
    unshadow_on_delete(la, l);
    count_link(la, l, -1);
    if (l.extra() && l.extra()->sockfd >= 0) --la.placeholder_sockets;
    if (la.log) log_link_stats(la);
    (void)expired;
}

}  // namespace

void install_link_hooks(Instance& la) noexcept {
    la.links.instance = &la;
    la.links.on_destroy = &on_link_destroyed;
}

int kind_index(uint16_t type) noexcept {
    switch (type) {
    case IPPROTO_ICMP: return 0;
    case IPPROTO_UDP: return 1;
    case IPPROTO_TCP: return 2;
    case IPPROTO_SCTP: return 3;
    case kLinkPptp: return 4;
    case kLinkFragmentId: return 6;
    case kLinkAddress: return 7;
    default: return 5;
    }
}

uint32_t timeout_for_type(uint16_t type) noexcept {
    switch (type) {
    case IPPROTO_ICMP: return kIcmpExpireSeconds;
    case IPPROTO_UDP: return kUdpExpireSeconds;
    case IPPROTO_TCP: return kTcpExpireInitialSeconds;
    case kLinkFragmentId: return kFragmentIdExpireSeconds;
    case kLinkAddress: return 0;
    case kLinkPptp: return kTcpExpireConnectedSeconds;
    default: return kProtoExpireSeconds;
    }
}

uint32_t find_alias_address(Instance& la, uint32_t original) noexcept {
    if (la.addr_links) {
        Link* l = probe_out(la, kLinkAddress, original, 0, 0, 0);
        if (!l && from_nat_host(la, original)) l = probe_out(la, kLinkAddress, 0, 0, 0, 0);
        if (l && l->alias_addr) return l->alias_addr;
    }
    return la.alias_addr ? la.alias_addr : original;
}

uint32_t find_original_address(Instance& la, uint32_t alias) noexcept {
    Link* l = nullptr;
    if (la.addr_links) {
        l = probe_in(la, kLinkAddress, alias, 0, 0, 0);
        if (!l && la.alias_addr && alias == la.alias_addr) l = probe_in(la, kLinkAddress, 0, 0, 0, 0);
    }
    if (!l) {
        la.new_default_link = true;
        if (la.target_addr == 0) return alias;
        if (la.target_addr == kAddrNone) return la.alias_addr ? la.alias_addr : alias;
        return la.target_addr;
    }
    if (l->extra() && !l->extra()->servers.empty()) {
        LinkExtra& e = *l->extra();
        const LsnatServer& s = e.servers[e.next_server];
        e.next_server = (e.next_server + 1) % e.servers.size();
        return s.addr;
    }
    if (l->src_addr == 0) return la.alias_addr ? la.alias_addr : alias;
    return l->src_addr;
}

Link* add_link(Instance& la, uint32_t src, uint32_t dst, uint32_t alias, uint16_t sport, uint16_t dport,
               int alias_port_param, uint16_t type, uint16_t extra_flags, bool out_key_absent) noexcept {
    Link f;
    f.src_addr = src;
    f.dst_addr = dst;
    f.alias_addr = alias;
    f.src_port = sport;
    f.dst_port = dport;
    f.type = type;
    f.flags = extra_flags;
    int sockfd = -1;
    if (alias_port_param == kGetAliasPort) {
        if (!choose_alias_port(la, f, &sockfd)) return nullptr;
    } else {
        f.alias_port = static_cast<uint16_t>(alias_port_param);
    }
    const bool permanent = extra_flags & kPermanent;
    const uint32_t timeout = permanent ? 0 : timeout_for_type(type);
    bool index_out = type != kLinkFragmentId;

    // Same in-key as a live link: a redirect or a protocol link (many hosts
    // to one peer) takes over the key, newest first, as libalias's lists do.
    // A port chosen above was probed with this very in-key and found free.
    Link* same_in = alias_port_param == kGetAliasPort ? nullptr : la.links.find_in(f.in_key());
    Link* same_out = index_out && !out_key_absent ? la.links.find_out(f.out_key()) : nullptr;
    if (same_out && same_out == same_in && !same_out->permanent()) {
        delete_link(la, same_out);
        same_in = same_out = nullptr;
    }
    if (same_out && permanent && same_out->permanent()) {
        // A second redirect of the same inside endpoint (one server published
        // on two ports or addresses): as in libalias, the older one keeps
        // answering for the endpoint's outbound traffic, and the new one only
        // adds its inbound key.
        index_out = false;
        same_out = nullptr;
    }
    if (same_out) {
        if (same_out->permanent() || !permanent) {
            if (sockfd >= 0) ::close(sockfd);
            return nullptr;
        }
        delete_link(la, same_out);
        same_in = la.links.find_in(f.in_key());
    }
    // When it is indexed in at all, the in key is known to be absent: a
    // chosen port was probed with it, a given one looked up just above.
    Link* l = la.links.create(f, timeout, la.now, index_out, same_in == nullptr, true, out_key_absent);
    if (!l) {
        if (sockfd >= 0) ::close(sockfd);
        la.create_failed = true;
        return nullptr;
    }
    if (same_in) {
        shadow(la, *same_in, *l);
        la.links.insert_in(*l);
    }
    if (sockfd >= 0) {
        if (LinkExtra* e = l->ensure_extra()) {
            e->sockfd = sockfd;
            ++la.placeholder_sockets;
        } else {
            ::close(sockfd);
        }
    }
    count_link(la, *l, +1);
    if (la.log) log_link_stats(la);
    return l;
}

void delete_link(Instance& la, Link* l) noexcept { la.links.destroy(l); }

Link* relink(Instance& la, Link* old, uint32_t src, uint32_t dst, uint32_t alias, uint16_t sport, uint16_t dport,
             uint16_t aport, uint16_t type) noexcept {
    Link* n = add_link(la, src, dst, alias, sport, dport, aport, type);
    if (n && old->extra() && old->extra()->proxy_addr) {
        if (LinkExtra* e = n->ensure_extra()) {
            e->proxy_addr = old->extra()->proxy_addr;
            e->proxy_port = old->extra()->proxy_port;
        }
    }
    if (!old->permanent() && !(old->flags & kEimMapping)) delete_link(la, old);
    return n;
}

namespace {

// The established-flow path runs search -> find_link -> find_udp_tcp once per
// packet; these always-inline bodies let it do so without three calls.  The
// exported functions below are the same bodies for the other callers.
[[gnu::always_inline]] inline Link* search_out_inline(Instance& la, uint16_t type, uint32_t src, uint16_t sport,
                                                      uint32_t dst, uint16_t dport) noexcept {
    Link* l = probe_out(la, type, src, sport, dst, dport);
    if (l && drop_if_expired(la, l)) return nullptr;
    return l;
}

[[gnu::always_inline]] inline Link* search_in_inline(Instance& la, uint16_t type, uint32_t alias, uint16_t aport,
                                                     uint32_t dst, uint16_t dport) noexcept {
    Link* l = probe_in(la, type, alias, aport, dst, dport);
    if (l && drop_if_expired(la, l)) return nullptr;
    return l;
}

// The wildcard half of find_link_out, for when the exact key missed.
[[gnu::noinline]] Link* find_partial_out(Instance& la, uint16_t type, uint32_t src, uint16_t sport, uint32_t dst,
                                         uint16_t dport, bool replace_partial) noexcept {
    Link* l = nullptr;
    if (dport != 0 && dst != 0) {
        l = search_out(la, type, src, sport, dst, 0);
        if (!l) l = search_out(la, type, src, sport, 0, dport);
    }
    if (!l && (dport != 0 || dst != 0)) l = search_out(la, type, src, sport, 0, 0);
    if (l && replace_partial) l = relink(la, l, src, dst, l->alias_addr, sport, dport, l->alias_port, type);
    return l;
}

// The rest of find_link_out once the exact key missed: the wildcard keys,
// then, for the NAT host's own traffic, all of them again with local
// address 0 (libalias's FindLinkOut retries the same way).
[[gnu::noinline]] Link* find_link_out_slow(Instance& la, uint16_t type, uint32_t src, uint16_t sport, uint32_t dst,
                                           uint16_t dport, bool replace_partial) noexcept {
    Link* l = la.partial_links ? find_partial_out(la, type, src, sport, dst, dport, replace_partial) : nullptr;
    if (l || !from_nat_host(la, src)) return l;
    l = search_out(la, type, 0, sport, dst, dport);
    if (!l && la.partial_links) l = find_partial_out(la, type, 0, sport, dst, dport, replace_partial);
    return l;
}

// After the exact key missed, without replacing partial links: only the
// NAT host's own traffic has a second exact key, with local address 0.
[[gnu::noinline]] Link* find_host_out(Instance& la, uint16_t type, uint32_t src, uint16_t sport, uint32_t dst,
                                      uint16_t dport) noexcept {
    return from_nat_host(la, src) ? search_out(la, type, 0, sport, dst, dport) : nullptr;
}

[[gnu::always_inline]] inline Link* find_link_out_inline(Instance& la, uint16_t type, uint32_t src, uint16_t sport,
                                                         uint32_t dst, uint16_t dport, bool replace_partial) noexcept {
    Link* l = search_out_inline(la, type, src, sport, dst, dport);
    if (l || (!la.partial_links && !la.any_source_links)) return l;
    return find_link_out_slow(la, type, src, sport, dst, dport, replace_partial);
}

// The wildcard half of find_in_for_alias, for when the exact key missed.
[[gnu::noinline]] Link* find_partial_in(Instance& la, uint16_t type, uint32_t alias, uint16_t aport, uint32_t dst,
                                        uint16_t dport, bool replace_partial) noexcept {
    Link* l = nullptr;
    // Most specific wildcard first: remote port unknown, then remote
    // address unknown, then both.
    const bool deny_eim = la.mode & PKT_ALIAS_DENY_INCOMING;
    auto usable = [&](Link* c) { return c && !(deny_eim && (c->flags & kEimMapping)); };
    if (dport != 0 && dst != 0) {
        l = search_in(la, type, alias, aport, dst, 0);
        if (!usable(l)) l = search_in(la, type, alias, aport, 0, dport);
        if (!usable(l)) l = nullptr;
    }
    if (!l && (dport != 0 || dst != 0)) {
        l = search_in(la, type, alias, aport, 0, 0);
        if (!usable(l)) l = nullptr;
    }
    if (l && replace_partial) {
        uint32_t src = l->src_addr;
        uint16_t sport = l->src_port;
        if (l->extra() && !l->extra()->servers.empty()) {
            LinkExtra& e = *l->extra();
            const LsnatServer& s = e.servers[e.next_server];
            e.next_server = (e.next_server + 1) % e.servers.size();
            src = s.addr;
            sport = s.port;
        }
        l = relink(la, l, src, dst, alias, sport, dport, aport, type);
    }
    return l;
}

Link* find_in_for_alias(Instance& la, uint16_t type, uint32_t alias, uint16_t aport, uint32_t dst, uint16_t dport,
                        bool replace_partial) noexcept {
    Link* l = search_in(la, type, alias, aport, dst, dport);
    if (l || !la.partial_links) return l;
    return find_partial_in(la, type, alias, aport, dst, dport, replace_partial);
}

// What find_link_in tries once the exact key missed.
[[gnu::noinline]] Link* find_in_after_miss(Instance& la, uint16_t type, uint32_t alias, uint16_t aport, uint32_t dst,
                                           uint16_t dport, bool replace_partial) noexcept {
    Link* l = nullptr;
    if (la.partial_links) l = find_partial_in(la, type, alias, aport, dst, dport, replace_partial);
    // Redirects made with alias address 0 follow the instance's address.
    if (!l && la.any_alias_links && la.alias_addr != 0 && alias == la.alias_addr)
        l = find_in_for_alias(la, type, 0, aport, dst, dport, replace_partial);
    return l;
}

[[gnu::always_inline]] inline Link* find_link_in_inline(Instance& la, uint16_t type, uint32_t alias, uint16_t aport,
                                                        uint32_t dst, uint16_t dport, bool replace_partial) noexcept {
    Link* l = search_in_inline(la, type, alias, aport, dst, dport);
    if (l || (!la.partial_links && !la.any_alias_links)) return l;
    return find_in_after_miss(la, type, alias, aport, dst, dport, replace_partial);
}

}  // namespace

Link* search_out(Instance& la, uint16_t type, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport) noexcept {
    return search_out_inline(la, type, src, sport, dst, dport);
}

Link* search_in(Instance& la, uint16_t type, uint32_t alias, uint16_t aport, uint32_t dst, uint16_t dport) noexcept {
    return search_in_inline(la, type, alias, aport, dst, dport);
}

Link* find_link_out(Instance& la, uint16_t type, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
                    bool replace_partial) noexcept {
    return find_link_out_inline(la, type, src, sport, dst, dport, replace_partial);
}

Link* find_link_in(Instance& la, uint16_t type, uint32_t alias, uint16_t aport, uint32_t dst, uint16_t dport,
                   bool replace_partial) noexcept {
    return find_link_in_inline(la, type, alias, aport, dst, dport, replace_partial);
}

namespace {

// A new outbound flow, kept out of line so that the hit path stays small.
[[gnu::noinline]] Link* create_udp_tcp_out(Instance& la, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                                           uint8_t proto, bool eim) noexcept {
    const uint32_t alias = find_alias_address(la, src);
    if (eim) {
        Link* m = add_link(la, src, 0, alias, sport, 0, kGetAliasPort, IPPROTO_UDP, kEimMapping | kNoSocket);
        if (!m) return nullptr;
        // The mapping just took the flow's own key if the remote is all zeros.
        return add_link(la, src, dst, alias, sport, dport, m->alias_port, IPPROTO_UDP, 0, dst != 0 || dport != 0);
    }
    return add_link(la, src, dst, alias, sport, dport, kGetAliasPort, proto, 0, true);
}

}  // namespace

Link* find_udp_tcp_out(Instance& la, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint8_t proto,
                       bool create) noexcept {
    // Without `create` (LibAliasOutTry's probe) only a link made for this
    // very flow answers, as in libalias: turning a redirect or an EIM mapping
    // into a flow link would change the table, and natd -globalport probes
    // every instance in turn.
    Link* l = search_out_inline(la, proto, src, sport, dst, dport);
    if (!l && (la.partial_links || la.any_source_links))
        l = create ? find_link_out_slow(la, proto, src, sport, dst, dport, true)
                   : find_host_out(la, proto, src, sport, dst, dport);
    const bool eim = proto == IPPROTO_UDP && (la.mode & PKT_ALIAS_UDP_EIM);
    if (l) {
        if (eim && !(l->flags & kEimMapping)) {
            // Keep the endpoint's mapping alive while any of its flows is.
            if (Link* m = probe_out(la, IPPROTO_UDP, src, sport, 0, 0)) use_link(la, *m);
        }
        return l;
    }
    if (!create) return nullptr;
    return create_udp_tcp_out(la, src, dst, sport, dport, proto, eim);
}

namespace {

// Unsolicited inbound: kept out of line, as create_udp_tcp_out.
[[gnu::noinline]] Link* create_udp_tcp_in(Instance& la, uint32_t dst, uint32_t alias, uint16_t dport, uint16_t aport,
                                          uint8_t proto, bool* for_host) noexcept {
    const uint32_t target = find_original_address(la, alias);
    if (stays_with_nat_host(la, target, alias)) {
        if (for_host) *for_host = true;
        return nullptr;
    }
    return add_link(la, target, dst, alias, aport, dport, aport, proto);
}

}  // namespace

namespace {

// Replies count as use of the endpoint's mapping too: a host that mostly
// receives must not lose its port, nor see it handed to another host while
// its flows still arrive on it.
[[gnu::noinline]] void refresh_eim_mapping(Instance& la, const Link& flow) noexcept {
    if (flow.flags & kEimMapping) return;
    if (Link* m = probe_out(la, IPPROTO_UDP, flow.src_addr, flow.src_port, 0, 0)) use_link(la, *m);
}

}  // namespace

Link* find_udp_tcp_in(Instance& la, uint32_t dst, uint32_t alias, uint16_t dport, uint16_t aport, uint8_t proto,
                      bool create, bool* for_host) noexcept {
    Link* l = find_link_in_inline(la, proto, alias, aport, dst, dport, create);
    if ((la.mode & PKT_ALIAS_UDP_EIM) && l && proto == IPPROTO_UDP) refresh_eim_mapping(la, *l);
    if (l || !create || (la.mode & PKT_ALIAS_DENY_INCOMING)) return l;
    return create_udp_tcp_in(la, dst, alias, dport, aport, proto, for_host);
}

Link* find_icmp_out(Instance& la, uint32_t src, uint32_t dst, uint16_t id, bool create) noexcept {
    Link* l = find_link_out(la, IPPROTO_ICMP, src, id, dst, 0, false);
    if (l || !create) return l;
    return add_link(la, src, dst, find_alias_address(la, src), id, 0, kGetAliasPort, IPPROTO_ICMP);
}

Link* find_icmp_in(Instance& la, uint32_t dst, uint32_t alias, uint16_t id_alias, bool create,
                   bool* for_host) noexcept {
    Link* l = find_link_in(la, IPPROTO_ICMP, alias, id_alias, dst, 0, false);
    if (l || !create || (la.mode & PKT_ALIAS_DENY_INCOMING)) return l;
    const uint32_t target = find_original_address(la, alias);
    if (stays_with_nat_host(la, target, alias)) {
        if (for_host) *for_host = true;
        return nullptr;
    }
    return add_link(la, target, dst, alias, id_alias, 0, id_alias, IPPROTO_ICMP);
}

Link* find_proto_out(Instance& la, uint32_t src, uint32_t dst, uint8_t proto) noexcept {
    Link* l = find_link_out(la, proto, src, 0, dst, 0, true);
    if (l) return l;
    return add_link(la, src, dst, find_alias_address(la, src), 0, 0, 0, proto);
}

Link* find_proto_in(Instance& la, uint32_t dst, uint32_t alias, uint8_t proto, bool* for_host) noexcept {
    Link* l = find_link_in(la, proto, alias, 0, dst, 0, true);
    if (l || (la.mode & PKT_ALIAS_DENY_INCOMING)) return l;
    const uint32_t target = find_original_address(la, alias);
    if (stays_with_nat_host(la, target, alias)) {
        if (for_host) *for_host = true;
        return nullptr;
    }
    return add_link(la, target, dst, alias, 0, 0, 0, proto);
}

void set_expire(Instance& la, Link& l, int seconds) noexcept {
    if (seconds == 0) {
        delete_link(la, &l);
    } else if (seconds < 0) {
        la.links.make_permanent(l);
    } else {
        la.links.set_timeout(l, static_cast<uint32_t>(seconds), la.now);
    }
}

namespace {

void tcp_set_state(Instance& la, Link& l, bool inbound, uint8_t state) noexcept {
    const uint8_t other = inbound ? l.tcp_out : l.tcp_in;
    // Not a conditional lvalue: the states are bit-fields.
    if (inbound)
        l.tcp_in = state & 0xf;
    else
        l.tcp_out = state & 0xf;
    // Only a close, or the second side coming up, changes the timeout.
    // Redirects keep their permanence, but their state counts as well:
    // RedirectDynamic gives them the timeout it calls for.
    const bool moves = state == kTcpDisconnected || (state == kTcpConnected && other == kTcpConnected);
    if (moves && !l.permanent()) la.links.set_timeout(l, tcp_timeout_for_state(l), la.now);
}

}  // namespace

uint32_t tcp_timeout_for_state(const Link& l) noexcept {
    const bool in_closed = l.tcp_in == kTcpDisconnected, out_closed = l.tcp_out == kTcpDisconnected;
    if (in_closed || out_closed) {
        // One side closed while the other is still up, or both gone.
        const bool other_open = in_closed ? l.tcp_out == kTcpConnected : l.tcp_in == kTcpConnected;
        return other_open ? kTcpExpireSingleDeadSeconds : kTcpExpireDeadSeconds;
    }
    if (l.tcp_in == kTcpConnected && l.tcp_out == kTcpConnected) return kTcpExpireConnectedSeconds;
    return kTcpExpireInitialSeconds;
}

void tcp_monitor(Instance& la, Link& l, uint8_t flags, bool inbound) noexcept {
    // Redirect links follow the state too (as libalias's SetStateIn/Out do)
    // but keep their permanence whatever the flags say (tcp_set_state).
    const uint8_t state = inbound ? l.tcp_in : l.tcp_out;
    if (state == kTcpNotConnected) {
        if (flags & wire::tcp::kRst)
            tcp_set_state(la, l, inbound, kTcpDisconnected);
        else if (flags & wire::tcp::kSyn)
            tcp_set_state(la, l, inbound, kTcpConnected);
    } else if (state == kTcpConnected) {
        if (flags & (wire::tcp::kFin | wire::tcp::kRst)) tcp_set_state(la, l, inbound, kTcpDisconnected);
    }
}

void add_seq(Link& l, int delta, uint32_t seq_host, uint32_t payload_len) noexcept {
    LinkExtra* e = l.ensure_extra();
    if (!e) return;
    SeqDelta& d = e->seq[e->seq_next];
    d.end_old = seq_host + payload_len;
    d.end_new = d.end_old + static_cast<uint32_t>(delta);
    d.delta = delta;
    d.valid = true;
    e->seq_next = (e->seq_next + 1) % kSeqDeltaSlots;
    l.flags |= kAckModified;
}

int delta_seq_out(const Link& l, uint32_t seq_host) noexcept {
    if (!l.extra()) return 0;
    int delta = 0;
    int32_t best = INT32_MAX;
    for (const SeqDelta& d : l.extra()->seq) {
        if (!d.valid) continue;
        const int32_t diff = static_cast<int32_t>(seq_host - d.end_old);
        if (diff >= 0 && diff < best) {
            best = diff;
            delta = d.delta;
        }
    }
    return delta;
}

int delta_ack_in(const Link& l, uint32_t ack_host) noexcept {
    if (!l.extra()) return 0;
    int delta = 0;
    int32_t best = INT32_MAX;
    for (const SeqDelta& d : l.extra()->seq) {
        if (!d.valid) continue;
        const int32_t diff = static_cast<int32_t>(ack_host - d.end_new);
        if (diff >= 0 && diff < best) {
            best = diff;
            delta = d.delta;
        }
    }
    return delta;
}

void flush_links(Instance& la, bool keep_permanent) noexcept {
    la.links.clear(keep_permanent);
    // Saved fragments are dynamic state too (libalias keeps them as links,
    // which an address change clears with the rest).
    la.fragments.clear();
}

}  // namespace nalias
