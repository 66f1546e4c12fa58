// Test support: ground-truth photos and the quality measures the tests assert.
#pragma once
#include <string>
#include <vector>

#include "obscura/image.h"
#include "obscura/raw_image.h"

namespace obscura::test {

std::string data_path(const std::string& name);  // tests/data/NAME
std::string dng_path(const std::string& name);   // generated DNGs

// An 8-bit sRGB PNG, as an Image with 16-bit samples (v * 257).
Image load_png(const std::string& path);

// Colour PSNR over all channels on a 0..1 scale, `border` pixels dropped,
// comparing `result` with `truth` offset by (dx, dy) (for cropped results).
double cpsnr(const Image& result, const Image& truth, int border = 8, int dx = 0, int dy = 0);
// Mean CIEDE2000 (sRGB, D65) with the same conventions.
double ciede2000(const Image& result, const Image& truth, int border = 8, int dx = 0, int dy = 0);

}  // namespace obscura::test
