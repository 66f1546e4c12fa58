// Memory for full-frame buffers (raw mosaics, developed images).
#pragma once
#include <cstddef>
#include <cstdint>
#include <new>
#include <string>
#include <utility>
#include <vector>

namespace obscura {

// Memory for full-frame buffers: large blocks are 2 MB aligned and asked
// to be backed by huge pages, so filling a 300 MB image costs hundreds of
// page faults instead of tens of thousands.
// Throws obscura::Error when the frames alive would exceed the budget.
void* allocate_frame_memory(size_t bytes);
// The same, every byte zero (from the system, not written first).
void* allocate_zeroed_frame_memory(size_t bytes);
void free_frame_memory(void* p) noexcept;

// For a short-lived process (the CLI), called first thing: every thread's
// blocks below 32 MB come from the one heap, which grows in 64 MB steps of
// address space (memory only once touched), is never trimmed, and is asked
// to be backed by huge pages. On our virtual machines a fresh 4 KB page
// costs a ~10 us fault and every TLB miss a page-table walk through the
// hypervisor: the JPEG writer's parts, the highlight plan's grids and the
// curve table each touched hundreds of them (12 MP develop: -6 to -10 ms).
// Long-lived hosts (Python, Dask) keep glibc's defaults, which give memory
// back.
void use_huge_page_heap();

// The memory budget for frames (raw mosaics, images, strips) of the whole
// process, in bytes; by default 80% of the machine's physical memory. A photo
// that would need more is refused with a clear message before it is developed.
void set_frame_memory_budget(size_t bytes);
size_t frame_memory_budget();
size_t frame_memory_in_use();

// Leaves new samples uninitialised (every sample is written by whatever
// fills the image, and zeroing a 200 MP frame first costs real time), in
// frame memory.
template <typename T>
struct UninitialisedAllocator {
    using value_type = T;
    template <typename U>
    struct rebind {
        using other = UninitialisedAllocator<U>;
    };
    UninitialisedAllocator() = default;
    template <typename U>
    UninitialisedAllocator(const UninitialisedAllocator<U>&) noexcept {}
    T* allocate(size_t n) { return static_cast<T*>(allocate_frame_memory(n * sizeof(T))); }
    void deallocate(T* p, size_t) noexcept { free_frame_memory(p); }
    template <typename U>
    bool operator==(const UninitialisedAllocator<U>&) const noexcept {
        return true;
    }
    template <typename U>
    void construct(U* p) noexcept {
        ::new (static_cast<void*>(p)) U;
    }
    template <typename U, typename... Args>
    void construct(U* p, Args&&... args) {
        ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
    }
};
using Samples16 = std::vector<uint16_t, UninitialisedAllocator<uint16_t>>;

// The `count` 16-bit samples at byte `offset` of a file, read straight into
// frame memory by every core (the file's bytes as they are: the caller
// checks their byte order). Empty when the file cannot be read so (the
// caller then reads it its own way). (Not a map of the file: on the
// virtual machines measured, a process's first touch of each 4 KB page of
// a map costs microseconds -- 0.15 s for a 200 MP frame -- and reading
// into huge pages costs a fifth of that; docs/performance.md.)
Samples16 read_file_samples(const std::string& path, uint64_t offset, size_t count);

}  // namespace obscura
