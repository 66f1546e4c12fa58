#include "obscura/warp.h"

#include <HalideBuffer.h>

#include <cmath>

#include "obscura/error.h"
#include "warp_kernel.h"

namespace obscura {

RadialWarp radial_warp(const WarpRectilinear& dng) {
    RadialWarp w;
    for (int p = 0; p < 3; ++p) {
        const auto& k = dng.coef[p];
        w.coef[p] = {k[0], 0, k[1], 0, k[2], 0, k[3], k[4], k[5]};
    }
    w.cx = dng.cx, w.cy = dng.cy;
    return w;
}

Image warp_image(const Image& image, const RadialWarp& warp, int area_w, int area_h, int x0, int y0) {
    float coef[3][9];
    for (int p = 0; p < 3; ++p)
        for (int k = 0; k < 9; ++k) coef[p][k] = float(warp.coef[p][k]);
    double cx = warp.cx * (area_w - 1), cy = warp.cy * (area_h - 1);
    double mx = std::max(cx, area_w - 1 - cx), my = std::max(cy, area_h - 1 - cy);
    double radius = std::max(std::sqrt(mx * mx + my * my), 1.0);
    cx -= x0, cy -= y0;  // into the image's own coordinates
    Image out;
    out.width = image.width, out.height = image.height, out.color_space = image.color_space;
    out.scene_peak = image.scene_peak;
    out.pixels.resize(image.pixels.size());
    Halide::Runtime::Buffer<const uint16_t> in(image.pixels.data(), 3, image.width, image.height);
    Halide::Runtime::Buffer<uint16_t> dst(out.pixels.data(), 3, out.width, out.height);
    Halide::Runtime::Buffer<float> coef_buf(&coef[0][0], 9, 3);
    int rc = warp_kernel(in, coef_buf, float(cx), float(cy), float(radius), dst);
    if (rc != 0) throw Error("warp kernel failed (Halide error " + std::to_string(rc) + ")");
    return out;
}

}  // namespace obscura
