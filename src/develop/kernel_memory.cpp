#include "kernel_memory.h"

#include <HalideRuntime.h>

#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <tuple>
#include <utility>
#include <vector>

namespace obscura {
namespace {

constexpr size_t kAlign = 128;                // Halide wants aligned scratch
constexpr size_t kMaxCachedBytes = 64u << 20;  // per thread
// A thread's first blocks are cut from a region of huge pages: a kernel's
// first tile on a thread asks for ~4 MB in ~40 blocks, which from malloc
// were a thousand 4 KB page faults (on the VM measured, each costs
// microseconds: a 12 MP develop's first strip took twice as long as the
// others). Regions are never unmapped: a block may end its life in another
// thread's cache. A thread that ends hands its region's uncut rest and its
// cached blocks from regions to the next thread (the pool below), so
// threads that come and go (batches, Python) reuse the same regions.
constexpr size_t kRegionBytes = 8u << 20;
constexpr size_t kHugePage = 2u << 20;

// A block starts with kAlign bytes of header: its capacity, and whether it
// was cut from a region (never given back to malloc).
struct Header {
    size_t capacity;
    bool in_region;
};
static_assert(sizeof(Header) <= kAlign);

bool in_region(const char* block) { return reinterpret_cast<const Header*>(block)->in_region; }

// What ended threads left: regions' uncut rests and free region blocks.
// (Never destroyed: threads may end after static destructors ran.)
struct Pool {
    std::mutex lock;
    std::vector<std::pair<char*, size_t>> rests;
    std::vector<char*> blocks;
};
Pool& pool() {
    static Pool* p = new Pool;
    return *p;
}

struct ThreadCache {
    std::vector<char*> blocks;
    size_t bytes = 0;
    char* region = nullptr;  // where the next block is cut, and how much is left
    size_t region_left = 0;
    bool region_taken = false;
    ~ThreadCache() {
        Pool& p = pool();
        std::lock_guard<std::mutex> hold(p.lock);
        for (char* b : blocks) {
            if (in_region(b)) p.blocks.push_back(b);
            else std::free(b);
        }
        if (region_left >= kAlign) p.rests.emplace_back(region, region_left);
    }
    // A block of `need` bytes from this thread's region (an ended thread's
    // rest, else a fresh one at the first ask), or null when it has no room.
    char* cut(size_t need) {
        if (!region_taken) {
            region_taken = true;
            {
                Pool& p = pool();
                std::lock_guard<std::mutex> hold(p.lock);
                if (!p.rests.empty()) {
                    std::tie(region, region_left) = p.rests.back();
                    p.rests.pop_back();
                }
            }
            if (!region) {
                void* m = ::mmap(nullptr, kRegionBytes + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (m == MAP_FAILED) return nullptr;  // (malloc from now on)
                region = reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(m) + kHugePage - 1) / kHugePage * kHugePage);
                ::madvise(region, kRegionBytes, MADV_HUGEPAGE);  // a hint
                region_left = kRegionBytes;
            }
        }
        if (need > region_left) return nullptr;
        char* b = region;
        region += need, region_left -= need;
        return b;
    }
};

size_t capacity_of(const char* block) { return reinterpret_cast<const Header*>(block)->capacity; }

ThreadCache& cache() {
    thread_local ThreadCache c;
    return c;
}

// The newest block of `blocks` that fits `need` closely, taken out of it;
// null when none does. (Close fits only, so big blocks are not wasted on
// small asks.)
char* take_close_fit(std::vector<char*>& blocks, size_t need) {
    for (size_t k = blocks.size(); k-- > 0;) {
        char* b = blocks[k];
        const size_t cap = capacity_of(b);
        if (cap >= need && cap <= 2 * need) {
            blocks.erase(blocks.begin() + long(k));
            return b;
        }
    }
    return nullptr;
}

void* cached_malloc(void*, size_t size) {
    size_t need = (size + 2 * kAlign - 1) / kAlign * kAlign;
    ThreadCache& c = cache();
    if (char* b = take_close_fit(c.blocks, need)) {
        c.bytes -= capacity_of(b);
        return b + kAlign;
    }
    {
        // (Blocks that ended threads left, before anything new.)
        Pool& p = pool();
        std::lock_guard<std::mutex> hold(p.lock);
        if (char* b = take_close_fit(p.blocks, need)) return b + kAlign;
    }
    char* b = c.cut(need);
    const bool cut = b != nullptr;
    if (!b) b = static_cast<char*>(std::aligned_alloc(kAlign, need));
    if (!b) return nullptr;
    *reinterpret_cast<Header*>(b) = {need, cut};
    return b + kAlign;
}

void cached_free(void*, void* p) {
    if (!p) return;
    char* b = static_cast<char*>(p) - kAlign;
    ThreadCache& c = cache();
    size_t cap = capacity_of(b);
    if (c.bytes + cap > kMaxCachedBytes && !in_region(b)) {
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
