// stopwatch: wall-clock seconds between laps, for the stage times the
// pipeline reports and the faces print.
#pragma once
#include <chrono>

namespace obscura {

class Stopwatch {
public:
    double lap() {
        auto now = std::chrono::steady_clock::now();
        double s = std::chrono::duration<double>(now - last_).count();
        last_ = now;
        return s;
    }

private:
    std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

}  // namespace obscura
