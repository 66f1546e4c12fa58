// Geometric lens corrections on a developed image.
#pragma once
#include "obscura/image.h"
#include "obscura/opcodes.h"

namespace obscura {

// Resamples `image` through a DNG WarpRectilinear (distortion and lateral
// chromatic aberration). The opcode's centre and radius refer to the image
// it was recorded for (the raw's active area, `area_w` x `area_h`), of which
// `image` is the part starting at (`x0`, `y0`) (the default crop).
Image warp_rectilinear(const Image& image, const WarpRectilinear& warp, int area_w, int area_h, int x0 = 0, int y0 = 0);

}  // namespace obscura
