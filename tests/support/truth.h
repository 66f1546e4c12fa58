// Test support: where the ground-truth photos and generated DNGs are.
#pragma once
#include <string>
#include <vector>

#include "obscura/image.h"
#include "obscura/quality.h"
#include "obscura/raw_image.h"

namespace obscura::test {

std::string data_path(const std::string& name);  // tests/data/NAME
std::string dng_path(const std::string& name);   // generated DNGs

// The photo averaged over n x n blocks (what a binned sensor sees).
Image box_down(const Image& im, int n);

// The rows [y0, y1) and columns [x0, x1) of an image (its colour space and
// scene peak kept).
Image crop(const Image& im, int x0, int y0, int x1, int y1);

// The measures live in the library (obscura/quality.h).
using obscura::ciede2000;
using obscura::cpsnr;
using obscura::load_png;

}  // namespace obscura::test
