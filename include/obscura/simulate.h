// simulate: realistic raw bursts from an ordinary photo, with the ground
// truth known — for the demo, tests and benchmarks of the burst stage.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace obscura {

struct BurstSimulation {
    int frames = 8;
    double noise_scale = 0.002;     // DNG NoiseProfile S: variance = S * x + O, x in 0..1
    double noise_offset = 0.00002;  // O
    int motion = 12;                // hand shake: each frame moves up to this many pixels
    bool mover = false;             // a patch of the scene moves on its own (the ghost test)
    int bits = 14;
    uint64_t seed = 1;
};

struct SimulatedFrame {
    std::string file;
    int dx, dy;  // frame pixel p shows the scene at p + (dx, dy) of frame 0
};

// Unprocesses `photo` (an 8-bit sRGB PNG: inverse sRGB, camera gains),
// shakes it, mosaics it (RGGB), adds Poisson-Gaussian noise and writes
// DIR/frame_00.dng ... with the NoiseProfile, DIR/truth.png (the clean frame
// 0) and DIR/truth.json (each frame's true offset). Throws obscura::Error.
std::vector<SimulatedFrame> simulate_burst(const std::string& photo, const std::string& dir, const BurstSimulation& sim);

}  // namespace obscura
