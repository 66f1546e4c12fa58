// sensor: remosaicing of n x n-cell CFAs (quad, nona, hexadeca Bayer) to an
// ordinary Bayer frame at full resolution, what phones do in good light.
#pragma once
#include "obscura/raw_image.h"

namespace obscura {

// How the frame is cut for the work: bands of about `rows` rows, each in
// tiles of about `columns` columns (plus a halo). The result does not depend
// on it; the default keeps a core's working set in its L2 cache.
struct RemosaicTiling {
    int columns = 1024, rows = 1024;
};

// The Bayer frame of the same size (the Bayer pattern of the cells: a quad
// RGGB file becomes RGGB), same levels, crop, noise profile and EXIF. Every
// pixel whose cell already has the Bayer colour keeps its sample; green under
// red and blue cells is estimated by a learned filter over the neighbourhood
// and colour-difference estimates along rows and columns; red and blue
// elsewhere are green plus the colour difference interpolated from the
// nearest cells of that colour. Works in tiles on every core. The file's
// frame moves to `cell_samples` (its layout to `cell_cfa`): every pixel's
// true sample of its cell's colour, which the develop puts back after the
// demosaic (62.5% of a hexadeca frame's samples are not in the Bayer frame).
// The DNG opcodes are kept, with the n x n frame recorded as the one they
// were written for (RawImage::opcode_frame). A black level that varies by
// position is folded in first (make_black_uniform).
// Throws obscura::Error naming the file when the CFA is not an n x n-cell
// Bayer.
RawImage remosaic(RawImage raw, RemosaicTiling tiling = {});

}  // namespace obscura
