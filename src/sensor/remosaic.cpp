// Remosaicing: an n x n-cell CFA becomes a full-resolution Bayer frame.
//
// Everything happens in a white-balanced gamma-2.5 domain (where colour
// differences are flattest, as in the demosaic):
//  1. green along each row and each column: the cell's own sample plus the
//     mean colour difference (green - cell colour) over the 2n + 1 pixels
//     around it, the other colour interpolated linearly across each cell;
//     blended by how flat each direction is (same-colour and
//     colour-difference gradients over a (2n + 1)^2 box);
//  2. green under red and blue cells: one learned linear filter per position
//     in the 2n x 2n repeat over the K x K mosaic and the three estimates of
//     step 1 (scripts/train_remosaic.py, least squares on photos);
//  3. red and blue where the Bayer frame wants them: green plus the colour
//     difference of the nearest cells of that colour, tent-weighted and
//     weighted by how alike their green is to the green here (a separable
//     cross-bilateral filter: colour differences do not leak across edges).
// Samples whose cell already has the Bayer colour are copied unchanged.
//
// Why it streams: at 200 MP whole-frame (or whole-width) float planes live
// in main memory and every step becomes a trip there. The frame is cut into
// bands of about 1024 rows and those into tiles of about 1024 columns (plus
// a halo); a tile's rows flow through the steps top to bottom, each step
// keeping only the rows its window needs in a small ring, so a core's
// working set (~0.6 MB) stays in its L2 cache. Each step runs a fixed number
// of rows behind the newest input row (its "lag", the reach of the windows
// below it). The Bayer frame is a new buffer, written by the cores that
// compute it (its pages first touched there); the file's frame is kept
// beside it, for the develop to put each pixel's own sample back after the
// demosaic.
#include "obscura/remosaic.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "../core/cpu_clones.h"
#include "../core/mirror.h"
#include "../core/parallel.h"
#include "obscura/color_solution.h"
#include "obscura/error.h"

namespace obscura {
namespace {

#include "remosaic_filters.inc"

constexpr float kBlendEps = 1e-4f;
constexpr float kRangeSigma = 0.07f;  // step 3's green likeness scale (working domain)
constexpr int kLanes = 16;    // the filter's columns per register block
constexpr int kPad = 32;      // zeroed floats either side of a row: windows read past the ends
constexpr int kBase[2][2] = {{kRed, kGreen}, {kGreen, kBlue}};

struct Layout {
    int n = 0, period = 0, support = 0, taps = 0;
    const float* filter = nullptr;  // [period][period][taps]
    int shift_x = 0, shift_y = 0;   // moves the file's cells into RGGB-of-cells space
    int halo = 0;                   // rows and columns read around a tile, a multiple of period
    int variants = 1;               // 16-lane blocks before the column phases repeat
};

// An index past the edge, mirrored but moved to the nearest sample of the
// same phase in the repeat, so the padding keeps the CFA's colours.
int mirror_in_phase(int i, int size, int period) {
    if (i >= 0 && i < size) return i;
    int t = mirror_index(i, size);
    int d = ((i - t) % period + period) % period;
    if (d > period / 2) d -= period;
    int j = t + d;
    while (j < 0) j += period;
    while (j >= size) j -= period;
    return j;
}

Layout layout_of(const RawImage& raw) {
    Layout l;
    l.n = raw.cfa.cell_size();
    if (l.n < 2 || l.n > 4)
        throw file_error(raw.source, "remosaicing needs an n x n-cell CFA (quad, nona, hexadeca); this one is " + raw.cfa.name());
    l.period = 2 * l.n;
    switch (l.n) {
        case 2: l.support = kQuadSupport, l.filter = &kQuadFilter[0][0][0]; break;
        case 3: l.support = kNonaSupport, l.filter = &kNonaFilter[0][0][0]; break;
        default: l.support = kHexadecaSupport, l.filter = &kHexadecaFilter[0][0][0]; break;
    }
    l.taps = l.support * l.support + 4;
    l.variants = std::lcm(kLanes, l.period) / kLanes;
    for (int sy : {0, l.n})
        for (int sx : {0, l.n})
            if (raw.cfa.at(sx, sy) == kRed) l.shift_x = sx, l.shift_y = sy;
    // Reach of the steps: colour-difference interpolation (2n - 1) around the
    // green, which reads the filter's support or the blend's 2n + 1 rows (the
    // cell's neighbour rows are within n, their differences' mean and the
    // gradients' box another n, the gradient one more).
    int reach = 2 * l.n - 1 + std::max(l.support / 2, 2 * l.n + 1);
    l.halo = (reach + l.period - 1) / l.period * l.period;
    return l;
}

// Rows of one plane kept in a ring (a power of two of them), each with kPad
// zeroed floats at both ends; rows are addressed by their tile row index.
class RowRing {
public:
    void reset(int width, int rows) {
        stride_ = width + 2 * kPad, mask_ = rows - 1;
        store_.assign(size_t(stride_) * rows, 0.0f);
    }
    float* operator[](int i) { return store_.data() + size_t(i & mask_) * stride_ + kPad; }

private:
    std::vector<float> store_;
    int stride_ = 0, mask_ = 0;
};

// A line with zeroed pads, for one row's intermediate results.
struct Line {
    std::vector<float> store;
    void reset(int width) { store.assign(size_t(width) + 2 * kPad, 0.0f); }
    float* data() { return store.data() + kPad; }
};

// One tile's working state, reused from tile to tile on a core.
struct Tile {
    int width = 0, rows = 0;
    // Tile rows, by step: the mosaic in the working domain; the row estimate;
    // the row gradient's horizontal box; the column colour difference; the
    // column gradient's horizontal box; the column estimate; the blend; the
    // green; the colour difference (mosaic - green).
    RowRing v, g_row, across_row, delta_col, across_col, g_col, blended, green, diff;
    Line line, grad, col, col_weight, num;
    std::array<std::vector<float>, 8> likeness;  // step 3: [d][x]: green likeness of columns x and x + d
    // Per column: 1 where the cell column is odd (green on even cell rows),
    // 1 where the next column is in the same cell, the other colour's
    // neighbours left and right of the cell and the weight of the right one;
    // the column's image column (mirrored).
    std::vector<float> odd_column, same_next, right_weight;
    std::vector<int> left_of, right_of, source_column;
    std::vector<float> column_parity;  // parity of the output Bayer column
    int first_column = 0;              // image column of tile column 0, -1 when mirrored
};

// A band of output rows [y0, y1) across the frame, written into `out` (the
// Bayer frame, whole).
struct Band {
    int y0 = 0, y1 = 0;
    uint16_t* out = nullptr;
};

struct Remosaicer {
    const RawImage& raw;
    const uint16_t* frame;  // the file's samples
    Layout l;
    float black = 0, range = 1;
    std::array<float, 3> neutral{1, 1, 1};
    std::vector<float> to_work;                   // [colour][raw code] -> working value
    std::vector<float> coefficients;              // [row phase][variant][taps][kLanes]
    std::vector<float> tent;                      // weights for offsets -(2n-1)..(2n-1)

    Remosaicer(const RawImage& r) : raw(r), frame(r.data.data()), l(layout_of(r)) {
        const ColorSolution color = solve_color(raw.color, raw.source);
        for (int c = 0; c < 3; ++c) neutral[size_t(c)] = float(std::max(1e-6, color.neutral[size_t(c)]));
        black = float(raw.black.pattern.empty() ? 0 : raw.black.pattern[0]);
        range = float(std::max(1.0, raw.white_level - black));
        to_work.resize(3 * 65536);
        for (int c = 0; c < 3; ++c)
            for (int code = 0; code < 65536; ++code)
                to_work[size_t(c) * 65536 + size_t(code)] =
                    std::pow(std::max(0.0f, (float(code) - black) / range) / neutral[size_t(c)], 1.0f / 2.5f);
        const int p = l.period;
        coefficients.resize(size_t(p) * l.variants * l.taps * kLanes);
        for (int py = 0; py < p; ++py)
            for (int q = 0; q < l.variants; ++q)
                for (int t = 0; t < l.taps; ++t)
                    for (int k = 0; k < kLanes; ++k)
                        coefficients[((size_t(py) * l.variants + q) * l.taps + t) * kLanes + k] =
                            l.filter[(size_t(py) * p + (q * kLanes + k) % p) * l.taps + t];
        const int reach = 2 * l.n - 1;
        for (int d = -reach; d <= reach; ++d) tent.push_back(float(2 * l.n - std::abs(d)));
    }

    // Output rows [y0, y1) and columns [x0, x1), both starts multiples of the period.
    void tile(Tile& s, const Band& band, int x0, int x1) const;
    void prepare(Tile& s, int x0, int x1, int y0, int y1) const;
    void load(Tile& s, int i, int image_row) const;
    void along_row(Tile& s, int i) const;
    void column_difference(Tile& s, int i) const;
    void column_gradient(Tile& s, int i) const;
    void along_column(Tile& s, int i) const;
    void blend(Tile& s, int i) const;
    void learned_green(Tile& s, int i, int count) const;
    void write_row(Tile& s, const Band& band, int i, int y, int x0, int x1) const;
};

// (Vectors wider than the default target pass only between inlined functions.)
#pragma GCC diagnostic ignored "-Wpsabi"
using Vec = float __attribute__((vector_size(64)));
using VecU = float __attribute__((vector_size(64), aligned(4)));  // unaligned loads
[[gnu::always_inline]] inline Vec vload(const float* p) { return *reinterpret_cast<const VecU*>(p); }
using VecI = int __attribute__((vector_size(64)));
[[gnu::always_inline]] inline void vstore(float* p, Vec v) { *reinterpret_cast<VecU*>(p) = v; }

// The row loops below sum in registers, 16 columns at a time, in the same
// order as a plain loop would (so the results do not depend on the width).

// out[x] = sum of weight[k] * rows[k][x + shift * k] over k < count, for x in
// [from, to); weight null means all 1. shift 0 sums rows, shift 1 with one
// row repeated is a horizontal window (pads are zero).
[[gnu::always_inline]] inline void weighted_sum(const float* const* rows, const float* weight, int count, int shift,
                                                float* out, int from, int to) {
    int x = from;
    for (; x + kLanes <= to; x += kLanes) {
        Vec acc = weight ? vload(rows[0] + x) * weight[0] : vload(rows[0] + x);
        for (int k = 1; k < count; ++k) acc += weight ? vload(rows[k] + x + shift * k) * weight[k] : vload(rows[k] + x + shift * k);
        vstore(out + x, acc);
    }
    for (; x < to; ++x) {
        float acc = weight ? rows[0][x] * weight[0] : rows[0][x];
        for (int k = 1; k < count; ++k) acc += weight ? rows[k][x + shift * k] * weight[k] : rows[k][x + shift * k];
        out[x] = acc;
    }
}

// Sum of a row over the window [x - r, x + r] (pads are zero).
[[gnu::always_inline]] inline void window_sum(const float* in, float* out, int width, int r) {
    std::array<const float*, 32> rows;
    for (int k = 0; k <= 2 * r; ++k) rows[size_t(k)] = in - r;
    weighted_sum(rows.data(), nullptr, 2 * r + 1, 1, out, 0, width);
}

[[gnu::always_inline]] inline void Remosaicer::prepare(Tile& s, int x0, int x1, int y0, int y1) const {
    const int n = l.n, p = l.period, left = l.halo + l.shift_x;
    const int w = (x1 - x0) + left + l.halo, rows = (y1 - y0) + l.halo + l.shift_y + l.halo;
    if (w != s.width) {
        s.width = w;
        // Ring sizes cover each plane's span of live rows (see the lags in
        // tile): the mosaic from the newest row to the green's support
        // (<= 2n + 2 + K/2 rows), the difference and green 2(2n - 1) + 2,
        // the column estimate and blend 2 or 3.
        for (RowRing* r : {&s.v}) r->reset(w, 32);
        for (RowRing* r : {&s.g_row, &s.across_row, &s.delta_col, &s.across_col, &s.green, &s.diff}) r->reset(w, 16);
        for (RowRing* r : {&s.g_col, &s.blended}) r->reset(w, 4);
        for (Line* line : {&s.line, &s.grad, &s.col, &s.col_weight, &s.num}) line->reset(w);
        for (auto& like : s.likeness) like.assign(size_t(w) + kLanes, 0.0f);
        // (odd_column has a vector's worth of zeros past the end: step 3 reads whole vectors.)
        s.odd_column.assign(size_t(w) + kLanes, 0.0f), s.same_next.resize(size_t(w)), s.right_weight.resize(size_t(w));
        s.left_of.resize(size_t(w)), s.right_of.resize(size_t(w));
        for (int x = 0; x < w; ++x) {
            int start = x / n * n, lo = start - 1, hi = start + n;
            s.odd_column[size_t(x)] = float((x / n) & 1);
            s.same_next[size_t(x)] = (x + 1) % n != 0 ? 1.0f : 0.0f;
            float t = float(x - start + 1) / float(n + 1);
            if (lo < 0) lo = hi, t = 0;
            if (hi >= w) hi = lo, t = 0;
            s.left_of[size_t(x)] = lo, s.right_of[size_t(x)] = hi, s.right_weight[size_t(x)] = t;
        }
    }
    s.rows = rows;
    s.source_column.resize(size_t(w));
    for (int x = 0; x < w; ++x) s.source_column[size_t(x)] = mirror_in_phase(x0 - left + x, raw.width, p);
    s.first_column = x0 - left >= 0 && x0 - left + w <= raw.width ? x0 - left : -1;
    // Image column parity (x0 is even), against the Bayer rows' green parity.
    s.column_parity.resize(size_t(w));
    for (int x = 0; x < w; ++x) s.column_parity[size_t(x)] = float((x - left + l.shift_x / n + 2 * p) & 1);
}

// Tile row i from image row `image_row` (mirrored in phase): its colour is
// that of RGGB-of-cells space at (x, i).
// A row's codes through the table, columns of odd cells using the `odd`
// block of it: sixteen columns per AVX-512 gather (GCC leaves the lookup
// scalar, a tenth of the remosaic's time at 200 MP). Elsewhere (ARM64) the
// scalar loop.
#if defined(__x86_64__)
__attribute__((target("avx512f,avx512bw,avx512vl"))) void lookup_by_gather(const uint16_t* src, const float* odd_column,
                                                                           int even, int odd, const float* lut, float* v,
                                                                           int width) {
    const __m512i even_v = _mm512_set1_epi32(even), odd_v = _mm512_set1_epi32(odd);
    int x = 0;
    for (; x + 16 <= width; x += 16) {
        __m512i code = _mm512_maskz_cvtepu16_epi32(0xffff, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + x)));
        __mmask16 in_odd = _mm512_cmp_ps_mask(_mm512_loadu_ps(odd_column + x), _mm512_setzero_ps(), _CMP_NEQ_OQ);
        __m512i index = _mm512_add_epi32(code, _mm512_mask_blend_epi32(in_odd, even_v, odd_v));
        _mm512_storeu_ps(v + x, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), 0xffff, index, lut, 4));
    }
    for (; x < width; ++x) v[x] = lut[(odd_column[x] != 0 ? odd : even) + src[x]];
}

bool has_gather() {
    // (Asked once, at first use: the CPU model is initialised by then.)
    static const bool yes = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                            __builtin_cpu_supports("avx512vl");
    return yes;
}
#endif

[[gnu::always_inline]] inline void Remosaicer::load(Tile& s, int i, int image_row) const {
    const uint16_t* src = &frame[size_t(image_row) * raw.width];
    const int parity = (i / l.n) & 1;
    const int even = kBase[parity][0] * 65536, odd = kBase[parity][1] * 65536;
    const float* lut = to_work.data();
    float* v = s.v[i];
    if (s.first_column >= 0) {
        src += s.first_column;
#if defined(__x86_64__)
        if (has_gather()) return lookup_by_gather(src, s.odd_column.data(), even, odd, lut, v, s.width);
#endif
        for (int x = 0; x < s.width; ++x) v[x] = lut[(s.odd_column[size_t(x)] != 0 ? odd : even) + src[x]];
    } else {
        for (int x = 0; x < s.width; ++x)
            v[x] = lut[(s.odd_column[size_t(x)] != 0 ? odd : even) + src[s.source_column[size_t(x)]]];
    }
}

// Step 1 along the row: the other colour interpolated across each cell, the
// colour difference (green minus the cell's colour), its mean over 2n + 1
// pixels, the estimate; and the row gradient's horizontal box.
[[gnu::always_inline]] inline void Remosaicer::along_row(Tile& s, int i) const {
    const int n = l.n, w = s.width;
    const float inv = 1.0f / float(2 * n + 1);
    const float* v = s.v[i];
    // Green sites: odd cell columns on even cell rows, even ones on odd rows.
    const float flip = float((i / n) & 1);
    float* delta = s.line.data();
    // The neighbours left and right of a cell are the same for all its
    // pixels: 16 columns hold whole cells (15 for nona), so the samples left
    // of each cell are one shuffle of the 16 from column x - 1, and those
    // right of it one of the 16 from x + n. The tile's first cell and last
    // columns (mirrored neighbours at the edges) go one by one.
    const int step = kLanes / n * n;
    VecI spread;
    for (int k = 0; k < kLanes; ++k) spread[k] = k / n * n;
    auto one_by_one = [&](int from, int to) {
        for (int x = from; x < to; ++x) {
            const float t = s.right_weight[size_t(x)];
            const float other = v[s.left_of[size_t(x)]] * (1 - t) + v[s.right_of[size_t(x)]] * t;
            delta[x] = s.odd_column[size_t(x)] != flip ? v[x] - other : other - v[x];
        }
    };
    one_by_one(0, n);
    int x = n;
    for (; x + kLanes + n <= w; x += step) {
        const Vec a = __builtin_shuffle(vload(v + x - 1), spread), b = __builtin_shuffle(vload(v + x + n), spread);
        const Vec t = vload(&s.right_weight[size_t(x)]), here = vload(v + x);
        const Vec other = a * (1 - t) + b * t;
        vstore(delta + x, vload(&s.odd_column[size_t(x)]) != flip ? here - other : other - here);
    }
    one_by_one(x, w);
    float* est = s.g_row[i];
    window_sum(delta, est, w, n);
    for (int x = 0; x < w; ++x) est[x] = s.odd_column[size_t(x)] != flip ? v[x] : v[x] + est[x] * inv;
    float* grad = s.grad.data();
    for (int x = 0; x < w - 1; ++x) grad[x] = s.same_next[size_t(x)] * std::abs(v[x + 1] - v[x]) + std::abs(delta[x + 1] - delta[x]);
    grad[w - 1] = 0;
    window_sum(grad, s.across_row[i], w, n);
}

// Step 1 down the column, first part: the colour difference, the other
// colour interpolated between the rows above and below the cell (clamped to
// the tile, whose edges are halo).
[[gnu::always_inline]] inline void Remosaicer::column_difference(Tile& s, int i) const {
    const int n = l.n, w = s.width, rows = s.rows;
    const int start = i / n * n, up = start - 1, down = start + n;
    const float t = float(i - start + 1) / float(n + 1);
    const float* a = s.v[std::max(up, 0)];
    const float* b = s.v[std::min(down, rows - 1)];
    if (up < 0) a = b;
    if (down >= rows) b = a;
    const float* v = s.v[i];
    float* delta = s.delta_col[i];
    const float flip = float((i / n) & 1);
    for (int x = 0; x < w; ++x) {
        float other = a[x] * (1 - t) + b[x] * t;
        delta[x] = s.odd_column[size_t(x)] != flip ? v[x] - other : other - v[x];
    }
}

// The column gradient between rows i and i + 1, boxed horizontally.
[[gnu::always_inline]] inline void Remosaicer::column_gradient(Tile& s, int i) const {
    const int w = s.width;
    float* grad = s.grad.data();
    if (i + 1 < s.rows) {
        const float* v = s.v[i];
        const float* below = s.v[i + 1];
        const float* delta = s.delta_col[i];
        const float* delta_below = s.delta_col[i + 1];
        const float same = (i + 1) % l.n != 0 ? 1.0f : 0.0f;
        for (int x = 0; x < w; ++x) grad[x] = same * std::abs(below[x] - v[x]) + std::abs(delta_below[x] - delta[x]);
    } else {
        std::fill(grad, grad + w, 0.0f);
    }
    window_sum(grad, s.across_col[i], w, l.n);
}

// Step 1 down the column, second part: the estimate from the mean colour
// difference over 2n + 1 rows.
[[gnu::always_inline]] inline void Remosaicer::along_column(Tile& s, int i) const {
    const int n = l.n, w = s.width;
    float* sum = s.line.data();
    std::array<const float*, 16> rows;
    for (int d = -n; d <= n; ++d) rows[size_t(d + n)] = s.delta_col[std::clamp(i + d, 0, s.rows - 1)];
    weighted_sum(rows.data(), nullptr, 2 * n + 1, 0, sum, 0, w);
    const float inv = 1.0f / float(2 * n + 1);
    const float* v = s.v[i];
    float* est = s.g_col[i];
    const float flip = float((i / n) & 1);
    for (int x = 0; x < w; ++x) est[x] = s.odd_column[size_t(x)] != flip ? v[x] : v[x] + sum[x] * inv;
}

// The blend of step 1 (the flatter direction weighs more): the gradients'
// boxes summed over 2n + 1 rows.
[[gnu::always_inline]] inline void Remosaicer::blend(Tile& s, int i) const {
    const int n = l.n, w = s.width;
    float* energy_row = s.line.data();
    float* energy_col = s.grad.data();
    std::array<const float*, 16> rows_a, rows_b;
    for (int d = -n; d <= n; ++d) {
        const int k = std::clamp(i + d, 0, s.rows - 1);
        rows_a[size_t(d + n)] = s.across_row[k], rows_b[size_t(d + n)] = s.across_col[k];
    }
    weighted_sum(rows_a.data(), nullptr, 2 * n + 1, 0, energy_row, 0, w);
    weighted_sum(rows_b.data(), nullptr, 2 * n + 1, 0, energy_col, 0, w);
    const float* gr = s.g_row[i];
    const float* gc = s.g_col[i];
    float* out = s.blended[i];
    // Weights 1 / (energy^2 + eps), with one division.
    for (int x = 0; x < w; ++x) {
        float a = energy_row[x] * energy_row[x] + kBlendEps, b = energy_col[x] * energy_col[x] + kBlendEps;
        out[x] = (b * gr[x] + a * gc[x]) / (a + b);
    }
}

// Step 2: the learned filter over the mosaic and the three estimates, with
// the coefficients of each row's phase (L1-resident); green sites keep their
// sample. G blocks of 16 columns at a time (G independent sums keep the FMA
// units busy), for one or two output rows at once: two rows share all but
// one of their source rows, so each source load feeds both (loads, not
// FMAs, are what limits this loop).
struct FilterRow {
    const float* coefficients;  // [variant][taps][kLanes] of the row's phase
    const float *v, *blended, *g_row, *g_col;
    float flip;  // cell row parity: green sites are where odd_column differs
    float* green;
};

template <int G, int R, bool OneVariant>
[[gnu::always_inline]] inline void filter_blocks(const FilterRow* out, int variants, int q, int taps, int support, int start,
                                                 const float* const* rows, const float* odd_column, int width) {
    const int r = support / 2;
    // One variant (quad, hexadeca): the blocks share the coefficients, and
    // the compiler can load each one once for all G blocks.
    const float* coef[R][G];
    for (int o = 0; o < R; ++o)
        for (int g = 0; g < G; ++g)
            coef[o][g] = out[o].coefficients + (OneVariant ? 0 : size_t((q + g) % variants) * taps * kLanes);
    Vec acc[R][G] = {};
    // Source row m is tap row m - o of output row o (the same order of sums
    // as one row alone).
    for (int m = 0; m < support + R - 1; ++m) {
        const float* src = rows[m] + start - r;
        for (int i = 0; i < support; ++i) {
            Vec sample[G];
            for (int g = 0; g < G; ++g) sample[g] = vload(src + g * kLanes + i);
            for (int o = 0; o < R; ++o) {
                const int j = m - o;
                if (j < 0 || j >= support) continue;
                const size_t at = size_t(j * support + i) * kLanes;
                for (int g = 0; g < G; ++g) acc[o][g] += vload(coef[o][g] + at) * sample[g];
            }
        }
    }
    for (int o = 0; o < R; ++o)
        for (int g = 0; g < G; ++g) {
            const float* c = coef[o][g] + size_t(support * support) * kLanes;
            const int x = start + g * kLanes;
            const FilterRow& f = out[o];
            Vec sum = acc[o][g] + vload(c) * vload(f.blended + x) + vload(c + kLanes) * vload(f.g_row + x) +
                      vload(c + 2 * kLanes) * vload(f.g_col + x) + vload(c + 3 * kLanes);
            for (int k = 0; k < kLanes && x + k < width; ++k) f.green[x + k] = odd_column[x + k] != f.flip ? f.v[x + k] : sum[k];
        }
}

// `count` (1 or 2) consecutive output rows from the support + count - 1
// source rows `rows`. Feature-based clones: a check by CPU model
// ("arch=skylake-avx512") misses newer and virtualised CPUs and falls back
// to SSE.
OBSCURA_CPU_CLONES
void filter_rows(const FilterRow* out, int count, int variants, int taps, int support, int width, const float* const* rows,
                 const float* odd_column) {
    constexpr int G = 4;
    int start = 0, q = 0;
    for (; start + G * kLanes <= width; start += G * kLanes, q = (q + G) % variants) {
        if (variants == 1 && count == 2)
            filter_blocks<G, 2, true>(out, variants, q, taps, support, start, rows, odd_column, width);
        else if (variants == 1)
            filter_blocks<G, 1, true>(out, variants, q, taps, support, start, rows, odd_column, width);
        else
            for (int o = 0; o < count; ++o)
                filter_blocks<G, 1, false>(out + o, variants, q, taps, support, start, rows + o, odd_column, width);
    }
    for (; start < width; start += kLanes, q = (q + 1) % variants)
        for (int o = 0; o < count; ++o)
            filter_blocks<1, 1, false>(out + o, variants, q, taps, support, start, rows + o, odd_column, width);
}

// Step 2 for tile rows [i, i + count), and the colour difference step 3
// reads. Rows too near the tile's top or bottom for the filter keep the
// blend (halo only).
[[gnu::always_inline]] inline void Remosaicer::learned_green(Tile& s, int i, int count) const {
    const int r = l.support / 2, w = s.width;
    if (count == 2 && !(i - r >= 0 && i + 1 + r < s.rows)) {
        learned_green(s, i, 1);
        learned_green(s, i + 1, 1);
        return;
    }
    if (i - r >= 0 && i + count - 1 + r < s.rows) {
        std::array<const float*, 16> rows{};
        for (int j = 0; j < l.support + count - 1; ++j) rows[size_t(j)] = s.v[i - r + j];
        std::array<FilterRow, 2> out;
        for (int o = 0; o < count; ++o)
            out[size_t(o)] = {&coefficients[size_t((i + o) % l.period) * l.variants * l.taps * kLanes], s.v[i + o],
                              s.blended[i + o], s.g_row[i + o], s.g_col[i + o], float(((i + o) / l.n) & 1), s.green[i + o]};
        filter_rows(out.data(), count, l.variants, l.taps, l.support, w, rows.data(), s.odd_column.data());
    } else {
        std::copy(s.blended[i], s.blended[i] + w, s.green[i]);
    }
    for (int o = 0; o < count; ++o) {
        const float* v = s.v[i + o];
        const float* green = s.green[i + o];
        float* diff = s.diff[i + o];
        for (int x = 0; x < w; ++x) diff[x] = v[x] - green[x];
    }
}

// About 1 / x for x >= 1 (within 6%, piecewise linear between powers of
// two): the bit-pattern guess alone. It shapes a weight, which needs no
// more: a Newton step changed no score, and a division per weight would
// cost more than the rest of step 3. The same on every vector width.
[[gnu::always_inline]] inline Vec reciprocal(Vec x) {
    // (A cast between vector types of one size keeps the bits.)
    return (Vec)(0x7EF311C3 - (VecI)x);
}

// Step 3 and the output: tile row i is image row y, tile columns
// [left, left + x1 - x0) image columns [x0, x1).
//
// Red or blue where the Bayer frame wants it: green plus the colour
// difference of the nearby cells of that colour, each weighted by the tent
// and by how alike its green is to the green here, 1 / (1 + (dg / sigma)^2):
// across a colour edge the other side's differences hardly count. The
// weights are applied separably, down the columns (green of the sample's
// row against this row's, same column) and then along the row (green of the
// column against this pixel's); a full 2-D window would cost seven times as
// much for a few hundredths of a dB.
[[gnu::always_inline]] inline void Remosaicer::write_row(Tile& s, const Band& band, int i, int y, int x0, int x1) const {
    const int n = l.n, reach = 2 * n - 1, left = l.halo + l.shift_x;
    const int row_parity = (i / n) & 1;
    const int* want = kBase[(y + l.shift_y / n) & 1];
    const int c = want[0] == kGreen ? want[1] : want[0];  // the red or blue of this Bayer row
    const int phase = c == kRed ? 0 : 1;                   // cell row and column parity of colour c
    const float inv_sigma2 = 1.0f / (kRangeSigma * kRangeSigma);
    // Colour differences of colour c, down the columns...
    const int from = left - reach, to = left + (x1 - x0) + reach;
    float* col = s.col.data();
    float* col_weight = s.col_weight.data();
    std::array<const float*, 16> diffs, greens;
    std::array<float, 16> weights;
    int count = 0;
    for (int dy = -reach; dy <= reach; ++dy)
        if ((((i + dy) / n) & 1) == phase)
            diffs[size_t(count)] = s.diff[i + dy], greens[size_t(count)] = s.green[i + dy],
            weights[size_t(count++)] = tent[size_t(dy + reach)];
    const float* here = s.green[i];
    const float* odd = s.odd_column.data();
    const float col_phase = float(phase);
    for (int x = from; x < to; x += kLanes) {
        const Vec g0 = vload(here + x);
        Vec num = {}, den = {};
        for (int k = 0; k < count; ++k) {
            const Vec d = g0 - vload(greens[size_t(k)] + x);
            const Vec w = weights[size_t(k)] * reciprocal(1.0f + d * d * inv_sigma2);
            num += w * vload(diffs[size_t(k)] + x);
            den += w;
        }
        // Only the columns of cells of colour c.
        const Vec of_c = vload(odd + x) == col_phase ? Vec{} + 1.0f : Vec{};
        vstore(col + x, num * of_c);
        vstore(col_weight + x, den * of_c);
    }
    // ...then along the row. The likeness of columns x and x + d is that of
    // x + d and x: computed once per pair, for d = 1..reach.
    std::array<float*, 8> like;
    for (int d = 1; d <= reach; ++d) {
        like[size_t(d)] = s.likeness[size_t(d)].data();
        for (int x = from; x + d < to; x += kLanes) {
            const Vec diff = vload(here + x) - vload(here + x + d);
            vstore(like[size_t(d)] + x, reciprocal(1.0f + diff * diff * inv_sigma2));
        }
    }
    float* est = s.num.data();
    const float centre = tent[size_t(reach)];
    for (int x = left; x < left + (x1 - x0); x += kLanes) {
        Vec num = centre * vload(col + x), den = centre * vload(col_weight + x);
        for (int d = 1; d <= reach; ++d) {
            const float t = tent[size_t(d + reach)];
            const Vec ahead = t * vload(like[size_t(d)] + x), behind = t * vload(like[size_t(d)] + x - d);
            num += ahead * vload(col + x + d) + behind * vload(col + x - d);
            den += ahead * vload(col_weight + x + d) + behind * vload(col_weight + x - d);
        }
        // (Every pixel has cells of colour c within reach, so den > 0.)
        vstore(est + x, vload(here + x) + num / den);
    }
    const float* g = s.green[i] + left;
    const float* odd_column = s.odd_column.data() + left;
    const float* column_parity = s.column_parity.data() + left;
    est += left;
    uint16_t* dst = &band.out[size_t(y) * raw.width + x0];
    const uint16_t* src = &frame[size_t(y) * raw.width + x0];
    const float scale_c = neutral[size_t(c)] * range, scale_g = neutral[kGreen] * range;
    const float green_parity = want[0] == kGreen ? 0.0f : 1.0f, row_parity_f = float(row_parity), phase_f = float(phase);
    const bool row_of_c = row_parity == phase;
    // Branch-free, so it vectorises: every value is computed, then chosen.
    const float keep_c = row_of_c ? 1.0f : 0.0f;
    for (int x = 0; x < x1 - x0; ++x) {
        const bool want_green = column_parity[x] == green_parity;
        // Kept: the cell has the wanted colour (green cells are off the row parity).
        const float keep = want_green ? (odd_column[x] != row_parity_f ? 1.0f : 0.0f) : (odd_column[x] == phase_f ? keep_c : 0.0f);
        // Back to a raw code: the working domain is linear^(1/2.5).
        float value = want_green ? g[x] : est[x];
        value = std::min(std::max(value, 0.0f), 2.0f);
        float code = black + value * value * std::sqrt(value) * (want_green ? scale_g : scale_c) + 0.5f;
        code = std::min(std::max(code, 0.0f), 65535.0f);
        const int computed = int(code), sample = src[x];
        dst[x] = uint16_t(keep != 0.0f ? sample : computed);
    }
}

// The steps are inlined here, so this one function is compiled per vector
// width (see filter_rows).
OBSCURA_CPU_CLONES
void Remosaicer::tile(Tile& s, const Band& band, int x0, int x1) const {
    const int y0 = band.y0, y1 = band.y1;
    prepare(s, x0, x1, y0, y1);
    const int n = l.n, r = l.support / 2, reach = 2 * n - 1, top = l.halo + l.shift_y;
    // Lags behind the newest row: the column difference needs the row below
    // the cell (n), its gradient one more, the column mean 2n, the blend the
    // gradient boxes (2n + 1), the filter its support, the output the
    // colour differences' reach.
    const int lag_gradient = n + 1, lag_column = 2 * n, lag_blend = 2 * n + 1;
    // The greens go two rows at a time, the first one row late.
    const int lag_green = std::max(r, lag_blend), lag_write = lag_green + reach + 1;
    // Tile row i is image row y0 - top + i; its phase in RGGB-of-cells space
    // is i % period because y0 - halo is a multiple of the period.
    for (int newest = 0; newest < s.rows + lag_write; ++newest) {
        if (newest < s.rows) {
            load(s, newest, mirror_in_phase(y0 - top + newest, raw.height, l.period));
            along_row(s, newest);
        }
        auto due = [&](int lag) {
            int i = newest - lag;
            return i >= 0 && i < s.rows ? i : -1;
        };
        if (int i = due(n); i >= 0) column_difference(s, i);
        if (int i = due(lag_gradient); i >= 0) column_gradient(s, i);
        if (int i = due(lag_column); i >= 0) along_column(s, i);
        if (int i = due(lag_blend); i >= 0) blend(s, i);
        if (int i = due(lag_green); i >= 0 && i % 2 == 1) learned_green(s, i - 1, 2);
        else if (i >= 0 && i == s.rows - 1) learned_green(s, i, 1);
        if (int i = due(lag_write); i >= top && i < top + (y1 - y0)) write_row(s, band, i, y0 - top + i, x0, x1);
    }
}

}  // namespace

RawImage remosaic(RawImage raw, RemosaicTiling tiling) {
    if (raw.is_linear()) throw file_error(raw.source, "LinearRaw frame has no CFA to remosaic");
    make_black_uniform(raw);
    if (raw.width < 32 || raw.height < 32) throw file_error(raw.source, "too small to remosaic");
    const Remosaicer work(raw);
    const int p = work.l.period;
    // Bands of about tiling.rows rows, tiles of about tiling.columns columns
    // (at least two, for two cores), all starting on whole repeats.
    auto cuts = [p](int size, int target) {
        const int count = std::max(1, (size + target / 2) / target);
        std::vector<int> at;
        for (int k = 0; k <= count; ++k) at.push_back(k == count ? size : int(int64_t(size) * k / count) / p * p);
        return at;
    };
    const std::vector<int> xs = cuts(raw.width, std::clamp(raw.width / 2, std::min(8 * p, tiling.columns), tiling.columns));
    const std::vector<int> ys = cuts(raw.height, std::max(tiling.rows, 2 * p));
    const int tiles = int(xs.size()) - 1;
    // A fresh frame, its pages first touched by the cores that write them.
    Samples16 bayer(size_t(raw.width) * size_t(raw.height));
    for (size_t b = 0; b + 1 < ys.size(); ++b) {
        Band band;
        band.y0 = ys[b], band.y1 = ys[b + 1], band.out = bayer.data();
        parallel_rows(0, tiles, [&](int first, int last) {
            Tile s;
            for (int k = first; k < last; ++k) work.tile(s, band, xs[size_t(k)], xs[size_t(k) + 1]);
        }, 2);
    }
    raw.cell_cfa = raw.cfa;
    raw.cell_samples = std::move(raw.data);
    raw.data = std::move(bayer);
    // The opcodes stay: a GainMap picks its pixels by the cell layout it was
    // written for, which plan_lens_correction reads from opcode_frame.
    if (raw.opcode_frame.width == 0) raw.opcode_frame = {raw.width, raw.height, raw.cell_cfa};
    raw.cfa = raw.cfa.cells();
    return raw;
}

}  // namespace obscura
