// Quad fields: a full-resolution quantity on the Bayer mosaic held as four
// quarter-resolution planes, one per site of the 2x2 cell.
//
// Naming, shared by every kernel: the mosaic is shifted into "RGGB space",
// where red sits at even (u, v). Quad (i, j) covers pixels u = 2i..2i+1,
// v = 2j..2j+1, and its sites are R (0,0), Gr (1,0: green on a red row),
// Gb (0,1: green on a blue row) and B (1,1). A stage defined only where it
// is needed (green at R and B sites, say) has only those planes; reading an
// undefined plane fails when the generator runs, never in the product.
//
// Working on planes, as Halide's camera_pipe does, means no select() over
// the CFA phase: every value is computed once, only at the sites that need
// it, and every vector load is dense.
#pragma once
#include <array>
#include <functional>
#include <string>

#include "Halide.h"

namespace obscura::halide {

using Halide::Expr;
using Halide::Func;
using Halide::Var;

enum Site { kR = 0, kGr = 1, kGb = 2, kB = 3 };
inline constexpr std::array<int, 4> kAllSites = {kR, kGr, kGb, kB};
inline constexpr std::array<int, 2> kRedBlue = {kR, kB};
inline constexpr std::array<int, 2> kGreens = {kGr, kGb};
inline bool is_green(int s) { return s == kGr || s == kGb; }
inline const char* site_name(int s) {
    static const char* names[] = {"r", "gr", "gb", "b"};
    return names[s];
}

struct Field {
    std::array<Func, 4> plane;
    std::vector<Func> defined() const {
        std::vector<Func> out;
        for (const Func& f : plane)
            if (f.defined()) out.push_back(f);
        return out;
    }
};

// floor(a / 2) for any sign.
constexpr int floor_half(int a) { return a >= 0 ? a / 2 : -((1 - a) / 2); }

// The value of f at the pixel (dx, dy) away from site s of quad (i, j).
inline Expr at(const Field& f, int s, int dx, int dy, Expr i, Expr j) {
    int px = (s & 1) + dx, py = (s >> 1) + dy;
    int t = (py & 1) * 2 + (px & 1);
    return f.plane[t](i + floor_half(px), j + floor_half(py));
}

// Reads fields relative to the site being defined.
struct Here {
    int s;
    Var i, j;
    Expr operator()(const Field& f, int dx = 0, int dy = 0) const { return at(f, s, dx, dy, i, j); }
};

// Defines `name` at the given sites by body(here) -> Expr.
template <typename Sites>
Field define(const std::string& name, const Sites& sites, Var i, Var j, const std::function<Expr(const Here&)>& body) {
    Field f;
    for (int s : sites) {
        f.plane[s] = Func(name + "_" + site_name(s));
        f.plane[s](i, j) = body(Here{s, i, j});
    }
    return f;
}

// A field made of planes of others (e.g. green: measured at G sites,
// estimated at R and B sites).
inline Field merge(const Field& a, const Field& b) {
    Field f;
    for (int s : kAllSites) f.plane[s] = a.plane[s].defined() ? a.plane[s] : b.plane[s];
    return f;
}

}  // namespace obscura::halide
