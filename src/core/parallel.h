// Plain C++ row loops on every core, for the work between the kernels.
#pragma once
#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace obscura {

// Runs body(y0, y1) over [begin, end) in as many bands as there are cores
// (at most 8); fewer than `min_rows` rows run on the calling thread alone.
template <typename F>
void parallel_rows(int begin, int end, F body, int min_rows = 64) {
    const int n = std::clamp(int(std::thread::hardware_concurrency()), 1, 8);
    if (n == 1 || end - begin < min_rows) return body(begin, end);
    std::vector<std::thread> pool;
    const int step = (end - begin + n - 1) / n;
    for (int k = 1; k < n; ++k) {
        int a = begin + k * step, b = std::min(end, a + step);
        if (a < b) pool.emplace_back(body, a, b);
    }
    body(begin, std::min(end, begin + step));
    for (auto& t : pool) t.join();
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
    std::vector<std::thread> pool;
    for (int k = 1; k < n; ++k) pool.emplace_back(worker);
    worker();
    for (auto& t : pool) t.join();
    if (error) std::rethrow_exception(error);
}

}  // namespace obscura
