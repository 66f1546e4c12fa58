#include "obscura/frame_memory.h"

#include <sys/mman.h>

#include <malloc.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "obscura/error.h"

namespace obscura {

namespace {

constexpr size_t kHugePage = 2u << 20;

size_t physical_memory() {
    long pages = ::sysconf(_SC_PHYS_PAGES), size = ::sysconf(_SC_PAGESIZE);
    return pages > 0 && size > 0 ? size_t(pages) * size_t(size) : size_t(8) << 30;
}

std::atomic<size_t> budget{physical_memory() / 10 * 8};
std::atomic<size_t> in_use{0};

std::string megabytes(size_t bytes) { return std::to_string((bytes + (1u << 20) - 1) >> 20) + " MB"; }

}  // namespace

void set_frame_memory_budget(size_t bytes) { budget = bytes; }
size_t frame_memory_budget() { return budget; }
size_t frame_memory_in_use() { return in_use; }

void* allocate_frame_memory(size_t bytes) {
    if (in_use + bytes > budget)
        throw Error("needs " + megabytes(in_use + bytes) + " for its frames, over the memory budget of " +
                    megabytes(budget) + " (--memory)");
    void* p;
    if (bytes < 2 * kHugePage) {
        p = std::malloc(bytes ? bytes : 1);
    } else {
        size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
        p = std::aligned_alloc(kHugePage, rounded);
        if (p) ::madvise(p, rounded, MADV_HUGEPAGE);  // a hint: without huge pages it still works
    }
    if (!p) throw std::bad_alloc();
    in_use += ::malloc_usable_size(p);
    return p;
}

void free_frame_memory(void* p) noexcept {
    if (!p) return;
    in_use -= ::malloc_usable_size(p);
    std::free(p);
}

}  // namespace obscura
