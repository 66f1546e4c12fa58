// Local tone mapping: shadows lifted by how dark their neighbourhood is, as
// phones do, with the detail on top kept and no halo at strong edges.
#pragma once
#include "obscura/image.h"

namespace obscura {

// Splits the luminance of the (encoded) image into a base layer, smoothed
// edge-aware by a guided filter at low resolution and brought back with the
// fast guided filter's upsampled coefficients, and the detail above it;
// lifts the base by a gamma of 1 - amount / 2 (faded out towards white, so
// highlights stay) and adds the detail back, scaling each pixel's RGB alike.
// amount 0..1; 0 changes nothing.
void local_tone_map(Image& image, double amount);

}  // namespace obscura
