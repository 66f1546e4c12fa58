// Highlight reconstruction on a Bayer frame, before the develop: a sample
// at white holds only a bound on its light. Where some of a 2x2 quad's
// colours clipped and others did not, the clipped ones are rebuilt from the
// unclipped ones through the colour (ratios to green, white balanced) of
// the unclipped light nearby -- the bright, unclipped quads of each 16 x 16
// block, spread into blocks that have none -- and never below their bound.
// The frame gets a stop of headroom for what is rebuilt (16 bits, white at
// half of full scale, BaselineExposure + 1), so the looks roll it off with
// the rest of the highlights and the scene-linear rendition keeps it.
// Where every colour clipped, nothing is known but the bounds: the quad is
// made neutral at the highest of them, which the looks roll off to white
// (left as read, the headroom would show the colours' different clips as
// pink).
#include "obscura/highlights.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <vector>

#include "core/cpu_clones.h"
#include "core/parallel.h"
#include "obscura/frame_memory.h"
#include "obscura/color_solution.h"

namespace obscura {
namespace {

constexpr double kClipped = 0.98;   // of the range above black: a sample at white
constexpr int kBlock = 8;           // quads a block side (16 x 16 pixels)
constexpr double kBright = 0.25;    // unclipped quads this bright (of white) give a block its colour
constexpr double kNewBlack = 2048;  // the rebuilt frame's black (room for the noise below it)
constexpr int kRun = 32;            // quads passed over together where none reaches a limit

// Per CFA site of the 2x2 repeat: black, range, colour, and the first
// sample value that counts as clipped.
struct Sites {
    double black[4], range[4];
    int colour[4];
    uint16_t clip[4];
    explicit Sites(const RawImage& raw) {
        for (int s = 0; s < 4; ++s) {
            colour[s] = raw.cfa.at(s & 1, s >> 1);
            black[s] = raw.black.at(s & 1, s >> 1);
            range[s] = std::max(1.0, raw.white_level - black[s]);
            clip[s] = uint16_t(std::clamp(std::ceil(black[s] + kClipped * range[s]), 0.0, 65535.0));
        }
    }
};

// What the block-colour scan needs per site of the 2x2 repeat: a quad is
// skipped when a sample reaches `clip`, and bright when one reaches
// `bright` (its greens' dim limit; never for red and blue); its light per
// colour is the sites' lights weighted one-hot (greens a half each).
struct ScanSites {
    uint32_t clip[4], bright[4];
    uint32_t lowest;  // the least of `bright`: quads with no sample this high are not bright
    float black[4], per_code[4], weight[3][4];
};

// Whether any of the n samples of rows a and b reaches `level`: one
// vectorised maximum.
OBSCURA_CPU_CLONES
bool any_reaches(const uint16_t* __restrict a, const uint16_t* __restrict b, int n, uint16_t level) {
    uint16_t top = 0;
    for (int i = 0; i < n; ++i) top = std::max(top, std::max(a[i], b[i]));
    return top >= level;
}

// Adds each bright, unclipped quad's light per colour in quad rows [q0, q1)
// to its quad column's sums in red, green and blue. Most quads of a photo
// are not bright: a run of kRun quads none of whose samples reaches the
// lowest bright limit is passed over on one vectorised maximum. The quads
// of the other runs are taken branch-free, so the compiler vectorises them
// too (the scalar loop, one quad and its branches at a time, was a tenth of
// a 200 MP develop). Float: each sum adds at most a block's 8 rows.
OBSCURA_CPU_CLONES
void sum_bright_quads(const uint16_t* __restrict data, size_t width, int q0, int q1, int qw, const ScanSites& sites,
                      float* __restrict red, float* __restrict green, float* __restrict blue) {
    const ScanSites k = sites;  // (a local copy: the compiler then knows the stores leave it alone)
    if (k.lowest > 0xFFFF) return;  // (no green site: no quad is bright)
    for (int qy = q0; qy < q1; ++qy) {
        const uint16_t* r0 = data + size_t(2 * qy) * width;
        const uint16_t* r1 = r0 + width;
        for (int a = 0; a < qw; a += kRun) {
            const int b = std::min(qw, a + kRun);
            if (b - a == kRun && !any_reaches(r0 + 2 * a, r1 + 2 * a, 2 * kRun, uint16_t(k.lowest))) continue;
            for (int qx = a; qx < b; ++qx) {
                const uint32_t v0 = r0[2 * qx], v1 = r0[2 * qx + 1], v2 = r1[2 * qx], v3 = r1[2 * qx + 1];
                const bool skip = (v0 >= k.clip[0]) | (v1 >= k.clip[1]) | (v2 >= k.clip[2]) | (v3 >= k.clip[3]);
                const bool bright = (v0 >= k.bright[0]) | (v1 >= k.bright[1]) | (v2 >= k.bright[2]) | (v3 >= k.bright[3]);
                const float l0 = (float(v0) - k.black[0]) * k.per_code[0], l1 = (float(v1) - k.black[1]) * k.per_code[1];
                const float l2 = (float(v2) - k.black[2]) * k.per_code[2], l3 = (float(v3) - k.black[3]) * k.per_code[3];
                float c[3];
                for (int j = 0; j < 3; ++j) c[j] = k.weight[j][0] * l0 + k.weight[j][1] * l1 + k.weight[j][2] * l2 + k.weight[j][3] * l3;
                const bool use = !skip & bright & (c[kGreen] >= float(kBright)) & (c[kRed] > 0) & (c[kBlue] > 0);
                red[qx] += use ? c[kRed] : 0.0f;
                green[qx] += use ? c[kGreen] : 0.0f;
                blue[qx] += use ? c[kBlue] : 0.0f;
            }
        }
    }
}

}  // namespace

bool has_partial_clipping(const RawImage& raw) {
    if (raw.is_linear() || !raw.cfa.is_bayer() || !raw.black.is_2x2_periodic() || !raw.cell_samples.empty()) return false;
    const Sites sites(raw);
    // (A few stray samples are not worth a copy of the frame.)
    const size_t enough = std::max<size_t>(1, size_t(raw.width / 2) * size_t(raw.height / 2) / 10000);
    std::atomic<size_t> found{0};
    parallel_rows(0, raw.height / 2, [&](int q0, int q1) {
        size_t n = 0;
        for (int qy = q0; qy < q1 && found.load(std::memory_order_relaxed) < enough; ++qy) {
            const uint16_t* r0 = &raw.data[size_t(2 * qy) * raw.width];
            const uint16_t* r1 = r0 + raw.width;
            for (int x = 0; x + 1 < raw.width; x += 2) {
                const int c = (r0[x] >= sites.clip[0]) + (r0[x + 1] >= sites.clip[1]) + (r1[x] >= sites.clip[2]) +
                              (r1[x + 1] >= sites.clip[3]);
                n += c > 0 && c < 4;
            }
            if (n) found += n, n = 0;
        }
    });
    return found >= enough;
}

std::optional<HighlightRebuild> HighlightRebuild::plan(const RawImage& raw) {
    if (!has_partial_clipping(raw)) return std::nullopt;
    return HighlightRebuild(raw);
}

HighlightRebuild::HighlightRebuild(const RawImage& raw) {
    HighlightRebuild& p = *this;
    const ColorSolution color = solve_color(raw.color, raw.source);
    const int qw = raw.width / 2, qh = raw.height / 2;
    const Sites sites(raw);
    p.width_ = raw.width, p.height_ = raw.height;
    for (int c = 0; c < 3; ++c) p.neutral_[c] = color.neutral[c];
    for (int s = 0; s < 4; ++s) {
        p.black_[s] = sites.black[s], p.range_[s] = sites.range[s];
        p.colour_[s] = sites.colour[s], p.clip_[s] = sites.clip[s];
        // A sample's light, white balanced (fractions of white / neutral),
        // by one multiply: the scan below takes it for every bright quad
        // (two divisions a sample were a tenth of a 12 MP JPEG develop's CPU).
        p.per_code_[s] = 1.0 / (sites.range[s] * color.neutral[sites.colour[s]]);
    }
    const double* black = p.black_;
    const double* range = p.range_;
    const int* colour = p.colour_;
    ScanSites scan;
    int greens = 0;
    for (int s = 0; s < 4; ++s) greens += colour[s] == kGreen;
    for (int s = 0; s < 4; ++s) {
        scan.clip[s] = sites.clip[s];
        // (A green sample under this cannot make its quad bright, kBright.)
        scan.bright[s] = colour[s] == kGreen ? uint32_t(std::clamp(
            std::floor(black[s] + kBright * range[s] * color.neutral[kGreen]), 0.0, 65535.0)) : 65536u;
        scan.black[s] = float(black[s]), scan.per_code[s] = float(p.per_code_[s]);
        for (int j = 0; j < 3; ++j) scan.weight[j][s] = colour[s] != j ? 0.0f : j == kGreen ? 1.0f / float(greens) : 1.0f;
    }
    scan.lowest = *std::min_element(scan.bright, scan.bright + 4);

    // Each block's colour: the ratios of its bright unclipped quads' summed
    // red and blue to their green, as logs; each core takes its own rows of
    // blocks. The grid has a border of blocks (never known) all round, so
    // the spread below needs no bounds checks.
    const int bw = (qw + kBlock - 1) / kBlock, bh = (qh + kBlock - 1) / kBlock;
    const size_t pitch = size_t(bw) + 2;
    p.blocks_wide_ = bw;
    // Per block, its ring (below): 0 for a block whose colour is known,
    // else kFar until the spread reaches it; the border stays kFar.
    // (In frame memory, as the list below: fresh 4 KB pages cost more here
    // than the work. 16 bits: only a frame a million pixels across has
    // rings past 65,534, and those blocks would stay neutral.)
    constexpr uint16_t kFar = UINT16_MAX;
    std::vector<uint16_t, UninitialisedAllocator<uint16_t>> ring(pitch * (size_t(bh) + 2), kFar);
    auto& ratio = p.ratio_;
    ratio.resize(ring.size() * 2);  // (not zeroed: every block inside is written below)
    // (And which quad rows hold a clipped sample: the others need no rebuild.)
    const uint16_t lowest_clip = p.lowest_clip();
    p.clipped_rows_.assign(size_t(qh), 0);
    parallel_rows(0, bh, [&](int b0, int b1) {
        std::vector<float> columns(size_t(qw) * 3);
        for (int by = b0; by < b1; ++by) {
            std::fill(columns.begin(), columns.end(), 0.0f);
            float* red = columns.data();
            float* green = red + qw;
            float* blue = green + qw;
            sum_bright_quads(raw.data.data(), size_t(raw.width), by * kBlock, std::min(qh, (by + 1) * kBlock), qw, scan,
                             red, green, blue);
            for (int qy = by * kBlock; qy < std::min(qh, (by + 1) * kBlock); ++qy) {
                const uint16_t* r0 = raw.data.data() + size_t(2 * qy) * size_t(raw.width);
                p.clipped_rows_[size_t(qy)] = any_reaches(r0, r0 + raw.width, 2 * qw, lowest_clip);
            }
            for (int bx = 0; bx < bw; ++bx) {
                double sum[3] = {0, 0, 0};
                for (int qx = bx * kBlock; qx < std::min(qw, (bx + 1) * kBlock); ++qx)
                    sum[0] += red[qx], sum[1] += green[qx], sum[2] += blue[qx];
                const size_t b = p.block_at(bx, by);
                const bool known = sum[1] > 0;
                ring[b] = known ? 0 : kFar;
                ratio[2 * b] = known ? std::log(sum[0] / sum[1]) : 0.0;
                ratio[2 * b + 1] = known ? std::log(sum[2] / sum[1]) : 0.0;
            }
        }
    }, 1);
    // Spread into the blocks without: a block at ring d (d blocks, 8-connected,
    // from the nearest known one) gets the mean of its neighbours at the
    // rings inside it, ring after ring (blocks nowhere near any stay
    // neutral). The rings come from a chessboard distance transform, two
    // raster passes, and each ring's blocks are listed once, in raster
    // order: a 200 MP frame has 800,000 blocks and up to a thousand rings,
    // and a queue visiting them ring by ring took 40 ms of one core.
    const ptrdiff_t row = ptrdiff_t(pitch);
    const ptrdiff_t around[8] = {-row - 1, -row, -row + 1, -1, 1, row - 1, row, row + 1};
    auto relax = [&](size_t b, const ptrdiff_t* before) {
        auto at = [&](int k) { return ring[size_t(ptrdiff_t(b) + before[k])]; };
        const uint16_t m = std::min(std::min(at(0), at(1)), std::min(at(2), at(3)));
        if (m != kFar && m + 1 < ring[b]) ring[b] = uint16_t(m + 1);
    };
    const ptrdiff_t above[4] = {-row - 1, -row, -row + 1, -1}, below[4] = {row + 1, row, row - 1, 1};
    for (int by = 0; by < bh; ++by)
        for (int bx = 0; bx < bw; ++bx) relax(p.block_at(bx, by), above);
    int rings = 0;
    for (int by = bh - 1; by >= 0; --by)
        for (int bx = bw - 1; bx >= 0; --bx) {
            const size_t b = p.block_at(bx, by);
            relax(b, below);
            if (ring[b] != kFar) rings = std::max(rings, int(ring[b]));
        }
    std::vector<size_t> first(size_t(rings) + 2, 0);
    for (uint16_t d : ring)
        if (d != kFar && d > 0) ++first[d + 1u];
    for (size_t d = 1; d < first.size(); ++d) first[d] += first[d - 1];
    std::vector<uint32_t, UninitialisedAllocator<uint32_t>> by_ring(first.back());
    {
        std::vector<size_t> next(first.begin(), first.end() - 1);  // each ring's next place in the list
        for (size_t b = 0; b < ring.size(); ++b)
            if (ring[b] != kFar && ring[b] > 0) by_ring[next[ring[b]]++] = uint32_t(b);
    }
    for (int d = 1; d <= rings; ++d)
        for (size_t i = first[d]; i < first[d + 1]; ++i) {
            // (Its neighbours at ring d - 1 are final; the ones at d are not read.)
            const size_t b = by_ring[i];
            double r = 0, l = 0;
            int n = 0;
            for (ptrdiff_t o : around) {
                const size_t k = size_t(ptrdiff_t(b) + o);
                if (ring[k] < d) r += ratio[2 * k], l += ratio[2 * k + 1], ++n;
            }
            ratio[2 * b] = r / n, ratio[2 * b + 1] = l / n;  // (n >= 1: one neighbour is at ring d - 1)
        }

    // A stop of headroom for the rebuilt colours: where the samples have
    // room (a black level one for all, white + range within 16 bits) they
    // stay as read and the white moves up a stop; else every sample is
    // rescaled to 16 bits with white at half of full scale.
    p.room_ = raw.black.is_uniform() && black[0] + 2 * range[0] <= 65535.0;
    p.scale_ = p.room_ ? range[0] : (65535.0 - kNewBlack) / 2;  // per fraction of white
    p.base_ = p.room_ ? black[0] : kNewBlack;
    for (int s = 0; s < 4; ++s) p.to_new_[s] = p.scale_ / range[s];
}

bool HighlightRebuild::changes_rows(int y0, int count) const {
    if (!room_) return true;  // (every sample is rescaled)
    const int q0 = std::max(0, y0 / 2), q1 = std::min(int(clipped_rows_.size()), (y0 + count + 1) / 2);
    return std::any_of(clipped_rows_.begin() + q0, clipped_rows_.begin() + std::max(q0, q1), [](uint8_t c) { return c != 0; });
}

void HighlightRebuild::rebuild_rows(const uint16_t* from, uint16_t* to, int y0, int count) const {
    const double* black = black_;
    const int* colour = colour_;
    const size_t width = size_t(width_);
    auto light_of = [&](uint16_t v, int s) { return (v - black[s]) * per_code_[s]; };
    // A sample as read, on the rebuilt frame's levels (when it has no room).
    auto rescaled = [&](uint16_t v, int s) {
        return uint16_t(std::clamp(base_ + (v - black[s]) * to_new_[s] + 0.5, 0.0, 65535.0));
    };
    const int qw = width_ / 2, pairs = std::min(count, 2 * (height_ / 2) - y0) / 2;
    const uint16_t lowest = lowest_clip();
    // The clipped colours rebuilt, quad by quad (each reads only its own
    // samples, so the rows may be rebuilt in place).
    parallel_rows(0, pairs, [&](int p0, int p1) {
        for (int pair = p0; pair < p1; ++pair) {
            const int qy = y0 / 2 + pair;
            const uint16_t* in0 = from + size_t(2 * pair) * width;
            const uint16_t* in1 = in0 + width;
            uint16_t* r0 = to + size_t(2 * pair) * width;
            uint16_t* r1 = r0 + width;
            if (to != from) std::copy_n(in0, 2 * width, r0);
            for (int a = 0; a < qw; a += kRun) {
                // (Where the samples keep their values, a run of quads none
                // of which reaches the lowest clip is left as copied.)
                const int b = std::min(qw, a + kRun);
                if (room_ && b - a == kRun && !any_reaches(in0 + 2 * a, in1 + 2 * a, 2 * kRun, lowest)) continue;
                for (int qx = a; qx < b; ++qx) {
                    const uint16_t v[4] = {in0[2 * qx], in0[2 * qx + 1], in1[2 * qx], in1[2 * qx + 1]};
                    uint16_t out[4];
                    bool clip[4];
                    int n = 0;
                    for (int s = 0; s < 4; ++s) n += clip[s] = v[s] >= clip_[s];
                    if (n == 0 && room_) continue;
                    for (int s = 0; s < 4; ++s) out[s] = room_ ? v[s] : rescaled(v[s], s);
                    auto put = [&](int s, double rebuilt) {
                        const double u = rebuilt * neutral_[colour[s]];
                        out[s] = uint16_t(std::clamp(base_ + u * scale_ + 0.5, 0.0, 65535.0));
                    };
                    if (n == 4) {
                        // Nothing known but the bounds: neutral, at the highest
                        // (white balanced, the colours' clips differ), which the
                        // looks roll off to white.
                        double top = 0;
                        for (int s = 0; s < 4; ++s) top = std::max(top, light_of(v[s], s));
                        for (int s = 0; s < 4; ++s) put(s, top);
                    } else if (n > 0) {
                        const size_t k = block_at(qx / kBlock, qy / kBlock);
                        const double log_ratio[3] = {ratio_[2 * k], 0.0, ratio_[2 * k + 1]};
                        // The light the unclipped samples imply for green, by the
                        // block's colour; a clipped sample becomes that times its
                        // own colour's ratio, never less than it read.
                        double implied = 0;
                        int m = 0;
                        for (int s = 0; s < 4; ++s)
                            if (!clip[s]) implied += light_of(v[s], s) / std::exp(log_ratio[colour[s]]), ++m;
                        implied /= m;
                        for (int s = 0; s < 4; ++s)
                            if (clip[s]) put(s, std::max(light_of(v[s], s), implied * std::exp(log_ratio[colour[s]])));
                    }
                    r0[2 * qx] = out[0], r0[2 * qx + 1] = out[1], r1[2 * qx] = out[2], r1[2 * qx + 1] = out[3];
                }
            }
            // (An odd last column, outside every quad.)
            if (!room_ && width_ % 2)
                for (int r = 0; r < 2; ++r) r0[r * width + width - 1] = rescaled(r0[r * width + width - 1], 2 * r);
        }
    }, 32);
    // (An odd last row, outside every quad.)
    if (y0 + count == height_ && height_ % 2) {
        const uint16_t* in = from + size_t(count - 1) * width;
        uint16_t* out = to + size_t(count - 1) * width;
        for (size_t x = 0; x < width; ++x) out[x] = room_ ? in[x] : rescaled(in[x], 2 * ((height_ - 1) & 1) + int(x & 1));
    }
}

void HighlightRebuild::relevel(RawImage& raw) const {
    if (room_) {
        raw.white_level = black_[0] + 2 * range_[0];
    } else {
        raw.black = BlackLevel{};
        raw.black.pattern = {kNewBlack};
        raw.white_level = 65535;
        raw.bits = 16;
    }
    raw.color.baseline_exposure += 1.0;
    for (auto& p : raw.noise.planes) p[0] /= 2, p[1] /= 4;
}

bool rebuild_highlights_in_place(RawImage& raw) {
    if (!has_partial_clipping(raw)) return false;
    const HighlightRebuild plan(raw);
    plan.rebuild_rows(raw.data.data(), raw.data.data(), 0, raw.height);
    plan.relevel(raw);
    return true;
}

std::optional<RawImage> rebuild_highlights(const RawImage& raw) {
    const auto plan = HighlightRebuild::plan(raw);
    if (!plan) return std::nullopt;
    RawImage out = raw;
    plan->rebuild_rows(out.data.data(), out.data.data(), 0, out.height);
    plan->relevel(out);
    return out;
}

}  // namespace obscura
