// sensor: binning of n x n-cell CFAs (quad, nona, hexadeca Bayer): each cell
// of one colour becomes one pixel of an ordinary Bayer frame, with 1/n^2 the
// pixels and the noise of one pixel divided by n^2 (what cameras do in low
// light).
#pragma once
#include "obscura/raw_image.h"

namespace obscura {

// The binned frame: Bayer pattern of the cells, levels scaled so the mean of
// n^2 samples keeps its extra precision (up to 16 bits), crop and noise
// profile carried over. The DNG opcodes are kept, with the full-size frame
// recorded as the one they were written for (RawImage::opcode_frame). A
// black level that varies by position is folded in first
// (make_black_uniform). Throws obscura::Error naming the file when the CFA is
// not an n x n-cell Bayer.
RawImage bin_cells(RawImage raw);

// Whether binning gives this n x n-cell frame a better photo than the
// full-resolution remosaic, both denoised, judged by the noise at mid-grey
// (S 0.18 + O of its noise profile): binning pays only in very low light
// (quad: measured on Kodak photos, the remosaic + denoise wins up to S 0.01
// by 1.5-4.5 dB and binning starts to win near S 0.04; nona and hexadeca
// bin still later). False without a noise profile or for a Bayer frame.
bool binning_pays(const RawImage& raw);

// Some phone apps write quad-Bayer data into DNGs that claim a 2x2 pattern.
// From the data: the n (2, 3 or 4) of n x n cells when neighbouring samples
// change colour only every n columns and rows, else 1 (plain Bayer).
int detect_cell_size(const RawImage& raw);

}  // namespace obscura
