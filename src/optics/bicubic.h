// Catmull-Rom bicubic sampling, as a Halide expression, for the resampling
// stages (the warp, and the chromatic aberration shift on the mosaic).
#pragma once
#include <functional>

#include "Halide.h"

namespace obscura::halide {

// sample(x, y) -> Expr at integer positions; (fx, fy) the fractional point.
inline Halide::Expr bicubic(const std::function<Halide::Expr(Halide::Expr, Halide::Expr)>& sample, Halide::Expr fx,
                            Halide::Expr fy) {
    using Halide::Expr;
    Expr x0 = Halide::cast<int>(Halide::floor(fx)), y0 = Halide::cast<int>(Halide::floor(fy));
    auto weights = [](Expr t) {  // taps at -1, 0, 1, 2
        Expr t2 = t * t, t3 = t2 * t;
        return std::vector<Expr>{(-t3 + 2.0f * t2 - t) * 0.5f, (3.0f * t3 - 5.0f * t2 + 2.0f) * 0.5f,
                                 (-3.0f * t3 + 4.0f * t2 + t) * 0.5f, (t3 - t2) * 0.5f};
    };
    std::vector<Expr> wx = weights(fx - Halide::cast<float>(x0)), wy = weights(fy - Halide::cast<float>(y0));
    Expr sum = 0.0f;
    for (int j = 0; j < 4; ++j) {
        Expr row = 0.0f;
        for (int i = 0; i < 4; ++i) row += wx[i] * sample(x0 + i - 1, y0 + j - 1);
        sum += wy[j] * row;
    }
    return sum;
}

}  // namespace obscura::halide
