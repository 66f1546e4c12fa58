// denoise: the noise model (from the file or measured) and the kernel's run.
#include "denoise.h"

#include <HalideBuffer.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "denoise_kernel.h"
#include "denoise_linear_kernel.h"
#include "core/noise_map.h"
#include "obscura/error.h"

namespace obscura {
namespace {

// Tuned on the Kodak photos at two phone noise levels (scripts/denoise_eval.py).
constexpr float kStrength = 1.25f;     // h, in noise sigmas
constexpr float kChromaWeight = 0.4f;  // the colour channels' share of the patch distance
// The same for LinearRaw frames (the Kodak photos as mkdng's LinearRaw; its
// kernel searches 9 x 9 pixels: +0.1 dB over 7 x 7, src/CMakeLists.txt).
constexpr float kLinearStrength = 1.3f;
constexpr float kLinearChromaWeight = 0.4f;

// The noise measured on a frame, for all its colours at once (a sensor's S
// and O are the same for every colour in raw units): blocks of 16 noise
// residuals (differences of green samples that cancel smooth signal: their
// variance is the samples' where the block is flat), and per brightness bin
// the 10th percentile of the blocks' variances (the flattest; the rest
// carry texture), a line through the bins (least squares). Rough on finely
// textured scenes: it errs high (up to ~2x the variance at phone base ISO on
// Kodak photos), so the denoise errs strong.
class NoiseBins {
public:
    // A block of residuals d (each of the samples' noise variance) at mean
    // brightness `mean` (0..1 of white).
    void add(double mean, double sd, double sdd, int n) {
        if (mean <= 0 || mean >= 0.9) return;
        vars_[size_t(std::min(kBins - 1, int(mean / kWidth)))].push_back(float((sdd - sd * sd / n) / (n - 1)));
    }
    std::array<double, 2> fit() {
        std::vector<double> xs, ys;
        for (int b = 0; b < kBins; ++b) {
            auto& v = vars_[size_t(b)];
            if (v.size() < 8) continue;
            std::nth_element(v.begin(), v.begin() + v.size() / 10, v.end());
            xs.push_back((b + 0.5) * kWidth);
            ys.push_back(v[v.size() / 10]);
        }
        if (xs.empty()) return {1e-5, 1e-7};
        double sx = 0, sy = 0, sxx = 0, sxy = 0, n = double(xs.size());
        for (size_t i = 0; i < xs.size(); ++i) sx += xs[i], sy += ys[i], sxx += xs[i] * xs[i], sxy += xs[i] * ys[i];
        double det = n * sxx - sx * sx;
        double S = det > 0 ? (n * sxy - sx * sy) / det : 0, O = det > 0 ? (sy - S * sx) / n : sy / n;
        return {std::max(S, 1e-7), std::max(O, 1e-9)};
    }

private:
    static constexpr int kBins = 18;
    static constexpr double kWidth = 0.05;
    std::vector<std::vector<float>> vars_ = std::vector<std::vector<float>>(kBins);
};

// On a mosaic: per quad (Gr - Gb) / sqrt(2) (diagonal neighbours of one
// colour: their difference is mostly noise), in blocks of 4 x 4 quads.
std::array<double, 2> measure_greens(const uint16_t* samples, int width, int height, const MosaicLevels& levels, int cfa_dx,
                                     int cfa_dy) {
    const int block = 4;
    NoiseBins bins;
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
            bins.add(sm / (block * block), sd, sdd, block * block);
        }
    return bins.fit();
}

// On a LinearRaw frame: per 2 x 2 pixels the green channel's
// (g00 - g10 - g01 + g11) / 2 (zero on any plane of signal), in blocks of
// 4 x 4 of them. (Noise the camera's demosaic spread over neighbours reads
// lower than it is: the denoise then errs gentle.)
std::array<double, 2> measure_linear_green(const RawImage& raw) {
    const int block = 4, w = raw.width;
    const double black = raw.black.pattern[0], range = raw.white_level - black;
    NoiseBins bins;
    auto g = [&](int x, int y) { return (double(raw.data[(size_t(y) * w + x) * 3 + 1]) - black) / range; };
    for (int by = 0; by + 2 * block <= raw.height; by += 2 * block)
        for (int bx = 0; bx + 2 * block <= w; bx += 2 * block) {
            double sd = 0, sdd = 0, sm = 0;
            for (int y = by; y < by + 2 * block; y += 2)
                for (int x = bx; x < bx + 2 * block; x += 2) {
                    double a = g(x, y), b = g(x + 1, y), c = g(x, y + 1), e = g(x + 1, y + 1);
                    double d = (a - b - c + e) * 0.5;
                    sd += d, sdd += d * d, sm += (a + b + c + e) / 4;
                }
            bins.add(sm / (block * block), sd, sdd, block * block);
        }
    return bins.fit();
}

// The file's noise profile of colour c (one for all when it has fewer than three).
const std::array<double, 2>& profile_of(const RawImage& raw, int c) {
    const auto& planes = raw.noise.planes;
    return planes.size() >= 3 ? planes[size_t(c)] : planes[0];
}

// Noise measured on the frame, the same for every colour.
FrameNoise measured(const std::array<double, 2>& p) {
    FrameNoise n;
    n.scale.fill(float(p[0])), n.offset.fill(float(p[1]));
    n.estimated = true;
    return n;
}

}  // namespace

FrameNoise mosaic_noise(const RawImage& raw, const uint16_t* samples, const MosaicLevels& levels, int cfa_dx, int cfa_dy) {
    if (raw.noise.planes.empty()) return measured(measure_greens(samples, raw.width, raw.height, levels, cfa_dx, cfa_dy));
    FrameNoise n;
    for (int site = 0; site < 4; ++site) {
        // The raw site of this RGGB-space site, and its colour.
        int rx = ((site & 1) - cfa_dx) & 1, ry = ((site >> 1) - cfa_dy) & 1;
        const auto& p = profile_of(raw, raw.cfa.at(rx, ry));
        n.scale[size_t(site)] = float(p[0]), n.offset[size_t(site)] = float(p[1]);
    }
    return n;
}

Samples16 denoise_mosaic(const RawImage& raw, const uint16_t* samples, const MosaicLevels& levels, int cfa_dx, int cfa_dy,
                         const FrameNoise& noise, double strength) {
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
    // The local noise map in the kernel's quads of RGGB space (a quad's
    // centre is raw pixel 2 q - cfa_d + 0.5), or none (1 x 1 of 1).
    const NoiseProfile& profile = raw.noise;
    const bool mapped = has_noise_map(profile);
    // (Multiples kept sane: the kernel divides by them.)
    std::vector<float> map = mapped ? profile.map : std::vector<float>{1.0f};
    for (float& v : map) v = std::isfinite(v) ? std::clamp(v, 1e-3f, 1e3f) : 1.0f;
    Halide::Runtime::Buffer<float> map_buf(map.data(), mapped ? profile.map_width : 1, mapped ? profile.map_height : 1);
    const float map_step = mapped ? float(profile.map_step / 2) : 1.0f;
    const float map_x = mapped ? float((profile.map_origin + cfa_dx - 0.5) / 2) : 0.0f;
    const float map_y = mapped ? float((profile.map_origin + cfa_dy - 0.5) / 2) : 0.0f;
    int rc = denoise_kernel(in, params_buf, cfa_dx, cfa_dy, kStrength, kChromaWeight, map_buf, map_step, map_x, map_y, out_buf);
    if (rc != 0) throw file_error(raw.source, "denoise kernel failed (Halide error " + std::to_string(rc) + ")");
    return out;
}

FrameNoise linear_noise(const RawImage& raw) {
    if (raw.noise.planes.empty()) return measured(measure_linear_green(raw));
    FrameNoise n;
    for (int c = 0; c < 3; ++c) {
        const auto& p = profile_of(raw, c);
        n.scale[size_t(c)] = float(p[0]), n.offset[size_t(c)] = float(p[1]);
    }
    return n;
}

Samples16 denoise_linear(const RawImage& raw, const FrameNoise& noise, double strength) {
    const float black = float(raw.black.pattern[0]), range = float(raw.white_level) - black;
    if (!(range > 1)) throw file_error(raw.source, "white level is not above the black level");
    float params[3][4];
    for (size_t c = 0; c < 3; ++c) {
        params[c][0] = black;
        params[c][1] = 1.0f / range;
        params[c][2] = float(noise.scale[c] * strength);
        params[c][3] = float(std::max(double(noise.offset[c]) * strength, 1e-12));
    }
    Samples16 out(raw.data.size());
    halide_dimension_t dims[3] = {{0, 3, 1}, {0, raw.width, 3}, {0, raw.height, 3 * raw.width}};
    Halide::Runtime::Buffer<const uint16_t> in(raw.data.data(), 3, dims);
    Halide::Runtime::Buffer<uint16_t> out_buf(out.data(), 3, dims);
    Halide::Runtime::Buffer<float> params_buf(&params[0][0], 4, 3);
    int rc = denoise_linear_kernel(in, params_buf, kLinearStrength, kLinearChromaWeight, out_buf);
    if (rc != 0) throw file_error(raw.source, "denoise kernel failed (Halide error " + std::to_string(rc) + ")");
    return out;
}

}  // namespace obscura
