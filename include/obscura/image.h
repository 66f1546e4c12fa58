// Image: the developed photograph, display-encoded RGB, 16 bits per sample.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace obscura {

struct Image {
    int width = 0, height = 0;
    std::vector<uint16_t> pixels;  // RGB interleaved, row-major, encoded for `color_space`
    std::string color_space = "sRGB";

    uint16_t at(int x, int y, int c) const { return pixels[(size_t(y) * width + x) * 3 + c]; }
};

// Applies an EXIF orientation (1..8) so the result displays upright.
Image oriented(Image image, int exif_orientation);

}  // namespace obscura
