// Quality measures against a ground truth (the figures our tests and
// benchmarks report), and readers for reference and peer images.
#pragma once
#include <string>

#include "obscura/image.h"

namespace obscura {

// An 8-bit sRGB PNG, as an Image with 16-bit samples (v * 257).
Image load_png(const std::string& path);
// An 8- or 16-bit RGB TIFF (8-bit samples scaled by 257).
Image load_tiff_rgb(const std::string& path);

// Colour PSNR over all channels on a 0..1 scale, `border` pixels dropped,
// comparing `result` with `truth` offset by (dx, dy) (for cropped results).
double cpsnr(const Image& result, const Image& truth, int border = 8, int dx = 0, int dy = 0);
// Mean CIEDE2000 (sRGB, D65) with the same conventions.
double ciede2000(const Image& result, const Image& truth, int border = 8, int dx = 0, int dy = 0);

}  // namespace obscura
