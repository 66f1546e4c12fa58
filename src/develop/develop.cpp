// develop: prepares the kernel's parameters from the RawImage's metadata and
// runs the fused Halide kernel over the default crop.
#include "obscura/develop.h"
#include "obscura/local_tone.h"

#include <HalideBuffer.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <future>
#include <memory>

#include "develop_best_kernel.h"
#include "develop_cells_kernel.h"
#include "develop_fast_kernel.h"
#include "develop_linear_kernel.h"
#include "camera_profile.h"
#include "core/parallel.h"
#include "denoise.h"
#include "kernel_memory.h"
#include "obscura/finish.h"
#include "obscura/highlights.h"
#include "obscura/lens_correction.h"
#include "optics/polyfit.h"
#include "obscura/warp.h"
#include "obscura/error.h"

namespace obscura {
namespace {

// The develop kernel's tile (see develop_gen.cpp), and the rows developed
// at a time when streaming (two tiles; a multiple of every writer's strip;
// see plan_strips).
constexpr int kMinOutputWidth = 512, kMinOutputHeight = 128;
constexpr int kStripRows = 256;
// The raw rows above and below its output that a strip's kernel reads, with
// room to spare (the output changes below 12): a strip whose highlights are
// rebuilt on the way (HighlightRebuild) gets a copy of these rows too.
constexpr int kStripHalo = 24;

struct Strip {
    int y0, rows;
};

// The strips a photo of `height` rows is developed in: kStripRows each, but
// the last, which is one tile tall with the rows past whole tiles (the one
// tile row the kernel computes shifted inwards), and one of a single tile
// where the tiles before it are odd in number. The kernel computes no row
// twice but in the last strip, and what is left to write once it is done
// is as short as it can be (the writer of the strip before runs beside it).
std::vector<Strip> plan_strips(int height) {
    if (height <= kMinOutputHeight) return {{0, height}};
    const int last = kMinOutputHeight + height % kMinOutputHeight, body = height - last;
    std::vector<Strip> strips;
    int y = 0;
    if (body % kStripRows != 0) strips.push_back({0, y = kMinOutputHeight});
    for (; y < body; y += kStripRows) strips.push_back({y, kStripRows});
    strips.push_back({body, last});
    return strips;
}
static_assert(kStripRows == 2 * kMinOutputHeight, "a strip is two tiles tall");

}  // namespace

const std::vector<DemosaicMethod>& demosaic_methods() {
    static const std::vector<DemosaicMethod> methods = {
        {"best", "gradient-weighted directional green, colour differences, one refinement pass (default)", false},
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

namespace {

// Everything the kernel needs, prepared once per photo from its metadata.
// The look's curve as the kernel reads it (Develop::curve): each entry a
// sample's and the next one's 16-bit codes. (In frame memory and not zeroed:
// every entry is written.)
using CurveTable = std::vector<uint32_t, UninitialisedAllocator<uint32_t>>;

struct Kernel {
    const RawImage* raw;
    Samples16 folded;  // samples with a black level the kernel cannot express folded in (black_folded)
    Samples16 denoised;  // the samples with the noise removed (denoise.h)
    // Highlights still to rebuild (highlights.h): each strip the kernel
    // runs on rebuilds a copy of its rows into `strip`, and the frame is
    // never copied whole (settle_highlights does, where that is needed).
    const HighlightRebuild* highlights = nullptr;
    Samples16 rebuilt;
    mutable Samples16 strip;
    const uint16_t* samples;
    bool linear = false;  // a LinearRaw frame: develop_linear_kernel, no demosaic
    float levels[4][3];  // per site parity (per channel when linear): black, gain, white (see develop_gen.cpp)
    float matrix[3][3];
    std::string color_space = "sRGB";  // what `matrix` maps to
    double scene_peak = 0;             // > 0: the scene-linear rendition (Image::scene_peak)
    CurveTable curve;
    int srgb_curve = 0;  // the curve is the sRGB encoding alone (develop_linear evaluates it; the Bayer kernels look it up)
    int cfa_dx = -1, cfa_dy = -1;
    decltype(&develop_best_kernel) run_tiles;
    LensCorrection lens;
    std::vector<float> gain_grid;  // gains^0.4, site-major
    float grid_scale_x = 0, grid_scale_y = 0;
    float vignette[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int use_ca = 0;
    float ca_poly[2][7] = {{1, 0, 0, 0, 0, 0, 0}, {1, 0, 0, 0, 0, 0, 0}};
    float ca_geom[3] = {0, 0, 1};
    // A remosaicked frame's cell samples, put back after the demosaic (see
    // develop_gen.cpp): per column and row the colour's share, and black,
    // white and the gain of each colour.
    int use_cells = 0;
    std::vector<uint8_t> cell_column{0}, cell_row{0};
    float cell_levels[5] = {0, 1, 1, 1, 1};
    std::shared_ptr<const ProfileRendering> profile;  // the DNG's camera profile, when the look renders it
    std::shared_ptr<Finisher> finish;  // the look's finishing, after the kernel
    double local_amount = 0;           // the look's local tone mapping (whole image), before finishing

    // The kernel works in whole 2x2 quads of RGGB space, so developing w
    // columns from x0 writes this many (one more on each side that starts
    // or ends mid-quad); likewise rows.
    // (A LinearRaw frame needs no quads.)
    int padded_columns(int x0, int w) const { return linear ? w : w + ((x0 + cfa_dx) & 1) + ((x0 + cfa_dx + w) & 1); }
    int padded_rows(int y0, int h) const { return linear ? h : h + ((y0 + cfa_dy) & 1) + ((y0 + cfa_dy + h) & 1); }

    uint16_t* run_linear(int x0, int y0, int w, int h, uint16_t* dst, size_t stride) const {
        halide_dimension_t in_dims[3] = {{0, 3, 1}, {0, raw->width, 3}, {0, raw->height, 3 * raw->width}};
        Halide::Runtime::Buffer<const uint16_t> in(samples, 3, in_dims);
        Halide::Runtime::Buffer<float> levels_buf(const_cast<float*>(&levels[0][0]), 3, 3);
        Halide::Runtime::Buffer<float> vignette_buf(const_cast<float*>(vignette), 8);
        Halide::Runtime::Buffer<float> matrix_buf(const_cast<float*>(&matrix[0][0]), 3, 3);
        Halide::Runtime::Buffer<uint32_t> curve_buf(const_cast<uint32_t*>(curve.data()), int(curve.size()));
        halide_dimension_t dims[3] = {{0, 3, 1}, {x0, w, 3}, {y0, h, int(stride)}};
        Halide::Runtime::Buffer<uint16_t> out(dst, 3, dims);
        int rc = develop_linear_kernel(in, levels_buf, lens.vignette ? 1 : 0, vignette_buf, matrix_buf, curve_buf, srgb_curve, out);
        if (rc != 0) throw file_error(raw->source, "develop kernel failed (Halide error " + std::to_string(rc) + ")");
        return dst;
    }

    // The whole frame rebuilt at once, for what reads more than a strip
    // (the denoise, a develop of the whole photo).
    void settle_highlights() {
        if (!highlights) return;
        rebuilt.resize(raw->data.size());
        highlights->rebuild_rows(samples, rebuilt.data(), 0, raw->height);
        samples = rebuilt.data();
        highlights = nullptr;
    }

    // Develops the region (x0, y0, w, h) of raw coordinates, at least one
    // kernel tile (kMinOutput*), into dst: rows `stride` samples apart, with
    // room for padded_columns() and padded_rows(). Returns where pixel
    // (x0, y0) landed.
    uint16_t* run(int x0, int y0, int w, int h, uint16_t* dst, size_t stride) const {
        if (linear) return run_linear(x0, y0, w, h, dst, stride);
        // The raw rows the kernel reads: all of them, or, with highlights to
        // rebuild, a rebuilt copy of the strip's own and its halo's (whole
        // quads: y even, and the end even but at the frame's).
        const uint16_t* in_rows = samples;
        int in_y = 0, in_h = raw->height;
        // (A strip whose rows and halo clipped nowhere reads the frame as it is.)
        const int halo_y = std::max(0, y0 - kStripHalo) & ~1;
        const int halo_h = std::min(raw->height, (y0 + h + kStripHalo + 1) & ~1) - halo_y;
        if (highlights && highlights->changes_rows(halo_y, halo_h)) {
            in_y = halo_y, in_h = halo_h;
            strip.resize(size_t(in_h) * size_t(raw->width));
            highlights->rebuild_rows(samples + size_t(in_y) * size_t(raw->width), strip.data(), in_y, in_h);
            in_rows = strip.data();
        }
        // (A strip's rows seen at their place in the frame: the kernel's
        // mirrored borders are the buffer's, which the halo keeps clear of
        // but at the frame's own top and bottom.)
        halide_dimension_t in_dims[2] = {{0, raw->width, 1}, {in_y, in_h, raw->width}};
        Halide::Runtime::Buffer<const uint16_t> in(in_rows, 2, in_dims);
        Halide::Runtime::Buffer<float> levels_buf(const_cast<float*>(&levels[0][0]), 3, 4);
        Halide::Runtime::Buffer<float> matrix_buf(const_cast<float*>(&matrix[0][0]), 3, 3);
        Halide::Runtime::Buffer<uint32_t> curve_buf(const_cast<uint32_t*>(curve.data()), int(curve.size()));
        bool mapped = !gain_grid.empty();
        static float unit_grid[2 * 2 * 4] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
        Halide::Runtime::Buffer<float> grid_buf(mapped ? const_cast<float*>(gain_grid.data()) : unit_grid,
                                                mapped ? lens.grid_w : 2, mapped ? lens.grid_h : 2, 4);
        Halide::Runtime::Buffer<float> vignette_buf(const_cast<float*>(vignette), 8);
        Halide::Runtime::Buffer<float> ca_poly_buf(const_cast<float*>(&ca_poly[0][0]), 7, 2);
        Halide::Runtime::Buffer<float> ca_geom_buf(const_cast<float*>(ca_geom), 3);
        static const uint16_t no_cells = 0;
        Halide::Runtime::Buffer<const uint16_t> cells_buf(use_cells ? raw->cell_samples.data() : &no_cells,
                                                          use_cells ? raw->width : 1, use_cells ? raw->height : 1);
        Halide::Runtime::Buffer<const uint8_t> column_buf(cell_column.data(), int(cell_column.size()));
        Halide::Runtime::Buffer<const uint8_t> row_buf(cell_row.data(), int(cell_row.size()));
        Halide::Runtime::Buffer<float> cell_levels_buf(const_cast<float*>(cell_levels), 5);
        // The output seen as quads (see develop_gen.cpp): c, column in the
        // quad, quad column, row in the quad, quad row.
        int u0 = x0 + cfa_dx, v0 = y0 + cfa_dy;  // in RGGB space, both >= 0
        int qx0 = u0 / 2, qy0 = v0 / 2, qx1 = (u0 + w + 1) / 2, qy1 = (v0 + h + 1) / 2;
        halide_dimension_t dims[5] = {{0, 3, 1}, {0, 2, 3}, {qx0, qx1 - qx0, 6}, {0, 2, int(stride)},
                                      {qy0, qy1 - qy0, int(2 * stride)}};
        Halide::Runtime::Buffer<uint16_t> out(dst, 5, dims);
        int rc = run_tiles(in, levels_buf, cfa_dx, cfa_dy, mapped ? 1 : 0, grid_buf, grid_scale_x, grid_scale_y,
                           lens.vignette ? 1 : 0, vignette_buf, use_ca, ca_poly_buf, ca_geom_buf, matrix_buf, curve_buf,
                           use_cells, cells_buf, column_buf, row_buf, cell_levels_buf, out);
        if (rc != 0) throw file_error(raw->source, "develop kernel failed (Halide error " + std::to_string(rc) + ")");
        return dst + size_t(u0 - 2 * qx0) * 3 + size_t(v0 - 2 * qy0) * stride;
    }
};

// Splits a warp whose colour planes differ (lateral chromatic aberration)
// into a shift of the red and blue samples on the mosaic, relative to green,
// and one green warp for all planes after the demosaic: resampling after the
// demosaic alone leaves half the fringes (the demosaic has already pulled red
// and blue edges towards green's).
void split_chromatic_aberration(const RawImage& raw, Kernel& k) {
    RadialWarp& w = *k.lens.warp;
    auto f = [&](int c, double r) {
        double v = 0;
        for (int p = 6; p >= 0; --p) v = w.coef[c][p] + r * v;
        return v;
    };
    double cx = w.cx * (raw.width - 1), cy = w.cy * (raw.height - 1);
    double radius = std::hypot(std::max(cx, raw.width - 1 - cx), std::max(cy, raw.height - 1 - cy));
    // Green fetches output d from q = W_G(d); red must come from W_R(d),
    // i.e. from centre + f_R(r_d) / f_G(r_d) (q - centre), with r_d the
    // radius that green maps to |q|.
    std::vector<double> rq, factor[2];
    double worst_px = 0;
    for (int n = 0; n <= 72; ++n) {
        double r = n / 64.0, rd = r;
        for (int it = 0; it < 30; ++it) rd = r / f(1, rd);
        rq.push_back(r);
        for (int c = 0; c < 2; ++c) {
            double fc = f(c == 0 ? 0 : 2, rd) / f(1, rd);
            factor[c].push_back(fc);
            worst_px = std::max(worst_px, std::abs(fc - 1) * r * radius);
        }
    }
    if (worst_px < 0.05) return;  // nothing worth a resampling
    for (int c = 0; c < 2; ++c) {
        auto a = fit_powers<7>(rq, factor[c], 1, 0);
        for (int p = 0; p < 7; ++p) k.ca_poly[c][p] = float(a[p]);
    }
    k.use_ca = 1;
    k.ca_geom[0] = float(cx), k.ca_geom[1] = float(cy), k.ca_geom[2] = float(1.0 / radius);
    w.coef[0] = w.coef[2] = w.coef[1];
}

// Leaves a fraction of the lens's own darkening towards the corners in
// (looks that keep the lens's character): the radial correction is raised to
// the power 1 - kept and refitted; a gain map keeps its colour shading in
// full and gives up that fraction of its mean (luminance) gain.
void keep_lens_vignette(Kernel& k, double kept) {
    if (k.lens.vignette) {
        std::vector<double> r2, gain;
        for (int n = 0; n <= 64; ++n) {
            double t = n / 64.0;
            double g = 1 + t * (k.vignette[0] + t * (k.vignette[1] + t * (k.vignette[2] + t * (k.vignette[3] + t * k.vignette[4]))));
            r2.push_back(t);
            gain.push_back(std::pow(std::max(g, 1e-3), 1 - kept) - 1);
        }
        auto a = fit_powers<5>(r2, gain, 1, 1);
        for (int i = 0; i < 5; ++i) k.vignette[i] = float(a[i]);
    }
    if (!k.gain_grid.empty()) {
        size_t n = k.gain_grid.size() / 4;  // (gains^0.4, site-major)
        for (size_t p = 0; p < n; ++p) {
            double mean = 0;
            for (int s = 0; s < 4; ++s) mean += k.gain_grid[s * n + p] / 4;
            for (int s = 0; s < 4; ++s) k.gain_grid[s * n + p] = float(k.gain_grid[s * n + p] / std::pow(mean, kept));
        }
    }
}

// The colour of each pixel's cell as column and row shares (red 0 + 0,
// green 0 + 1 or 1 + 0, blue 1 + 1), and the cell samples' levels: the
// Bayer frame's (its black is uniform), by colour. Needs k.levels and
// k.cfa_dx/dy: the Bayer frame's red site is its red cell's place.
void use_cell_samples(const RawImage& raw, Kernel& k) {
    const int n = raw.cell_cfa.cell_size();
    if (n < 2 || raw.cell_samples.size() != raw.data.size() || !raw.black.is_uniform()) return;
    const int red_x = k.cfa_dx * n, red_y = k.cfa_dy * n;  // the top-left of a red cell
    k.cell_column.resize(size_t(raw.width)), k.cell_row.resize(size_t(raw.height));
    for (int x = 0; x < raw.width; ++x) k.cell_column[size_t(x)] = uint8_t(((x + red_x) / n) & 1);
    for (int y = 0; y < raw.height; ++y) k.cell_row[size_t(y)] = uint8_t(((y + red_y) / n) & 1);
    k.cell_levels[0] = k.levels[0][0], k.cell_levels[1] = k.levels[0][2];
    for (int site = 0; site < 4; ++site) k.cell_levels[2 + raw.cfa.at(site & 1, site >> 1)] = k.levels[site][1];
    k.use_cells = 1;
}

// The curve as the kernels want it (Develop::curve): `encode` (light as a
// fraction t of the curve's range -> 0..1) at segments + 1 uniform samples,
// as 16-bit codes, each entry packing a sample and the next so one lookup
// gives both ends of a segment. On every core, each sample evaluated once,
// in the memory it packs into: over rebuilt highlights' range that is
// 65,537 samples of two powers each, on the path to the first strip (the
// look's float table and a packing loop on one core were 4 ms of it).
// (With 16,384 segments the sRGB encoding's table is within 0.07 of a
// 16-bit code of the encoding itself: exact along its linear toe, and
// its curvature above that is small for segments this fine.)
template <typename F>
void fill_curve(Kernel& k, int segments, F encode) {
    // (Rounded as lround rounds the float: p + 0.5 is exact in double.)
    auto code = [&](int i) {
        const float p = std::clamp(float(encode(double(i) / double(segments))), 0.0f, 1.0f) * 65535.0f;
        return uint32_t(double(p) + 0.5);
    };
    k.curve = CurveTable(size_t(segments));
    parallel_rows(0, segments, [&](int i0, int i1) {
        uint32_t low = code(i0);
        for (int i = i0; i < i1; ++i) {
            const uint32_t high = code(i + 1);
            k.curve[size_t(i)] = low | high << 16;
            low = high;
        }
    }, 4096);
}

// The sRGB encoding alone as the curve: develop_linear evaluates it, the
// Bayer kernels look it up like any look's.
void use_srgb_encoding(Kernel& k) {
    k.srgb_curve = 1;
    if (k.linear) k.curve.assign(2, 0);  // (unused)
    else fill_curve(k, 16384, srgb_encode);
}

// The colour matrix (white-balanced camera -> XYZ D50 -> (Bradford) D65 ->
// linear sRGB or Display P3, with the camera's baseline exposure and the
// look's bias) and the look's curve, as the kernels want them.
void set_colour_and_curve(const RawImage& raw, const ColorSolution& color, const Look& look, const DevelopOptions& options,
                          Kernel& k) {
    k.color_space = color_space_named(options.color_space);
    if (ProfileRendering::applies(raw, look)) {
        // The kernel stops at linear ProPhoto in the sRGB encoding; the
        // profile's own stage takes it from there to the output.
        auto profile = std::make_shared<ProfileRendering>(raw, color, look, k.color_space);
        const Mat3& m = profile->camera_to_prophoto();
        for (int r = 0; r < 3; ++r)
            for (int c = 0; c < 3; ++c) k.matrix[r][c] = float(m[r * 3 + c]);
        use_srgb_encoding(k);
        k.profile = std::move(profile);
        return;
    }
    const Mat3& to_output = k.color_space == "Display P3" ? kXyzToLinearDisplayP3 : kXyzToLinearSrgb;
    Mat3 to_srgb = mul(to_output, mul(bradford(kD50, kD65), color.camera_to_xyz_d50));
    const double baseline = std::pow(2.0, raw.color.baseline_exposure);
    to_srgb = scale(to_srgb, baseline);
    auto set_matrix = [&](const Mat3& m) {
        for (int r = 0; r < 3; ++r)
            for (int c = 0; c < 3; ++c) k.matrix[r][c] = float(m[r * 3 + c]);
    };
    if (options.scene_linear) {
        // Light over [0, peak] in the sRGB encoding, which keeps the
        // shadows' precision.
        k.scene_peak = scene_linear_peak(raw);
        set_matrix(scale(to_srgb, 1.0 / k.scene_peak));
        use_srgb_encoding(k);
        return;
    }
    // A raw that keeps light beyond the white its look renders (a bracket
    // merge: BaselineExposure raised by its headroom) is rolled off by the
    // look's shoulder up to its brightest light instead of clipped; the
    // kernel then works on light over [0, range], with a stop to spare for
    // colours brighter than white. (The reference look clips, as ever.)
    double range = 1.0;
    // A look that only shifts exposure is the sRGB encoding after a gain,
    // which the matrix can carry.
    if (look.tone_is_plain()) {
        to_srgb = scale(to_srgb, std::pow(2.0, look.exposure_ev));
        k.srgb_curve = 1;
    } else if (raw.color.baseline_exposure > 1.0 / 6.0) {
        range = scene_linear_peak(raw);
        to_srgb = scale(to_srgb, 1.0 / range);
    }
    set_matrix(to_srgb);

    if (k.srgb_curve) return use_srgb_encoding(k);  // (the gain is the matrix's)
    // Finely spaced over a wider range as over [0, 1].
    const int segments = int(std::min(16384.0 * range, 1048576.0));
    const Look::Encoding encode = look.encoding(range > 1 ? baseline : 1.0);
    fill_curve(k, segments, [&](double t) { return encode(t * range); });
}

// The radial vignetting correction of the plan, in the kernel's terms.
void set_vignette(const RawImage& raw, Kernel& k) {
    if (const auto& v = k.lens.vignette) {
        // The centre and radius of FixVignetteRadial are relative to the
        // image the opcode sees: the active area, as our raw coordinates.
        double w = raw.width, h = raw.height;
        double cx = v->cx * (w - 1), cy = v->cy * (h - 1);
        double mx = std::max(cx, w - 1 - cx), my = std::max(cy, h - 1 - cy);
        for (int i = 0; i < 5; ++i) k.vignette[i] = float(v->k[i]);
        k.vignette[5] = float(cx), k.vignette[6] = float(cy);
        k.vignette[7] = float(mx * mx + my * my > 0 ? 1.0 / (mx * mx + my * my) : 0.0);
    }
}

// How strongly to denoise: as asked, else the look's strength when the file
// has its own noise profile. (Left to the look, only a file's own profile
// is trusted: measured on the frame, texture reads as noise -- a clean Kodak
// photo loses 7 dB to it -- so that takes an explicit --denoise.)
double denoise_strength(const RawImage& raw, const Look& look, const DevelopOptions& options) {
    return options.denoise ? *options.denoise : raw.noise.planes.empty() ? 0.0 : look.denoise;
}

// A LinearRaw frame: levels per channel (the decoder normalised each onto
// one black and white), denoised when asked, the colour and curve,
// vignetting and distortion (the opcodes that apply after a demosaic); no
// mosaic, no gain maps.
Kernel prepare_linear(const RawImage& raw, const Look& look, Kernel& k, const DevelopOptions& options) {
    k.linear = true;
    k.samples = raw.data.data();
    ColorSolution color = solve_color(raw.color, raw.source);
    const double black = raw.black.pattern[0], range = raw.white_level - black;
    if (!raw.black.is_uniform() || !(range > 1)) throw file_error(raw.source, "LinearRaw levels are not one black and white");
    if (const double strength = denoise_strength(raw, look, options); strength > 0) {
        k.denoised = denoise_linear(raw, linear_noise(raw), strength);
        k.samples = k.denoised.data();
    }
    for (int c = 0; c < 3; ++c) {
        k.levels[c][0] = float(black);
        k.levels[c][1] = float(1.0 / color.neutral[c] / range);
        k.levels[c][2] = float(raw.white_level);
    }
    set_colour_and_curve(raw, color, look, options, k);
    if (options.lens_correction) {
        k.lens = plan_lens_correction(raw);
        set_vignette(raw, k);
    }
    if (look.lens_vignette_kept > 0) keep_lens_vignette(k, look.lens_vignette_kept);
    k.finish = std::make_shared<Finisher>(look, raw.crop.width, raw.crop.height, options.lut);
    k.local_amount = look.local_amount;
    use_kernel_scratch_cache();
    return std::move(k);
}

// What the scene-linear rendition keeps of a look: its noise reduction.
Look scene_linear_look(const Look& look) {
    Look plain;
    plain.name = "scene-linear";
    plain.denoise = look.denoise;
    return plain;
}

Kernel prepare(const RawImage& raw, const DevelopOptions& options, const HighlightRebuild* highlights = nullptr) {
    const Look look = options.scene_linear ? scene_linear_look(find_look(options.look)) : find_look(options.look);
    const DemosaicMethod& method = find_demosaic(options.demosaic);
    if (!raw.is_linear() && !raw.cfa.is_bayer())
        throw file_error(raw.source, "CFA " + raw.cfa.name() + " is developed after binning (bin_cells, --binning) or remosaicing (remosaic)");
    if (raw.width < 16 || raw.height < 16) throw file_error(raw.source, "image is too small to develop");

    Kernel k;
    k.raw = &raw;
    if (raw.is_linear()) return prepare_linear(raw, look, k, options);
    k.run_tiles = method.fast ? develop_fast_kernel : develop_best_kernel;
    // Where red sits decides the shift into the kernel's RGGB space.
    for (int y = 0; y < 2; ++y)
        for (int x = 0; x < 2; ++x)
            if (raw.cfa.at(x, y) == kRed) k.cfa_dx = x, k.cfa_dy = y;

    ColorSolution color = solve_color(raw.color, raw.source);

    // Per site parity: black, and the gain for white balance over the
    // usable range (see develop_gen.cpp).
    k.samples = raw.data.data();
    double flat = 0;
    bool periodic = raw.black.is_2x2_periodic();
    if (!periodic) {
        // Folded onto the highest level, so no sample goes below black.
        flat = raw.black.highest(raw.width, raw.height);
        k.folded = black_folded(raw, flat);
        k.samples = k.folded.data();
    }
    for (int y = 0; y < 2; ++y)
        for (int x = 0; x < 2; ++x) {
            double b = periodic ? raw.black.at(x, y) : flat;
            double range = raw.white_level - b;
            if (!(range > 1)) throw file_error(raw.source, "white level is not above the black level");
            double gain = 1.0 / color.neutral[raw.cfa.at(x, y)] / range;  // clipped at white in the kernel, after shading gains
            k.levels[x + 2 * y][0] = float(b);
            k.levels[x + 2 * y][1] = float(gain);
            k.levels[x + 2 * y][2] = float(std::clamp(raw.white_level, 1.0, 65535.0));
        }

    k.highlights = highlights;
    if (const double strength = denoise_strength(raw, look, options); strength > 0) {
        // On the mosaic, before everything else: the noise is still white
        // and independent per sample there.
        k.settle_highlights();
        MosaicLevels levels;
        for (int s = 0; s < 4; ++s) {
            int parity = (((s & 1) - k.cfa_dx) & 1) + 2 * (((s >> 1) - k.cfa_dy) & 1);
            levels.black[size_t(s)] = k.levels[parity][0], levels.white[size_t(s)] = k.levels[parity][2];
        }
        FrameNoise noise = mosaic_noise(raw, k.samples, levels, k.cfa_dx, k.cfa_dy);
        k.denoised = denoise_mosaic(raw, k.samples, levels, k.cfa_dx, k.cfa_dy, noise, strength);
        k.samples = k.denoised.data();
        Samples16().swap(k.folded);
    }
    set_colour_and_curve(raw, color, look, options, k);
    if (options.lens_correction) {
        k.lens = plan_lens_correction(raw);
        if (k.lens.grid_w > 0) {
            for (int site = 0; site < 4; ++site)
                for (float g : k.lens.site_gains[site]) k.gain_grid.push_back(float(std::pow(std::max(g, 0.0f), 0.4)));
            k.grid_scale_x = float(k.lens.grid_w - 1) / float(std::max(raw.width - 1, 1));
            k.grid_scale_y = float(k.lens.grid_h - 1) / float(std::max(raw.height - 1, 1));
        }
        set_vignette(raw, k);
    }
    if (look.lens_vignette_kept > 0) keep_lens_vignette(k, look.lens_vignette_kept);
    if (k.lens.warp) split_chromatic_aberration(raw, k);
    // (Not with lateral aberration corrected: the red and blue samples move,
    // and putting the unmoved cell samples back would undo it. The fast
    // demosaic, for previews, leaves them out.)
    // (Nor when denoising: the cell samples carry the noise.)
    if (!raw.cell_samples.empty() && !k.use_ca && !method.fast && k.denoised.empty()) {
        use_cell_samples(raw, k);
        if (k.use_cells) k.run_tiles = develop_cells_kernel;
    }
    k.finish = std::make_shared<Finisher>(look, raw.crop.width, raw.crop.height, options.lut);
    k.local_amount = look.local_amount;
    use_kernel_scratch_cache();
    return k;
}

Image develop_whole(const Kernel& kernel, const RawImage& raw) {
    const int w = std::max(raw.crop.width, kMinOutputWidth), h = std::max(raw.crop.height, kMinOutputHeight);
    const size_t stride = size_t(kernel.padded_columns(raw.crop.x, w)) * 3;
    std::vector<uint16_t> region(stride * size_t(kernel.padded_rows(raw.crop.y, h)));
    uint16_t* first = kernel.run(raw.crop.x, raw.crop.y, w, h, region.data(), stride);
    Image out;
    out.width = raw.crop.width;
    out.height = raw.crop.height;
    out.color_space = kernel.color_space;
    out.scene_peak = kernel.scene_peak;
    out.pixels.resize(size_t(out.width) * out.height * 3);
    for (int y = 0; y < out.height; ++y)
        std::copy_n(first + y * stride, size_t(out.width) * 3, &out.pixels[size_t(y) * out.width * 3]);
    // Distortion moves pixels across strips, so it works on the whole image.
    if (kernel.lens.warp) out = warp_image(out, *kernel.lens.warp, raw.width, raw.height, raw.crop.x, raw.crop.y);
    if (kernel.profile) kernel.profile->apply(out.pixels.data(), size_t(out.width) * 3, out.width, 0, out.height);
    local_tone_map(out, kernel.local_amount);
    kernel.finish->apply(out.pixels.data(), size_t(out.width) * 3, 0, out.height);
    return out;
}

}  // namespace

void develop_rows(const RawImage& raw, const DevelopOptions& options, RowSink& sink, const HighlightRebuild* highlights) {
    Kernel kernel = prepare(raw, options, highlights);
    // Distortion moves pixels across strips, and local tone mapping looks at
    // the whole photo: both develop it whole.
    if (kernel.lens.warp || kernel.local_amount > 0) {
        kernel.settle_highlights();
        Image whole = develop_whole(kernel, raw);
        sink.write_rows(whole.pixels.data(), size_t(whole.width) * 3, 0, whole.height);
        return;
    }
    const Rect& crop = raw.crop;
    // A region narrower or shorter than a kernel tile is developed larger,
    // past the raw's edges (mirrored), and only the crop is passed on.
    const int region_w = std::max(crop.width, kMinOutputWidth);
    // Most crops start and end on whole quads, and their rows then reach
    // the writer exactly as wide as the photo (no copy there).
    const size_t stride = size_t(kernel.padded_columns(crop.x, region_w)) * 3;
    const std::vector<Strip> strips = plan_strips(crop.height);
    int max_rows = kMinOutputHeight;
    for (const Strip& s : strips) max_rows = std::max(max_rows, s.rows);
    // Strip k develops while the strips before it are written: the writers
    // (a JPEG encoder, or a 300 MB file write) run one after another beside
    // the kernel's threads, each waiting for the one before. Three buffers,
    // so the kernel waits only when the writer is two strips behind: with
    // two it waited for the writer of every strip before it, and a core
    // stood idle whenever the two did not finish together.
    constexpr size_t kBuffers = 3;
    Samples16 buffers[kBuffers];
    for (auto& b : buffers) b.resize(stride * size_t(max_rows + 2));  // (any strip's padded rows)
    // When each strip's rows are with the sink (or its writer failed): the
    // kernel waits on these before it takes a buffer back. (Not on the
    // writers' own tasks: the next writer gets the one before it, and one
    // future waited on by two threads is a race.)
    std::shared_future<void> written[kBuffers];
    std::atomic<bool> failed{false};
    // (Declared after the buffers and the flag: an unwinding develop waits
    // for the last writer, and each writer for the one before it.)
    std::shared_ptr<Task> last;
    for (size_t k = 0; k < strips.size(); ++k) {
        if (written[k % kBuffers].valid()) written[k % kBuffers].wait();  // strip k - 3
        if (failed) break;  // a writer failed (disk full?): its error comes back below
        const int y0 = strips[k].y0, rows = strips[k].rows;
        uint16_t* buffer = kernel.run(crop.x, crop.y + y0, region_w, std::max(rows, kMinOutputHeight),
                                      buffers[k % kBuffers].data(), stride);
        if (kernel.profile) kernel.profile->apply(buffer, stride, crop.width, y0, rows);
        kernel.finish->apply(buffer, stride, y0, rows);
        auto done = std::make_shared<std::promise<void>>();
        written[k % kBuffers] = done->get_future().share();
        last = std::make_shared<Task>(run_on_worker([&sink, &failed, before = last, done, buffer, stride, y0, rows] {
            try {
                if (before) before->get();  // rethrows an earlier writer's error, and keeps the rows in order
                sink.write_rows(buffer, stride, y0, rows);
                done->set_value();
            } catch (...) {
                failed = true;
                done->set_value();  // (the buffer is free; the error goes on through the chain)
                throw;
            }
        }));
    }
    last->get();
}

const std::vector<std::string>& output_color_spaces() {
    static const std::vector<std::string> names = {"sRGB", "Display P3"};
    return names;
}

std::string color_space_named(const std::string& name) {
    std::string key;
    for (char c : name)
        if (std::isalnum(static_cast<unsigned char>(c))) key += char(std::tolower(static_cast<unsigned char>(c)));
    if (key == "srgb") return "sRGB";
    if (key == "displayp3" || key == "p3") return "Display P3";
    throw Error("unknown colour space '" + name + "' (use srgb or display-p3)");
}

double scene_linear_peak(const RawImage& raw) { return 2.0 * std::pow(2.0, std::max(raw.color.baseline_exposure, 0.0)); }

Image develop(const RawImage& raw, const DevelopOptions& options) {
    Image out = develop_whole(prepare(raw, options), raw);
    if (options.apply_orientation) out = oriented(std::move(out), raw.shot.orientation);
    return out;
}

}  // namespace obscura
