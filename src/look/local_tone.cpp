// Local tone mapping with the fast guided filter (He and Sun, 2015): the
// guided filter's coefficients (a, b) are found on a small copy of the
// luminance and upsampled; base = a * L + b follows every edge stronger than
// sqrt(eps), so a lift of the base does not spill across it (no halo).
#include "obscura/local_tone.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/parallel.h"

namespace obscura {
namespace {

// Mean over a (2r+1)^2 box, edges clamped, on a w x h grid.
std::vector<float> box_mean(const std::vector<float>& in, int w, int h, int r) {
    std::vector<float> tmp(in.size()), out(in.size());
    for (int y = 0; y < h; ++y) {
        double s = 0;
        auto at = [&](int x) { return in[size_t(y) * w + std::clamp(x, 0, w - 1)]; };
        for (int x = -r; x <= r; ++x) s += at(x);
        for (int x = 0; x < w; ++x) {
            tmp[size_t(y) * w + x] = float(s / (2 * r + 1));
            s += at(x + r + 1) - at(x - r);
        }
    }
    for (int x = 0; x < w; ++x) {
        double s = 0;
        auto at = [&](int y) { return tmp[size_t(std::clamp(y, 0, h - 1)) * w + x]; };
        for (int y = -r; y <= r; ++y) s += at(y);
        for (int y = 0; y < h; ++y) {
            out[size_t(y) * w + x] = float(s / (2 * r + 1));
            s += at(y + r + 1) - at(y - r);
        }
    }
    return out;
}

float luma(const uint16_t* p) { return (0.2126f * p[0] + 0.7152f * p[1] + 0.0722f * p[2]) * (1.0f / 65535.0f); }

}  // namespace

void local_tone_map(Image& image, double amount) {
    if (!(amount > 0) || image.width < 2 || image.height < 2) return;
    const int w = image.width, h = image.height;
    // The small copy: about 256 samples on the shorter side.
    const int step = std::max(1, std::min(w, h) / 256);
    const int sw = (w + step - 1) / step, sh = (h + step - 1) / step;
    std::vector<float> small(size_t(sw) * sh, 0.0f), count(small.size(), 0.0f);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            size_t i = size_t(y / step) * sw + x / step;
            small[i] += luma(&image.pixels[(size_t(y) * w + x) * 3]);
            count[i] += 1;
        }
    for (size_t i = 0; i < small.size(); ++i) small[i] /= count[i];
    // Self-guided filter on the small copy: neighbourhoods of 1/16 of the
    // shorter side; edges of more than 0.1 in encoded luminance are kept.
    const int r = std::max(2, std::min(sw, sh) / 16);
    constexpr float kEps = 0.01f;
    std::vector<float> sq(small.size());
    for (size_t i = 0; i < small.size(); ++i) sq[i] = small[i] * small[i];
    std::vector<float> mean = box_mean(small, sw, sh, r), mean_sq = box_mean(sq, sw, sh, r);
    std::vector<float> a(small.size()), b(small.size());
    for (size_t i = 0; i < small.size(); ++i) {
        float var = std::max(0.0f, mean_sq[i] - mean[i] * mean[i]);
        a[i] = var / (var + kEps);
        b[i] = mean[i] - a[i] * mean[i];
    }
    a = box_mean(a, sw, sh, r);
    b = box_mean(b, sw, sh, r);
    const float gamma = float(1.0 - 0.5 * std::clamp(amount, 0.0, 1.0));
    // Encoded luminance under which a pixel's colour is taken for noise:
    // two and a half 8-bit codes.
    constexpr float kNoiseFloor = 0.01f;
    auto rows = [&](int y0, int y1) {
        for (int y = y0; y < y1; ++y) {
            // Bilinear in the small grid, sample centres at (i + 0.5) * step.
            float fy = std::clamp((y + 0.5f) / step - 0.5f, 0.0f, float(sh - 1));
            int y_lo = int(fy), y_hi = std::min(y_lo + 1, sh - 1);
            float wy = fy - y_lo;
            for (int x = 0; x < w; ++x) {
                float fx = std::clamp((x + 0.5f) / step - 0.5f, 0.0f, float(sw - 1));
                int x_lo = int(fx), x_hi = std::min(x_lo + 1, sw - 1);
                float wx = fx - x_lo;
                auto lerp2 = [&](const std::vector<float>& g) {
                    float top = g[size_t(y_lo) * sw + x_lo] * (1 - wx) + g[size_t(y_lo) * sw + x_hi] * wx;
                    float bottom = g[size_t(y_hi) * sw + x_lo] * (1 - wx) + g[size_t(y_hi) * sw + x_hi] * wx;
                    return top * (1 - wy) + bottom * wy;
                };
                uint16_t* p = &image.pixels[(size_t(y) * w + x) * 3];
                const float l = luma(p);
                const float base = std::clamp(lerp2(a) * l + lerp2(b), 1e-4f, 1.0f);
                // The gamma's lift fades out towards white: highlights stay.
                const float base_lifted = base + (std::pow(base, gamma) - base) * (1.0f - base);
                const float lifted = std::max(base_lifted + (l - base), 0.0f);
                // The colour is scaled as the luminance is, but never by more
                // than a pixel at kNoiseFloor would be; what a darker one
                // needs beyond that (all of it, at black) is added as grey.
                // (Scaled alone, a speck of noise a few codes above black
                // among lifted surroundings was multiplied up to a
                // thousandfold into a bright, saturated dot, and a pixel
                // under 1e-4 was not lifted at all.)
                const float gain = lifted / std::max(l, kNoiseFloor);
                const float grey = (lifted - gain * l) * 65535.0f;
                for (int c = 0; c < 3; ++c)
                    p[c] = uint16_t(std::clamp(std::lround(p[c] * gain + grey), 0L, 65535L));
            }
        }
    };
    parallel_rows(0, h, rows);
}

}  // namespace obscura
