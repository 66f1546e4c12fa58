// Remosaicing: an n x n-cell CFA becomes a full-resolution Bayer frame.
//
// Everything happens in a white-balanced gamma-2.5 domain (where colour
// differences are flattest, as in the demosaic), in strips of rows with a
// halo, each strip on its own core:
//  1. green along each row and each column: the cell's own sample plus the
//     mean colour difference (green - cell colour) over the 2n + 1 pixels
//     around it, the other colour interpolated linearly across each cell;
//     blended by how flat each direction is (same-colour and
//     colour-difference gradients over a (2n + 1)^2 box);
//  2. green under red and blue cells: one learned linear filter per position
//     in the 2n x 2n repeat over the K x K mosaic and the three estimates of
//     step 1 (scripts/train_remosaic.py, least squares on photos);
//  3. red and blue where the Bayer frame wants them: green plus the colour
//     difference of the nearest cells of that colour, tent-weighted.
// Samples whose cell already has the Bayer colour are copied unchanged.
#include "obscura/remosaic.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "../core/mirror.h"
#include "../core/parallel.h"
#include "obscura/develop.h"
#include "obscura/error.h"

namespace obscura {
namespace {

#include "remosaic_filters.inc"

constexpr float kBlendEps = 1e-4f;
constexpr int kChunk = 240;  // columns per filter pass: a multiple of 4, 6 and 8
constexpr int kSlack = kChunk + 16;  // a last chunk may read past a plane's end

struct Layout {
    int n = 0, period = 0, support = 0, taps = 0;
    const float* filter = nullptr;  // [period][period][taps]
    int shift_x = 0, shift_y = 0;   // moves the file's cells into RGGB-of-cells space
    int halo = 0;                   // rows and columns read around a strip, a multiple of period
};

// Colour of a pixel in RGGB-of-cells space.
inline int cell_colour(int x, int y, int n) {
    static constexpr int kBase[2][2] = {{kRed, kGreen}, {kGreen, kBlue}};
    return kBase[(y / n) & 1][(x / n) & 1];
}

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
    for (int sy : {0, l.n})
        for (int sx : {0, l.n})
            if (raw.cfa.at(sx, sy) == kRed) l.shift_x = sx, l.shift_y = sy;
    // Reach of the steps: colour-difference interpolation (2n - 1) around the
    // green, which reads the filter's support or the column estimates'
    // 3n + 1 rows (mean over 2n + 1, cell interpolation, gradient box).
    int reach = 2 * l.n - 1 + std::max(l.support / 2, 3 * l.n + 1);
    l.halo = (reach + l.period - 1) / l.period * l.period;
    return l;
}

// One strip's working planes, reused from strip to strip on a core.
struct Strip {
    int width = 0, rows = 0;
    std::vector<float> v, g_row, g_col, grad_row, grad_col, delta_col, green, box;
    std::vector<float> line, num_col, across, energy;
    // Per column: 1 where the cell column is odd (green on even cell rows),
    // the other colour's neighbours left and right of the cell and the weight
    // of the right one (the columns' estimates work them out per row).
    std::vector<float> odd_column, right_weight;
    std::vector<int> left_of, right_of;
    void resize(int w, int r, int n) {
        width = w, rows = r;
        size_t size = size_t(w) * r + kSlack;
        for (auto* p : {&v, &g_row, &g_col, &grad_row, &grad_col, &delta_col, &green, &box, &across, &energy}) p->resize(size);
        line.resize(size_t(w) + 1), num_col.resize(size_t(w) + kSlack);
        odd_column.resize(size_t(w) + kSlack), right_weight.resize(size_t(w)), left_of.resize(size_t(w)), right_of.resize(size_t(w));
        for (int x = 0; x < w; ++x) {
            int start = x / n * n, left = start - 1, right = start + n;
            odd_column[size_t(x)] = float((x / n) & 1);
            float t = float(x - start + 1) / float(n + 1);
            if (left < 0) left = right, t = 0;
            if (right >= w) right = left, t = 0;
            left_of[size_t(x)] = left, right_of[size_t(x)] = right, right_weight[size_t(x)] = t;
        }
    }
    float* row(std::vector<float>& p, int y) { return &p[size_t(y) * width]; }
};

struct Remosaicer {
    const RawImage& raw;
    Layout l;
    RawImage& out;
    float black = 0, range = 1;
    std::array<float, 3> neutral{1, 1, 1};
    std::vector<float> from_work;                 // working value -> linear, x^2.5 sampled every 1/kSteps
    static constexpr int kSteps = 4096;
    std::array<std::vector<float>, 3> to_work;   // raw code -> working value, per colour
    std::vector<float> expanded;                  // [period rows][taps][kChunk]: filter per column phase
    std::array<std::vector<float>, 3> tent_norm;  // [period][period]: 1 / sum of tent weights over that colour
    std::vector<float> tent;                      // weights for offsets -(2n-1)..(2n-1)

    Remosaicer(const RawImage& r, RawImage& o) : raw(r), l(layout_of(r)), out(o) {
        const ColorSolution color = solve_color(raw.color, raw.source);
        for (int c = 0; c < 3; ++c) neutral[size_t(c)] = float(std::max(1e-6, color.neutral[size_t(c)]));
        black = float(raw.black.pattern.empty() ? 0 : raw.black.pattern[0]);
        range = float(std::max(1.0, raw.white_level - black));
        for (int c = 0; c < 3; ++c) {
            auto& t = to_work[size_t(c)];
            t.resize(65536);
            for (int code = 0; code < 65536; ++code)
                t[size_t(code)] = std::pow(std::max(0.0f, (float(code) - black) / range) / neutral[size_t(c)], 1.0f / 2.5f);
        }
        from_work.resize(2 * kSteps + 2);
        for (size_t i = 0; i < from_work.size(); ++i) from_work[i] = std::pow(float(i) / kSteps, 2.5f);
        const int p = l.period;
        expanded.assign(size_t(p) * l.taps * kChunk, 0.0f);
        for (int py = 0; py < p; ++py)
            for (int t = 0; t < l.taps; ++t)
                for (int x = 0; x < kChunk; ++x)
                    expanded[(size_t(py) * l.taps + t) * kChunk + x] = l.filter[(size_t(py) * p + x % p) * l.taps + t];
        const int reach = 2 * l.n - 1;
        for (int d = -reach; d <= reach; ++d) tent.push_back(float(2 * l.n - std::abs(d)));
        for (int c : {0, 2}) {
            auto& norm = tent_norm[size_t(c)];
            norm.assign(size_t(p * p), 0.0f);
            for (int py = 0; py < p; ++py)
                for (int px = 0; px < p; ++px) {
                    float sum = 0;
                    for (int dy = -reach; dy <= reach; ++dy)
                        for (int dx = -reach; dx <= reach; ++dx)
                            if (cell_colour(px + dx + 4 * p, py + dy + 4 * p, l.n) == c)
                                sum += tent[size_t(dy + reach)] * tent[size_t(dx + reach)];
                    norm[size_t(py * p + px)] = 1.0f / sum;
                }
        }
    }

    // Output rows [y0, y1): y0 a multiple of the period.
    void strip(Strip& s, int y0, int y1) const;
    void estimates_along_rows(Strip& s) const;
    void estimates_along_columns(Strip& s) const;
    void blend(Strip& s) const;
    void learned_green(Strip& s, int first_row, int last_row) const;
    void write_rows(Strip& s, int y0, int y1, int top) const;
    // A working value of colour c back to a raw code.
    uint16_t code(float value, int c) const {
        float t = std::clamp(value, 0.0f, 2.0f) * kSteps;
        int i = int(t);
        float lin = from_work[size_t(i)] + (t - float(i)) * (from_work[size_t(i) + 1] - from_work[size_t(i)]);
        return uint16_t(std::clamp(black + lin * neutral[size_t(c)] * range + 0.5f, 0.0f, 65535.0f));
    }
};

// Step 1 along rows: the other colour interpolated across each cell, the
// colour difference (green minus the cell's colour), its mean over 2n + 1
// pixels, the estimate and the row gradient.
void Remosaicer::estimates_along_rows(Strip& s) const {
    const int n = l.n, w = s.width;
    const float inv = 1.0f / float(2 * n + 1);
    for (int y = 0; y < s.rows; ++y) {
        const float* v = s.row(s.v, y);
        // Green sites: odd cell columns on even cell rows, even ones on odd rows.
        const float flip = float((y / n) & 1);
        float* delta = s.line.data();
        for (int x = 0; x < w; ++x) {
            float t = s.right_weight[size_t(x)];
            float other = v[s.left_of[size_t(x)]] * (1 - t) + v[s.right_of[size_t(x)]] * t;
            bool green = s.odd_column[size_t(x)] != flip;
            delta[x] = green ? v[x] - other : other - v[x];
        }
        // Mean over 2n + 1 by prefix sums (the strip's edges are halo).
        float* prefix = s.num_col.data();
        prefix[0] = 0;
        for (int x = 0; x < w; ++x) prefix[x + 1] = prefix[x] + delta[x];
        float* est = s.row(s.g_row, y);
        for (int x = 0; x < w; ++x) {
            int a = std::max(0, x - n), b = std::min(w, x + n + 1);
            bool green = s.odd_column[size_t(x)] != flip;
            est[x] = green ? v[x] : v[x] + (prefix[b] - prefix[a]) * inv;
        }
        float* grad = s.row(s.grad_row, y);
        for (int x = 0; x + 1 < w; ++x) {
            float same = (x + 1) % n != 0 ? std::abs(v[x + 1] - v[x]) : 0.0f;
            grad[x] = same + std::abs(delta[x + 1] - delta[x]);
        }
        grad[w - 1] = 0;
    }
}

// Step 1 along columns, row by row so every loop runs along memory.
void Remosaicer::estimates_along_columns(Strip& s) const {
    const int n = l.n, w = s.width, rows = s.rows;
    for (int y = 0; y < rows; ++y) {
        int start = y / n * n, up = start - 1, down = start + n;
        float t = float(y - start + 1) / float(n + 1);
        const float* v = s.row(s.v, y);
        const float* a = s.row(s.v, std::max(up, 0));
        const float* b = s.row(s.v, std::min(down, rows - 1));
        if (up < 0) a = b;
        if (down >= rows) b = a;
        float* delta = s.row(s.delta_col, y);
        const float flip = float((y / n) & 1);
        for (int x = 0; x < w; ++x) {
            float other = a[x] * (1 - t) + b[x] * t;
            bool green = s.odd_column[size_t(x)] != flip;
            delta[x] = green ? v[x] - other : other - v[x];
        }
    }
    const float inv = 1.0f / float(2 * n + 1);
    for (int y = 0; y < rows; ++y) {
        float* sum = s.line.data();
        std::fill(sum, sum + w, 0.0f);
        for (int d = -n; d <= n; ++d) {
            const float* delta = s.row(s.delta_col, std::clamp(y + d, 0, rows - 1));
            for (int x = 0; x < w; ++x) sum[x] += delta[x];
        }
        const float* v = s.row(s.v, y);
        float* est = s.row(s.g_col, y);
        const float flip = float((y / n) & 1);
        for (int x = 0; x < w; ++x) est[x] = s.odd_column[size_t(x)] != flip ? v[x] : v[x] + sum[x] * inv;
        float* grad = s.row(s.grad_col, y);
        if (y + 1 < rows) {
            const float* below = s.row(s.v, y + 1);
            const float* delta = s.row(s.delta_col, y);
            const float* delta_below = s.row(s.delta_col, y + 1);
            const bool same = (y + 1) % n != 0;
            for (int x = 0; x < w; ++x)
                grad[x] = (same ? std::abs(below[x] - v[x]) : 0.0f) + std::abs(delta_below[x] - delta[x]);
        } else {
            std::fill(grad, grad + w, 0.0f);
        }
    }
}

// (2r + 1)^2 box sums of a plane into `out` (indices clamped: the strip's
// edges are halo).
void box_sum(Strip& s, const std::vector<float>& plane, std::vector<float>& out, int radius) {
    const int w = s.width, rows = s.rows;
    for (int y = 0; y < rows; ++y) {
        const float* src = &plane[size_t(y) * w];
        float* prefix = s.num_col.data();
        prefix[0] = 0;
        for (int x = 0; x < w; ++x) prefix[x + 1] = prefix[x] + src[x];
        float* dst = &s.across[size_t(y) * w];
        for (int x = 0; x < w; ++x) dst[x] = prefix[std::min(w, x + radius + 1)] - prefix[std::max(0, x - radius)];
    }
    for (int y = 0; y < rows; ++y) {
        float* dst = &out[size_t(y) * w];
        std::fill(dst, dst + w, 0.0f);
        for (int d = -radius; d <= radius; ++d) {
            const float* src = &s.across[size_t(std::clamp(y + d, 0, rows - 1)) * w];
            for (int x = 0; x < w; ++x) dst[x] += src[x];
        }
    }
}

// The blend of step 1 into s.green (the flatter direction weighs more).
void Remosaicer::blend(Strip& s) const {
    const size_t size = size_t(s.width) * s.rows;
    box_sum(s, s.grad_row, s.energy, l.n);
    box_sum(s, s.grad_col, s.box, l.n);
    for (size_t i = 0; i < size; ++i) {
        float wr = 1.0f / (s.energy[i] * s.energy[i] + kBlendEps), wc = 1.0f / (s.box[i] * s.box[i] + kBlendEps);
        s.green[i] = (wr * s.g_row[i] + wc * s.g_col[i]) / (wr + wc);
    }
}

// Step 2 on rows [first_row, last_row): the learned filter over the mosaic
// and the three estimates, kChunk columns at a time; green sites keep theirs.
__attribute__((target_clones("arch=skylake-avx512", "arch=haswell", "default")))
void filter_rows(const float* expanded, int taps, int support, int period, int n, int width, int first_row, int last_row,
                 const float* v, const float* blended, const float* g_row, const float* g_col, const float* odd_column,
                 float* green) {
    const int r = support / 2;
    constexpr int kBlock = 16;  // lanes summed in registers across all taps
    for (int y = first_row; y < last_row; ++y) {
        const float* taps_row = expanded + size_t(y % period) * taps * kChunk;
        const float flip = float((y / n) & 1);
        // Chunks start on a whole repeat, so a column's phase is its index
        // modulo the period (the buffers have kSlack floats after the end).
        for (int start = (r + period - 1) / period * period; start < width - r; start += kChunk) {
            const int count = std::min(kChunk, width - r - start);
            const size_t at = size_t(y) * width + start;
            for (int b = 0; b < count; b += kBlock) {
                float acc[kBlock] = {};
                for (int j = 0; j < support; ++j) {
                    const float* src_row = v + size_t(y + j - r) * width + start + b - r;
                    const float* coef_row = taps_row + size_t(j * support) * kChunk + b;
                    for (int i = 0; i < support; ++i)
                        for (int k = 0; k < kBlock; ++k) acc[k] += coef_row[size_t(i) * kChunk + k] * src_row[i + k];
                }
                const float* c_blend = taps_row + size_t(support * support) * kChunk + b;
                for (int k = 0; k < kBlock; ++k) {
                    acc[k] += c_blend[k] * blended[at + b + k] + c_blend[kChunk + k] * g_row[at + b + k] +
                              c_blend[2 * kChunk + k] * g_col[at + b + k] + c_blend[3 * kChunk + k];
                    const bool is_green = odd_column[start + b + k] != flip;
                    if (b + k < count) green[at + b + k] = is_green ? v[at + b + k] : acc[k];
                }
            }
        }
    }
}

void Remosaicer::learned_green(Strip& s, int first_row, int last_row) const {
    // The filter reads the blend at its own pixel only; keep a copy so the
    // output plane can be written in place.
    std::copy(s.green.begin(), s.green.end(), s.box.begin());
    filter_rows(expanded.data(), l.taps, l.support, l.period, l.n, s.width, first_row, last_row, s.v.data(), s.box.data(),
                s.g_row.data(), s.g_col.data(), s.odd_column.data(), s.green.data());
}

// Step 3 and the output: rows [top, top + y1 - y0) of the strip are image
// rows [y0, y1).
void Remosaicer::write_rows(Strip& s, int y0, int y1, int top) const {
    static constexpr int kBase[2][2] = {{kRed, kGreen}, {kGreen, kBlue}};
    const int n = l.n, p = l.period, reach = 2 * n - 1, w = s.width;
    const int left = l.halo + l.shift_x, flip_x = l.shift_x / n, flip_y = l.shift_y / n;
    for (int y = y0; y < y1; ++y) {
        const int sy = top + (y - y0), row_parity = (sy / n) & 1;
        uint16_t* dst = &out.data[size_t(y) * raw.width];
        const uint16_t* src = &raw.data[size_t(y) * raw.width];
        const float* g = s.row(s.green, sy);
        const int* want = kBase[(y + flip_y) & 1];
        for (int c : {int(kRed), int(kBlue)}) {
            if (want[0] != c && want[1] != c) continue;  // a Bayer row without colour c
            const int phase = c == kRed ? 0 : 1;  // cell row and column parity of colour c
            // Tent-weighted colour differences of colour c, down the columns...
            float* col = s.num_col.data();
            std::fill(col, col + w, 0.0f);
            for (int dy = -reach; dy <= reach; ++dy) {
                const int yy = sy + dy;
                if (((yy / n) & 1) != phase) continue;
                const float weight = tent[size_t(dy + reach)];
                const float* v = s.row(s.v, yy);
                const float* gg = s.row(s.green, yy);
                for (int x = 0; x < w; ++x) {
                    float on = phase ? s.odd_column[size_t(x)] : 1.0f - s.odd_column[size_t(x)];
                    col[x] += weight * on * (v[x] - gg[x]);
                }
            }
            // ...then along the row.
            float* num = s.line.data();
            std::fill(num + left, num + left + raw.width, 0.0f);
            for (int dx = -reach; dx <= reach; ++dx) {
                const float weight = tent[size_t(dx + reach)];
                for (int x = left; x < left + raw.width; ++x) num[x] += weight * col[x + dx];
            }
            const float* norm = &tent_norm[size_t(c)][size_t((sy % p) * p)];
            for (int x = 0; x < raw.width; ++x) {
                const int sx = x + left;
                if (want[(x + flip_x) & 1] != c || kBase[row_parity][int(s.odd_column[size_t(sx)])] == c) continue;
                dst[x] = code(g[sx] + num[sx] * norm[sx % p], c);
            }
        }
        for (int x = 0; x < raw.width; ++x) {
            const int sx = x + left, w_colour = want[(x + flip_x) & 1];
            if (kBase[row_parity][int(s.odd_column[size_t(sx)])] == w_colour) dst[x] = src[x];
            else if (w_colour == kGreen) dst[x] = code(g[sx], kGreen);
        }
    }
}

void Remosaicer::strip(Strip& s, int y0, int y1) const {
    const int p = l.period, h = l.halo;
    const int top = h + l.shift_y, left = h + l.shift_x;
    s.resize(raw.width + left + h, (y1 - y0) + top + h, l.n);
    // Strip row sy is image row y0 - top + sy; its phase in RGGB-of-cells
    // space is sy % period because y0 - h is a multiple of the period.
    std::vector<int> columns(size_t(s.width));
    for (int x = 0; x < s.width; ++x) columns[size_t(x)] = mirror_in_phase(x - left, raw.width, p);
    for (int sy = 0; sy < s.rows; ++sy) {
        const int y = mirror_in_phase(y0 - top + sy, raw.height, p);
        const uint16_t* src = &raw.data[size_t(y) * raw.width];
        float* v = s.row(s.v, sy);
        for (int x = 0; x < s.width; ++x) {
            const int col = columns[size_t(x)];
            v[x] = to_work[size_t(raw.cfa.at(col, y))][src[col]];
        }
    }
    estimates_along_rows(s);
    estimates_along_columns(s);
    blend(s);
    const int reach = 2 * l.n - 1;
    learned_green(s, top - reach, top + (y1 - y0) + reach);
    write_rows(s, y0, y1, top);
}

}  // namespace

RawImage remosaic(const RawImage& raw) {
    if (!raw.black.is_uniform())
        throw file_error(raw.source, "remosaicing a frame whose black level varies by position is not supported");
    if (raw.width < 32 || raw.height < 32) throw file_error(raw.source, "too small to remosaic");
    RawImage out = raw;
    out.data.resize(raw.data.size());
    Remosaicer work(raw, out);
    out.cfa = CfaPattern{};
    const int n = work.l.n;
    out.cfa.colors = {uint8_t(raw.cfa.at(0, 0)), uint8_t(raw.cfa.at(n, 0)), uint8_t(raw.cfa.at(0, n)), uint8_t(raw.cfa.at(n, n))};
    for (auto& ops : out.opcodes) ops.clear();
    // Strips of 192 rows (a multiple of 4, 6 and 8), a run of strips per core.
    constexpr int kRows = 192;
    const int strips = (raw.height + kRows - 1) / kRows;
    parallel_rows(0, strips, [&](int first, int last) {
        Strip s;
        for (int i = first; i < last; ++i) work.strip(s, i * kRows, std::min(raw.height, (i + 1) * kRows));
    }, 2);
    return out;
}

}  // namespace obscura
