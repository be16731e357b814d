// SPDX-License-Identifier: BSD-2-Clause
//
// redirect.hpp: the instance-level operations behind the C API that are not
// per-packet: redirects, LSNAT servers, configuration, fragments, stats.
// Each returns libalias's result value directly, so the C boundary stays one
// call per function.
#pragma once

#include "../include/alias.h"
#include "instance.hpp"

namespace nalias {

Instance* init_instance(Instance* la) noexcept;
void set_address(Instance& la, uint32_t addr) noexcept;
void set_port_range(Instance& la, uint16_t lo, uint16_t hi) noexcept;
unsigned set_mode(Instance& la, unsigned flags, unsigned mask) noexcept;
void set_clock(Instance& la, libalias_clock_fn fn, void* ctx) noexcept;

Link* redirect_port(Instance& la, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, uint32_t alias,
                    uint16_t aport, uint8_t proto) noexcept;
Link* redirect_addr(Instance& la, uint32_t src, uint32_t alias) noexcept;
Link* redirect_proto(Instance& la, uint32_t src, uint32_t dst, uint32_t alias, uint8_t proto) noexcept;
int redirect_dynamic(Instance& la, Link* l) noexcept;
void redirect_delete(Instance& la, Link* l) noexcept;
int add_server(Instance& la, Link* l, uint32_t addr, uint16_t port) noexcept;

void fragment_in(void* header, void* fragment) noexcept;
void* get_fragment(Instance& la, void* header) noexcept;
int save_fragment(Instance& la, void* fragment) noexcept;

int get_stats(Instance& la, alias_stats* out) noexcept;
int for_each_link(Instance& la, libalias_link_fn fn, void* ctx) noexcept;

}  // namespace nalias
