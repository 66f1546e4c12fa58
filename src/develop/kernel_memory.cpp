#include "kernel_memory.h"

#include <HalideRuntime.h>

#include <cstdlib>
#include <mutex>
#include <vector>

namespace obscura {
namespace {

constexpr size_t kAlign = 128;                // Halide wants aligned scratch
constexpr size_t kMaxCachedBytes = 64u << 20;  // per thread

// A block starts with kAlign bytes of header holding its capacity.
struct ThreadCache {
    std::vector<char*> blocks;
    size_t bytes = 0;
    ~ThreadCache() {
        for (char* b : blocks) std::free(b);
    }
};

size_t capacity_of(const char* block) { return *reinterpret_cast<const size_t*>(block); }

ThreadCache& cache() {
    thread_local ThreadCache c;
    return c;
}

void* cached_malloc(void*, size_t size) {
    size_t need = (size + 2 * kAlign - 1) / kAlign * kAlign;
    ThreadCache& c = cache();
    for (size_t k = c.blocks.size(); k-- > 0;) {
        char* b = c.blocks[k];
        size_t cap = capacity_of(b);
        if (cap >= need && cap <= 2 * need) {  // close fits only, so big blocks are not wasted on small asks
            c.blocks.erase(c.blocks.begin() + long(k));
            c.bytes -= cap;
            return b + kAlign;
        }
    }
    char* b = static_cast<char*>(std::aligned_alloc(kAlign, need));
    if (!b) return nullptr;
    *reinterpret_cast<size_t*>(b) = need;
    return b + kAlign;
}

void cached_free(void*, void* p) {
    if (!p) return;
    char* b = static_cast<char*>(p) - kAlign;
    ThreadCache& c = cache();
    size_t cap = capacity_of(b);
    if (c.bytes + cap > kMaxCachedBytes) {
        std::free(b);
        return;
    }
    c.blocks.push_back(b);
    c.bytes += cap;
}

// Installed when the program loads, before any kernel runs (with the CPU
// variant check, kernel_cpu.cpp): swapping the
// allocator while a pipeline on another thread (a burst merging beside a
// develop in a batch) holds blocks from the old one would hand those blocks
// to the wrong free. (One Halide runtime serves every kernel in the binary.)
const bool installed = [] {
    halide_set_custom_malloc(cached_malloc);
    halide_set_custom_free(cached_free);
    use_kernel_cpu_features();
    return true;
}();

}  // namespace

void use_kernel_scratch_cache() { (void)installed; }

}  // namespace obscura
