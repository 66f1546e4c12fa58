#include <algorithm>

#include "support/truth.h"

namespace obscura::test {

std::string data_path(const std::string& name) { return std::string(OBSCURA_TEST_DATA) + "/" + name; }
std::string dng_path(const std::string& name) { return std::string(OBSCURA_TEST_DNGS) + "/" + name; }

Image box_down(const Image& im, int n) {
    Image out;
    out.width = im.width / n;
    out.height = im.height / n;
    out.pixels.resize(size_t(out.width) * out.height * 3);
    for (int y = 0; y < out.height; ++y)
        for (int x = 0; x < out.width; ++x)
            for (int c = 0; c < 3; ++c) {
                double s = 0;
                for (int j = 0; j < n; ++j)
                    for (int i = 0; i < n; ++i) s += im.at(x * n + i, y * n + j, c);
                out.pixels[(size_t(y) * out.width + x) * 3 + c] = uint16_t(s / (n * n) + 0.5);
            }
    return out;
}

Image crop(const Image& im, int x0, int y0, int x1, int y1) {
    Image out;
    out.width = x1 - x0;
    out.height = y1 - y0;
    out.color_space = im.color_space;
    out.scene_peak = im.scene_peak;
    out.pixels.resize(size_t(out.width) * out.height * 3);
    for (int y = y0; y < y1; ++y)
        std::copy_n(&im.pixels[(size_t(y) * im.width + x0) * 3], size_t(out.width) * 3, &out.pixels[size_t(y - y0) * out.width * 3]);
    return out;
}

}  // namespace obscura::test
