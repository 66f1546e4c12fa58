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
    // An exposure bracket: frame i exposed 2^ev[i] times the photo's own
    // exposure (its ExposureTime says so); empty: all at 0.
    std::vector<double> ev;
    // The photo's brightest parts lifted smoothly up to this many stops over
    // white (an HDR scene); truth.tiff then holds the scene.
    double hdr_stops = 0;
};

struct SimulatedFrame {
    std::string file;
    int dx, dy;  // frame pixel p shows the scene at p + (dx, dy) of frame 0
};

// Unprocesses `photo` (an 8-bit sRGB PNG: inverse sRGB, camera gains),
// shakes it, mosaics it (RGGB), adds Poisson-Gaussian noise and writes
// DIR/frame_00.dng ... with the NoiseProfile, DIR/truth.png (the clean frame
// 0) and DIR/truth.json (each frame's true offset and exposure); with an
// exposure bracket or an HDR scene also DIR/truth.tiff, the scene as 32-bit
// float linear sRGB, 1.0 = the photo's white at EV 0. Throws obscura::Error.
std::vector<SimulatedFrame> simulate_burst(const std::string& photo, const std::string& dir, const BurstSimulation& sim);

}  // namespace obscura
