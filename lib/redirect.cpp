// SPDX-License-Identifier: BSD-2-Clause
#include "redirect.hpp"

#include "db.hpp"
#include "log.hpp"
#include "proxy.hpp"
#include "translate.hpp"

#include <netinet/in.h>

#include <memory>
#include <new>
#include <utility>

namespace nalias {

namespace {

// A redirect handle is trusted only if it is one of this instance's
// permanent links: libalias crashes on a stale handle, nalias ignores it.
bool owns_redirect(Instance& la, const Link* l) noexcept {
    if (!l) return false;
    // Only permanent links can be redirect handles, so the search is over
    // the redirects, not over every flow.
    bool found = false;
    la.links.for_each_permanent([&](Link& x) { found = found || &x == l; });
    return found;
}

}  // namespace

Instance* init_instance(Instance* la) noexcept {
    if (!la) return new (std::nothrow) Instance();
    // Reset in place: the same pointer, every link gone, and the settings
    // libalias's LibAliasInit resets (alias and target address, port range,
    // mode) back to their defaults.  What libalias leaves alone survives:
    // the proxy rules, the Skinny port and the firewall rule range, which
    // natd and ipfw set once at start-up and do not repeat after a reset.
    // The nalias extensions (clock, link limit) survive too; the IPsec
    // module is reset (docs/ipsec.md).  Moving the rules out and back
    // allocates nothing, so the reset still cannot fail.
    const libalias_clock_fn clock = la->clock;
    void* clock_ctx = la->clock_ctx;
    const std::size_t limit = la->links.limit();
    std::unique_ptr<ProxyRules> proxy = std::move(la->proxy);
    const unsigned skinny_port = la->skinny_port;
    const unsigned fw_base = la->fw_base, fw_num = la->fw_num;
    la->~Instance();
    new (la) Instance();
    la->links.set_limit(limit);
    if (clock) set_clock(*la, clock, clock_ctx);
    la->proxy = std::move(proxy);
    la->skinny_port = skinny_port;
    la->fw_base = fw_base;
    la->fw_num = fw_num;
    return la;
}

void set_address(Instance& la, uint32_t addr) noexcept {
    if ((la.mode & PKT_ALIAS_RESET_ON_ADDR_CHANGE) && la.alias_addr != addr) flush_links(la, true);
    la.alias_addr = addr;
}

void set_port_range(Instance& la, uint16_t lo, uint16_t hi) noexcept {
    if (lo == 0) {
        la.port_lower = kDefaultPortLower;
        la.port_count = kDefaultPortCount;
    } else if (hi >= lo) {
        la.port_lower = lo;
        la.port_count = static_cast<uint32_t>(hi - lo) + 1;
    }
}

unsigned set_mode(Instance& la, unsigned flags, unsigned mask) noexcept {
    if (flags & mask & PKT_ALIAS_LOG) {
        if (!open_log(la)) return static_cast<unsigned>(-1);
    } else if (~flags & mask & PKT_ALIAS_LOG) {
        close_log(la);
    }
    la.mode = (flags & mask) | (la.mode & ~mask);
    return la.mode;
}

void set_clock(Instance& la, libalias_clock_fn fn, void* ctx) noexcept {
    la.clock = fn;
    la.clock_ctx = ctx;
    // Continue from the current instant: the new clock's value now becomes
    // the reference, so link ages carry over.
    if (fn) {
        la.last_clock = fn(ctx);
    } else {
        timespec ts;
        clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
        la.last_clock = static_cast<uint32_t>(ts.tv_sec);
    }
}

Link* redirect_port(Instance& la, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, uint32_t alias,
                    uint16_t aport, uint8_t proto) noexcept {
    if (proto != IPPROTO_TCP && proto != IPPROTO_UDP && proto != IPPROTO_SCTP) return nullptr;
    sample_clock(la);
    return add_link(la, src, dst, alias, sport, dport, aport == 0 ? kGetAliasPort : aport, proto, kPermanent);
}

Link* redirect_addr(Instance& la, uint32_t src, uint32_t alias) noexcept {
    sample_clock(la);
    return add_link(la, src, 0, alias, 0, 0, 0, kLinkAddress, kPermanent);
}

Link* redirect_proto(Instance& la, uint32_t src, uint32_t dst, uint32_t alias, uint8_t proto) noexcept {
    sample_clock(la);
    return add_link(la, src, dst, alias, 0, 0, 0, proto, kPermanent);
}

int redirect_dynamic(Instance& la, Link* l) noexcept {
    // libalias refuses any link with an unknown remote address or port, so
    // address and protocol redirects too (they have no port).
    if (!owns_redirect(la, l) || l->dst_addr == 0 || l->dst_port == 0) return -1;
    const uint32_t timeout = l->type == IPPROTO_TCP ? tcp_timeout_for_state(*l) : timeout_for_type(l->type);
    la.links.set_timeout(*l, timeout, la.now);
    return 0;
}

void redirect_delete(Instance& la, Link* l) noexcept {
    if (owns_redirect(la, l)) delete_link(la, l);
}

int add_server(Instance& la, Link* l, uint32_t addr, uint16_t port) noexcept {
    if (!owns_redirect(la, l)) return -1;
    LinkExtra* e = l->ensure_extra();
    if (!e) return -1;
    try {
        // The newest server is used first, then the older ones in turn
        // (libalias's circular list, entered at its newest element).
        e->servers.insert(e->servers.begin(), LsnatServer{addr, port});
    } catch (...) {
        return -1;
    }
    e->next_server = 0;
    // As in libalias, an LSNAT link serves inbound flows only: an inside
    // host's own outbound traffic must not be mistaken for a server's reply.
    la.links.erase_out(*l);
    return 0;
}

void fragment_in(void* header, void* fragment) noexcept {
    if (!header || !fragment) return;
    auto* h = static_cast<uint8_t*>(header);
    auto* f = static_cast<uint8_t*>(fragment);
    csum::patch32(f + wire::ip::kDst, f + wire::ip::kChecksum, wire::load32(h + wire::ip::kDst));
}

void* get_fragment(Instance& la, void* header) noexcept {
    if (!header) return nullptr;
    auto* h = static_cast<uint8_t*>(header);
    return la.fragments.take(wire::load32(h + wire::ip::kSrc), wire::load16(h + wire::ip::kId));
}

int save_fragment(Instance& la, void* fragment) noexcept {
    if (!fragment) return PKT_ALIAS_ERROR;
    auto* f = static_cast<uint8_t*>(fragment);
    sample_clock(la);
    return la.fragments.save(fragment, wire::load32(f + wire::ip::kSrc), wire::load16(f + wire::ip::kId), la.now)
               ? PKT_ALIAS_OK
               : PKT_ALIAS_ERROR;
}

int get_stats(Instance& la, alias_stats* out) noexcept {
    if (!out) return -1;
    const unsigned* k = la.live_by_kind;
    *out = alias_stats{};
    out->icmp = k[0];
    out->udp = k[1];
    out->tcp = k[2];
    out->sctp = k[3];
    out->pptp = k[4];
    out->proto = k[5];  // address links (k[7]) are in `total` only, as libalias counts them
    out->frag_id = k[6];
    out->frag_ptr = static_cast<unsigned>(la.fragments.size());
    out->total = static_cast<unsigned>(la.links.size());
    out->created = la.links.created;
    out->expired = la.links.expired_count;
    out->refused = la.links.refused;
    return 0;
}

int for_each_link(Instance& la, libalias_link_fn fn, void* ctx) noexcept {
    if (!fn) return -1;
    sample_clock(la);
    int result = 0;
    la.links.for_each([&](Link& l) {
        if (result != 0) return;
        alias_link_info info{};
        info.proto = l.type < 0x100 ? static_cast<unsigned char>(l.type) : 0;
        info.flags = static_cast<unsigned char>((l.permanent() ? LIBALIAS_LINK_PERMANENT : 0) |
                                                (l.partial() ? LIBALIAS_LINK_PARTIAL : 0));
        info.src_port = l.src_port;
        info.dst_port = l.dst_port;
        info.alias_port = l.alias_port;
        info.src_addr.s_addr = l.src_addr;
        info.dst_addr.s_addr = l.dst_addr;
        info.alias_addr.s_addr = effective_alias(la, l);
        info.idle = la.now - l.last_used;
        info.timeout = la.links.timeout_of(l);
        result = fn(&info, ctx);
    });
    return result;
}

}  // namespace nalias
