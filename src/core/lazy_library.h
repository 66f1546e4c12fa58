// lazy_library: a shared library opened when it is first used (dlopen), so a
// run that never needs it does not pay for loading it. A JPEG develop needs
// neither libheif (with its HEVC and AV1 codecs) nor libjxl nor HarfBuzz and
// FreeType, and loading and relocating them was most of the 25 ms every run
// spent before main (docs/performance.md).
#pragma once
#include <mutex>
#include <string>

namespace obscura {

class LazyLibrary {
public:
    // `soname` as the dynamic linker finds it (e.g. "libheif.so.1": the
    // build reads it from the library it was configured with).
    explicit LazyLibrary(const char* soname) : soname_(soname) {}
    LazyLibrary(const LazyLibrary&) = delete;
    LazyLibrary& operator=(const LazyLibrary&) = delete;

    // The address of `name`, the library opened at the first call (once,
    // from any thread; never closed). Throws obscura::Error naming the
    // library when it or the symbol is missing.
    void* symbol(const char* name);

    // Whether the library opens; when not, `problem()` says why (its name
    // and the loader's words), for a caller to name the file it was for.
    bool available();
    const std::string& problem() const { return error_; }

private:
    void open();

    const char* soname_;
    std::once_flag opened_;
    void* handle_ = nullptr;
    std::string error_;
};

// A function of a lazily opened library, typed by its declaration in the
// library's header: OBSCURA_LAZY(libheif(), heif_context_alloc)().
template <typename F>
F lazy_function(LazyLibrary& library, const char* name) {
    return reinterpret_cast<F>(library.symbol(name));
}
#define OBSCURA_LAZY(library, function) ::obscura::lazy_function<decltype(&function)>(library, #function)

// Defines `LazyLibrary& accessor()`: the library named `soname`, one
// instance for the program.
#define OBSCURA_LAZY_LIBRARY(accessor, soname)   \
    ::obscura::LazyLibrary& accessor() {         \
        static ::obscura::LazyLibrary library(soname); \
        return library;                          \
    }

}  // namespace obscura
