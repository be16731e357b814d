// SPDX-License-Identifier: BSD-2-Clause
#include "instance.hpp"

#include "db.hpp"
#include "ipsec/ipsec.hpp"
#include "log.hpp"
#include "proxy.hpp"

#include <sys/random.h>
#include <time.h>
#include <unistd.h>

namespace nalias {

namespace {

uint64_t splitmix(uint64_t& x) noexcept {
    uint64_t z = (x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void fill_random(void* buf, std::size_t n) noexcept {
    auto* p = static_cast<unsigned char*>(buf);
    std::size_t got = 0;
    while (got < n) {
        const ssize_t r = getrandom(p + got, n - got, GRND_NONBLOCK);
        if (r <= 0) break;
        got += static_cast<std::size_t>(r);
    }
    if (got < n) {
        // No kernel randomness (very early boot, seccomp): mix the clock and
        // addresses.  Hash keys are then weaker, never absent.
        timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t seed = static_cast<uint64_t>(ts.tv_nsec) ^ (static_cast<uint64_t>(ts.tv_sec) << 32) ^
                        reinterpret_cast<uintptr_t>(buf) ^ static_cast<uint64_t>(getpid());
        for (std::size_t i = got; i < n; ++i) p[i] = static_cast<unsigned char>(splitmix(seed));
    }
}

}  // namespace

HashSecret make_hash_secret() noexcept {
    HashSecret s;
    fill_random(&s, sizeof s);
    return s;
}

PortRandom::PortRandom() noexcept {
    fill_random(s_, sizeof s_);
    if (!(s_[0] | s_[1] | s_[2] | s_[3])) s_[0] = 1;
}

}  // namespace nalias

libalias::libalias()
    : mode(PKT_ALIAS_SAME_PORTS | PKT_ALIAS_USE_SOCKETS | PKT_ALIAS_RESET_ON_ADDR_CHANGE),
      secret(nalias::make_hash_secret()),
      links(secret) {
    nalias::install_link_hooks(*this);
    nalias::sample_clock(*this);
}

libalias::~libalias() {
    links.on_destroy = nullptr;
    links.clear(false);
    fragments.clear();
    nalias::close_log(*this);
    magic = 0;
}
