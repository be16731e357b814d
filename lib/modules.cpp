// SPDX-License-Identifier: BSD-2-Clause
//
// Loadable protocol modules (LibAliasLoadModule, LibAliasUnLoadAllModule,
// LibAliasRefreshModules), as userland libalias loads them.
//
// Data model.  A module is a shared object exporting `alias_mod` (a
// moduledata_t: name, event handler, private pointer) and `handlers` (an
// EOH-terminated proto_handler array).  The process keeps one list of
// loaded modules; names are unique over their first DLL_LEN bytes, and a
// module may not take the name of a built-in handler set ("alias_ftp" while
// nalias's own FTP handler is compiled in), so no protocol is handled
// twice.  Modules resolve AddLink & co. from the process at dlopen time
// (lib/module_exports.cpp); they are not linked against libalias.
//
// Invariants: every listed module's handlers are attached; unloading
// detaches them before dlclose, so the chain never points into an unmapped
// object (a packet that already walks a retired snapshot on another thread
// is the caller's race, as in libalias).  Modules are bound with RTLD_NOW:
// one that imports a function nalias does not export is refused here rather
// than killing the process on the first packet its handler sees.
//
// Return values follow libalias: LoadModule 0 or a positive errno (EINVAL,
// also for unresolved imports; EEXIST, also for a handler priority conflict;
// ENOMEM), UnLoadAllModule 1, RefreshModules 0 (-1 when the configuration
// file exists but cannot be opened, or when the attached handlers cannot be
// detached for lack of memory and so every module stays loaded).
#include "handler.hpp"

#include "../include/alias.h"
#include "../include/alias_mod.h"

#include <dlfcn.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace nalias {

namespace {

constexpr const char* kDefaultConfPath = "/etc/libalias.conf";
constexpr const char* kConfPathEnv = "NALIAS_CONF";  // tests and non-root installs

struct LoadedModule {
    std::string name;  // first DLL_LEN bytes of alias_mod.name
    void* handle;
    moduledata_t* mod;
    proto_handler* handlers;
};

// Recursive: a module's event handler may call back into the loader.
std::recursive_mutex& modules_lock() {
    static std::recursive_mutex m;
    return m;
}
std::vector<LoadedModule>& loaded() {
    static std::vector<LoadedModule> v;
    return v;
}

std::string_view module_name(const moduledata_t* mod) noexcept {
    if (!mod->name) return {};
    return std::string_view(mod->name, strnlen(mod->name, DLL_LEN));
}

bool is_builtin_name(std::string_view name) noexcept {
    for (std::size_t i = 0; i < kBuiltinHandlerSetCount; ++i) {
        const BuiltinHandlerSet* set = kBuiltinHandlerSets[i];
        if (!set || !set->name) continue;
        const std::string_view builtin(set->name);
        if (name == builtin) return true;
        if (name.size() == builtin.size() + 6 && name.substr(0, 6) == "alias_" && name.substr(6) == builtin) return true;
    }
    return false;
}

bool name_taken(std::string_view name) noexcept {
    if (is_builtin_name(name)) return true;
    for (const LoadedModule& m : loaded())
        if (m.name == name) return true;
    return false;
}

// libalias reports loader failures on stderr; natd shows them at start-up.
void report(const char* what) { std::fprintf(stderr, "libalias: %s\n", what ? what : "module error"); }

int load_module(const char* path) {
    if (!path || !*path) return EINVAL;
    void* handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        report(dlerror());
        return EINVAL;
    }
    auto fail = [&](int err, const char* what) {
        report(what);
        dlclose(handle);
        return err;
    };
    dlerror();
    auto* mod = static_cast<moduledata_t*>(dlsym(handle, "alias_mod"));
    if (!mod) return fail(EINVAL, "module has no alias_mod");
    auto* handlers = static_cast<proto_handler*>(dlsym(handle, "handlers"));
    if (!handlers) return fail(EINVAL, "module has no handlers");

    std::lock_guard<std::recursive_mutex> g(modules_lock());
    const std::string_view name = module_name(mod);
    if (name.empty()) return fail(EINVAL, "module has no name");
    if (name_taken(name)) return fail(EEXIST, "dll conflict");
    // Everything that can throw happens before the handlers are attached, so
    // a failure leaves nothing half-registered and the handle closed: reserve
    // the slot and build the entry first; moving it in afterwards cannot throw.
    LoadedModule entry{};
    try {
        loaded().reserve(loaded().size() + 1);
        entry = LoadedModule{std::string(name), handle, mod, handlers};
    } catch (...) {
        return fail(ENOMEM, "out of memory");
    }
    // libalias would load the module with part of its array attached; a
    // refused module is dlclosed here, so none of it may stay in the chain.
    const int attached = attach_handlers_whole(handlers);
    if (attached == EEXIST) return fail(EEXIST, "handler priority conflict");
    if (attached != 0) return fail(attached == -ENOMEM ? ENOMEM : EINVAL, "cannot attach handlers");
    // Stock modules attach their handlers again from MOD_LOAD; that second
    // attach changes nothing and answers EEXIST, which is not a refusal.
    if (mod->evhand) {
        const int r = mod->evhand(nullptr, MOD_LOAD, mod->priv);
        if (r != 0 && r != EEXIST) {
            if (LibAliasDetachHandlers(handlers) != 0) {
                // Still in the chain: unmapping it would leave packets
                // calling into nothing, so its mapping is leaked instead.
                report("module refused to load and cannot be detached; it stays mapped");
                return r > 0 ? r : EINVAL;
            }
            return fail(r > 0 ? r : EINVAL, "module refused to load");
        }
    }
    loaded().push_back(std::move(entry));
    return 0;
}

// As libalias, first detaches every handler that is not built in, whether a
// module's or attached directly with LibAliasAttachHandlers, then unloads the
// modules newest first.  They are unmapped only once that chain is
// published: packets may be running their code until then.  When the
// publication fails (out of memory), every handler and module stays as it
// was, and the call reports false.
bool unload_all() {
    std::lock_guard<std::recursive_mutex> g(modules_lock());
    if (!detach_all_but_builtins()) {
        report("cannot detach the attached handlers; modules stay loaded");
        return false;
    }
    auto& v = loaded();
    while (!v.empty()) {
        moduledata_t* const mod = v.back().mod;
        void* const handle = v.back().handle;
        v.pop_back();
        if (mod->evhand) mod->evhand(nullptr, MOD_UNLOAD, mod->priv);
        dlclose(handle);
    }
    return true;
}

std::string_view trim(std::string_view s) noexcept {
    const char* ws = " \t\r\n\v\f";
    const std::size_t b = s.find_first_not_of(ws);
    if (b == std::string_view::npos) return {};
    return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

// /etc/libalias.conf: one module path per line, '#' comments, blank lines.
// Surrounding blanks are trimmed (libalias passes them on to dlopen).
int refresh_modules() {
    const char* env = secure_getenv(kConfPathEnv);
    const char* path = env && *env ? env : kDefaultConfPath;
    std::lock_guard<std::recursive_mutex> g(modules_lock());
    if (!unload_all()) return -1;
    // Owned so that nothing leaks if a load below throws.
    std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path, "re"), &std::fclose);
    // libalias exits (err(1)) without the file; a missing file here means
    // "no modules", other open errors are reported.
    if (!f) return errno == ENOENT ? 0 : -1;
    struct LineBuffer {  // getline's buffer, freed on every way out
        char* data = nullptr;
        std::size_t cap = 0;
        ~LineBuffer() { std::free(data); }
    } line;
    while (getline(&line.data, &line.cap, f.get()) >= 0) {
        const std::string_view entry = trim(line.data);
        if (entry.empty() || entry[0] == '#') continue;
        const std::string module_path(entry);
        load_module(module_path.c_str());  // a module that fails is skipped, as in libalias
    }
    return 0;
}

}  // namespace

}  // namespace nalias

extern "C" {

LIBALIAS_API int LibAliasLoadModule(char* path) {
    try {
        return nalias::load_module(path);
    } catch (...) {
        return ENOMEM;
    }
}

LIBALIAS_API int LibAliasUnLoadAllModule(void) {
    try {
        nalias::unload_all();
    } catch (...) {
    }
    return 1;
}

LIBALIAS_API int LibAliasRefreshModules(void) {
    try {
        return nalias::refresh_modules();
    } catch (...) {
        return -1;
    }
}

}  // extern "C"
