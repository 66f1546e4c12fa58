// The demosaic algorithm, as Halide expressions, shared by the generators.
//
// Naming: everything works in "RGGB space" (u, v): the caller shifts the
// mosaic so that red sits at even u and even v, whatever the sensor's layout.
// A site is R (u, v even), B (u, v odd) or G (the rest). For each site,
//   dh / dv  = G - C along a row / column, where C is the non-green colour
//              of that row / column (Hamilton-Adams estimates of the missing one),
//   grad_h/v = how fast that colour difference changes across the site,
//   grad_*_across = grad summed over 5 sites across its direction,
//   d_rb     = G - C at R and B sites after weighting four directions,
//   d_r, d_b = G - R and G - B everywhere.
#pragma once
#include "Halide.h"

namespace obscura::halide {

using Halide::Expr;
using Halide::Func;
using Halide::Var;

struct DemosaicFuncs {
    Func dh, dv, grad_h, grad_v, grad_h_across, grad_v_across, green, d_known, d_r_rb, d_b_rb, rgb;
    std::vector<Func> all() const {
        return {dh, dv, grad_h, grad_v, grad_h_across, grad_v_across, green, d_known, d_r_rb, d_b_rb};
    }
};

inline Expr is_green(Expr u, Expr v) { return ((u + v) & 1) == 1; }
inline Expr is_red(Expr u, Expr v) { return ((u & 1) == 0) && ((v & 1) == 0); }

// in(u, v): white-balanced mosaic in RGGB space, defined everywhere (the
// caller applies a parity-preserving boundary condition).
inline DemosaicFuncs demosaic(Func in, Var u, Var v, Var c) {
    DemosaicFuncs f;
    // Hamilton-Adams: neighbours' mean plus a Laplacian correction from the
    // site's own colour two pixels away, which keeps edges sharp.
    Expr est_h = (in(u - 1, v) + in(u + 1, v)) * 0.5f + (2.0f * in(u, v) - in(u - 2, v) - in(u + 2, v)) * 0.25f;
    Expr est_v = (in(u, v - 1) + in(u, v + 1)) * 0.5f + (2.0f * in(u, v) - in(u, v - 2) - in(u, v + 2)) * 0.25f;
    Expr g = is_green(u, v);
    f.dh(u, v) = select(g, in(u, v) - est_h, est_h - in(u, v));
    f.dv(u, v) = select(g, in(u, v) - est_v, est_v - in(u, v));
    f.grad_h(u, v) = abs(f.dh(u - 1, v) - f.dh(u + 1, v));
    f.grad_v(u, v) = abs(f.dv(u, v - 1) - f.dv(u, v + 1));

    // Gradient-weighted blend of four one-sided colour-difference estimates
    // (after Pekkucuksen & Altunbasak's threshold-free scheme): the direction
    // whose colour difference is flattest is trusted most.
    // Window sums, separably: 5 across the direction, then 5 along it.
    Expr across_v = 0.0f, across_h = 0.0f;
    for (int i = -2; i <= 2; ++i) {
        across_v += f.grad_v(u + i, v);
        across_h += f.grad_h(u, v + i);
    }
    f.grad_v_across(u, v) = across_v;
    f.grad_h_across(u, v) = across_h;
    Expr sum_n = 0.0f, sum_s = 0.0f, sum_w = 0.0f, sum_e = 0.0f;
    for (int j = 0; j <= 4; ++j) {
        sum_n += f.grad_v_across(u, v - j);
        sum_s += f.grad_v_across(u, v + j);
        sum_w += f.grad_h_across(u - j, v);
        sum_e += f.grad_h_across(u + j, v);
    }
    const float eps = 1e-10f;
    Expr w_n = 1.0f / (sum_n * sum_n + eps), w_s = 1.0f / (sum_s * sum_s + eps);
    Expr w_w = 1.0f / (sum_w * sum_w + eps), w_e = 1.0f / (sum_e * sum_e + eps);
    const float taps[4] = {0.56f, 0.35f, 0.08f, 0.01f};
    Expr e_n = 0.0f, e_s = 0.0f, e_w = 0.0f, e_e = 0.0f;
    for (int k = 0; k < 4; ++k) {
        e_n += taps[k] * f.dv(u, v - k);
        e_s += taps[k] * f.dv(u, v + k);
        e_w += taps[k] * f.dh(u - k, v);
        e_e += taps[k] * f.dh(u + k, v);
    }
    Expr d_center = (w_n * e_n + w_s * e_s + w_w * e_w + w_e * e_e) / (w_n + w_s + w_w + w_e);
    f.green(u, v) = select(g, in(u, v), in(u, v) + d_center);

    // d_known: G - R at R sites and G - B at B sites, now known exactly.
    f.d_known(u, v) = f.green(u, v) - in(u, v);
    // At B sites the four diagonal neighbours are R (and vice versa), so
    // their mean estimates the other colour's difference.
    Expr diag = (f.d_known(u - 1, v - 1) + f.d_known(u + 1, v - 1) + f.d_known(u - 1, v + 1) +
                 f.d_known(u + 1, v + 1)) * 0.25f;
    Expr r_site = is_red(u, v), b_site = !g && !r_site;
    // d_r_rb: G - R on every R and B site; d_b_rb: G - B on the same sites.
    f.d_r_rb(u, v) = select(r_site, f.d_known(u, v), diag);
    f.d_b_rb(u, v) = select(b_site, f.d_known(u, v), diag);

    // At G sites the four axial neighbours are R or B sites.
    Expr axial_r = (f.d_r_rb(u - 1, v) + f.d_r_rb(u + 1, v) + f.d_r_rb(u, v - 1) + f.d_r_rb(u, v + 1)) * 0.25f;
    Expr axial_b = (f.d_b_rb(u - 1, v) + f.d_b_rb(u + 1, v) + f.d_b_rb(u, v - 1) + f.d_b_rb(u, v + 1)) * 0.25f;
    Expr d_r = select(g, axial_r, f.d_r_rb(u, v));
    Expr d_b = select(g, axial_b, f.d_b_rb(u, v));
    Expr green = f.green(u, v);
    f.rgb(u, v, c) = Halide::mux(c, {green - d_r, green, green - d_b});
    return f;
}

}  // namespace obscura::halide
