// denoise: noise removed from a Bayer mosaic before the demosaic, or from a
// LinearRaw frame before its develop, driven by the noise profile (DNG
// NoiseProfile, or estimated from the frame when the file has none). The
// kernels are denoise_gen.cpp.
#pragma once
#include <array>
#include <cstdint>

#include "obscura/frame_memory.h"
#include "obscura/raw_image.h"

namespace obscura {

// Per site of RGGB space ((u & 1) + 2 (v & 1)): the black level and the
// white level of the samples the kernel reads.
struct MosaicLevels {
    std::array<float, 4> black{}, white{};
};

// The frame's noise, variance = S x + O (x in 0..1 of white), per site of
// RGGB space for a mosaic, per channel (R, G, B) for a LinearRaw frame: the
// file's NoiseProfile by colour, or, when it has none, measured on the frame
// (the spread of the green samples' differences in the flattest blocks, by
// brightness, fitted to a line: denoise.cpp). `estimated` says which.
struct FrameNoise {
    std::array<float, 4> scale{}, offset{};
    bool estimated = false;
};
FrameNoise mosaic_noise(const RawImage& raw, const uint16_t* samples, const MosaicLevels& levels, int cfa_dx, int cfa_dy);
FrameNoise linear_noise(const RawImage& raw);

// The denoised samples of a raw.width x raw.height Bayer mosaic (`samples`),
// with the noise scaled by `strength` (1: as measured).
Samples16 denoise_mosaic(const RawImage& raw, const uint16_t* samples, const MosaicLevels& levels, int cfa_dx, int cfa_dy,
                         const FrameNoise& noise, double strength);

// The denoised samples of a LinearRaw frame (raw.data: R, G, B interleaved,
// one black and white level), the noise scaled by `strength`.
Samples16 denoise_linear(const RawImage& raw, const FrameNoise& noise, double strength);

}  // namespace obscura
