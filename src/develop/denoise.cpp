// denoise: the noise model (from the file or measured) and the kernel's run.
#include "denoise.h"

#include <HalideBuffer.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "denoise_kernel.h"
#include "obscura/error.h"

namespace obscura {
namespace {

// Tuned on the Kodak photos at two phone noise levels (scripts/denoise_eval.py).
constexpr float kStrength = 1.25f;     // h, in noise sigmas
constexpr float kChromaWeight = 0.4f;  // the colour channels' share of the patch distance

// The noise measured on the frame, for all sites at once (a sensor's S
// and O are the same for every colour in raw units): in blocks of 4 x 4
// quads, the variance of (Gr - Gb) / sqrt(2) (diagonal neighbours of one
// colour: their difference is mostly noise) against the blocks' brightness;
// per brightness bin the 10th percentile of the blocks (the flattest; the
// rest carry texture), and a line through the bins (least squares). Rough
// on finely textured scenes: it errs high (up to ~2x the variance at phone
// base ISO on Kodak photos), so the denoise errs strong.
std::array<double, 2> measure_greens(const uint16_t* samples, int width, int height, const MosaicLevels& levels, int cfa_dx,
                                     int cfa_dy) {
    const int bins = 18, block = 4;
    std::vector<std::vector<float>> vars(bins);
    auto value = [&](int u, int v, int site) {
        int x = u - cfa_dx, y = v - cfa_dy;
        double b = levels.black[size_t(site)], range = levels.white[size_t(site)] - b;
        return (double(samples[size_t(y) * width + x]) - b) / range;
    };
    const int qx0 = 1, qy0 = 1, qx1 = (width - 2) / 2, qy1 = (height - 2) / 2;  // quads wholly inside
    for (int by = qy0; by + block <= qy1; by += block)
        for (int bx = qx0; bx + block <= qx1; bx += block) {
            double sd = 0, sdd = 0, sm = 0;
            for (int qy = by; qy < by + block; ++qy)
                for (int qx = bx; qx < bx + block; ++qx) {
                    double gr = value(2 * qx + 1, 2 * qy, 1), gb = value(2 * qx, 2 * qy + 1, 2);
                    double d = (gr - gb) * 0.70710678;
                    sd += d, sdd += d * d, sm += (gr + gb) / 2;
                }
            const double n = block * block, mean = sm / n;
            if (mean <= 0 || mean >= 0.9) continue;
            vars[size_t(std::min(bins - 1, int(mean / 0.05)))].push_back(float((sdd - sd * sd / n) / (n - 1)));
        }
    std::vector<double> xs, ys;
    for (int b = 0; b < bins; ++b) {
        auto& v = vars[size_t(b)];
        if (v.size() < 8) continue;
        std::nth_element(v.begin(), v.begin() + v.size() / 10, v.end());
        xs.push_back((b + 0.5) * 0.05);
        ys.push_back(v[v.size() / 10]);
    }
    if (xs.empty()) return {1e-5, 1e-7};
    double sx = 0, sy = 0, sxx = 0, sxy = 0, n = double(xs.size());
    for (size_t i = 0; i < xs.size(); ++i) sx += xs[i], sy += ys[i], sxx += xs[i] * xs[i], sxy += xs[i] * ys[i];
    double det = n * sxx - sx * sx;
    double S = det > 0 ? (n * sxy - sx * sy) / det : 0, O = det > 0 ? (sy - S * sx) / n : sy / n;
    return {std::max(S, 1e-7), std::max(O, 1e-9)};
}

}  // namespace

MosaicNoise mosaic_noise(const RawImage& raw, const uint16_t* samples, const MosaicLevels& levels, int cfa_dx, int cfa_dy) {
    MosaicNoise n;
    const auto& planes = raw.noise.planes;
    for (int site = 0; site < 4; ++site) {
        // The raw site of this RGGB-space site, and its colour.
        int rx = ((site & 1) - cfa_dx) & 1, ry = ((site >> 1) - cfa_dy) & 1;
        int colour = raw.cfa.at(rx, ry);
        if (!planes.empty()) {
            const auto& p = planes.size() >= 3 ? planes[size_t(colour)] : planes[0];
            n.scale[size_t(site)] = float(p[0]), n.offset[size_t(site)] = float(p[1]);
        }
    }
    if (planes.empty()) {
        auto p = measure_greens(samples, raw.width, raw.height, levels, cfa_dx, cfa_dy);
        n.scale.fill(float(p[0])), n.offset.fill(float(p[1]));
        n.estimated = true;
    }
    return n;
}

Samples16 denoise_mosaic(const RawImage& raw, const uint16_t* samples, const MosaicLevels& levels, int cfa_dx, int cfa_dy,
                         const MosaicNoise& noise, double strength) {
    float params[4][4];
    for (int site = 0; site < 4; ++site) {
        float range = levels.white[size_t(site)] - levels.black[size_t(site)];
        if (!(range > 1)) throw file_error(raw.source, "white level is not above the black level");
        params[site][0] = levels.black[size_t(site)];
        params[site][1] = 1.0f / range;
        params[site][2] = float(noise.scale[size_t(site)] * strength);
        params[site][3] = float(std::max(double(noise.offset[size_t(site)]) * strength, 1e-12));
    }
    Samples16 out(raw.data.size());
    Halide::Runtime::Buffer<const uint16_t> in(samples, raw.width, raw.height);
    Halide::Runtime::Buffer<float> params_buf(&params[0][0], 4, 4);
    Halide::Runtime::Buffer<uint16_t> out_buf(out.data(), raw.width, raw.height);
    int rc = denoise_kernel(in, params_buf, cfa_dx, cfa_dy, kStrength, kChromaWeight, out_buf);
    if (rc != 0) throw file_error(raw.source, "denoise kernel failed (Halide error " + std::to_string(rc) + ")");
    return out;
}

}  // namespace obscura
