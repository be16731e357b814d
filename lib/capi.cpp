// SPDX-License-Identifier: BSD-2-Clause
//
// capi.cpp: every exported LibAlias* function.  Each one unwraps the
// instance, makes one call into the C++ internals, and maps the result;
// policy lives behind the call, not here.
#include "c_boundary.hpp"
#include "checksum.hpp"
#include "handler.hpp"
#include "proxy.hpp"
#include "redirect.hpp"
#include "translate.hpp"

#include <cstdio>

using namespace nalias;

extern "C" {

LIBALIAS_API struct libalias* LibAliasInit(struct libalias* la) {
    LA_TRY
    if (la && !unwrap(la)) return nullptr;
    return init_instance(la);
    LA_CATCH_RETURN(nullptr)
}

LIBALIAS_API void LibAliasUninit(struct libalias* la) {
    LA_TRY
    delete unwrap(la);
    LA_CATCH_VOID
}

LIBALIAS_API void LibAliasSetAddress(struct libalias* la, struct in_addr addr) {
    LA_TRY
    if (Instance* i = unwrap(la)) set_address(*i, addr.s_addr);
    LA_CATCH_VOID
}

LIBALIAS_API void LibAliasSetAliasPortRange(struct libalias* la, unsigned short lo, unsigned short hi) {
    LA_TRY
    if (Instance* i = unwrap(la)) set_port_range(*i, lo, hi);
    LA_CATCH_VOID
}

LIBALIAS_API void LibAliasSetFWBase(struct libalias* la, unsigned int base, unsigned int num) {
    LA_TRY
    if (Instance* i = unwrap(la)) i->fw_base = base, i->fw_num = num;
    LA_CATCH_VOID
}

LIBALIAS_API void LibAliasSetSkinnyPort(struct libalias* la, unsigned int port) {
    LA_TRY
    if (Instance* i = unwrap(la)) {
        i->skinny_port = port;
        // The chain's port prefilter must let this port through to the Skinny handler.
        if (port > 0 && port <= 0xffff) declare_handler_port(static_cast<uint16_t>(port));
    }
    LA_CATCH_VOID
}

LIBALIAS_API unsigned int LibAliasSetMode(struct libalias* la, unsigned int flags, unsigned int mask) {
    LA_TRY
    Instance* i = unwrap(la);
    return i ? set_mode(*i, flags, mask) : static_cast<unsigned>(-1);
    LA_CATCH_RETURN(static_cast<unsigned>(-1))
}

LIBALIAS_API int LibAliasIn(struct libalias* la, void* ptr, int maxpacketsize) {
    LA_TRY
    Instance* i = unwrap(la);
    return i ? alias_in(*i, ptr, maxpacketsize) : PKT_ALIAS_ERROR;
    LA_CATCH_RETURN(PKT_ALIAS_ERROR)
}

LIBALIAS_API int LibAliasOut(struct libalias* la, void* ptr, int maxpacketsize) {
    LA_TRY
    Instance* i = unwrap(la);
    return i ? alias_out(*i, ptr, maxpacketsize, true) : PKT_ALIAS_ERROR;
    LA_CATCH_RETURN(PKT_ALIAS_ERROR)
}

LIBALIAS_API int LibAliasOutTry(struct libalias* la, void* ptr, int maxpacketsize, int create) {
    LA_TRY
    Instance* i = unwrap(la);
    return i ? alias_out(*i, ptr, maxpacketsize, create != 0) : PKT_ALIAS_ERROR;
    LA_CATCH_RETURN(PKT_ALIAS_ERROR)
}

LIBALIAS_API int LibAliasUnaliasOut(struct libalias* la, void* ptr, int maxpacketsize) {
    LA_TRY
    Instance* i = unwrap(la);
    return i ? unalias_out(*i, ptr, maxpacketsize) : PKT_ALIAS_ERROR;
    LA_CATCH_RETURN(PKT_ALIAS_ERROR)
}

LIBALIAS_API int LibAliasAddServer(struct libalias* la, struct alias_link* lnk, struct in_addr addr,
                                   unsigned short port) {
    LA_TRY
    Instance* i = unwrap(la);
    return i ? add_server(*i, lnk, addr.s_addr, port) : -1;
    LA_CATCH_RETURN(-1)
}

LIBALIAS_API struct alias_link* LibAliasRedirectAddr(struct libalias* la, struct in_addr src, struct in_addr alias) {
    LA_TRY
    Instance* i = unwrap(la);
    return i ? redirect_addr(*i, src.s_addr, alias.s_addr) : nullptr;
    LA_CATCH_RETURN(nullptr)
}

LIBALIAS_API int LibAliasRedirectDynamic(struct libalias* la, struct alias_link* lnk) {
    LA_TRY
    Instance* i = unwrap(la);
    return i ? redirect_dynamic(*i, lnk) : -1;
    LA_CATCH_RETURN(-1)
}

LIBALIAS_API void LibAliasRedirectDelete(struct libalias* la, struct alias_link* lnk) {
    LA_TRY
    if (Instance* i = unwrap(la)) redirect_delete(*i, lnk);
    LA_CATCH_VOID
}

LIBALIAS_API struct alias_link* LibAliasRedirectPort(struct libalias* la, struct in_addr src, unsigned short sport,
                                                     struct in_addr dst, unsigned short dport, struct in_addr alias,
                                                     unsigned short aport, unsigned char proto) {
    LA_TRY
    Instance* i = unwrap(la);
    return i ? redirect_port(*i, src.s_addr, sport, dst.s_addr, dport, alias.s_addr, aport, proto) : nullptr;
    LA_CATCH_RETURN(nullptr)
}

LIBALIAS_API struct alias_link* LibAliasRedirectProto(struct libalias* la, struct in_addr src, struct in_addr dst,
                                                      struct in_addr alias, unsigned char proto) {
    LA_TRY
    Instance* i = unwrap(la);
    return i ? redirect_proto(*i, src.s_addr, dst.s_addr, alias.s_addr, proto) : nullptr;
    LA_CATCH_RETURN(nullptr)
}

LIBALIAS_API void LibAliasFragmentIn(struct libalias* la, void* ptr, void* ptr_fragment) {
    LA_TRY
    if (unwrap(la)) fragment_in(ptr, ptr_fragment);
    LA_CATCH_VOID
}

LIBALIAS_API void* LibAliasGetFragment(struct libalias* la, void* ptr) {
    LA_TRY
    Instance* i = unwrap(la);
    return i ? get_fragment(*i, ptr) : nullptr;
    LA_CATCH_RETURN(nullptr)
}

LIBALIAS_API int LibAliasSaveFragment(struct libalias* la, void* ptr) {
    LA_TRY
    Instance* i = unwrap(la);
    return i ? save_fragment(*i, ptr) : PKT_ALIAS_ERROR;
    LA_CATCH_RETURN(PKT_ALIAS_ERROR)
}

LIBALIAS_API int LibAliasCheckNewLink(struct libalias* la) {
    Instance* i = unwrap(la);
    return i ? static_cast<int>(i->new_default_link) : 0;
}

LIBALIAS_API unsigned short LibAliasInternetChecksum(struct libalias*, unsigned short* ptr, int nbytes) {
    if (!ptr || nbytes <= 0) return 0xffff;
    return csum::internet_checksum(reinterpret_cast<const uint8_t*>(ptr), static_cast<std::size_t>(nbytes));
}

LIBALIAS_API void LibAliasSetTarget(struct libalias* la, struct in_addr target) {
    if (Instance* i = unwrap(la)) i->target_addr = target.s_addr;
}

LIBALIAS_API int LibAliasProxyRule(struct libalias* la, const char* cmd) {
    LA_TRY
    Instance* i = unwrap(la);
    return i ? proxy_rule(*i, cmd) : -1;
    LA_CATCH_RETURN(-1)
}

LIBALIAS_API unsigned int LibAliasVersionNumber(void) { return NALIAS_VERSION_NUMBER; }

LIBALIAS_API void LibAliasSetClock(struct libalias* la, libalias_clock_fn now, void* ctx) {
    LA_TRY
    if (Instance* i = unwrap(la)) set_clock(*i, now, ctx);
    LA_CATCH_VOID
}

LIBALIAS_API int LibAliasSetLinkLimit(struct libalias* la, unsigned int max) {
    Instance* i = unwrap(la);
    if (!i || max == 0) return -1;
    i->links.set_limit(max);
    return 0;
}

LIBALIAS_API unsigned int LibAliasGetLinkLimit(struct libalias* la) {
    Instance* i = unwrap(la);
    return i ? static_cast<unsigned>(i->links.limit()) : 0;
}

LIBALIAS_API int LibAliasGetStats(struct libalias* la, struct alias_stats* stats) {
    Instance* i = unwrap(la);
    return i ? get_stats(*i, stats) : -1;
}

LIBALIAS_API int LibAliasForEachLink(struct libalias* la, libalias_link_fn fn, void* ctx) {
    LA_TRY
    Instance* i = unwrap(la);
    return i ? for_each_link(*i, fn, ctx) : -1;
    LA_CATCH_RETURN(-1)
}

}  // extern "C"
