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
//   4. back to the sites and through the transform's (asymptotically
//      unbiased) inverse.
// Tuned on the Kodak photos at phone noise levels (scripts/denoise_eval.py).
#include "Halide.h"

namespace {

using namespace Halide;

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
        // 1. Variance-stabilised: y = 2 x / (sqrt(S x + c) + sqrt(c)),
        // c = 3/8 S^2 + O (the Anscombe transform less its constant, which
        // stays finite as S -> 0: then y = x / sigma).
        Func stable("stable");
        {
            Expr site = s;
            Expr u = 2 * qx + (s & 1), v = 2 * qy + (s >> 1);
            Expr xv = (cast<float>(in(u, v)) - params(0, site)) * params(1, site);
            Expr S = params(2, site), O = params(3, site);
            Expr c = 0.375f * S * S + O;
            Expr root = sqrt(max(S * xv + c, 0.0f));
            stable(qx, qy, s) = 2.0f * xv / (root + sqrt(c));
        }
        // 2. The orthonormal channels.
        Func ch("ch");
        {
            Expr r = stable(qx, qy, 0), gr = stable(qx, qy, 1), gb = stable(qx, qy, 2), b = stable(qx, qy, 3);
            const float k = 0.70710678f;
            ch(qx, qy) = Tuple((r + gr + gb + b) * 0.5f, (r - b) * k, (gr - gb) * k, (r + b - gr - gb) * 0.5f);
        }
        // 3. Non-local means. The squared difference of each quad with its
        // neighbour at offset (ox, oy), summed over the 3 x 3 patch.
        const int n = 2 * int(radius) + 1;
        RDom o(0, n * n, "o");
        Expr ox = o % n - int(radius), oy = o / n - int(radius);
        Var k("k");
        Func diff("diff");
        {
            Tuple p = ch(qx, qy), q = ch(qx + k % n - int(radius), qy + k / n - int(radius));
            Expr da = p[0] - q[0], db = p[1] - q[1], dc = p[2] - q[2], dd = p[3] - q[3];
            diff(qx, qy, k) = da * da + chroma_weight * (db * db + dc * dc + dd * dd);
        }
        // (The patch weighted 1 2 1 by 1 2 1: +0.1 dB at mid noise, +0.3 at
        // high over a flat 3 x 3 on the Kodak photos; the offset 1.5 rather
        // than the 2 two alike noisy patches give on average, +0.02.)
        Func rows("rows");
        rows(qx, qy, k) = diff(qx - 1, qy, k) + 2.0f * diff(qx, qy, k) + diff(qx + 1, qy, k);
        Func weight("weight");
        {
            Expr d2 = (rows(qx, qy - 1, k) + 2.0f * rows(qx, qy, k) + rows(qx, qy + 1, k)) / (16.0f * (1.0f + 3.0f * chroma_weight));
            weight(qx, qy, k) = exp(-max(d2 - 1.5f, 0.0f) / (h * h));
        }
        Func sum("sum");
        sum(qx, qy) = Tuple(0.0f, 0.0f, 0.0f, 0.0f, 0.0f);
        {
            Expr wt = weight(qx, qy, o);
            Tuple q = ch(qx + ox, qy + oy);
            sum(qx, qy) = Tuple(sum(qx, qy)[0] + wt * q[0], sum(qx, qy)[1] + wt * q[1], sum(qx, qy)[2] + wt * q[2],
                                sum(qx, qy)[3] + wt * q[3], sum(qx, qy)[4] + wt);
        }
        // 4. Back to the sites, then out of the stabilised domain:
        // x = S y^2 / 4 + sqrt(c) y + S / 4 (the inverse less its bias).
        Func site_value("site_value");
        {
            Expr inv = 1.0f / sum(qx, qy)[4];
            Expr a = sum(qx, qy)[0] * inv, b = sum(qx, qy)[1] * inv, c = sum(qx, qy)[2] * inv, d = sum(qx, qy)[3] * inv;
            const float k2 = 0.70710678f;
            Expr yv = select(s == 0, 0.5f * a + k2 * b + 0.5f * d, s == 1, 0.5f * a + k2 * c - 0.5f * d,
                             s == 2, 0.5f * a - k2 * c - 0.5f * d, 0.5f * a - k2 * b + 0.5f * d);
            Expr S = params(2, s), O = params(3, s);
            Expr cc = 0.375f * S * S + O;
            Expr xv = 0.25f * S * yv * yv + sqrt(cc) * yv + 0.25f * S;
            Expr code = xv / params(1, s) + params(0, s);
            site_value(qx, qy, s) = cast<uint16_t>(clamp(code + 0.5f, 0.0f, 65535.0f));
        }
        Expr u = x + cfa_dx, v = y + cfa_dy;
        output(x, y) = site_value(u >> 1, v >> 1, (u & 1) + 2 * (v & 1));

        // Schedule: tiles of output rows on every core; within a tile the
        // channels once, then per offset its distances, their box and the
        // weighted sums, all over the tile's quads.
        Var xo("xo"), yo("yo"), xi("xi"), yi("yi"), tile("tile");
        const int vec = natural_vector_size<float>();
        output.tile(x, y, xo, yo, xi, yi, 256, 64, TailStrategy::GuardWithIf)
            .fuse(xo, yo, tile)
            .parallel(tile)
            .vectorize(xi, vec);
        site_value.compute_at(output, tile).bound(s, 0, 4).unroll(s).vectorize(qx, vec);
        sum.compute_at(output, tile).vectorize(qx, vec);
        sum.update().reorder(qx, qy, o).vectorize(qx, vec);
        rows.compute_at(sum, o).vectorize(qx, vec);
        diff.compute_at(sum, o).vectorize(qx, vec);
        ch.compute_at(output, tile).vectorize(qx, vec);
        stable.compute_at(output, tile).bound(s, 0, 4).unroll(s).vectorize(qx, vec);
        params.dim(0).set_bounds(0, 4).dim(1).set_bounds(0, 4);
    }
};

}  // namespace

HALIDE_REGISTER_GENERATOR(Denoise, denoise)
