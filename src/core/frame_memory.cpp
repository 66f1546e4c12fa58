#include "obscura/frame_memory.h"

#include <fcntl.h>
#include <sys/mman.h>

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <new>
#include <string>
#include <unordered_map>

#include "obscura/error.h"
#include "parallel.h"

namespace obscura {

namespace {

constexpr size_t kHugePage = 2u << 20;

size_t physical_memory() {
    long pages = ::sysconf(_SC_PHYS_PAGES), size = ::sysconf(_SC_PAGESIZE);
    return pages > 0 && size > 0 ? size_t(pages) * size_t(size) : size_t(8) << 30;
}

std::atomic<size_t> budget{physical_memory() / 10 * 8};
std::atomic<size_t> in_use{0};

// Frames that are maps (allocate_zeroed_frame_memory): where each mapping
// begins and how long it is, by the frame's first sample.
struct Mapping {
    void* base;
    size_t length;
    size_t bytes;
};
std::mutex mappings_mutex;
std::unordered_map<void*, Mapping> mappings;

std::string megabytes(size_t bytes) { return std::to_string((bytes + (1u << 20) - 1) >> 20) + " MB"; }

void check_budget(size_t bytes) {
    if (in_use + bytes > budget)
        throw Error("needs " + megabytes(in_use + bytes) + " for its frames, over the memory budget of " +
                    megabytes(budget) + " (--memory)");
}

size_t round_up_to_huge_page(size_t bytes) { return (bytes + kHugePage - 1) / kHugePage * kHugePage; }

}  // namespace

void use_huge_page_heap() {
    // (What glibc's tunables hugetlb=1, top_pad, mmap_threshold, arena_max
    // and trim_threshold would set, which only the environment can.)
    constexpr int kStep = 64 << 20;
    ::mallopt(M_MMAP_THRESHOLD, 32 << 20);
    ::mallopt(M_ARENA_MAX, 1);
    ::mallopt(M_TRIM_THRESHOLD, 4 * kStep);
    ::mallopt(M_TOP_PAD, kStep);
    // Grow the heap now (a block it has no room for, freed at once) and ask
    // for huge pages over the new part: the kernel backs whole, aligned 2 MB
    // ranges with them. (Volatile: a malloc only freed is dropped.)
    const uintptr_t before = reinterpret_cast<uintptr_t>(::sbrk(0));
    void* volatile grow = std::malloc(1u << 20);
    std::free(grow);
    const uintptr_t after = reinterpret_cast<uintptr_t>(::sbrk(0));
    const uintptr_t from = (before + kHugePage - 1) / kHugePage * kHugePage, to = after / kHugePage * kHugePage;
    if (to > from) ::madvise(reinterpret_cast<void*>(from), to - from, MADV_HUGEPAGE);  // a hint
}

void set_frame_memory_budget(size_t bytes) { budget = bytes; }
size_t frame_memory_budget() { return budget; }
size_t frame_memory_in_use() { return in_use; }

void* allocate_frame_memory(size_t bytes) {
    check_budget(bytes);
    void* p;
    // (From one huge page up: a 12 MP JPEG's 3 MB bands took 4,000 page
    // faults on 4 KB pages, a fifth of the run.)
    if (bytes < kHugePage) {
        p = std::malloc(bytes ? bytes : 1);
    } else {
        size_t rounded = round_up_to_huge_page(bytes);
        p = std::aligned_alloc(kHugePage, rounded);
        if (p) ::madvise(p, rounded, MADV_HUGEPAGE);  // a hint: without huge pages it still works
    }
    if (!p) throw std::bad_alloc();
    in_use += ::malloc_usable_size(p);
    return p;
}

void free_frame_memory(void* p) noexcept {
    if (!p) return;
    {
        std::lock_guard<std::mutex> lock(mappings_mutex);
        auto it = mappings.find(p);
        if (it != mappings.end()) {
            in_use -= it->second.bytes;
            ::munmap(it->second.base, it->second.length);
            mappings.erase(it);
            return;
        }
    }
    in_use -= ::malloc_usable_size(p);
    std::free(p);
}

void* allocate_zeroed_frame_memory(size_t bytes) {
    check_budget(bytes);
    // A fresh anonymous map is zero already: nothing writes it first. Over
    // allocated by a huge page, then started on one (the hint needs aligned
    // 2 MB ranges).
    const size_t length = round_up_to_huge_page(bytes) + kHugePage;
    void* base = ::mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) throw std::bad_alloc();
    void* p = reinterpret_cast<void*>(round_up_to_huge_page(reinterpret_cast<uintptr_t>(base)));
    ::madvise(p, length - kHugePage, MADV_HUGEPAGE);  // a hint
    in_use += bytes;
    std::lock_guard<std::mutex> lock(mappings_mutex);
    mappings[p] = {base, length, bytes};
    return p;
}

Samples16 read_file_samples(const std::string& path, uint64_t offset, size_t count) {
    if (count == 0) return {};
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {};
    Samples16 out;
    try {
        out.resize(count);
    } catch (...) {
        ::close(fd);
        throw;
    }
    // In 4 MB chunks on every core: each core zeroes its own fresh pages and
    // copies into them.
    constexpr size_t kChunk = 4u << 20;
    const size_t bytes = count * sizeof(uint16_t);
    std::atomic<bool> whole{true};
    parallel_rows(0, int((bytes + kChunk - 1) / kChunk), [&](int c0, int c1) {
        uint8_t* to = reinterpret_cast<uint8_t*>(out.data());
        for (size_t at = size_t(c0) * kChunk, end = std::min(bytes, size_t(c1) * kChunk); at < end;) {
            const ssize_t n = ::pread(fd, to + at, end - at, off_t(offset + at));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                whole = false;
                return;
            }
            at += size_t(n);
        }
    }, 1);
    ::close(fd);
    if (!whole) return {};
    return out;
}

}  // namespace obscura
