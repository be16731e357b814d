/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * <net/if_dl.h> for Linux (nalias compat): the link-level sockaddr that
 * FreeBSD's routing messages put after an RTM_IFINFO header.
 *
 * Layout.  FreeBSD's sockaddr_dl starts with sa_len and an 8-bit family;
 * Linux sockaddrs start with a 16-bit family and have no length byte.  This
 * one keeps Linux's rule (sdl_family is a sa_family_t at offset 0, so a walk
 * that casts to struct sockaddr reads the family right) and keeps every
 * FreeBSD field name, sdl_len included.  sdl_data holds the interface name
 * (sdl_nlen bytes, not NUL-terminated) followed by the link-level address
 * (sdl_alen bytes) and the selector (sdl_slen bytes).
 */
#ifndef NALIAS_COMPAT_NET_IF_DL_H
#define NALIAS_COMPAT_NET_IF_DL_H

#include "nalias-compat.h"

struct sockaddr_dl {
	sa_family_t	sdl_family;	/* AF_LINK */
	u_short		sdl_index;	/* interface index, 0 if none */
	u_char		sdl_type;	/* IFT_* */
	u_char		sdl_nlen;	/* name length, from sdl_data[0] */
	u_char		sdl_alen;	/* link-level address length */
	u_char		sdl_slen;	/* link-layer selector length */
	u_char		sdl_len;	/* total length of this sockaddr */
	u_char		_sdl_pad;
	char		sdl_data[46];	/* name, then address, then selector */
};

#ifdef __cplusplus
static_assert(sizeof(struct sockaddr_dl) == NALIAS_COMPAT_SOCKADDR_DL_SIZE,
    "SA_SIZE() in nalias-compat.h assumes this size");
#else
_Static_assert(sizeof(struct sockaddr_dl) == NALIAS_COMPAT_SOCKADDR_DL_SIZE,
    "SA_SIZE() in nalias-compat.h assumes this size");
#endif

#define LLADDR(s)	((caddr_t)((s)->sdl_data + (s)->sdl_nlen))
#define CLLADDR(s)	((const char *)((s)->sdl_data + (s)->sdl_nlen))
#define LLINDEX(s)	((s)->sdl_index)

#endif /* NALIAS_COMPAT_NET_IF_DL_H */
