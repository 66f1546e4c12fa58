// Exposure fusion of a bracket, on the raw: every frame is scaled to the
// reference's exposure, and each Bayer sample of the result is the mean of
// the frames' samples weighted by the inverse of their noise variance,
// which the noise profile gives per exposure (a frame exposed r times
// longer has r^2 / (S r s + O) of the weight at scene level s). Clipped
// samples weigh nothing; where every frame clips, the darkest frame's bound
// stands. Alternate frames are aligned per tile (the pyramid of burst.cpp,
// on grey clipped where the brighter frame clips) and blended with the
// merge's sine-squared windows, so tiles overlap seamlessly.
#include "burst/bracket.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/parallel.h"
#include "obscura/error.h"

namespace obscura::burst {
namespace {

// Where a sample starts to count as clipped, and where it counts for nothing
// (fractions of the range above black): a ramp, so frames hand over without
// a seam where one of them reaches white.
constexpr float kClipStart = 0.90f, kClipEnd = 0.96f;
// Below this fraction of its white a frame's samples are not compared (the
// noise, clipped at black, lifts their mean).
constexpr float kFloor = 0.02f;
// A raw sample this close to white is clipped whatever its neighbours.
constexpr float kSaturated = 0.99f;
// A tile whose mean differs from the reference's by more than kShiftLow
// standard deviations (noise, and 2% of the level for what alignment and
// interpolation leave) starts to be refused; by kShiftHigh it is refused.
constexpr float kShiftLow = 4.0f, kShiftHigh = 8.0f, kShiftLevel = 0.02f;
// A sample differing from the reference's by kRobust standard deviations of
// their noise weighs half (a Cauchy weight).
constexpr float kRobust = 3.0f;

float clip_weight(float u) { return std::clamp((kClipEnd - u) / (kClipEnd - kClipStart), 0.0f, 1.0f); }

// Sine-squared window of a 16-sample tile: sums to one over tiles that
// overlap by half.
struct Window {
    float w[16];
    Window() {
        for (int n = 0; n < 16; ++n) w[n] = float(std::pow(std::sin(M_PI * (n + 0.5) / 16.0), 2));
    }
};

// Per plane: black, range, and the noise profile's S and O of its colour.
struct PlaneLevels {
    float black[4], range[4], scale[4], offset[4];
    int color[4];
};

PlaneLevels plane_levels(const RawImage& ref) {
    PlaneLevels l{};
    for (int p = 0; p < 4; ++p) {
        l.color[p] = ref.cfa.at(p & 1, p / 2);
        l.black[p] = float(ref.black.at(p & 1, p / 2));
        l.range[p] = float(std::max(1.0, ref.white_level - l.black[p]));
        // (Without a profile, one of a typical sensor at base ISO: the weights
        // then follow the exposures, which is what matters most.)
        std::array<double, 2> sn = ref.noise.planes.empty() ? std::array<double, 2>{2e-4, 2e-6}
                                   : ref.noise.planes.size() == 3 ? ref.noise.planes[size_t(l.color[p])]
                                                                  : ref.noise.planes[0];
        l.scale[p] = float(std::max(sn[0], 1e-9)), l.offset[p] = float(std::max(sn[1], 1e-12));
    }
    return l;
}

// Padded planes as fractions of white, scaled by 1 / ratio (to the
// reference's exposure) and clipped at `ceiling`: what alignment compares.
Buffer<float> normalised_planes(const Buffer<float>& planes, const PlaneLevels& l, float ratio, float ceiling) {
    Buffer<float> out(planes.dim(0).extent(), planes.dim(1).extent(), 4);
    out.set_min({planes.dim(0).min(), planes.dim(1).min(), 0});
    for (int p = 0; p < 4; ++p) {
        const float gain = 1.0f / (l.range[p] * ratio), black = l.black[p];
        parallel_rows(planes.dim(1).min(), planes.dim(1).max() + 1, [&](int y0, int y1) {
            for (int y = y0; y < y1; ++y) {
                const float* src = &planes(planes.dim(0).min(), y, p);
                float* dst = &out(out.dim(0).min(), y, p);
                for (int x = 0; x < planes.dim(0).extent(); ++x) dst[x] = std::min((src[x] - black) * gain, ceiling);
            }
        });
    }
    return out;
}

// Each tile's offset replaced by the median of its 5 x 5 neighbourhood's.
// (In dark, flat tiles the search matches noise to noise: it picks the
// displacement whose noise is brightest where the reference's is, and the
// fused shadows came out 10% bright. Hand shake moves neighbouring tiles
// alike; what moves on its own is left to the motion test.)
Buffer<int16_t> smoothed(const Buffer<int16_t>& offsets) {
    const int nx = offsets.dim(0).extent(), ny = offsets.dim(1).extent();
    Buffer<int16_t> out(nx, ny, 2);
    std::vector<int16_t> near;
    for (int c = 0; c < 2; ++c)
        for (int ty = 0; ty < ny; ++ty)
            for (int tx = 0; tx < nx; ++tx) {
                near.clear();
                for (int y = std::max(0, ty - 2); y <= std::min(ny - 1, ty + 2); ++y)
                    for (int x = std::max(0, tx - 2); x <= std::min(nx - 1, tx + 2); ++x) near.push_back(offsets(x, y, c));
                std::nth_element(near.begin(), near.begin() + long(near.size() / 2), near.end());
                out(tx, ty, c) = near[near.size() / 2];
            }
    return out;
}

}  // namespace

std::optional<double> stated_exposure_ratio(const RawImage& ref, const RawImage& alt) {
    const ShotInfo &a = alt.shot, &r = ref.shot;
    if (!a.exposure_s || !r.exposure_s || !(*a.exposure_s > 0) || !(*r.exposure_s > 0)) return std::nullopt;
    double ratio = *a.exposure_s / *r.exposure_s;
    if (a.iso && r.iso && *a.iso > 0 && *r.iso > 0) ratio *= *a.iso / *r.iso;
    if (a.f_number && r.f_number && *a.f_number > 0 && *r.f_number > 0)
        ratio *= (*r.f_number * *r.f_number) / (*a.f_number * *a.f_number);
    // A frame brightened more in development was exposed less.
    ratio *= std::pow(2.0, ref.color.baseline_exposure - alt.color.baseline_exposure);
    return ratio;
}

std::vector<float> exposure_levels(const RawImage& raw) {
    // Quantiles of the grey level of 8 x 8-pixel blocks: unlike a comparison
    // place by place, blind to the hand shake between the frames; and unlike
    // single samples', not spread by the noise (which at 1% of white is half
    // the signal of a frame 4 stops under).
    constexpr int kBlock = 8;
    const int bw = raw.width / kBlock, bh = raw.height / kBlock;
    std::vector<float> g(size_t(bw) * size_t(bh));
    // The levels of each site of the 2 x 2 repeat, when the black level has
    // one (else per sample).
    const bool periodic = raw.black.is_2x2_periodic();
    double black[4], range[4];
    for (int s = 0; s < 4; ++s) {
        black[s] = raw.black.at(s & 1, s >> 1);
        range[s] = std::max(raw.white_level - black[s], 1.0);
    }
    parallel_rows(0, bh, [&](int b0, int b1) {
        // Per column, the sums over a block row's even and odd rows (vector
        // adds along whole rows), then per block the four sites' sums.
        std::vector<uint32_t> even(size_t(raw.width)), odd(size_t(raw.width));
        for (int by = b0; by < b1; ++by) {
            if (!periodic) {
                for (int bx = 0; bx < bw; ++bx) {
                    double sum = 0;
                    for (int y = by * kBlock; y < (by + 1) * kBlock; ++y)
                        for (int x = bx * kBlock; x < (bx + 1) * kBlock; ++x) {
                            const double b = raw.black.at(x, y);
                            sum += (raw.data[size_t(y) * size_t(raw.width) + size_t(x)] - b) / std::max(raw.white_level - b, 1.0);
                        }
                    g[size_t(by) * size_t(bw) + size_t(bx)] = float(sum / (kBlock * kBlock));
                }
                continue;
            }
            std::fill(even.begin(), even.end(), 0u);
            std::fill(odd.begin(), odd.end(), 0u);
            // (The bound a local: stores through acc may alias an int the
            // lambda holds by reference, which kept this loop scalar.)
            const int columns = bw * kBlock;
            for (int y = 0; y < kBlock; ++y) {
                const uint16_t* row = &raw.data[(size_t(by) * kBlock + size_t(y)) * size_t(raw.width)];
                uint32_t* acc = (y & 1) ? odd.data() : even.data();
                for (int x = 0; x < columns; ++x) acc[x] += row[x];
            }
            for (int bx = 0; bx < bw; ++bx) {
                // (Sites by the block's own parity: blocks start on even samples.)
                uint32_t site[4] = {0, 0, 0, 0};
                for (int x = bx * kBlock; x < (bx + 1) * kBlock; x += 2)
                    site[0] += even[size_t(x)], site[1] += even[size_t(x) + 1], site[2] += odd[size_t(x)], site[3] += odd[size_t(x) + 1];
                double sum = 0;
                for (int s = 0; s < 4; ++s) sum += (site[s] - 16 * black[s]) / range[s];
                g[size_t(by) * size_t(bw) + size_t(bx)] = float(sum / (kBlock * kBlock));
            }
        }
    }, 8);
    std::vector<float> levels;
    if (g.empty()) return levels;
    // The quantiles 5..95%, each selected within the part of the order the
    // ones already found leave it (the middle one first, then each half):
    // a third of a full sort's work.
    std::vector<size_t> at;
    for (int q = 5; q <= 95; ++q) at.push_back(g.size() * size_t(q) / 100);
    auto select = [&](auto& self, size_t first_q, size_t last_q, size_t begin, size_t end) -> void {
        if (first_q >= last_q) return;
        const size_t mid = first_q + (last_q - first_q) / 2;
        std::nth_element(g.begin() + ptrdiff_t(begin), g.begin() + ptrdiff_t(at[mid]), g.begin() + ptrdiff_t(end));
        // (Both halves keep the selected element: at a few hundred blocks,
        // neighbouring quantiles can fall on the same one.)
        self(self, first_q, mid, begin, at[mid] + 1);
        self(self, mid + 1, last_q, at[mid], end);
    };
    select(select, 0, at.size(), 0, g.size());
    for (size_t i : at) levels.push_back(g[i]);
    return levels;
}

double measured_exposure_ratio(const RawImage& ref, const RawImage& alt, std::vector<float>& ref_levels) {
    if (ref_levels.empty()) ref_levels = exposure_levels(ref);
    const std::vector<float> a = exposure_levels(alt);
    // Where both frames are well exposed: above 1% of white (lower, noise
    // clipped at black lifts the levels) and below where they clip.
    std::vector<double> ratios;
    for (size_t q = 0; q < std::min(ref_levels.size(), a.size()); ++q) {
        const float vr = ref_levels[q], va = a[q];
        if (vr > 0.01f && va > 0.01f && vr < kClipStart - 0.1f && va < kClipStart - 0.1f) ratios.push_back(va / vr);
    }
    if (ratios.size() < 10)
        throw file_error(alt.source, "no exposure time in the file, and too little of the frame is well exposed in both it and "
                                     "the reference to measure its exposure");
    std::nth_element(ratios.begin(), ratios.begin() + long(ratios.size() / 2), ratios.end());
    return ratios[ratios.size() / 2];
}

double exposure_ratio(const RawImage& ref, const RawImage& alt, std::vector<float>& ref_levels) {
    if (auto stated = stated_exposure_ratio(ref, alt)) return *stated;
    return measured_exposure_ratio(ref, alt, ref_levels);
}

bool same_exposure(double ratio) { return std::abs(std::log2(ratio)) < 1.0 / 6.0; }

RawImage fuse_exposures(RawImage ref, const Buffer<float>& ref_planes, const Buffer<float>& merged, int merged_frames,
                        const std::vector<size_t>& others, const FrameSource& files, const BurstOptions& options,
                        const CfaPattern& ref_layout, BurstReport& rep) {
    using clock = std::chrono::steady_clock;
    if (!ref.black.is_2x2_periodic())
        throw file_error(ref.source, "black level varies across the frame: a bracket merge needs one level per CFA site");
    const PlaneLevels lv = plane_levels(ref);
    const int pw = plane_extent(ref.width), ph = plane_extent(ref.height);
    const int ntx = tile_count(pw), nty = tile_count(ph);
    static const Window window;

    // The reference's level where it is read: the 3 x 3 mean of its merged
    // plane. (Deciding where the reference is exposed by its own noisy
    // samples would pick those whose noise fell low, and the comparison
    // with the other frames would see motion in every bright tile.)
    // (Rows summed down the three rows first, then across: edges repeated.)
    Buffer<float> level(pw, ph, 4);
    for (int p = 0; p < 4; ++p)
        parallel_rows(0, ph, [&](int y0, int y1) {
            std::vector<float> column(size_t(pw) + 2);
            const float scale = 1.0f / (9 * lv.range[p]), offset = lv.black[p] / lv.range[p];
            for (int j = y0; j < y1; ++j) {
                const float* above = &merged(0, std::max(j - 1, 0), p);
                const float* here = &merged(0, j, p);
                const float* below = &merged(0, std::min(j + 1, ph - 1), p);
                for (int i = 0; i < pw; ++i) column[size_t(i) + 1] = above[i] + here[i] + below[i];
                column[0] = column[1], column[size_t(pw) + 1] = column[size_t(pw)];
                float* out = &level(0, j, p);
                for (int i = 0; i < pw; ++i) out[i] = (column[size_t(i)] + column[size_t(i) + 1] + column[size_t(i) + 2]) * scale - offset;
            }
        });
    // The reference: its merged value (less noisy by the frames merged),
    // weighted as it clips: by its level, and not at all where the raw
    // sample itself reached white.
    Buffer<float> num(pw, ph, 4), den(pw, ph, 4), bound(pw, ph, 4);
    for (int p = 0; p < 4; ++p)
        parallel_rows(0, ph, [&](int y0, int y1) {
            const float black = lv.black[p], inv_range = 1.0f / lv.range[p];
            for (int j = y0; j < y1; ++j) {
                const float *ref_row = &ref_planes(0, j, p), *merged_row = &merged(0, j, p), *level_row = &level(0, j, p);
                float *num_row = &num(0, j, p), *den_row = &den(0, j, p), *bound_row = &bound(0, j, p);
                for (int i = 0; i < pw; ++i) {
                    const float u = (ref_row[i] - black) * inv_range, s = (merged_row[i] - black) * inv_range;
                    const float var = (lv.scale[p] * std::max(level_row[i], 0.0f) + lv.offset[p]) / float(merged_frames);
                    const float w = (u < kSaturated ? clip_weight(level_row[i]) : 0.0f) / var;
                    num_row[i] = w * s, den_row[i] = w, bound_row[i] = std::min(s, 1.0f);
                }
            }
        });

    double lowest = 1.0;
    std::vector<double> ratios;  // of the frames fused, for the noise left
    std::vector<float> ref_levels;  // (measured at the first frame that needs them)
    CfaPattern layout;
    Buffer<float> alt_planes;
    for (size_t f : others) {
        auto t = clock::now();
        RawImage alt = read_frame(files, f, options, layout);
        rep.frames[f].file = alt.source;
        check_compatible(ref, ref_layout, alt, layout);
        const double ratio_d = exposure_ratio(ref, alt, ref_levels);
        if (!(ratio_d > 1.0 / 65536 && ratio_d < 65536))
            throw file_error(alt.source, "exposure " + std::to_string(ratio_d) + " times the reference's: not a bracket");
        const float ratio = float(ratio_d);
        rep.frames[f].exposure_ev = std::log2(ratio_d);
        lowest = std::min(lowest, ratio_d);
        ratios.push_back(ratio_d);
        alt_planes = padded_planes(alt, std::move(alt_planes));
        Samples16().swap(alt.data);
        rep.seconds_decode += seconds_since(t);

        // Aligned on grey at the reference's exposure, clipped where the
        // brighter of the two clips (there the frames cannot agree).
        t = clock::now();
        const float ceiling = kClipStart * std::min(1.0f, 1.0f / ratio);
        auto ref_grey = grey_pyramid(normalised_planes(ref_planes, lv, 1.0f, ceiling), ref.width, ref.height);
        auto alt_grey = grey_pyramid(normalised_planes(alt_planes, lv, ratio, ceiling), ref.width, ref.height);
        Buffer<int16_t> offsets = smoothed(align_frame(ref_grey, alt_grey));
        rep.seconds_align += seconds_since(t);

        t = clock::now();
        report_median_offset(offsets, rep.frames[f]);
        const int median_dx = rep.frames[f].median_dx, median_dy = rep.frames[f].median_dy;

        // Tile rows of one parity at a time: their windows do not overlap.
        for (int parity = 0; parity < 2; ++parity) {
            const int rows = (nty - parity + 1) / 2;
            parallel_rows(0, rows, [&](int r0, int r1) {
                float value[4][16][16], clipw[4][16][16];
                for (int r = r0; r < r1; ++r) {
                    const int ty = 2 * r + parity;
                    for (int tx = 0; tx < ntx; ++tx) {
                        const int i0 = 8 * tx - 8, j0 = 8 * ty - 8;
                        const int a0 = std::max(0, -i0), a1 = std::min(16, pw - i0);
                        const int b0 = std::max(0, -j0), b1 = std::min(16, ph - j0);
                        if (a0 >= a1 || b0 >= b1) continue;
                        int dx = 0, dy = 0, ia = 0, ib = 0, jb0 = 0, jb1 = 0;
                        double worst = 0;
                        int compared = 0;  // samples the worst plane's verdict rests on, most of any plane
                        int ref_clipped = 0;  // samples where the reference clipped, all planes
                        // This frame's samples for the tile at an offset, into
                        // value and clipw, and how far its worst plane is from
                        // the reference's (false: no quad inside the frame).
                        auto evaluate = [&](int try_dx, int try_dy) {
                        dx = std::clamp(try_dx, -kMergeLimit, kMergeLimit);
                        dy = std::clamp(try_dy, -kMergeLimit, kMergeLimit);
                        // The quads whose displaced site and its interpolation
                        // taps lie inside the frame: past its edge the planes
                        // are mirrored, no light of this scene point. (One
                        // rule for all planes, so no colour gets data another
                        // lacks.)
                        ia = std::max(a0, (4 - dx + 1) / 2 - i0), ib = std::min(a1, (ref.width - 5 - dx) / 2 - i0);
                        jb0 = std::max(b0, (4 - dy + 1) / 2 - j0), jb1 = std::min(b1, (ref.height - 5 - dy) / 2 - j0);
                        if (ia >= ib || jb0 >= jb1) return false;
                        // Motion: per plane, the tile's mean against the
                        // reference's where both are exposed, in standard
                        // deviations; the worst plane decides for all.
                        worst = 0, compared = 0, ref_clipped = 0;
                        for (int p = 0; p < 4; ++p) {
                            // The alternate sample of this plane's colour at the
                            // displaced site: itself, or the half-way cubic
                            // (-1, 9, 9, -1) / 16 along each odd direction (as
                            // merge_kernel); green moved diagonally is the other
                            // green. Separably: rows first, then down the columns.
                            const bool green = lv.color[p] == kGreen;
                            const bool diagonal_green = green && (dx & 1) && (dy & 1);
                            const int sx = diagonal_green ? 0 : dx & 1, sy = diagonal_green ? 0 : dy & 1;
                            const int ax0 = 2 * i0 + (p & 1) + dx - sx, ay0 = 2 * j0 + (p >> 1) + dy - sy;
                            const int q = (ax0 & 1) + 2 * (ay0 & 1), bx0 = ax0 >> 1, by0 = ay0 >> 1;
                            float hv[19][16], hp[19][16];  // row b of the tile at b + 1, with the vertical taps' rows
                            for (int b = jb0 - sy; b < jb1 + 2 * sy; ++b) {
                                const float* row = &alt_planes(0, by0 + b, q) + bx0;
                                for (int a = ia; a < ib; ++a) {
                                    const float* t = row + a;
                                    // (Clamped between the two middle taps: beside
                                    // light many times brighter, the cubic's
                                    // negative lobes would ring far below it.)
                                    if (sx) {
                                        hv[b + 1][a] = std::clamp((9.0f * (t[0] + t[1]) - t[-1] - t[2]) * (1.0f / 16), std::min(t[0], t[1]),
                                                                  std::max(t[0], t[1]));
                                        hp[b + 1][a] = std::max(std::max(t[-1], t[0]), std::max(t[1], t[2]));
                                    } else {
                                        hv[b + 1][a] = hp[b + 1][a] = t[0];
                                    }
                                }
                            }
                            const float black = lv.black[p], range = lv.range[p], to_scene = 1.0f / (range * ratio);
                            double dsum = 0, vsum = 0, lsum = 0;
                            int n = 0;
                            for (int b = jb0; b < jb1; ++b) {
                                const int j = j0 + b;
                                const float* ref_row = &ref_planes(0, j, p);
                                const float* merged_row = &merged(0, j, p);
                                const float* level_row = &level(0, j, p);
                                for (int a = ia; a < ib; ++a) {
                                    float v, peak;
                                    if (sy) {
                                        v = std::clamp((9.0f * (hv[b + 1][a] + hv[b + 2][a]) - hv[b][a] - hv[b + 3][a]) * (1.0f / 16),
                                                       std::min(hv[b + 1][a], hv[b + 2][a]), std::max(hv[b + 1][a], hv[b + 2][a]));
                                        peak = std::max(std::max(hp[b][a], hp[b + 1][a]), std::max(hp[b + 2][a], hp[b + 3][a]));
                                    } else {
                                        v = hv[b + 1][a], peak = hp[b + 1][a];
                                    }
                                    const float s = (v - black) * to_scene;
                                    const float cw = clip_weight((peak - black) / range);
                                    value[p][b][a] = s, clipw[p][b][a] = cw;
                                    const int i = i0 + a;
                                    // (Both exposed: this frame above its noise
                                    // floor, where clipping at black biases
                                    // nothing, judged by the reference's smooth
                                    // level, as this frame's own samples would
                                    // pick their noise; its interpolation taps
                                    // all within the reference's range, as one
                                    // beside a light many times brighter takes a
                                    // share of it; the reference unclipped.)
                                    ref_clipped += (ref_row[i] - black) / range >= kClipStart;
                                    if (cw >= 1.0f && level_row[i] * ratio > kFloor && (peak - black) * to_scene < kClipStart &&
                                        (ref_row[i] - black) / range < kClipStart &&
                                        level_row[i] < kClipStart - 0.04f) {
                                        const float sr = (merged_row[i] - black) / range, sp = std::max(sr, 0.0f);
                                        dsum += s - sr;
                                        vsum += (lv.scale[p] * sp + lv.offset[p]) / float(merged_frames) +
                                                (lv.scale[p] * ratio * sp + lv.offset[p]) / (ratio * ratio);
                                        lsum += sp;
                                        ++n;
                                    }
                                }
                            }
                            compared = std::max(compared, n);
                            if (n >= 32) {
                                const double level_mean = lsum / n;
                                const double sigma = std::sqrt(vsum / (double(n) * n) + std::pow(kShiftLevel * level_mean, 2));
                                worst = std::max(worst, std::abs(dsum / n) / std::max(sigma, 1e-12));
                            }
                        }
                        return true;
                        };
                        // A tile that does not match at its own offset gets the
                        // frame's median one (the search can lose its way where
                        // the darker frame is mostly noise): the better stands.
                        // So does one that cannot be checked (the reference
                        // clipped nearly everywhere in it: its search saw flat
                        // grey, and a wrong offset would put darker light there).
                        const int own_dx = offsets(tx, ty, 0), own_dy = offsets(tx, ty, 1);
                        bool inside = evaluate(own_dx, own_dy);
                        if (inside && compared < 32 && 2 * ref_clipped > 4 * (ib - ia) * (jb1 - jb0) &&
                            (own_dx != median_dx || own_dy != median_dy)) {
                            inside = evaluate(median_dx, median_dy);
                        } else if ((!inside || worst > kShiftLow) && (own_dx != median_dx || own_dy != median_dy)) {
                            const double own_worst = inside ? worst : 1e30;
                            inside = evaluate(median_dx, median_dy);
                            if (!inside || worst > own_worst) inside = evaluate(own_dx, own_dy);
                        }
                        if (!inside) continue;
                        const float keep = std::clamp(float((kShiftHigh - worst) / (kShiftHigh - kShiftLow)), 0.0f, 1.0f);
                        if (keep <= 0) continue;
                        for (int p = 0; p < 4; ++p) {
                            const float inv_ratio2 = 1.0f / (ratio * ratio), top = 1.0f / ratio;
                            const float black = lv.black[p], range = lv.range[p];
                            for (int b = jb0; b < jb1; ++b) {
                                const int j = j0 + b;
                                const float* level_row = &level(0, j, p);
                                const float* ref_row = &ref_planes(0, j, p);
                                const float* merged_row = &merged(0, j, p);
                                float *num_row = &num(0, j, p), *den_row = &den(0, j, p), *bound_row = &bound(0, j, p);
                                const float wb = window.w[b] * keep;
                                for (int a = ia; a < ib; ++a) {
                                    const int i = i0 + a;
                                    const float s = value[p][b][a];
                                    // The level the weight is taken at: the
                                    // reference's where it is exposed (smooth),
                                    // else this frame's.
                                    const bool exposed = level_row[i] < kClipStart;
                                    const float at = std::max(exposed ? level_row[i] : s, 0.0f);
                                    const float var = (lv.scale[p] * ratio * at + lv.offset[p]) * inv_ratio2;
                                    // Robustness per sample, where the reference
                                    // is exposed: a difference far beyond both
                                    // frames' noise is detail the alternate lost
                                    // (interpolated half-way for an odd offset,
                                    // it is a blurred copy) or motion, and the
                                    // reference keeps it.
                                    float robust = 1.0f;
                                    const float u_ref = (ref_row[i] - black) / range;
                                    if (exposed && u_ref < kClipStart) {
                                        const float d = s - (merged_row[i] - black) / range;
                                        const float noise = var + (lv.scale[p] * at + lv.offset[p]) / float(merged_frames);
                                        robust = 1.0f / (1.0f + d * d / (kRobust * kRobust * noise));
                                    } else if (u_ref >= kClipStart) {
                                        // Where the reference clipped, the light is at
                                        // least what it read: a sample below that is
                                        // another place's (moved, misaligned), and
                                        // weighed at its own low level it would
                                        // outweigh the right ones.
                                        const float d = std::max(0.0f, u_ref - s);
                                        robust = 1.0f / (1.0f + d * d / (kRobust * kRobust * var));
                                    }
                                    const float w = wb * window.w[a] * clipw[p][b][a] * robust / var;
                                    num_row[i] += w * s;
                                    den_row[i] += w;
                                    if (keep >= 0.5f) bound_row[i] = std::max(bound_row[i], std::min(s, top));
                                }
                            }
                        }
                    }
                }
            });
        }
        rep.seconds_merge += seconds_since(t);
    }

    // Back to 16 bits, the range kept: the reference white at 2^-headroom
    // of full scale, a black level with room for the noise below it.
    auto t = clock::now();
    const double headroom = lowest < 1.0 ? std::log2(1.0 / lowest) : 0.0;
    constexpr double kBlack = 1024;
    const double full = (65535.0 - kBlack) * std::min(1.0, lowest);
    // Where every frame clipped a sample, its light is only known to be
    // above the bound; it is raised to the level the quad's other colours
    // give as if the light were neutral (the camera's white), so clipped
    // highlights go to white instead of magenta.
    // (Never past the darkest frame's white, the top of the range.)
    const double top = 1.0 / std::min(1.0, lowest);
    double neutral[3] = {1, 1, 1};
    if (ref.color.as_shot_neutral)
        for (int c = 0; c < 3; ++c) neutral[c] = std::max((*ref.color.as_shot_neutral)[size_t(c)], 1e-3);
    parallel_rows(0, ph, [&](int j0, int j1) {
        for (int j = j0; j < j1; ++j)
            for (int i = 0; i < pw; ++i) {
                double s[4], white = 0;
                bool clipped[4];
                for (int p = 0; p < 4; ++p) {
                    clipped[p] = !(den(i, j, p) > 0);
                    s[p] = clipped[p] ? bound(i, j, p) : num(i, j, p) / den(i, j, p);
                    white = std::max(white, s[p] / neutral[lv.color[p]]);
                }
                for (int p = 0; p < 4; ++p) {
                    if (clipped[p]) s[p] = std::max(s[p], std::min(white * neutral[lv.color[p]], top));
                    const int x = 2 * i + (p & 1), y = 2 * j + (p >> 1);
                    if (x < ref.width && y < ref.height)
                        ref.data[size_t(y) * ref.width + x] = uint16_t(std::clamp(std::lround(kBlack + s[p] * full), 0L, 65535L));
                }
            }
    });
    // The noise left, as a profile in the new units (a fraction u of white
    // is now u * k) for the develop's noise reduction: at each level, the
    // inverse of the summed weights of the frames that hold it unclipped
    // (the brighter frames take most of it off the shadows), fitted as
    // S u + O by least squares relative to the variance.
    const double k = std::min(1.0, lowest);
    for (auto& n : ref.noise.planes) {
        double sxx = 0, sx = 0, s1 = 0, sxy = 0, sy = 0;
        for (double e = -12; e <= std::log2(top) - 0.2; e += 0.25) {
            const double level = std::exp2(e);
            double weight = level < kClipStart ? merged_frames / (n[0] * level + n[1]) : 0.0;
            for (double r : ratios)
                if (level * r < kClipStart) weight += r * r / (n[0] * r * level + n[1]);
            if (!(weight > 0)) continue;
            const double u = level * k, var = k * k / weight, rel = 1.0 / (var * var);
            sxx += rel * u * u, sx += rel * u, s1 += rel, sxy += rel * u * var, sy += rel * var;
        }
        const double det = sxx * s1 - sx * sx;
        if (det > 0) {
            n[0] = std::max((sxy * s1 - sx * sy) / det, 1e-9);
            n[1] = std::max((sxx * sy - sx * sxy) / det, 1e-12);
        } else {
            n[0] = n[0] * k / merged_frames, n[1] = n[1] * k * k / merged_frames;
        }
    }
    ref.black = BlackLevel{};
    ref.black.pattern = {kBlack};
    ref.white_level = 65535;
    ref.bits = 16;
    ref.color.baseline_exposure += headroom;
    rep.headroom_ev = headroom;
    ref.shot.software = "obscura burst (" + std::to_string(merged_frames + others.size()) + " frames, " +
                        std::to_string(others.size()) + " of other exposures, merged)";
    rep.seconds_merge += seconds_since(t);
    return ref;
}

}  // namespace obscura::burst
