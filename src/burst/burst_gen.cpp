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
// between the reference tile and the displaced alternate tile. The search
// is the square within `radius`, or with `separable` first along x, then
// along y from the best x (the last level: 5 distances instead of 9).
class AlignTiles : public Generator<AlignTiles> {
public:
    GeneratorParam<int> tile{"tile", 16};
    GeneratorParam<int> radius{"radius", 4};
    GeneratorParam<bool> separable{"separable", false};

    Input<Buffer<float, 2>> ref{"ref"};
    Input<Buffer<float, 2>> alt{"alt"};
    Input<Buffer<int16_t, 3>> prior{"prior"};  // (tx, ty, 0|1): offset to start from
    Input<int> limit{"limit"};                 // |prior| <= limit: what the padding allows
    Output<Buffer<int16_t, 3>> offsets{"offsets"};

    // The distance of each tile at candidate (dx, dy), as a Func of `candidate`:
    // column sums of |ref - alt| (one vector of i per row), then across i.
    Func distance(const std::string& name, Var candidate, Expr dx, Expr dy) {
        const int t = tile, s = tile / 2;
        Expr x0 = tx * s - s, y0 = ty * s - s;
        RDom rj(0, t, name + "_rj"), ri(0, t, name + "_ri");
        Func column{name + "_column"}, dist{name};
        column(i, candidate, tx, ty) = 0.0f;
        column(i, candidate, tx, ty) += abs(ref(x0 + i, y0 + rj) - alt(x0 + i + px + dx, y0 + rj + py + dy));
        dist(candidate, tx, ty) = 0.0f;
        dist(candidate, tx, ty) += column(ri, candidate, tx, ty);
        const int vec = std::min(natural_vector_size<float>(), t);
        dist.compute_at(offsets, tx);
        column.compute_at(dist, candidate).vectorize(i, vec);
        column.update().reorder(i, rj).vectorize(i, vec);
        return dist;
    }

    void generate() {
        const int r = radius;
        px = clamp(cast<int>(prior(tx, ty, 0)), -limit, limit);
        py = clamp(cast<int>(prior(tx, ty, 1)), -limit, limit);
        Var k{"k"};
        Func best{"best"};
        if (separable) {
            RDom sx(-r, 2 * r + 1, "sx"), sy(-r, 2 * r + 1, "sy");
            Func along_x = distance("along_x", k, k, 0);
            Func best_x{"best_x"};
            best_x(tx, ty) = argmin(sx, along_x(sx, tx, ty))[0];
            Func along_y = distance("along_y", k, clamp(best_x(tx, ty), -r, r), k);
            best(tx, ty) = {best_x(tx, ty), argmin(sy, along_y(sy, tx, ty))[0]};
            best_x.compute_at(offsets, tx);
        } else {
            // Candidates k = (dy + r) * (2r + 1) + (dx + r).
            const int side = 2 * r + 1;
            Func square = distance("square", k, k % side - r, k / side - r);
            RDom sk(0, side * side, "sk");
            Expr at = argmin(sk, square(sk, tx, ty))[0];
            best(tx, ty) = {at % side - r, at / side - r};
        }
        offsets(tx, ty, c) = cast<int16_t>(select(c == 0, px + best(tx, ty)[0], py + best(tx, ty)[1]));

        ref.dim(0).set_stride(1);
        alt.dim(0).set_stride(1);
        offsets.dim(2).set_bounds(0, 2);
        Var tyo{"tyo"};
        offsets.reorder(c, tx, ty).bound(c, 0, 2).unroll(c).split(ty, tyo, ty, 4, TailStrategy::GuardWithIf).parallel(tyo);
        best.compute_at(offsets, tx);
    }

private:
    Var i{"i"}, tx{"tx"}, ty{"ty"}, c{"c"};
    Expr px, py;
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

// Overlapping tiles in the frequency domain. forward(): each 16 x 16 tile
// of a plane (`sample`, windowed) to its spectrum, u = 0..15, v = 0..8 (the
// rest is the conjugate). inverse(): a spectrum back to tiles, windowed
// again and overlap-added into 8 x 8 blocks.
class TileTransform {
public:
    Var i{"i"}, j{"j"}, k{"k"}, u{"u"}, v{"v"}, p{"p"}, tx{"tx"}, ty{"ty"}, n{"n"};
    Var lx{"lx"}, ly{"ly"}, bx{"bx"}, by{"by"};
    Func window_table{"window_table"}, input{"input"}, col_a{"col_a"}, col_b{"col_b"}, row_a{"row_a"},
        spectrum{"spectrum"}, irow_a{"irow_a"}, irow_b{"irow_b"}, icol_a{"icol_a"}, tiles{"tiles"}, blocks{"blocks"};
    int vec = 16;

    // Sine window: its square sums to one over half-overlapping tiles.
    Expr window(Expr at) { return window_table(at); }

    // `sample`: the value at tile-local (i, j) of plane p, tile (tx, ty).
    void forward(const Expr& sample) {
        window_table(n) = sin(float(M_PI) * (cast<float>(n) + 0.5f) / 16.0f);
        input(i, j, p, tx, ty) = window(i) * window(j) * sample;
        // Along j (real input, so v = 0..8 suffice), then along i.
        col_a(i, k, p, tx, ty) = pass_a([&](int m) { return Cx{input(i, m, p, tx, ty), 0.0f}; }, k, -1);
        col_b(i, v, p, tx, ty) = pass_b([&](int m) { return at(col_a, i, m); }, v, -1);
        row_a(k, v, p, tx, ty) = pass_a([&](int m) { return at(col_b, m, v); }, k, -1);
        spectrum(u, v, p, tx, ty) = pass_b([&](int m) { return at(row_a, m, v); }, u, -1);
    }

    // `modified(u, v, p, tx, ty)`: the spectrum to transform back (a Tuple Func).
    void inverse(Func modified) {
        // Along u, then along v with the conjugate half restored.
        irow_a(k, v, p, tx, ty) = pass_a([&](int m) { return at(modified, m, v); }, k, 1);
        irow_b(i, v, p, tx, ty) = pass_b([&](int m) { return at(irow_a, m, v); }, i, 1);
        icol_a(i, k, p, tx, ty) = pass_a([&](int m) {
            if (m <= 8) return at(irow_b, i, m);
            Cx c = at(irow_b, i, 16 - m);
            return Cx{c.re, -c.im};
        }, k, 1);
        Tuple back = pass_b([&](int m) { return at(icol_a, i, m); }, j, 1);
        tiles(i, j, p, tx, ty) = back[0] * (window(i) * window(j) / 256.0f);
        // Overlap-add in the tile domain (8 x 8 blocks, still 16 blocks to a
        // vector): each block sums the four tiles over it; only then is it
        // written out to the plane, one scattered store per pixel.
        blocks(lx, ly, p, bx, by) = tiles(lx, ly, p, bx + 1, by + 1) + tiles(lx + 8, ly, p, bx, by + 1) +
                                    tiles(lx, ly + 8, p, bx + 1, by) + tiles(lx + 8, ly + 8, p, bx, by);
    }

    // The block value of plane pixel (qx, qy).
    Expr at_pixel(Expr qx, Expr qy, Expr plane) { return blocks(qx % 8, qy % 8, plane, qx / 8, qy / 8); }

    // Every FFT pass: 16 tiles side by side in one vector, the transform
    // index unrolled (its twiddles are constants), the other index a loop.
    void schedule_pass(Func f, Var unrolled, int unrolled_extent, Var other, int other_extent, Func at_func, Var at_var) {
        f.compute_at(at_func, at_var).bound(unrolled, 0, unrolled_extent).bound(other, 0, other_extent)
            .reorder_storage(tx, unrolled, other, p, ty)
            .reorder(tx, unrolled, other, p, ty).vectorize(tx).unroll(unrolled);
    }

    // The forward passes, per group of 16 tiles of `consumer`'s loop `group`.
    void schedule_forward(Func consumer, Var group) {
        schedule_pass(row_a, k, 16, v, 9, consumer, group);
        schedule_pass(col_b, v, 9, i, 16, consumer, group);
        schedule_pass(col_a, k, 16, i, 16, consumer, group);
        window_table.compute_root().bound(n, 0, 16);
        // The windowed input is gathered along i (plain vector loads).
        input.compute_at(consumer, group).bound(i, 0, 16).bound(j, 0, 16).reorder(i, j, tx, p, ty).vectorize(i, std::min(vec, 16));
    }

    // `out(qx, qy, p)` reads at_pixel. Rows of tiles slide down a chunk of
    // rows (each is transformed once); the chunks run in parallel.
    void schedule_inverse(Func out, Var qx, Var qy, Var plane, Func modified) {
        Var qxo{"qxo"}, qxi{"qxi"}, qyb{"qyb"}, qyi{"qyi"}, chunk{"chunk"}, block{"block"};
        out.split(qx, qxo, qxi, 8, TailStrategy::RoundUp).vectorize(qxi)
            .split(qy, qyb, qyi, 8, TailStrategy::RoundUp)
            .split(qyb, chunk, block, 16, TailStrategy::GuardWithIf)
            .reorder(qxi, qxo, qyi, plane, block, chunk)
            .parallel(chunk);
        Var txo{"txo"}, txi{"txi"}, bxo{"bxo"}, bxi{"bxi"};
        blocks.compute_at(out, block).bound(lx, 0, 8).bound(ly, 0, 8)
            .split(bx, bxo, bxi, vec, TailStrategy::RoundUp).reorder(bxi, lx, ly, bxo, p, by)
            .vectorize(bxi).unroll(lx);
        tiles.store_at(out, chunk).compute_at(out, block)
            .reorder_storage(tx, i, j, p, ty)
            .split(tx, txo, txi, vec, TailStrategy::RoundUp).reorder(txi, j, i, txo, p, ty)
            .vectorize(txi).unroll(j);
        tiles.bound_extent(i, 16).bound_extent(j, 16);
        schedule_pass(icol_a, k, 16, i, 16, tiles, txo);
        schedule_pass(irow_b, i, 16, v, 9, tiles, txo);
        schedule_pass(irow_a, k, 16, v, 9, tiles, txo);
        schedule_pass(modified, u, 16, v, 9, tiles, txo);
        schedule_pass(spectrum, u, 16, v, 9, tiles, txo);
        schedule_forward(tiles, txo);
    }

private:
    Cx at(Func f, Expr a, Expr b) { return {f(a, b, p, tx, ty)[0], f(a, b, p, tx, ty)[1]}; }
};

// Planes start at 0 and are whole blocks wide and high: qx % 8 is then a
// plain ramp and the overlap-add reads blocks with vector loads.
template <typename B>
void whole_blocks(B& b) {
    b.dim(0).set_stride(1);
    for (int d = 0; d < 2; ++d) b.dim(d).set_min(0).set_extent(b.dim(d).extent() / 8 * 8);
    b.dim(2).set_bounds(0, 4);
}

// The summed spectra are kept as bfloat16 (the top half of a float, rounded):
// half the memory, the float's range, 8 bits of precision, far finer than the
// noise these sums average; two integer operations each way.
Expr to_bfloat16(Expr f) { return cast<uint16_t>((reinterpret<uint32_t>(f) + cast<uint32_t>(0x8000)) >> 16); }
Expr from_bfloat16(Expr h) { return reinterpret<float>(cast<uint32_t>(h) << 16); }

// The spectra of a burst's merge, per tile and plane, summed over the
// alternate frames: (tx, c, u, v, plane, ty) with c = 0, 1 the real and
// imaginary parts of sum(k_z D_z) and c = 2 the sum of k_z. Tiles are
// innermost (a whole vector of them) and their count a multiple of 16.
template <typename B>
void accumulator_layout(B& b) {
    b.dim(0).set_min(0).set_stride(1).set_extent(b.dim(0).extent() / 16 * 16);
    b.dim(1).set_bounds(0, 3);
    b.dim(2).set_bounds(0, 16);
    b.dim(3).set_bounds(0, 9);
    b.dim(4).set_bounds(0, 4);
    b.dim(5).set_min(0);
}

// Adds one alternate frame to the merge's spectra. For each tile and Bayer
// plane, D = FFT(window * (ref - alt)); the frame is trusted where D looks
// like noise and refused where it does not (motion, misalignment): its
// weight per coefficient is k = noise / (|D|^2 + noise). finish_merge then
// makes the weighted mean (ref + sum k alt) / (1 + sum k), coefficient by
// coefficient, so a frame refused somewhere does not hand that weight back to
// the reference's noise.
class MergeTiles : public Generator<MergeTiles> {
public:
    Input<Buffer<float, 3>> ref{"ref"};                 // (qx, qy, plane) Bayer planes, padded
    Input<Buffer<float, 3>> alt{"alt"};                 // the same for the alternate frame
    Input<Buffer<int16_t, 3>> offsets{"offsets"};       // (tx, ty, 0|1) raw pixels
    Input<Buffer<float, 3>> tile_noise{"tile_noise"};   // (tx, ty, plane): expected |D|^2 of noise
    Input<Buffer<uint8_t, 1>> plane_color{"plane_color"};  // colour of plane 0..3 (x parity + 2 * y parity)
    Input<int> limit{"limit"};                          // |offset| <= limit: what the padding allows
    Input<float> strength{"strength"};                  // how much difference still passes for noise
    Input<float> motion_low{"motion_low"};              // low-frequency mismatch (in noise units) still all taken
    Input<float> motion_high{"motion_high"};            // ... and from where the tile is refused
    Input<Buffer<uint16_t, 6>> sum_in{"sum_in"};        // accumulator_layout, bfloat16 bits
    Output<Buffer<uint16_t, 6>> sum_out{"sum_out"};

    void generate() {
        TileTransform f;
        f.vec = natural_vector_size<float>();
        Var &i = f.i, &j = f.j, &p = f.p, &tx = f.tx, &ty = f.ty, &u = f.u, &v = f.v;
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
        // Horizontal pass once per row of the tile (and the rows the vertical
        // taps reach), then the vertical pass.
        Var row{"row"};
        Func alt_rows{"alt_rows"};
        Expr h = 0.0f;
        for (int a = 0; a < 4; ++a) h += weight(sx, a) * alt(bx + i + a - 1, by + row, alt_plane);
        alt_rows(i, row, p, tx, ty) = h;
        Expr alt_value = 0.0f;
        for (int b = 0; b < 4; ++b) alt_value += weight(sy, b) * alt_rows(i, j + b - 1, p, tx, ty);
        f.forward(ref(tx * 8 - 8 + i, ty * 8 - 8 + j, p) - alt_value);
        Expr noise = tile_noise(tx_c, ty_c, p);
        // Motion: what moved differs from the reference at low frequencies
        // far beyond noise; a tile whose mean low-frequency |D|^2 is many
        // times the noise's is refused whole. (High frequencies are left to
        // the per-coefficient weight: there misalignment by a fraction of a
        // pixel and interpolation also show.)
        RDom low(0, 16, 0, 5, "low");
        low.where(low.x <= 4 || low.x >= 12);
        Func mismatch{"mismatch"};
        Expr lre = f.spectrum(low.x, low.y, p, tx, ty)[0], lim = f.spectrum(low.x, low.y, p, tx, ty)[1];
        mismatch(p, tx, ty) = 0.0f;
        mismatch(p, tx, ty) += (lre * lre + lim * lim) * (1.0f / 45.0f);
        Expr ratio = mismatch(p, tx, ty) / noise;
        Expr still = clamp((motion_high - ratio) / (motion_high - motion_low), 0.0f, 1.0f);
        Var c{"c"};
        Expr re = f.spectrum(u, v, p, tx, ty)[0], im = f.spectrum(u, v, p, tx, ty)[1];
        Expr keep = still * strength * noise * fast_inverse(re * re + im * im + strength * noise);
        Func weighted{"weighted"};
        weighted(u, v, p, tx, ty) = Tuple(keep * re, keep * im, keep);
        sum_out(tx, c, u, v, p, ty) = to_bfloat16(from_bfloat16(sum_in(tx, c, u, v, p, ty)) +
                                                  mux(c, {weighted(u, v, p, tx, ty)[0], weighted(u, v, p, tx, ty)[1],
                                                          weighted(u, v, p, tx, ty)[2]}));

        ref.dim(2).set_bounds(0, 4);
        alt.dim(2).set_bounds(0, 4);
        plane_color.dim(0).set_bounds(0, 4);
        accumulator_layout(sum_in);
        accumulator_layout(sum_out);
        Var txo{"txo"}, txi{"txi"};
        sum_out.split(tx, txo, txi, f.vec, TailStrategy::RoundUp)
            .reorder(txi, c, u, v, txo, p, ty).vectorize(txi).unroll(c).unroll(u).parallel(ty);
        f.schedule_pass(weighted, u, 16, v, 9, sum_out, txo);
        f.schedule_pass(f.spectrum, u, 16, v, 9, sum_out, txo);
        alt_rows.compute_at(sum_out, txo).bound(i, 0, 16).reorder(i, row, tx, p, ty).vectorize(i, std::min(f.vec, 16));
        mismatch.compute_at(sum_out, txo).reorder_storage(tx, p, ty).vectorize(tx);
        mismatch.update().reorder(tx, low.x, low.y).vectorize(tx);
        f.schedule_forward(sum_out, txo);
    }
};

// The merged planes from the reference and the summed spectra: per
// coefficient, FFT(ref) - S / (1 + K) is the weighted mean of the frames.
// (The noise it leaves is the develop's to take off: its noise reduction
// reads the merged frame's noise profile, src/develop/denoise.h.)
class FinishMerge : public Generator<FinishMerge> {
public:
    Input<Buffer<float, 3>> ref{"ref"};                 // (qx, qy, plane), padded
    Input<Buffer<uint16_t, 6>> sums{"sums"};            // accumulator_layout, bfloat16 bits
    Output<Buffer<float, 3>> out{"out"};

    void generate() {
        TileTransform f;
        f.vec = natural_vector_size<float>();
        Var &i = f.i, &j = f.j, &p = f.p, &tx = f.tx, &ty = f.ty, &u = f.u, &v = f.v;
        f.forward(ref(tx * 8 - 8 + i, ty * 8 - 8 + j, p));
        Expr tx_s = min(tx, sums.dim(0).max()), ty_s = min(ty, sums.dim(5).max());
        Expr weight = 1.0f + from_bfloat16(sums(tx_s, 2, u, v, p, ty_s));
        Expr re = f.spectrum(u, v, p, tx, ty)[0] - from_bfloat16(sums(tx_s, 0, u, v, p, ty_s)) / weight;
        Expr im = f.spectrum(u, v, p, tx, ty)[1] - from_bfloat16(sums(tx_s, 1, u, v, p, ty_s)) / weight;
        Func merged{"merged"};
        merged(u, v, p, tx, ty) = Tuple(re, im);
        f.inverse(merged);
        Var qx{"qx"}, qy{"qy"};
        out(qx, qy, p) = f.at_pixel(qx, qy, p);
        ref.dim(2).set_bounds(0, 4);
        accumulator_layout(sums);
        whole_blocks(out);
        f.schedule_inverse(out, qx, qy, p, merged);
    }
};

}  // namespace

HALIDE_REGISTER_GENERATOR(AlignTiles, align_tiles)
HALIDE_REGISTER_GENERATOR(MergeTiles, merge_tiles)
HALIDE_REGISTER_GENERATOR(FinishMerge, finish_merge)
