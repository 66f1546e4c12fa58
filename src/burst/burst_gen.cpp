// Halide generators of the burst stage: tile alignment and the frequency-
// domain merge (Hasinoff et al. 2016, "Burst photography for high dynamic
// range and low-light imaging on mobile cameras").
//
// Naming: a "tile" is 16 x 16 samples of one Bayer plane (32 x 32 raw
// pixels); tiles overlap by half, so tile (tx, ty) starts at plane pixel
// (8 tx - 8, 8 ty - 8) and every plane pixel lies in four tiles. Inputs are
// padded by the caller (valid some margin outside the image), so no index is
// clamped and every load stays a plain vector load.
#include <Halide.h>

#include <cmath>
#include <vector>

namespace {

using namespace Halide;

// ---------------------------------------------------------------- alignment

// For each tile: the offset (prior + search) that minimises the L1 distance
// between the reference tile and the displaced alternate tile.
class AlignTiles : public Generator<AlignTiles> {
public:
    GeneratorParam<int> tile{"tile", 16};
    GeneratorParam<int> radius{"radius", 4};

    Input<Buffer<float, 2>> ref{"ref"};
    Input<Buffer<float, 2>> alt{"alt"};
    Input<Buffer<int16_t, 3>> prior{"prior"};  // (tx, ty, 0|1): offset to start from
    Input<int> limit{"limit"};                 // |prior| <= limit: what the padding allows
    Output<Buffer<int16_t, 3>> offsets{"offsets"};

    void generate() {
        const int t = tile, s = tile / 2, r = radius;
        Var i{"i"}, dx{"dx"}, dy{"dy"}, tx{"tx"}, ty{"ty"}, c{"c"};
        Expr px = clamp(cast<int>(prior(tx, ty, 0)), -limit, limit), py = clamp(cast<int>(prior(tx, ty, 1)), -limit, limit);
        Expr x0 = tx * s - s, y0 = ty * s - s;
        RDom rj(0, t, "rj");
        // Column sums of |ref - alt| (one vector of i per row), then across i.
        Func column{"column"};
        column(i, dx, dy, tx, ty) = 0.0f;
        column(i, dx, dy, tx, ty) += abs(ref(x0 + i, y0 + rj) - alt(x0 + i + px + dx, y0 + rj + py + dy));
        RDom ri(0, t, "ri");
        Func dist{"dist"};
        dist(dx, dy, tx, ty) = 0.0f;
        dist(dx, dy, tx, ty) += column(ri, dx, dy, tx, ty);
        RDom sr(-r, 2 * r + 1, -r, 2 * r + 1, "sr");
        Func best{"best"};
        best(tx, ty) = argmin(sr, dist(sr.x, sr.y, tx, ty));
        offsets(tx, ty, c) = cast<int16_t>(select(c == 0, px + best(tx, ty)[0], py + best(tx, ty)[1]));

        ref.dim(0).set_stride(1);
        alt.dim(0).set_stride(1);
        offsets.dim(2).set_bounds(0, 2);
        const int vec = natural_vector_size<float>();
        Var tyo{"tyo"};
        offsets.reorder(c, tx, ty).bound(c, 0, 2).unroll(c).split(ty, tyo, ty, 4, TailStrategy::GuardWithIf).parallel(tyo);
        best.compute_at(offsets, tx);
        dist.compute_at(offsets, tx);
        column.compute_at(dist, dx).vectorize(i, std::min(vec, t));
        column.update().reorder(i, rj).vectorize(i, std::min(vec, t));
    }
};

// -------------------------------------------------------------------- merge

// A complex value as two Exprs; the FFT below is written on these.
struct Cx {
    Expr re, im;
};
Cx operator+(const Cx& a, const Cx& b) { return {a.re + b.re, a.im + b.im}; }

// a * exp(sign * 2 pi i * num / den), with the trivial angles done without
// multiplies (sign -1: forward transform, +1: inverse).
Cx rotate(const Cx& a, int num, int den, int sign) {
    int n = ((num % den) + den) % den;
    if (n == 0) return a;
    if (4 * n == den) return sign < 0 ? Cx{a.im, -a.re} : Cx{-a.im, a.re};      // -i or +i
    if (2 * n == den) return {-a.re, -a.im};
    if (4 * n == 3 * den) return sign < 0 ? Cx{-a.im, a.re} : Cx{a.im, -a.re};  // +i or -i
    double angle = sign * 2.0 * M_PI * n / den;
    float co = float(std::cos(angle)), si = float(std::sin(angle));
    return {a.re * co - a.im * si, a.re * si + a.im * co};
}

// One 16-point DFT along a tile dimension, as two radix-4 passes: pass A
// makes, for k = 4 * n2 + u1, the twiddled 4-point DFT of inputs n2, n2+4,
// n2+8, n2+12; pass B combines them into output u = u1 + 4 * u2. Each pass is
// a Func with the index as a dimension that the schedule unrolls, so the
// mux over 16 expressions folds to one expression per unrolled iteration.
Tuple pass_a(const std::function<Cx(int)>& in, const Expr& k, int sign) {
    std::vector<Expr> re, im;
    for (int n2 = 0; n2 < 4; ++n2)
        for (int u1 = 0; u1 < 4; ++u1) {
            Cx s = in(n2);
            for (int n1 = 1; n1 < 4; ++n1) s = s + rotate(in(4 * n1 + n2), n1 * u1, 4, sign);
            s = rotate(s, n2 * u1, 16, sign);
            re.push_back(s.re);
            im.push_back(s.im);
        }
    return Tuple(mux(k, re), mux(k, im));
}

Tuple pass_b(const std::function<Cx(int)>& a, const Expr& u, int sign) {
    std::vector<Expr> re(16), im(16);
    for (int u1 = 0; u1 < 4; ++u1)
        for (int u2 = 0; u2 < 4; ++u2) {
            Cx s = a(u1);
            for (int n2 = 1; n2 < 4; ++n2) s = s + rotate(a(4 * n2 + u1), n2 * u2, 4, sign);
            re[u1 + 4 * u2] = s.re;
            im[u1 + 4 * u2] = s.im;
        }
    return Tuple(mux(u, re), mux(u, im));
}

// Merges one alternate frame into the running sum of corrections. For each
// tile and Bayer plane, D = FFT(window * (ref - alt)); the alternate frame
// is taken where D looks like noise and refused where it does not (motion,
// misalignment): the correction (1 - A) D, A = |D|^2 / (|D|^2 + noise), is
// transformed back, windowed again and added up. The caller's merged plane
// is ref - sum / frames.
class MergeTiles : public Generator<MergeTiles> {
public:
    Input<Buffer<float, 3>> ref{"ref"};                 // (qx, qy, plane) Bayer planes, padded
    Input<Buffer<float, 3>> alt{"alt"};                 // the same for the alternate frame
    Input<Buffer<int16_t, 3>> offsets{"offsets"};       // (tx, ty, 0|1) raw pixels
    Input<Buffer<float, 3>> tile_noise{"tile_noise"};   // (tx, ty, plane): expected |D|^2 of noise, times the strength
    Input<Buffer<uint8_t, 1>> plane_color{"plane_color"};  // colour of plane 0..3 (x parity + 2 * y parity)
    Input<int> limit{"limit"};                          // |offset| <= limit: what the padding allows
    Input<Buffer<float, 3>> sum_in{"sum_in"};           // (qx, qy, plane)
    Output<Buffer<float, 3>> sum_out{"sum_out"};

    void generate() {
        Var i{"i"}, j{"j"}, k{"k"}, u{"u"}, v{"v"}, p{"p"}, tx{"tx"}, ty{"ty"}, qx{"qx"}, qy{"qy"};
        // Sine window: its square sums to one over half-overlapping tiles.
        Var n{"n"};
        Func window_table{"window_table"};
        window_table(n) = sin(float(M_PI) * (cast<float>(n) + 0.5f) / 16.0f);
        auto window = [&](Expr at) { return window_table(at); };

        // The alternate sample for a reference site of this plane's colour,
        // displaced by the tile's offset (raw pixels): the sample itself when
        // the offset keeps the colour; else the cubic (Catmull-Rom, half-way)
        // through the four nearest samples of that colour along each odd
        // direction. Both cases are one separable 4 x 4 kernel on one plane
        // of the alternate frame, with weights set per tile.
        // Tile groups are rounded up to a whole vector: tiles past the last
        // repeat its offset and noise (their results are never read).
        Expr tx_c = min(tx, offsets.dim(0).max()), ty_c = min(ty, offsets.dim(1).max());
        Expr dx = clamp(cast<int>(offsets(tx_c, ty_c, 0)), -limit, limit), dy = clamp(cast<int>(offsets(tx_c, ty_c, 1)), -limit, limit);
        Expr green = plane_color(p) == 1;
        // Green moved diagonally lands on the other green: exact.
        Expr both_odd_green = green && (dx & 1) == 1 && (dy & 1) == 1;
        Expr sx = select(both_odd_green, 0, dx & 1), sy = select(both_odd_green, 0, dy & 1);
        Expr ax = 2 * (tx * 8 - 8) + (p & 1) + dx - sx, ay = 2 * (ty * 8 - 8) + p / 2 + dy - sy;  // raw, of local (0, 0)
        Expr alt_plane = (ax & 1) + 2 * (ay & 1);
        Expr bx = (ax - (ax & 1)) / 2, by = (ay - (ay & 1)) / 2;
        auto weight = [](Expr half, int a) {
            const float cubic[4] = {-1.0f / 16, 9.0f / 16, 9.0f / 16, -1.0f / 16}, direct[4] = {0, 1, 0, 0};
            return select(half == 1, cubic[a], direct[a]);
        };
        Expr alt_value = 0.0f;
        for (int b = 0; b < 4; ++b) {
            Expr row = 0.0f;
            for (int a = 0; a < 4; ++a) row += weight(sx, a) * alt(bx + i + a - 1, by + j + b - 1, alt_plane);
            alt_value += weight(sy, b) * row;
        }
        Func diff{"diff"};
        diff(i, j, p, tx, ty) = window(i) * window(j) * (ref(tx * 8 - 8 + i, ty * 8 - 8 + j, p) - alt_value);

        // Forward 2-D DFT: along j (real input, so v = 0..8 suffice), then along i.
        Func col_a{"col_a"}, col_b{"col_b"}, row_a{"row_a"}, spectrum{"spectrum"};
        col_a(i, k, p, tx, ty) = pass_a([&](int n) { return Cx{diff(i, n, p, tx, ty), 0.0f}; }, k, -1);
        col_b(i, v, p, tx, ty) = pass_b([&](int n) { return Cx{col_a(i, n, p, tx, ty)[0], col_a(i, n, p, tx, ty)[1]}; }, v, -1);
        row_a(k, v, p, tx, ty) = pass_a([&](int n) { return Cx{col_b(n, v, p, tx, ty)[0], col_b(n, v, p, tx, ty)[1]}; }, k, -1);
        Tuple d = pass_b([&](int n) { return Cx{row_a(n, v, p, tx, ty)[0], row_a(n, v, p, tx, ty)[1]}; }, u, -1);
        // Shrink: keep (1 - A) D, the part of the difference that is noise.
        Expr noise = tile_noise(tx_c, ty_c, p);
        Expr keep = noise / (d[0] * d[0] + d[1] * d[1] + noise);
        spectrum(u, v, p, tx, ty) = Tuple(d[0] * keep, d[1] * keep);

        // Inverse: along u, then along v with the conjugate half restored.
        Func irow_a{"irow_a"}, irow_b{"irow_b"}, icol_a{"icol_a"}, tiles{"tiles"};
        irow_a(k, v, p, tx, ty) = pass_a([&](int n) { return Cx{spectrum(n, v, p, tx, ty)[0], spectrum(n, v, p, tx, ty)[1]}; }, k, 1);
        irow_b(i, v, p, tx, ty) = pass_b([&](int n) { return Cx{irow_a(n, v, p, tx, ty)[0], irow_a(n, v, p, tx, ty)[1]}; }, i, 1);
        auto half = [&](int n) {
            if (n <= 8) return Cx{irow_b(i, n, p, tx, ty)[0], irow_b(i, n, p, tx, ty)[1]};
            return Cx{irow_b(i, 16 - n, p, tx, ty)[0], -irow_b(i, 16 - n, p, tx, ty)[1]};
        };
        icol_a(i, k, p, tx, ty) = pass_a(half, k, 1);
        Tuple back = pass_b([&](int n) { return Cx{icol_a(i, n, p, tx, ty)[0], icol_a(i, n, p, tx, ty)[1]}; }, j, 1);
        tiles(i, j, p, tx, ty) = back[0] * (window(i) * window(j) / 256.0f);

        // Overlap-add in the tile domain (8 x 8 blocks, still 16 blocks to a
        // vector): each block sums the four tiles over it; only then is it
        // written out to the plane, one scattered store per pixel.
        Var bx_{"bx"}, by_{"by"}, lx{"lx"}, ly{"ly"};
        Func blocks{"blocks"};
        blocks(lx, ly, p, bx_, by_) = tiles(lx, ly, p, bx_ + 1, by_ + 1) + tiles(lx + 8, ly, p, bx_, by_ + 1) +
                                      tiles(lx, ly + 8, p, bx_ + 1, by_) + tiles(lx + 8, ly + 8, p, bx_, by_);
        sum_out(qx, qy, p) = sum_in(qx, qy, p) + blocks(qx % 8, qy % 8, p, qx / 8, qy / 8);

        // ---- schedule
        ref.dim(2).set_bounds(0, 4);
        alt.dim(2).set_bounds(0, 4);
        sum_in.dim(0).set_stride(1);
        sum_out.dim(0).set_stride(1);
        plane_color.dim(0).set_bounds(0, 4);
        sum_out.dim(2).set_bounds(0, 4);
        // Planes start at 0 and are whole tiles wide: qx % 8 is then a plain
        // ramp and the overlap-add reads tiles with vector loads.
        for (int d = 0; d < 2; ++d) {
            sum_out.dim(d).set_min(0).set_extent(sum_out.dim(d).extent() / 8 * 8);
            sum_in.dim(d).set_min(0).set_extent(sum_out.dim(d).extent());
        }
        sum_in.dim(2).set_bounds(0, 4);
        const int vec = natural_vector_size<float>();
        Var qxo{"qxo"}, qxi{"qxi"}, qyb{"qyb"}, qyi{"qyi"}, chunk{"chunk"}, block{"block"};
        // Rows of tiles slide down a chunk: each is transformed once.
        sum_out.split(qx, qxo, qxi, 8, TailStrategy::RoundUp).vectorize(qxi)
            .split(qy, qyb, qyi, 8, TailStrategy::RoundUp)
            .split(qyb, chunk, block, 16, TailStrategy::GuardWithIf)
            .reorder(qxi, qxo, qyi, p, block, chunk)
            .parallel(chunk);
        Var txo{"txo"}, txi{"txi"}, bxo{"bxo"}, bxi{"bxi"};
        blocks.compute_at(sum_out, block).bound(lx, 0, 8).bound(ly, 0, 8)
            .split(bx_, bxo, bxi, vec, TailStrategy::RoundUp).reorder(bxi, lx, ly, bxo, p, by_)
            .vectorize(bxi).unroll(lx);
        tiles.store_at(sum_out, chunk).compute_at(sum_out, block)
            .reorder_storage(tx, i, j, p, ty)
            .split(tx, txo, txi, vec, TailStrategy::RoundUp).reorder(txi, j, i, txo, p, ty)
            .vectorize(txi).unroll(j);
        tiles.bound_extent(i, 16).bound_extent(j, 16);
        // Every FFT pass: 16 tiles side by side in one vector, the transform
        // index unrolled (its twiddles are constants), the other index a loop.
        auto stage = [&](Func f, Var unrolled, int unrolled_extent, Var other, int other_extent) {
            f.compute_at(tiles, txo).bound(unrolled, 0, unrolled_extent).bound(other, 0, other_extent)
                .reorder_storage(tx, unrolled, other, p, ty)
                .reorder(tx, unrolled, other, p, ty).vectorize(tx).unroll(unrolled);
        };
        stage(icol_a, k, 16, i, 16);
        stage(irow_b, i, 16, v, 9);
        stage(irow_a, k, 16, v, 9);
        stage(spectrum, u, 16, v, 9);
        stage(row_a, k, 16, v, 9);
        stage(col_b, v, 9, i, 16);
        stage(col_a, k, 16, i, 16);
        window_table.compute_root().bound(n, 0, 16);
        // The windowed difference is gathered along i (plain vector loads).
        diff.compute_at(tiles, txo).bound(i, 0, 16).bound(j, 0, 16).reorder(i, j, tx, p, ty).vectorize(i, std::min(vec, 16));
    }
};

}  // namespace

HALIDE_REGISTER_GENERATOR(AlignTiles, align_tiles)
HALIDE_REGISTER_GENERATOR(MergeTiles, merge_tiles)
