#include "obscura/frame_memory.h"

#include <sys/mman.h>

#include <cstdlib>
#include <new>

namespace obscura {

namespace {
constexpr size_t kHugePage = 2u << 20;
}

void* allocate_frame_memory(size_t bytes) {
    if (bytes < 2 * kHugePage) {
        void* p = std::malloc(bytes ? bytes : 1);
        if (!p) throw std::bad_alloc();
        return p;
    }
    size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
    void* p = std::aligned_alloc(kHugePage, rounded);
    if (!p) throw std::bad_alloc();
    ::madvise(p, rounded, MADV_HUGEPAGE);  // a hint: without huge pages it still works
    return p;
}

void free_frame_memory(void* p) noexcept { std::free(p); }

}  // namespace obscura
