// SPDX-License-Identifier: BSD-2-Clause
#include "handler.hpp"

#include "module_exports.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <mutex>
#include <vector>

namespace nalias {

namespace detail {
// Constant-initialized, so usable from other translation units' static
// initializers and read on the packet path without an init guard.
constinit std::atomic<ChainGate> chain_gate{ChainGate::kEmpty};
constinit PortBitmap interesting_ports;
}  // namespace detail

namespace {

struct Chain {
    std::vector<proto_handler*> handlers;  // sorted by priority, lowest first
    bool only_builtins = true;
};

// Snapshot publication: readers load `current` once per packet; writers
// (under `writer_lock`) copy, modify, publish, and keep the old snapshot
// alive in `retired` until exit.
std::atomic<const Chain*> current{nullptr};
std::mutex writer_lock;
std::vector<std::unique_ptr<Chain>>& retired() {
    static std::vector<std::unique_ptr<Chain>> r;
    return r;
}
std::vector<proto_handler*>& builtin_list() {
    static std::vector<proto_handler*> b;
    return b;
}

bool is_builtin(const proto_handler* h) {
    const auto& b = builtin_list();
    return std::find(b.begin(), b.end(), h) != b.end();
}

void publish(std::unique_ptr<Chain> next) {
    std::stable_sort(next->handlers.begin(), next->handlers.end(),
                     [](const proto_handler* a, const proto_handler* b) { return a->pri < b->pri; });
    next->only_builtins = std::all_of(next->handlers.begin(), next->handlers.end(), is_builtin);
    // Room in `retired` first: once published the snapshot must outlive its
    // readers, so taking ownership of it afterwards may not fail.
    retired().reserve(retired().size() + 1);
    current.store(next.get(), std::memory_order_release);
    detail::chain_gate.store(next->handlers.empty() ? detail::ChainGate::kEmpty
                             : next->only_builtins  ? detail::ChainGate::kBuiltinPorts
                                                    : detail::ChainGate::kEverything,
                             std::memory_order_release);
    retired().push_back(std::move(next));
}

std::unique_ptr<Chain> copy_current() {
    auto c = std::make_unique<Chain>();
    if (const Chain* cur = current.load(std::memory_order_acquire)) *c = *cur;
    return c;
}

// libalias's attach_handler refuses a handler whose pri, dir and proto all
// equal an attached one's (dir compared whole, not as a bit mask), so two
// handlers never tie on the same packets.  The identical entry counts too.
bool conflicts(const Chain& c, const proto_handler* h) {
    return std::any_of(c.handlers.begin(), c.handlers.end(), [h](const proto_handler* b) {
        return b->pri == h->pri && b->dir == h->dir && b->proto == h->proto;
    });
}

// Built-in handlers are attached when the library loads, under the rule
// third-party handlers meet, so a module handler can never tie with one.
// Two colliding built-ins are a bug in the registry: the later one is left
// out and named on stderr, and its protocol's scenario tests fail.
struct BuiltinLoader {
    BuiltinLoader() {
        std::lock_guard<std::mutex> g(writer_lock);
        auto c = copy_current();
        for (std::size_t i = 0; i < kBuiltinHandlerSetCount; ++i) {
            const BuiltinHandlerSet* set = kBuiltinHandlerSets[i];
            for (proto_handler* h = set->handlers; h && h->dir != NODIR; ++h) {
                if (conflicts(*c, h)) {
                    std::fprintf(stderr, "libalias: built-in handler %s pri %u conflicts; not attached\n", set->name,
                                 h->pri);
                    continue;
                }
                builtin_list().push_back(h);
                c->handlers.push_back(h);
            }
            for (const uint16_t* p = set->ports; p && *p; ++p) detail::interesting_ports.set(htons(*p));
        }
        publish(std::move(c));
    }
};
BuiltinLoader loader;

// libalias attaches entry by entry and stops at the first conflict, leaving
// the earlier entries attached (`partial`); the loader needs all or nothing.
int attach(proto_handler* p, bool partial) {
    std::lock_guard<std::mutex> g(writer_lock);
    auto c = copy_current();
    const std::size_t before = c->handlers.size();
    int result = 0;
    for (proto_handler* h = p; h->dir != NODIR; ++h) {
        if (conflicts(*c, h)) {
            result = EEXIST;
            break;
        }
        c->handlers.push_back(h);
    }
    if (result != 0 && !partial) return result;
    if (c->handlers.size() != before) publish(std::move(c));
    return result;
}

}  // namespace

void declare_handler_port(uint16_t port) noexcept { detail::interesting_ports.set(htons(port)); }

int attach_handlers_whole(proto_handler* p) {
    if (!p) return -EINVAL;
    try {
        return attach(p, false);
    } catch (...) {
        return -ENOMEM;
    }
}

bool detach_all_but_builtins() noexcept {
    try {
        std::lock_guard<std::mutex> g(writer_lock);
        auto c = copy_current();
        const auto gone = std::remove_if(c->handlers.begin(), c->handlers.end(),
                                         [](const proto_handler* h) { return !is_builtin(h); });
        if (gone == c->handlers.end()) return true;
        c->handlers.erase(gone, c->handlers.end());
        publish(std::move(c));
        return true;
    } catch (...) {
        return false;
    }
}

int run_handlers(struct libalias* la, int16_t dir, uint8_t proto_class, struct ip* pip,
                 struct alias_data* ad) noexcept {
    const Chain* c = current.load(std::memory_order_acquire);
    if (!c) return kNoHandler;
    // Modules read LibAliasTime from their handlers.
    publish_handler_clock(*la);
    for (proto_handler* h : c->handlers) {
        if (!(h->dir & dir) || !(h->proto & proto_class)) continue;
        if (h->fingerprint && h->fingerprint(la, ad) == 0) {
            return h->protohandler ? h->protohandler(la, pip, ad) : 0;
        }
    }
    return kNoHandler;
}

}  // namespace nalias

using namespace nalias;

// Positive EEXIST as in libalias; the nalias-only failures (NULL array, no
// memory: the chain is then unchanged) stay negative, as they always were.
extern "C" LIBALIAS_API int LibAliasAttachHandlers(struct proto_handler* p) {
    if (!p) return -EINVAL;
    try {
        return attach(p, true);
    } catch (...) {
        return -ENOMEM;
    }
}

// libalias returns 0 whatever it unlinks (an entry that is not attached
// corrupts its list); here such entries are skipped, and callers that test
// for 0, as stock modules' MOD_UNLOAD does, see what they expect.
extern "C" LIBALIAS_API int LibAliasDetachHandlers(struct proto_handler* p) {
    if (!p) return -EINVAL;
    try {
        std::lock_guard<std::mutex> g(writer_lock);
        auto c = copy_current();
        bool found = false;
        for (proto_handler* h = p; h->dir != NODIR; ++h) {
            auto it = std::find(c->handlers.begin(), c->handlers.end(), h);
            if (it != c->handlers.end()) {
                c->handlers.erase(it);
                found = true;
            }
        }
        if (found) publish(std::move(c));
        return 0;
    } catch (...) {
        return -ENOMEM;
    }
}
