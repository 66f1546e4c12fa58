// The CLI's heap (use_huge_page_heap, frame_memory.h): blocks below 32 MB
// come from the one heap, which is not handed back when they are freed and
// whose new part the kernel may back with huge pages. Checked in a forked
// child, so this test process keeps glibc's defaults.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "obscura/frame_memory.h"

namespace obscura {
namespace {

// The smaps record of the mapping holding `p`, or "" when none does.
std::string mapping_of(const void* p) {
    std::ifstream smaps("/proc/self/smaps");
    std::string line, record;
    bool in = false;
    const uintptr_t at = reinterpret_cast<uintptr_t>(p);
    while (std::getline(smaps, line)) {
        unsigned long lo = 0, hi = 0;
        char dash = 0;
        std::istringstream head(line);
        if (head >> std::hex >> lo >> dash >> hi && dash == '-') {
            if (in) return record;
            in = at >= lo && at < hi;
            record.clear();
        }
        if (in) record += line + "\n";
    }
    return in ? record : "";
}

bool huge_pages_offered() {
    std::ifstream thp("/sys/kernel/mm/transparent_hugepage/enabled");
    std::string modes;
    std::getline(thp, modes);
    return !modes.empty() && modes.find("[never]") == std::string::npos;
}

TEST(Memory, TheCliHeapKeepsItsBlocksOnHugePages) {
#ifdef OBSCURA_TESTS_EMULATED
    GTEST_SKIP() << "qemu-user keeps the emulated heap where /proc/self/smaps does not show it";
#endif
#ifdef __SANITIZE_ADDRESS__
    GTEST_SKIP() << "AddressSanitizer's allocator replaces glibc's malloc, whose settings these are";
#endif
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        use_huge_page_heap();
        // 8 MB, which glibc would otherwise map on its own (and unmap when freed).
        void* volatile block = std::malloc(8u << 20);
        // (Its middle: its start may lie in the heap's older part, below the
        // range that was advised.)
        const std::string where = mapping_of(static_cast<char*>(block) + (4u << 20));
        if (where.find("[heap]") == std::string::npos) _exit(2);
        const size_t eligible = where.find("THPeligible:");
        if (huge_pages_offered() && (eligible == std::string::npos || std::atoi(where.c_str() + eligible + 12) != 1)) _exit(3);
        const void* top = sbrk(0);
        std::free(block);
        _exit(sbrk(0) == top ? 0 : 4);  // (not trimmed)
    }
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "2: the block was not on the heap; 3: the heap is not eligible for huge pages; "
                                          "4: the heap was trimmed";
}

}  // namespace
}  // namespace obscura
