// develop: prepares the kernel's parameters from the RawImage's metadata and
// runs the fused Halide kernel over the default crop.
#include "obscura/develop.h"

#include <HalideBuffer.h>

#include <algorithm>
#include <cmath>

#include "develop_kernel.h"
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

}  // namespace

Image develop(const RawImage& raw, const DevelopOptions& options) {
    const Look& look = find_look(options.look);
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

    std::vector<float> curve = look.encoding_curve();

    // Halide buffers view the caller's memory; x is dimension 0.
    Halide::Runtime::Buffer<const uint16_t> in(samples, raw.width, raw.height);
    Halide::Runtime::Buffer<float> black_buf(&black[0][0], 2, 2), gain_buf(&gain[0][0], 2, 2);
    float m[3][3];
    for (int r = 0; r < 3; ++r)
        for (int c = 0; c < 3; ++c) m[r][c] = float(to_srgb[r * 3 + c]);
    Halide::Runtime::Buffer<float> matrix_buf(&m[0][0], 3, 3);
    Halide::Runtime::Buffer<float> curve_buf(curve.data(), int(curve.size()));

    Image out;
    out.width = raw.crop.width;
    out.height = raw.crop.height;
    out.pixels.resize(size_t(out.width) * out.height * 3);
    auto dst = Halide::Runtime::Buffer<uint16_t>::make_interleaved(out.pixels.data(), out.width, out.height, 3);
    dst.set_min(raw.crop.x, raw.crop.y, 0);  // the kernel works in raw coordinates

    int rc = develop_kernel(in, black_buf, gain_buf, cfa_dx, cfa_dy, matrix_buf, curve_buf, dst);
    if (rc != 0) throw file_error(raw.source, "develop kernel failed (Halide error " + std::to_string(rc) + ")");

    if (options.apply_orientation) out = oriented(std::move(out), raw.shot.orientation);
    return out;
}

}  // namespace obscura
