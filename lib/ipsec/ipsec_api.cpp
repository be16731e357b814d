// SPDX-License-Identifier: BSD-2-Clause
//
// The module's control surface: the internal operations first, then the
// exported LibAliasIpsec* entry points, each a one-line forward (the same
// shape as lib/capi.cpp; they live here so the module stays one directory).
#include "ipsec.hpp"

#include "../c_boundary.hpp"
#include "../db.hpp"

#include <algorithm>

namespace nalias {

namespace {

int set_enabled(Instance& la, bool on) noexcept {
    IpsecState* s = ipsec_state(la);
    if (!s) return -1;
    const int was = s->enabled ? 1 : 0;
    if (!on && s->enabled) s->clear();
    s->enabled = on;
    return was;
}

int set_timeouts(Instance& la, unsigned ike_idle, unsigned spi_idle, unsigned pending) noexcept {
    IpsecState* s = ipsec_state(la);
    if (!s) return -1;
    auto pick = [](unsigned given, uint32_t fallback) -> uint32_t {
        return given ? std::min<uint32_t>(given, kIpsecMaxTimeoutSeconds) : fallback;
    };
    s->ike_idle = pick(ike_idle, kIpsecIkeIdleSeconds);
    s->spi_idle = pick(spi_idle, kIpsecSpiIdleSeconds);
    s->pending = pick(pending, kIpsecPendingSeconds);
    return 0;
}

int get_bindings(Instance& la, alias_ipsec_binding* out, unsigned max) noexcept {
    IpsecState* s = la.ipsec.get();
    if (!s) return 0;
    sample_clock(la);
    const uint32_t now = la.now;
    unsigned n = 0;
    auto emit = [&](const alias_ipsec_binding& b) {
        if (out && n < max) out[n] = b;
        ++n;
    };
    s->for_each_ike([&](const IkeExchange& e) {
        if (now - e.last_used >= s->ike_idle) return;
        alias_ipsec_binding b{};
        b.kind = LIBALIAS_IPSEC_IKE;
        b.host.s_addr = e.host;
        b.peer.s_addr = e.peer;
        b.alias.s_addr = e.alias;
        b.host_port = e.host_port;
        b.ike_spi_i = e.spi_i;
        b.ike_spi_r = e.spi_r;
        b.age = now - e.created;
        b.idle = now - e.last_used;
        emit(b);
    });
    s->for_each_esp([&](const EspSa& e) {
        const uint32_t last = std::max({e.last_out, e.last_in, e.claimed});
        const uint32_t limit = (e.spi_in == 0 && e.spi_out == 0) ? s->pending : s->spi_idle;
        if (now - last >= limit) return;
        alias_ipsec_binding b{};
        b.kind = LIBALIAS_IPSEC_ESP;
        b.host.s_addr = e.host;
        b.peer.s_addr = e.peer;
        b.alias.s_addr = e.alias;
        b.spi_in = e.spi_in;
        b.spi_out = e.spi_out;
        b.age = now - e.created;
        b.idle = now - last;
        emit(b);
    });
    return static_cast<int>(std::min<unsigned>(n, 0x7fffffff));
}

}  // namespace

}  // namespace nalias

using namespace nalias;

extern "C" {

LIBALIAS_API int LibAliasIpsecSetEnabled(struct libalias* la, int on) {
    LA_TRY
    Instance* i = unwrap(la);
    return i ? set_enabled(*i, on != 0) : -1;
    LA_CATCH_RETURN(-1)
}

LIBALIAS_API int LibAliasIpsecSetTimeouts(struct libalias* la, unsigned int ike_idle, unsigned int spi_idle,
                                          unsigned int pending) {
    LA_TRY
    Instance* i = unwrap(la);
    return i ? set_timeouts(*i, ike_idle, spi_idle, pending) : -1;
    LA_CATCH_RETURN(-1)
}

LIBALIAS_API int LibAliasIpsecGetBindings(struct libalias* la, struct alias_ipsec_binding* out, unsigned int max) {
    LA_TRY
    Instance* i = unwrap(la);
    return i ? get_bindings(*i, out, max) : -1;
    LA_CATCH_RETURN(-1)
}

}  // extern "C"
