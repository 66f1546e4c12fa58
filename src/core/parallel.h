// Plain C++ row loops on every core, for the work between the kernels.
#pragma once
#include <algorithm>
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

}  // namespace obscura
