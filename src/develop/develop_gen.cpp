// develop: raw mosaic -> display-encoded RGB, in one fused pass per tile:
// black/white normalisation and white balance, demosaic, camera -> output
// colour matrix, then the look's tone curve with the output encoding. For a
// remosaicked n x n-cell frame each pixel's own cell sample replaces the
// demosaic's estimate of that colour before the colour matrix.
//
// Everything between the raw samples and the interleaved output runs on
// quad fields (quad_field.h): four quarter-resolution planes, so no stage
// computes a value it throws away.
#include "Halide.h"
#include "demosaic_algorithm.h"
#include "encoding.h"
#include "../optics/bicubic.h"

namespace {

using namespace Halide;
using namespace obscura::halide;

// The demosaic works in a perceptual domain, x^(1/2.5) with the sign kept
// (noise pushes dark samples below zero): colour differences and gradients there match what the eye sees, and
// interpolation errors in the shadows stop dominating (+6..10 dB CPSNR on
// Kodak against linear data). 2.5 measured best of 2.2..3, and its inverse
// needs only a square root.
Expr from_gamma(Expr g) { return g * abs(g) * sqrt(abs(g)); }

class Develop : public Generator<Develop> {
public:
    GeneratorParam<std::string> method{"method", "best"};  // best | fast
    // true: the kernel for remosaicked frames, which puts the cell samples
    // back (use_cells and the inputs after it are read only then).
    GeneratorParam<bool> with_cells{"with_cells", false};

    Input<Buffer<uint16_t, 2>> raw{"raw"};          // active area, CFA samples
    // levels(k, (x & 1) + 2 (y & 1)) for a site of that parity: k = 0 its
    // black level, 1 the gain that takes it to white balanced with white at
    // 1, 2 the white level (codes above it read as white).
    Input<Buffer<float, 2>> levels{"levels"};
    Input<int> cfa_dx{"cfa_dx"}, cfa_dy{"cfa_dy"};  // raw (x, y) + cfa_d = RGGB space (u, v)
    // Lens shading (DNG GainMap): gains^0.4 per raw site parity on a grid
    // spanning the raw corner to corner; grid position = pixel * scale.
    Input<int> use_gain_map{"use_gain_map"};
    Input<Buffer<float, 3>> gain_grid{"gain_grid"};  // gx, gy, site (x & 1) + 2 (y & 1)
    Input<float> grid_scale_x{"grid_scale_x"}, grid_scale_y{"grid_scale_y"};
    // Radial vignetting correction (DNG FixVignetteRadial) on linear camera
    // RGB: 1 + k0 r^2 + ... + k4 r^10, r^2 = |pixel - centre|^2 * inv_m2.
    Input<int> use_vignette{"use_vignette"};
    Input<Buffer<float, 1>> vignette{"vignette"};  // k0..k4, centre x, centre y, inv_m2
    // Lateral chromatic aberration, corrected on the mosaic before the
    // demosaic (which would otherwise pull red and blue edges towards
    // green's): red (row 0) and blue (row 1) samples are fetched from
    // centre + f(r) (position - centre), f = c0 + c1 r + ... + c6 r^6,
    // r = |position - centre| * ca_geom(2) (raw pixels).
    Input<int> use_ca{"use_ca"};
    Input<Buffer<float, 2>> ca_poly{"ca_poly"};  // 7 x 2
    Input<Buffer<float, 1>> ca_geom{"ca_geom"};  // centre x, centre y, 1 / radius
    Input<Buffer<float, 2>> matrix{"matrix"};      // 3x3: white-balanced camera -> output linear
    // The tone curve and encoding, linear 0..1 -> 16-bit code, sampled at
    // n + 1 uniform points; entry k packs samples k (low half) and k + 1.
    Input<Buffer<uint32_t, 1>> curve{"curve"};
    // A remosaicked frame (use_cells 1): the n x n-cell samples it was made
    // from, each put back as its cell's colour after the demosaic (the Bayer
    // frame carried only 37.5% of a hexadeca sensor's samples). The colour
    // at (x, y) is cell_column(x) + cell_row(y), 0 red, 1 green, 2 blue;
    // cell_levels: black, white, then the gain of red, green and blue.
    Input<int> use_cells{"use_cells"};
    Input<Buffer<uint16_t, 2>> cells{"cells"};
    Input<Buffer<uint8_t, 1>> cell_column{"cell_column"}, cell_row{"cell_row"};
    Input<Buffer<float, 1>> cell_levels{"cell_levels"};
    Output<Buffer<uint16_t, 5>> output{"output"};  // c, xp, i, yp, j: interleaved RGB by quads

    Var x{"x"}, y{"y"}, c{"c"}, i{"i"}, j{"j"}, xp{"xp"}, yp{"yp"};

    void generate() {
        // Normalised, white-balanced mosaic in the working domain. (Computed:
        // Halide turns a table lookup into sixteen scalar loads per vector,
        // which cost more than the power.)
        Func norm("norm");
        Expr site = (x & 1) + 2 * (y & 1);  // the raw site's parity
        Expr level = (min(cast<float>(raw(x, y)), levels(2, site)) - levels(0, site)) * levels(1, site);
        Expr magnitude = pow_positive(max(abs(level), 1e-20f), 0.4f);
        Expr shaped = select(level < 0.0f, -magnitude, magnitude);
        // The shading gain, bilinear on the grid; in the working domain a
        // gain g is g^0.4, applied before the clip at white. Separably: each
        // tile interpolates the few grid rows it spans along x once
        // (gain_rows), so a sample costs two dense loads, not four gathers.
        Var gyv("gy"), sv("site");
        Expr gx = clamp(cast<float>(x) * grid_scale_x, 0.0f, cast<float>(gain_grid.dim(0).extent() - 1));
        Expr gx0 = min(cast<int>(gx), gain_grid.dim(0).extent() - 2);
        gain_rows(x, gyv, sv) = lerp(gain_grid(gx0, gyv, sv), gain_grid(gx0 + 1, gyv, sv), gx - cast<float>(gx0));
        auto shading = [&](Expr x, Expr y, Expr site) {
            Expr gy = clamp(cast<float>(y) * grid_scale_y, 0.0f, cast<float>(gain_grid.dim(1).extent() - 1));
            Expr gy0 = min(cast<int>(gy), gain_grid.dim(1).extent() - 2);
            return lerp(gain_rows(x, gy0, site), gain_rows(x, gy0 + 1, site), gy - cast<float>(gy0));
        };
        Expr g = shading(x, y, site);
        norm(x, y) = min(select(use_gain_map != 0, shaped * g, shaped), 1.0f);
        // mirror_interior keeps the parity of every coordinate, so the CFA
        // pattern continues correctly past the borders.
        Func bounded = BoundaryConditions::mirror_interior(norm, {{raw.dim(0).min(), raw.dim(0).extent()},
                                                                   {raw.dim(1).min(), raw.dim(1).extent()}});
        for (int s : kGreens) {
            sampled.plane[s] = Func(std::string("sampled_") + site_name(s));
            sampled.plane[s](i, j) = bounded(2 * i + (s & 1) - cfa_dx, 2 * j + (s >> 1) - cfa_dy);
        }
        for (int s : kAllSites) {
            if (is_green(s)) {
                mosaic.plane[s] = sampled.plane[s];
                continue;
            }
            // Where this red/blue sample's light really belongs, bicubic
            // (Catmull-Rom) on its own plane; shifts beyond 3 quads are
            // clamped (they keep each tile's footprint bounded).
            int row = s == kR ? 0 : 1;
            Expr px = cast<float>(2 * i + (s & 1) - cfa_dx), py = cast<float>(2 * j + (s >> 1) - cfa_dy);
            Expr ox = px - ca_geom(0), oy = py - ca_geom(1);
            Expr r = sqrt(ox * ox + oy * oy) * ca_geom(2);
            Expr f = ca_poly(6, row);
            for (int k = 5; k >= 0; --k) f = ca_poly(k, row) + r * f;
            Expr qi = (ca_geom(0) + f * ox - cast<float>((s & 1) - cfa_dx)) * 0.5f;
            Expr qj = (ca_geom(1) + f * oy - cast<float>((s >> 1) - cfa_dy)) * 0.5f;
            qi = clamp(qi, cast<float>(i - 3), cast<float>(i + 2));
            qj = clamp(qj, cast<float>(j - 3), cast<float>(j + 2));
            // (Sampled straight from the raw: a stored copy of these planes
            // cost every file 15% even with the shift specialised away.)
            Expr shifted = bicubic([&](Expr a, Expr b) { return bounded(2 * a + (s & 1) - cfa_dx, 2 * b + (s >> 1) - cfa_dy); },
                                   qi, qj);
            // (Without aberration the planes read the raw directly, and the
            // shifted planes' producers are skipped.)
            Expr direct = bounded(2 * i + (s & 1) - cfa_dx, 2 * j + (s >> 1) - cfa_dy);
            mosaic.plane[s](i, j) = select(use_ca != 0, shifted, direct);
        }

        Rgb rgb = std::string(method) == "fast" ? demosaic_fast(mosaic, i, j, stages)
                                                : demosaic_best(mosaic, i, j, stages);

        // Per site: back to linear, camera -> output colour, tone curve and
        // encoding, 16 bits. The linear colour is a stage of its own: as
        // parts of one Tuple, the three channels each recomputed it.
        Expr n = curve.dim(0).extent();
        // (Edges repeated: the output's padding quads reach one column or
        // row past the frame, and the buffers are 1 x 1 without cells.)
        Func cell_sample = BoundaryConditions::repeat_edge(cells);
        Func column_colour = BoundaryConditions::repeat_edge(cell_column), row_colour = BoundaryConditions::repeat_edge(cell_row);
        for (int s : kAllSites) {
            Expr x = 2 * i + (s & 1) - cfa_dx, y = 2 * j + (s >> 1) - cfa_dy;
            Expr px = cast<float>(x), py = cast<float>(y);
            Expr r2 = ((px - vignette(5)) * (px - vignette(5)) + (py - vignette(6)) * (py - vignette(6))) * vignette(7);
            Expr vgain = select(use_vignette != 0,
                                1.0f + r2 * (vignette(0) + r2 * (vignette(1) + r2 * (vignette(2) + r2 * (vignette(3) + r2 * vignette(4))))),
                                1.0f);
            // The cell's own sample, linear and white balanced like the mosaic,
            // and its colour.
            Expr colour = cast<int>(column_colour(x)) + cast<int>(row_colour(y));
            Expr gain = select(colour == 0, cell_levels(2), colour == 1, cell_levels(3), cell_levels(4));
            // Lens shading as for the mosaic: the gain of a Bayer site of the
            // cell's colour here (red's site is cfa_d), linear (grid^2.5).
            Expr red_site = cfa_dx + 2 * cfa_dy, green_site = (1 - cfa_dx) + 2 * cfa_dy;
            Expr blue_site = (1 - cfa_dx) + 2 * (1 - cfa_dy);
            Expr sg = select(colour == 0, shading(x, y, red_site), colour == 1, shading(x, y, green_site),
                               shading(x, y, blue_site));
            Expr linear_shading = select(use_gain_map != 0, sg * sg * sqrt(sg), 1.0f);
            known_planes[s] = Func(std::string("known_") + site_name(s));
            known_planes[s](i, j) = Tuple(
                min((min(cast<float>(cell_sample(x, y)), cell_levels(1)) - cell_levels(0)) * gain * linear_shading, 1.0f),
                cast<uint8_t>(colour));
            Expr known = known_planes[s](i, j)[0];
            colour = known_planes[s](i, j)[1];
            Expr demosaiced[3] = {from_gamma(rgb.r.plane[s](i, j)), from_gamma(rgb.g.plane[s](i, j)), from_gamma(rgb.b.plane[s](i, j))};
            Expr cam[3];
            for (int ch = 0; ch < 3; ++ch)
                cam[ch] = (with_cells ? select(use_cells != 0 && colour == uint8_t(ch), known, demosaiced[ch]) : demosaiced[ch]) * vgain;
            std::vector<Expr> lins;
            for (int ch = 0; ch < 3; ++ch)
                lins.push_back(clamp(matrix(0, ch) * cam[0] + matrix(1, ch) * cam[1] + matrix(2, ch) * cam[2], 0.0f, 1.0f));
            linear_planes[s] = Func(std::string("linear_") + site_name(s));
            linear_planes[s](i, j) = Tuple(lins);
            std::vector<Expr> encoded;
            for (int ch = 0; ch < 3; ++ch) {
                encoded.push_back(look_up_curve(linear_planes[s](i, j)[ch], curve, n));
            }
            encoded_planes[s] = Func(std::string("encoded_") + site_name(s));
            encoded_planes[s](i, j) = Tuple(encoded);
        }

        // The output is the interleaved RGB image seen as quads: (c, xp, i,
        // yp, j) is channel c of pixel (2i + xp, 2j + yp) in RGGB space (the
        // host lays these five dimensions over its rows). With xp and yp
        // unrolled, every store takes one site's value with no select, and
        // the six channel-and-column stores of a row interleave densely.
        std::vector<Expr> by_site;
        for (int ch = 0; ch < 3; ++ch)
            by_site.push_back(select(yp == 0, select(xp == 0, encoded_planes[kR](i, j)[ch], encoded_planes[kGr](i, j)[ch]),
                                     select(xp == 0, encoded_planes[kGb](i, j)[ch], encoded_planes[kB](i, j)[ch])));
        output(c, xp, i, yp, j) = mux(c, by_site);
    }

    void schedule() {
        output.dim(0).set_bounds(0, 3).set_stride(1);
        output.dim(1).set_bounds(0, 2).set_stride(3);
        output.dim(2).set_stride(6);
        output.dim(3).set_bounds(0, 2);
        raw.dim(0).set_stride(1);
        levels.dim(0).set_bounds(0, 3).dim(1).set_bounds(0, 4);
        gain_grid.dim(2).set_bounds(0, 4);
        vignette.dim(0).set_bounds(0, 8);
        ca_poly.dim(0).set_bounds(0, 7).dim(1).set_bounds(0, 2);
        ca_geom.dim(0).set_bounds(0, 3);
        cell_levels.dim(0).set_bounds(0, 5);
        cells.dim(0).set_stride(1);
        matrix.dim(0).set_bounds(0, 3).dim(1).set_bounds(0, 3);

        const int vec = natural_vector_size<float>();
        // Tiles of 256 x 64 quads, 512 x 128 pixels (measured best of 256..1024
        // pixels wide), all in parallel (the host develops strips only two
        // tiles tall). The last tile shifts inwards rather
        // than being guarded, which keeps every stage's bounds simple
        // (guarded tiles made this generator take minutes to compile); the
        // host never asks for less than one tile.
        Var xo("xo"), yo("yo"), xi("xi"), yi("yi"), tile("tile");
        output.tile(i, j, xo, yo, xi, yi, 256, 64, TailStrategy::ShiftInwards)
            .reorder(c, xp, xi, yp, yi, xo, yo)
            .fuse(xo, yo, tile)
            .unroll(c)
            .unroll(xp)
            .unroll(yp)
            .vectorize(xi, vec)
            .parallel(tile);

        for (int s : kAllSites) {
            // (The curve's lookups are inlined into the output's stores,
            // each feeding its interleave: as a stage of their own per tile
            // the default look's 50 MP kernel took 4-5 % longer, and per
            // quad row as long.)
            linear_planes[s].compute_at(output, tile).vectorize(i, vec);
            linear_planes[s].specialize(use_vignette != 0);
            if (with_cells) known_planes[s].compute_at(output, tile).vectorize(i, vec).specialize(use_gain_map != 0);
            // Files without a gain map or chromatic aberration skip that
            // arithmetic entirely. The planes that read the raw through its
            // mirrored border are computed in whole vectors (RoundUp: 272
            // quads for the 266 a tile needs): shifted inwards, each row's
            // last vector fell outside the loop's border-free part and read
            // its samples and levels lane by lane (a fifth of these stages'
            // time; 3 % of the kernel's).
            if (is_green(s)) sampled.plane[s].compute_at(output, tile).vectorize(i, vec, TailStrategy::RoundUp).specialize(use_gain_map != 0);
            if (!is_green(s))
                mosaic.plane[s].compute_at(output, tile).vectorize(i, vec, TailStrategy::RoundUp).specialize(use_ca != 0).specialize(use_gain_map != 0);
        }
        gain_rows.compute_at(output, tile).bound(gain_rows.args()[2], 0, 4).vectorize(gain_rows.args()[0], vec);
        for (Func f : stages.funcs) f.compute_at(output, tile).vectorize(f.args()[0], vec);
    }

private:
    Field sampled, mosaic;
    Func gain_rows{"gain_rows"};
    DemosaicStages stages;
    std::array<Func, 4> encoded_planes, linear_planes, known_planes;
};

}  // namespace

HALIDE_REGISTER_GENERATOR(Develop, develop)
