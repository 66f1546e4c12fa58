// lazy_library: dlopen at the first use, dlsym per lookup.
#include "core/lazy_library.h"

#include <dlfcn.h>

#include "obscura/error.h"

namespace obscura {

bool LazyLibrary::available() {
    std::call_once(opened_, [this] { open(); });
    return handle_ != nullptr;
}

void* LazyLibrary::symbol(const char* name) {
    if (!available()) throw Error(error_);
    dlerror();
    void* address = dlsym(handle_, name);
    if (!address) throw Error(std::string(soname_) + " has no " + name);
    return address;
}

void LazyLibrary::open() {
    // (RTLD_LOCAL: its symbols stay out of the global scope, so nothing
    // else binds to them by accident.)
    handle_ = dlopen(soname_, RTLD_NOW | RTLD_LOCAL);
    if (!handle_) {
        const char* why = dlerror();
        error_ = std::string(soname_) + " cannot be loaded" + (why ? std::string(" (") + why + ")" : std::string());
    }
}

}  // namespace obscura
