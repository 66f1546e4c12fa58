#include "obscura/frame_memory.h"

#include <fcntl.h>
#include <sys/mman.h>

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
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

// Frames that are maps (map_file_samples, allocate_zeroed_frame_memory):
// where each mapping begins and how long it is, by the frame's first sample.
struct Mapping {
    void* base;
    size_t length;
    size_t bytes;
    bool file;  // false: zeroed memory (allocate_zeroed_frame_memory)
};
std::mutex mappings_mutex;
std::unordered_map<void*, Mapping> mappings;

// The file region the next frame allocation of exactly `bytes` on this
// thread maps instead of allocating (set by map_file_samples around the
// vector's construction: std::vector has no way to adopt memory).
struct PendingMap {
    int fd = -1;
    uint64_t offset = 0;
    size_t bytes = 0;
    bool mapped = false;  // set when the allocation was the map
};
thread_local PendingMap pending_map;

void* map_pending(size_t bytes) {
    PendingMap want = pending_map;
    pending_map = {};
    const uint64_t page = uint64_t(::sysconf(_SC_PAGESIZE));
    const uint64_t start = want.offset / page * page;
    const size_t delta = size_t(want.offset - start), length = delta + bytes;
    // Populated read-only (one bulk fault, from the page cache), then made
    // writable: a write then copies its page, and only its page. (Populating
    // a writable private map would copy every page up front.)
    void* base = ::mmap(nullptr, length, PROT_READ, MAP_PRIVATE | MAP_POPULATE, want.fd, off_t(start));
    if (base == MAP_FAILED) return nullptr;
    if (::mprotect(base, length, PROT_READ | PROT_WRITE) != 0) {
        ::munmap(base, length);
        return nullptr;
    }
    void* p = static_cast<uint8_t*>(base) + delta;
    pending_map.mapped = true;
    std::lock_guard<std::mutex> lock(mappings_mutex);
    mappings[p] = {base, length, bytes, true};
    return p;
}

std::string megabytes(size_t bytes) { return std::to_string((bytes + (1u << 20) - 1) >> 20) + " MB"; }

void check_budget(size_t bytes) {
    if (in_use + bytes > budget)
        throw Error("needs " + megabytes(in_use + bytes) + " for its frames, over the memory budget of " +
                    megabytes(budget) + " (--memory)");
}

size_t round_up_to_huge_page(size_t bytes) { return (bytes + kHugePage - 1) / kHugePage * kHugePage; }

}  // namespace

void set_frame_memory_budget(size_t bytes) { budget = bytes; }
size_t frame_memory_budget() { return budget; }
size_t frame_memory_in_use() { return in_use; }

void* allocate_frame_memory(size_t bytes) {
    check_budget(bytes);
    void* p;
    if (pending_map.fd >= 0 && pending_map.bytes == bytes && (p = map_pending(bytes))) {
        in_use += bytes;
        return p;
    }
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
    mappings[p] = {base, length, bytes, false};
    return p;
}

bool is_file_map(const void* samples) {
    std::lock_guard<std::mutex> lock(mappings_mutex);
    auto it = mappings.find(const_cast<void*>(samples));
    return it != mappings.end() && it->second.file;
}

void own_file_map(Samples16& frame) {
    if (!is_file_map(frame.data())) return;
    Samples16 copy(frame.size());
    parallel_rows(0, int((frame.size() + 65535) / 65536), [&](int b0, int b1) {
        const size_t begin = size_t(b0) * 65536, end = std::min(frame.size(), size_t(b1) * 65536);
        std::copy(frame.begin() + ptrdiff_t(begin), frame.begin() + ptrdiff_t(end), copy.begin() + ptrdiff_t(begin));
    });
    frame.swap(copy);
}

Samples16 map_file_samples(const std::string& path, uint64_t offset, size_t count) {
    if (count == 0 || offset % sizeof(uint16_t)) return {};
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {};
    pending_map = {fd, offset, count * sizeof(uint16_t), false};
    Samples16 out;
    try {
        out = Samples16(count);
    } catch (...) {
        pending_map = {};
        ::close(fd);
        throw;
    }
    // (Not mapped, but allocated as usual: given back, the caller reads the
    // file its own way.)
    const bool mapped = pending_map.mapped;
    pending_map = {};
    ::close(fd);  // the map keeps the file's pages
    if (!mapped) return {};
    return out;
}

}  // namespace obscura
