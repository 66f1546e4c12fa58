// denoise: a noisy raw mosaic -> the same mosaic with its noise removed,
// before the demosaic (where the noise is still white and independent per
// sample). Per 2x2 quad of RGGB space:
//   1. each site's value x (0..1 of white) through the generalised Anscombe
//      transform of its noise (variance = S x + O, the DNG NoiseProfile):
//      noise of variance 1 at every level;
//   2. the four sites turned into orthonormal channels: a (their sum / 2:
//      luminance), b (R - B), c (Gr - Gb), d (R + B - Gr - Gb): noise still
//      of variance 1 in each, the signal mostly in a;
//   3. non-local means over the quads: every quad within `radius` quads
//      weighs in by how alike the 3 x 3 patches around the two are (weighted
//      1 2 1 by 1 2 1; a, and b, c, d at `chroma_weight`),
//      exp(-max(d2 - 1.5, 0) / h^2), ~2 being the distance two noisy patches
//      have when alike;
//      (where the frame says its noise differs across it -- a merged burst
//      keeps more where it refused frames -- the distances are in the local
//      noise: NoiseProfile::map);
//   4. back to the sites and through the transform's (asymptotically
//      unbiased) inverse.
// Tuned on the Kodak photos at phone noise levels (scripts/denoise_eval.py).
//
// denoise_linear: the same for a LinearRaw frame (camera RGB at every pixel,
// as ProRAW and Expert RAW store it), pixel by pixel instead of quad by
// quad, in three orthonormal channels (luminance and two colour
// differences).
#include <vector>

#include "Halide.h"

namespace {

using namespace Halide;

// The generalised Anscombe transform less its constant, for x in 0..1 of
// white with noise variance S x + O: y = 2 x / (sqrt(S x + c) + sqrt(c)),
// c = 3/8 S^2 + O (finite as S -> 0, where y = x / sigma); noise of
// variance 1 at every level.
Expr stabilise(Expr x, Expr S, Expr O) {
    Expr c = 0.375f * S * S + O;
    return 2.0f * x / (sqrt(max(S * x + c, 0.0f)) + sqrt(c));
}

// Its asymptotically unbiased inverse: x = S y^2 / 4 + sqrt(c) y + S / 4.
Expr unstabilise(Expr y, Expr S, Expr O) {
    Expr c = 0.375f * S * S + O;
    return 0.25f * S * y * y + sqrt(c) * y + 0.25f * S;
}

// Non-local means weights from the per-offset squared channel differences
// diff(x, y, k) (already weighted luminance + chroma): summed over the 3 x 3
// patch weighted 1 2 1 by 1 2 1, divided by 16 `norm` (so that two alike
// noisy patches give ~2; times `local` where defined: the inverse of the
// noise there), and exp(-max(d2 - 1.5, 0) / h^2). (The 1-2-1
// patch: +0.1 dB at mid noise, +0.3 at high over a flat 3 x 3 on the Kodak
// photos; 5 x 5 patches weighted 1 4 6 4 1, -0.2 dB at both; the offset 1.5
// rather than 2, +0.02.) `rows` is the horizontal pass, for the caller to
// schedule.
struct PatchWeights {
    Func rows{"rows"}, weight{"weight"};
    PatchWeights() = default;
    PatchWeights(Func diff, Var x, Var y, Var k, Expr norm, Expr h, Expr local = Expr()) {
        rows(x, y, k) = diff(x - 1, y, k) + 2.0f * diff(x, y, k) + diff(x + 1, y, k);
        Expr box = rows(x, y - 1, k) + 2.0f * rows(x, y, k) + rows(x, y + 1, k);
        Expr d2 = local.defined() ? box * (local / (norm * 16.0f)) : box / (norm * 16.0f);
        weight(x, y, k) = exp(-max(d2 - 1.5f, 0.0f) / (h * h));
    }
};

// Non-local means over a grid of values with `channels` channels, ch(x, y)
// (a Tuple: the first luminance, the others colour at `chroma_weight` in
// the distance): every neighbour within `radius` weighs in by how alike the
// patches around the two are (PatchWeights). sum(x, y) holds the weighted
// sums of the channels and, last, the total weight. `inverse_noise(x, y)`:
// 1 over the noise variance there as a multiple of the stabilised domain's
// 1 (where a merged burst refused frames it kept more noise), scaling the
// distances.
struct NonLocalMeans {
    Var k{"k"};
    RDom o;
    Func diff{"diff"}, sum{"sum"};
    PatchWeights patches;

    NonLocalMeans(Func ch, int channels, Var x, Var y, int radius, Expr chroma_weight, Expr h, Expr inverse_noise = Expr()) {
        const int n = 2 * radius + 1;
        o = RDom(0, n * n, "o");
        // The squared difference of each value with its neighbour at offset k.
        Tuple p = ch(x, y), q = ch(x + k % n - radius, y + k / n - radius);
        Expr luma = p[0] - q[0], chroma = (p[1] - q[1]) * (p[1] - q[1]);
        for (int i = 2; i < channels; ++i) chroma += (p[i] - q[i]) * (p[i] - q[i]);
        diff(x, y, k) = luma * luma + chroma_weight * chroma;
        patches = PatchWeights(diff, x, y, k, 1.0f + float(channels - 1) * chroma_weight, h, inverse_noise);
        std::vector<Expr> zeros(size_t(channels) + 1, 0.0f), update;
        sum(x, y) = Tuple(zeros);
        Expr wt = patches.weight(x, y, o);
        Tuple at = ch(x + o % n - radius, y + o / n - radius);
        for (int i = 0; i < channels; ++i) update.push_back(sum(x, y)[i] + wt * at[i]);
        update.push_back(sum(x, y)[channels] + wt);
        sum(x, y) = Tuple(update);
    }

    // Per tile of `out`: per offset its distances, their box and the
    // weighted sums, all over the tile.
    void schedule(Func out, Var tile, Var x, Var y, int vec) {
        sum.compute_at(out, tile).vectorize(x, vec);
        sum.update().reorder(x, y, o).vectorize(x, vec);
        patches.rows.compute_at(sum, o).vectorize(x, vec);
        diff.compute_at(sum, o).vectorize(x, vec);
    }
};

class Denoise : public Generator<Denoise> {
public:
    GeneratorParam<int> radius{"radius", 3};  // search window: (2 radius + 1)^2 quads

    Input<Buffer<uint16_t, 2>> raw{"raw"};  // active area, CFA samples
    // params(k, site) for site (u & 1) + 2 (v & 1) of RGGB space: k = 0 black,
    // 1 1 / (white - black), 2 S, 3 O (the noise, variance = S x + O with x
    // in 0..1 of white, already scaled by the strength).
    Input<Buffer<float, 2>> params{"params"};
    Input<int> cfa_dx{"cfa_dx"}, cfa_dy{"cfa_dy"};  // raw (x, y) + cfa_d = RGGB space (u, v)
    Input<float> h{"h"};                            // filtering strength, in noise sigmas
    Input<float> chroma_weight{"chroma_weight"};
    // The noise variance across the frame as a multiple of params' (a merged
    // burst keeps more where it refused frames): grid point (gx, gy) at quad
    // (gx, gy) * map_step + (map_x, map_y), bilinear between (1 x 1 of 1: none).
    Input<Buffer<float, 2>> noise_map{"noise_map"};
    Input<float> map_step{"map_step"}, map_x{"map_x"}, map_y{"map_y"};
    Output<Buffer<uint16_t, 2>> output{"output"};

    Var x{"x"}, y{"y"}, qx{"qx"}, qy{"qy"}, s{"s"};

    void generate() {
        const Expr w = raw.dim(0).extent(), hgt = raw.dim(1).extent();
        // A raw sample at RGGB-space (u, v), clamped into the frame with the
        // CFA phase kept (the nearest sample of the same colour).
        auto in = [&](Expr u, Expr v) {
            Expr rx = u - cfa_dx, ry = v - cfa_dy;
            rx = select(rx < 0, rx & 1, rx >= w, w - 2 + ((rx - w) & 1), rx);
            ry = select(ry < 0, ry & 1, ry >= hgt, hgt - 2 + ((ry - hgt) & 1), ry);
            return raw(clamp(rx, 0, w - 1), clamp(ry, 0, hgt - 1));
        };
        // 1. Variance-stabilised.
        Func stable("stable");
        {
            Expr site = s;
            Expr u = 2 * qx + (s & 1), v = 2 * qy + (s >> 1);
            Expr xv = (cast<float>(in(u, v)) - params(0, site)) * params(1, site);
            stable(qx, qy, s) = stabilise(xv, params(2, site), params(3, site));
        }
        // 2. The orthonormal channels.
        Func ch("ch");
        {
            Expr r = stable(qx, qy, 0), gr = stable(qx, qy, 1), gb = stable(qx, qy, 2), b = stable(qx, qy, 3);
            const float k = 0.70710678f;
            ch(qx, qy) = Tuple((r + gr + gb + b) * 0.5f, (r - b) * k, (gr - gb) * k, (r + b - gr - gb) * 0.5f);
        }
        // 3. Non-local means over the quads, distances in the local noise.
        Func inverse_noise("inverse_noise");
        {
            Func grid = BoundaryConditions::repeat_edge(noise_map);
            Expr gx = (cast<float>(qx) - map_x) / map_step, gy = (cast<float>(qy) - map_y) / map_step;
            Expr x0 = cast<int>(floor(gx)), y0 = cast<int>(floor(gy));
            Expr fx = gx - cast<float>(x0), fy = gy - cast<float>(y0);
            inverse_noise(qx, qy) = 1.0f / lerp(lerp(grid(x0, y0), grid(x0 + 1, y0), fx), lerp(grid(x0, y0 + 1), grid(x0 + 1, y0 + 1), fx), fy);
        }
        NonLocalMeans nlm(ch, 4, qx, qy, radius, chroma_weight, h, inverse_noise(qx, qy));
        Func sum = nlm.sum;
        // 4. Back to the sites, then out of the stabilised domain.
        Func site_value("site_value");
        {
            Expr inv = 1.0f / sum(qx, qy)[4];
            Expr a = sum(qx, qy)[0] * inv, b = sum(qx, qy)[1] * inv, c = sum(qx, qy)[2] * inv, d = sum(qx, qy)[3] * inv;
            const float k2 = 0.70710678f;
            Expr yv = select(s == 0, 0.5f * a + k2 * b + 0.5f * d, s == 1, 0.5f * a + k2 * c - 0.5f * d,
                             s == 2, 0.5f * a - k2 * c - 0.5f * d, 0.5f * a - k2 * b + 0.5f * d);
            Expr xv = unstabilise(yv, params(2, s), params(3, s));
            Expr code = xv / params(1, s) + params(0, s);
            site_value(qx, qy, s) = cast<uint16_t>(clamp(code + 0.5f, 0.0f, 65535.0f));
        }
        Expr u = x + cfa_dx, v = y + cfa_dy;
        output(x, y) = site_value(u >> 1, v >> 1, (u & 1) + 2 * (v & 1));

        // Schedule: tiles of output rows on every core; within a tile the
        // channels once, then the non-local means over the tile's quads.
        Var xo("xo"), yo("yo"), xi("xi"), yi("yi"), tile("tile");
        const int vec = natural_vector_size<float>();
        output.tile(x, y, xo, yo, xi, yi, 256, 64, TailStrategy::GuardWithIf)
            .fuse(xo, yo, tile)
            .parallel(tile)
            .vectorize(xi, vec);
        site_value.compute_at(output, tile).bound(s, 0, 4).unroll(s).vectorize(qx, vec);
        nlm.schedule(output, tile, qx, qy, vec);
        ch.compute_at(output, tile).vectorize(qx, vec);
        inverse_noise.compute_at(output, tile).vectorize(qx, vec);
        stable.compute_at(output, tile).bound(s, 0, 4).unroll(s).vectorize(qx, vec);
        params.dim(0).set_bounds(0, 4).dim(1).set_bounds(0, 4);
    }
};

class DenoiseLinear : public Generator<DenoiseLinear> {
public:
    GeneratorParam<int> radius{"radius", 3};  // search window: (2 radius + 1)^2 pixels
    GeneratorParam<int> tile_width{"tile_width", 256}, tile_height{"tile_height", 32};  // output pixels per task

    Input<Buffer<uint16_t, 3>> raw{"raw"};  // c, x, y: camera R, G, B interleaved
    // params(k, c): k = 0 black, 1 1 / (white - black), 2 S, 3 O of channel c
    // (as Denoise's, already scaled by the strength).
    Input<Buffer<float, 2>> params{"params"};
    Input<float> h{"h"};  // filtering strength, in noise sigmas
    Input<float> chroma_weight{"chroma_weight"};
    Output<Buffer<uint16_t, 3>> output{"output"};  // c, x, y

    Var c{"c"}, x{"x"}, y{"y"};

    void generate() {
        Func in = BoundaryConditions::repeat_edge(raw);
        Func stable("stable");
        stable(x, y, c) = stabilise((cast<float>(in(c, x, y)) - params(0, c)) * params(1, c), params(2, c), params(3, c));
        // Orthonormal channels: luminance, R - B, and R + B - 2 G.
        const float k3 = 0.57735027f, k2 = 0.70710678f, k6 = 0.40824829f;
        Func ch("ch");
        {
            Expr r = stable(x, y, 0), g = stable(x, y, 1), b = stable(x, y, 2);
            ch(x, y) = Tuple((r + g + b) * k3, (r - b) * k2, (r + b - 2.0f * g) * k6);
        }
        // Non-local means over the pixels, as Denoise's over quads.
        NonLocalMeans nlm(ch, 3, x, y, radius, chroma_weight, h);
        Func sum = nlm.sum;
        Func value("value");
        {
            Expr inv = 1.0f / sum(x, y)[3];
            Expr a = sum(x, y)[0] * inv, b = sum(x, y)[1] * inv, d = sum(x, y)[2] * inv;
            Expr yv = mux(c, {k3 * a + k2 * b + k6 * d, k3 * a - 2.0f * k6 * d, k3 * a - k2 * b + k6 * d});
            Expr code = unstabilise(yv, params(2, c), params(3, c)) / params(1, c) + params(0, c);
            value(x, y, c) = cast<uint16_t>(clamp(code + 0.5f, 0.0f, 65535.0f));
        }
        output(c, x, y) = value(x, y, c);

        raw.dim(0).set_bounds(0, 3).set_stride(1);
        output.dim(0).set_bounds(0, 3).set_stride(1);
        output.dim(1).set_stride(3);
        params.dim(0).set_bounds(0, 4).dim(1).set_bounds(0, 3);

        // Schedule: as Denoise's, over pixels.
        Var xo("xo"), yo("yo"), xi("xi"), yi("yi"), tile("tile");
        const int vec = natural_vector_size<float>();
        output.tile(x, y, xo, yo, xi, yi, int(tile_width), int(tile_height), TailStrategy::GuardWithIf)
            .reorder(c, xi, yi, xo, yo)
            .fuse(xo, yo, tile)
            .parallel(tile)
            .unroll(c)
            .vectorize(xi, vec);
        value.compute_at(output, tile).bound(c, 0, 3).reorder(c, x, y).unroll(c).vectorize(x, vec);
        nlm.schedule(output, tile, x, y, vec);
        ch.compute_at(output, tile).vectorize(x, vec);
        stable.compute_at(output, tile).bound(c, 0, 3).reorder(c, x, y).unroll(c).vectorize(x, vec);
    }
};

}  // namespace

HALIDE_REGISTER_GENERATOR(Denoise, denoise)
HALIDE_REGISTER_GENERATOR(DenoiseLinear, denoise_linear)
