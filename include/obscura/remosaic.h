// sensor: remosaicing of n x n-cell CFAs (quad, nona, hexadeca Bayer) to an
// ordinary Bayer frame at full resolution, what phones do in good light.
#pragma once
#include "obscura/raw_image.h"

namespace obscura {

// The Bayer frame of the same size (the Bayer pattern of the cells: a quad
// RGGB file becomes RGGB), same levels, crop, noise profile and EXIF. Every
// pixel whose cell already has the Bayer colour keeps its sample; green under
// red and blue cells is estimated by a learned filter over the neighbourhood
// and colour-difference estimates along rows and columns; red and blue
// elsewhere are green plus the colour difference interpolated from the
// nearest cells of that colour. Works in strips on every core. Lens-shading
// opcodes (GainMaps keyed to the n x n layout) are not carried. Throws
// obscura::Error naming the file when the CFA is not an n x n-cell Bayer.
RawImage remosaic(const RawImage& raw);

}  // namespace obscura
