// develop: prepares the kernel's parameters from the RawImage's metadata and
// runs the fused Halide kernel over the default crop.
#include "obscura/develop.h"

#include <HalideBuffer.h>

#include <algorithm>
#include <cmath>

#include "develop_best_kernel.h"
#include "develop_fast_kernel.h"
#include "kernel_memory.h"
#include "obscura/error.h"

namespace obscura {
namespace {

// Folds black levels the kernel cannot express (repeats beyond 2x2 that are
// not 2x2-periodic, per-row/column deltas) into the samples, leaving a flat
// black of `flat`. Samples only grow, so nothing clips below zero.
std::vector<uint16_t> fold_black(const RawImage& raw, double flat) {
    std::vector<uint16_t> out(raw.data.size());
    for (int y = 0; y < raw.height; ++y)
        for (int x = 0; x < raw.width; ++x) {
            double v = raw.at(x, y) - raw.black.at(x, y) + flat;
            out[size_t(y) * raw.width + x] = uint16_t(std::clamp(std::lround(v), 0L, 65535L));
        }
    return out;
}

// True when the black level repeats every 2x2 sites with no deltas, which
// is all the kernel can express.
bool black_is_2x2_periodic(const BlackLevel& b) {
    if (b.has_deltas()) return false;
    for (int y = 0; y < 2 * b.repeat_height; ++y)
        for (int x = 0; x < 2 * b.repeat_width; ++x)
            if (b.at(x, y) != b.at(x % 2, y % 2)) return false;
    return true;
}

// The develop kernel's tile (see develop_gen.cpp).
constexpr int kMinOutputWidth = 256, kMinOutputHeight = 64;

Image cropped(const Image& in, int width, int height) {
    Image out;
    out.width = width;
    out.height = height;
    out.color_space = in.color_space;
    out.pixels.resize(size_t(width) * height * 3);
    for (int y = 0; y < height; ++y)
        std::copy_n(&in.pixels[size_t(y) * in.width * 3], size_t(width) * 3, &out.pixels[size_t(y) * width * 3]);
    return out;
}

}  // namespace

const std::vector<DemosaicMethod>& demosaic_methods() {
    static const std::vector<DemosaicMethod> methods = {
        {"best", "gradient-weighted directional green, colour differences, two refinement passes (default)", false},
        {"fast", "Hamilton-Adams green along the flatter direction, bilinear colour differences (previews)", true},
    };
    return methods;
}

const DemosaicMethod& find_demosaic(const std::string& name) {
    std::string known;
    for (const auto& m : demosaic_methods()) {
        if (m.name == name) return m;
        known += (known.empty() ? "" : ", ") + m.name;
    }
    throw Error("unknown demosaic method '" + name + "' (known: " + known + ")");
}

Image develop(const RawImage& raw, const DevelopOptions& options) {
    const Look& look = find_look(options.look);
    const DemosaicMethod& method = find_demosaic(options.demosaic);
    if (!raw.cfa.is_bayer())
        throw file_error(raw.source, "CFA " + raw.cfa.name() + " needs binning or remosaicing, which is not supported yet");
    if (raw.width < 16 || raw.height < 16) throw file_error(raw.source, "image is too small to develop");

    // Where red sits decides the shift into the kernel's RGGB space.
    int cfa_dx = -1, cfa_dy = -1;
    for (int y = 0; y < 2; ++y)
        for (int x = 0; x < 2; ++x)
            if (raw.cfa.at(x, y) == kRed) cfa_dx = x, cfa_dy = y;

    ColorSolution color = solve_color(raw.color, raw.source);

    // Per-site black and gain (white balance over the usable range).
    std::vector<uint16_t> folded;
    const uint16_t* samples = raw.data.data();
    float black[2][2], gain[2][2];
    double flat = 0;
    bool periodic = black_is_2x2_periodic(raw.black);
    if (!periodic) {
        for (int y = 0; y < raw.black.repeat_height; ++y)
            for (int x = 0; x < raw.black.repeat_width; ++x) flat = std::max(flat, raw.black.at(x, y));
        folded = fold_black(raw, flat);
        samples = folded.data();
    }
    for (int y = 0; y < 2; ++y)
        for (int x = 0; x < 2; ++x) {
            double b = periodic ? raw.black.at(x, y) : flat;
            double range = raw.white_level - b;
            if (!(range > 1)) throw file_error(raw.source, "white level is not above the black level");
            black[y][x] = float(b);
            gain[y][x] = float(1.0 / color.neutral[raw.cfa.at(x, y)] / range);
        }

    // White-balanced camera -> XYZ D50 -> (Bradford) D65 -> linear sRGB, with
    // the camera's baseline exposure and the look's bias.
    Mat3 to_srgb = mul(kXyzToLinearSrgb, mul(bradford(kD50, kD65), color.camera_to_xyz_d50));
    to_srgb = scale(to_srgb, std::pow(2.0, raw.color.baseline_exposure));

    // The curve as the kernel wants it: 16-bit codes, each entry packing a
    // sample and the next, so one lookup gives both ends of a segment.
    std::vector<float> points = look.encoding_curve();
    std::vector<uint32_t> curve(points.size() - 1);
    auto code = [](float v) { return uint32_t(std::lround(std::clamp(v, 0.0f, 1.0f) * 65535.0f)); };
    for (size_t k = 0; k < curve.size(); ++k) curve[k] = code(points[k]) | code(points[k + 1]) << 16;

    // Halide buffers view the caller's memory; x is dimension 0.
    Halide::Runtime::Buffer<const uint16_t> in(samples, raw.width, raw.height);
    Halide::Runtime::Buffer<float> black_buf(&black[0][0], 2, 2), gain_buf(&gain[0][0], 2, 2);
    float m[3][3];
    for (int r = 0; r < 3; ++r)
        for (int c = 0; c < 3; ++c) m[r][c] = float(to_srgb[r * 3 + c]);
    Halide::Runtime::Buffer<float> matrix_buf(&m[0][0], 3, 3);
    Halide::Runtime::Buffer<uint32_t> curve_buf(curve.data(), int(curve.size()));

    // The kernel's tiles are never smaller than kMinOutput (it shifts the
    // last tile inwards rather than guarding it, which keeps its bounds
    // simple); a smaller crop is developed wider, past the raw's edges
    // (mirrored), and cut out.
    Image out;
    out.width = std::max(raw.crop.width, kMinOutputWidth);
    out.height = std::max(raw.crop.height, kMinOutputHeight);
    out.pixels.resize(size_t(out.width) * out.height * 3);
    Halide::Runtime::Buffer<uint16_t> dst(out.pixels.data(), 3, out.width, out.height);  // c, x, y
    dst.set_min(0, raw.crop.x, raw.crop.y);  // the kernel works in raw coordinates
    use_kernel_scratch_cache();
    auto kernel = method.fast ? develop_fast_kernel : develop_best_kernel;
    int rc = kernel(in, black_buf, gain_buf, cfa_dx, cfa_dy, matrix_buf, curve_buf, dst);
    if (rc != 0) throw file_error(raw.source, "develop kernel failed (Halide error " + std::to_string(rc) + ")");
    if (out.width != raw.crop.width || out.height != raw.crop.height) out = cropped(out, raw.crop.width, raw.crop.height);

    if (options.apply_orientation) out = oriented(std::move(out), raw.shot.orientation);
    return out;
}

}  // namespace obscura
