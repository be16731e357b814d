// SPDX-License-Identifier: BSD-2-Clause
//
// legacy.cpp: the single-instance PacketAlias* API (FreeBSD 3.x/4.x, Apple's
// natd, old ppp).  Programs linked against a shared libalias call these as
// real functions, so each is one forwarding call over a process-wide
// instance, created by PacketAliasInit() and freed by PacketAliasUninit().
// Before PacketAliasInit() every call fails harmlessly.
#include "../include/alias.h"

namespace {
struct libalias* global_instance = nullptr;
}

extern "C" {

LIBALIAS_API void PacketAliasInit(void) { global_instance = LibAliasInit(global_instance); }
LIBALIAS_API void PacketAliasUninit(void) {
    LibAliasUninit(global_instance);
    global_instance = nullptr;
}
LIBALIAS_API void PacketAliasSetAddress(struct in_addr addr) { LibAliasSetAddress(global_instance, addr); }
LIBALIAS_API void PacketAliasSetFWBase(unsigned int base, unsigned int num) {
    LibAliasSetFWBase(global_instance, base, num);
}
LIBALIAS_API void PacketAliasSetSkinnyPort(unsigned int port) { LibAliasSetSkinnyPort(global_instance, port); }
LIBALIAS_API unsigned int PacketAliasSetMode(unsigned int flags, unsigned int mask) {
    return LibAliasSetMode(global_instance, flags, mask);
}
LIBALIAS_API int PacketAliasIn(char* ptr, int maxpacketsize) { return LibAliasIn(global_instance, ptr, maxpacketsize); }
LIBALIAS_API int PacketAliasOut(char* ptr, int maxpacketsize) {
    return LibAliasOut(global_instance, ptr, maxpacketsize);
}
LIBALIAS_API int PacketUnaliasOut(char* ptr, int maxpacketsize) {
    return LibAliasUnaliasOut(global_instance, ptr, maxpacketsize);
}
LIBALIAS_API int PacketAliasAddServer(struct alias_link* lnk, struct in_addr addr, unsigned short port) {
    return LibAliasAddServer(global_instance, lnk, addr, port);
}
LIBALIAS_API struct alias_link* PacketAliasRedirectAddr(struct in_addr src, struct in_addr alias) {
    return LibAliasRedirectAddr(global_instance, src, alias);
}
LIBALIAS_API int PacketAliasRedirectDynamic(struct alias_link* lnk) {
    return LibAliasRedirectDynamic(global_instance, lnk);
}
LIBALIAS_API void PacketAliasRedirectDelete(struct alias_link* lnk) { LibAliasRedirectDelete(global_instance, lnk); }
LIBALIAS_API struct alias_link* PacketAliasRedirectPort(struct in_addr src, unsigned short sport, struct in_addr dst,
                                                        unsigned short dport, struct in_addr alias,
                                                        unsigned short aport, unsigned char proto) {
    return LibAliasRedirectPort(global_instance, src, sport, dst, dport, alias, aport, proto);
}
LIBALIAS_API struct alias_link* PacketAliasRedirectProto(struct in_addr src, struct in_addr dst, struct in_addr alias,
                                                         unsigned char proto) {
    return LibAliasRedirectProto(global_instance, src, dst, alias, proto);
}
LIBALIAS_API void PacketAliasFragmentIn(char* ptr, char* fragment) {
    LibAliasFragmentIn(global_instance, ptr, fragment);
}
LIBALIAS_API char* PacketAliasGetFragment(char* ptr) {
    return static_cast<char*>(LibAliasGetFragment(global_instance, ptr));
}
LIBALIAS_API int PacketAliasSaveFragment(char* ptr) { return LibAliasSaveFragment(global_instance, ptr); }
LIBALIAS_API int PacketAliasCheckNewLink(void) { return LibAliasCheckNewLink(global_instance); }
LIBALIAS_API unsigned short PacketAliasInternetChecksum(unsigned short* ptr, int nbytes) {
    return LibAliasInternetChecksum(global_instance, ptr, nbytes);
}
LIBALIAS_API void PacketAliasSetTarget(struct in_addr target) { LibAliasSetTarget(global_instance, target); }
LIBALIAS_API int PacketAliasProxyRule(const char* cmd) { return LibAliasProxyRule(global_instance, cmd); }

}  // extern "C"
