// Plain C++ row loops on every core, for the work between the kernels, and
// the threads they run on.
#pragma once
#include <algorithm>
#include <atomic>
#include <exception>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

namespace obscura {

// Work running on a thread of the worker pool. get() waits for it and
// rethrows what it threw; going out of scope waits for it too, as
// std::async's futures do, so work that uses the caller's locals never
// outlives them when the caller unwinds.
class Task {
public:
    Task() = default;
    explicit Task(std::future<void> done) : done_(std::move(done)) {}
    Task(Task&&) = default;
    Task& operator=(Task&& other) {
        wait();
        done_ = std::move(other.done_);
        return *this;
    }
    ~Task() { wait(); }
    bool valid() const { return done_.valid(); }
    void wait() const {
        if (done_.valid()) done_.wait();
    }
    void get() { done_.get(); }

private:
    std::future<void> done_;
};

// Runs `work` on a thread of the process's worker pool. Every call has a
// thread to itself at once (an idle one of the pool, else a new one that
// then stays in the pool), so work may wait on other work it started
// without a deadlock. (Threads are kept because starting one is dear: on
// our virtual machines 50-500 us, its stack mapped and faulted afresh and
// a new malloc arena; a 12 MP develop started ~40 of them, three a strip.)
Task run_on_worker(std::function<void()> work);

// Waits for every task, then rethrows the first exception among them.
void wait_all(std::vector<Task>& tasks);

// Runs body(y0, y1) over [begin, end) in as many bands as there are cores
// (at most 8); fewer than `min_rows` rows run on the calling thread alone.
template <typename F>
void parallel_rows(int begin, int end, F body, int min_rows = 64) {
    const int n = std::clamp(int(std::thread::hardware_concurrency()), 1, 8);
    if (n == 1 || end - begin < min_rows) return body(begin, end);
    std::vector<Task> others;
    const int step = (end - begin + n - 1) / n;
    for (int k = 1; k < n; ++k) {
        int a = begin + k * step, b = std::min(end, a + step);
        if (a < b) others.push_back(run_on_worker([&body, a, b] { body(a, b); }));
    }
    body(begin, std::min(end, begin + step));
    wait_all(others);
}

// Runs body(i) for every i in [0, count) on every core (at most 8), each
// core taking the next task as it comes free: for blocks of uneven cost
// (compressed tiles). The first exception a task throws is rethrown here
// once every core has stopped; the tasks not yet started are skipped.
template <typename F>
void parallel_tasks(int count, F body) {
    const int n = std::min(std::clamp(int(std::thread::hardware_concurrency()), 1, 8), count);
    std::atomic<int> next{0};
    std::exception_ptr error;
    std::mutex error_lock;
    auto worker = [&] {
        for (int i; (i = next.fetch_add(1)) < count;) {
            try {
                body(i);
            } catch (...) {
                std::lock_guard<std::mutex> hold(error_lock);
                if (!error) error = std::current_exception();
                next = count;
            }
        }
    };
    std::vector<Task> others;
    for (int k = 1; k < n; ++k) others.push_back(run_on_worker(worker));
    worker();
    wait_all(others);
    if (error) std::rethrow_exception(error);
}

}  // namespace obscura
