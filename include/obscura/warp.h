// Geometric lens corrections on a developed image.
#pragma once
#include <array>

#include "obscura/image.h"
#include "obscura/opcodes.h"

namespace obscura {

// Where each output pixel is found in the input, per colour plane (so
// lateral chromatic aberration is corrected with the distortion): with r the
// distance from the centre over the largest centre-corner distance and
// f = a0 + a1 r + ... + a6 r^6, the source is centre + f * offset plus the
// tangential terms kt0, kt1 of DNG WarpRectilinear. DNG's form has only even
// powers; lensfun's ptlens model needs the odd ones too.
struct RadialWarp {
    std::array<std::array<double, 9>, 3> coef{};  // a0..a6, kt0, kt1 per plane
    double cx = 0.5, cy = 0.5;                    // relative to the image
};

RadialWarp radial_warp(const WarpRectilinear& dng);

// Resamples `image` through `warp`. The centre and radius refer to the image
// the correction was made for (the raw's active area, `area_w` x `area_h`),
// of which `image` is the part starting at (`x0`, `y0`) (the default crop).
Image warp_image(const Image& image, const RadialWarp& warp, int area_w, int area_h, int x0 = 0, int y0 = 0);

}  // namespace obscura
