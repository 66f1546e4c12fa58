// The worker pool and the row loops on it (src/core/parallel.h): every row
// once, errors carried back, work that waits on work it started, threads
// kept rather than started again, and a forked child with a pool of its own.
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <functional>
#include <string>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/parallel.h"

namespace obscura {
namespace {

TEST(Parallel, EveryRowOnceAndErrorsComeBack) {
    std::vector<std::atomic<int>> hits(1000);
    parallel_rows(0, 1000, [&](int y0, int y1) {
        for (int y = y0; y < y1; ++y) ++hits[size_t(y)];
    }, 1);
    for (auto& h : hits) ASSERT_EQ(h.load(), 1);
    std::vector<std::atomic<int>> tasks(37);
    parallel_tasks(37, [&](int i) { ++tasks[size_t(i)]; });
    for (auto& t : tasks) ASSERT_EQ(t.load(), 1);
    // An error on a worker's band reaches the caller, after every band stopped.
    EXPECT_THROW(parallel_rows(0, 1000, [&](int y0, int) { if (y0 > 0) throw std::runtime_error("band"); }, 1),
                 std::runtime_error);
    EXPECT_THROW(parallel_tasks(8, [&](int i) { if (i == 5) throw std::runtime_error("task"); }), std::runtime_error);
    auto failing = run_on_worker([] { throw std::runtime_error("work"); });
    EXPECT_THROW(failing.get(), std::runtime_error);
}

TEST(Parallel, WorkLeftBehindIsWaitedFor) {
    // A task going out of scope (its caller unwinding) waits for the work,
    // which may use the caller's locals: a bare future would not.
    std::atomic<bool> finished{false};
    {
        Task left = run_on_worker([&] {
            std::this_thread::sleep_for(std::chrono::milliseconds(30));
            finished = true;
        });
    }
    EXPECT_TRUE(finished.load());
    // And a band that throws on the caller's thread leaves the others done.
    std::atomic<int> done{0};
    EXPECT_THROW(parallel_rows(0, 1000, [&](int y0, int) {
        if (y0 == 0) throw std::runtime_error("first band");
        std::this_thread::sleep_for(std::chrono::milliseconds(30));
        ++done;
    }, 1), std::runtime_error);
    EXPECT_EQ(done.load(), int(std::clamp(std::thread::hardware_concurrency(), 1u, 8u)) - 1);
}

TEST(Parallel, WorkWaitingOnWorkItStartedFinishes) {
    // Each level waits for the one it started, deeper than the cores: with a
    // pool of fixed size this would wait for ever.
    std::atomic<int> depth{0};
    std::function<void(int)> nest = [&](int level) {
        ++depth;
        if (level < 12) run_on_worker([&, level] { nest(level + 1); }).get();
    };
    run_on_worker([&] { nest(1); }).get();
    EXPECT_EQ(depth.load(), 12);
}

// The process's threads, as the kernel counts them.
int threads_now() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
    return -1;
}

TEST(Parallel, ThreadsAreKeptAndReused) {
    // One call at a time: after the first, each finds a thread of the pool
    // idle again, so the process starts hardly any more of them (std::async
    // or a thread per call would start fifty). (A few may still start when
    // the machine is so busy that the last thread has not yet counted
    // itself idle after a millisecond.)
    std::set<long> seen;  // kernel thread ids: a new thread gets a new one
    run_on_worker([] {}).get();
    const int before = threads_now();
    ASSERT_GT(before, 1);
    for (int k = 0; k < 50; ++k) {
        run_on_worker([&] { seen.insert(::syscall(SYS_gettid)); }).get();
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_LE(threads_now(), before + 3);
    EXPECT_LE(int(seen.size()), before + 3);
    EXPECT_EQ(seen.count(::syscall(SYS_gettid)), 0u);  // never the caller's
}

TEST(Parallel, AForkedChildHasAPoolOfItsOwn) {
#ifdef OBSCURA_TESTS_EMULATED
    GTEST_SKIP() << "qemu-user cannot start threads in a forked child of a threaded process";
#endif
    run_on_worker([] {}).get();  // (the parent's pool has an idle thread)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        // The parent's idle thread does not exist here; the work still runs.
        std::atomic<int> rows{0};
        parallel_rows(0, 100, [&](int y0, int y1) { rows += y1 - y0; }, 1);
        run_on_worker([] {}).get();
        _exit(rows == 100 ? 0 : 1);
    }
    int status = 0;
    // (A child waiting on a thread that is not there would hang: alarm it.)
    for (int waited = 0; waited < 200 && waitpid(child, &status, WNOHANG) == 0; ++waited)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (waitpid(child, &status, WNOHANG) == 0 && !WIFEXITED(status)) {
        kill(child, SIGKILL);
        waitpid(child, &status, 0);
        FAIL() << "the forked child's work never ran";
    }
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace obscura
