// The burst stage: picks the reference frame, makes each frame's Bayer
// planes and grey pyramid, aligns each alternate frame coarse to fine
// (align_tiles), adds it to the summed spectra (merge_tiles), and finally
// forms the weighted mean (finish_merge) — one frame in memory at a time.
// The noise the merge leaves is the develop's noise reduction's to take off,
// by the merged frame's noise profile.
#include "obscura/burst.h"

#include <HalideBuffer.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <bit>

#include "align_coarse.h"
#include "align_fine.h"
#include "align_mid.h"
#include "finish_merge.h"
#include "merge_kernel.h"
#include "burst/bracket.h"
#include "burst/burst_parts.h"
#include "core/mirror.h"
#include "core/parallel.h"
#include "obscura/binning.h"
#include "obscura/error.h"
#include "obscura/remosaic.h"

namespace obscura {
namespace burst {

double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}


// A new buffer of these extents, uninitialised, in frame memory: counted in
// the memory budget, and huge pages for the large ones (the planes, the
// merge's sums: a 4 KB page fault each cost a fifth of a burst's time here).
template <typename T>
Buffer<T> frame_buffer(const std::vector<int>& extents) {
    Buffer<T> b(nullptr, extents);
    b.allocate(allocate_frame_memory, free_frame_memory);
    return b;
}

// A buffer of these extents and mins: `reuse` when it already is one (a burst
// refills the same buffers frame after frame instead of faulting in fresh
// pages for each), else a new one.
template <typename T>
Buffer<T> recycled(Buffer<T>&& reuse, std::vector<int> extents, std::vector<int> mins) {
    bool fits = reuse.data() != nullptr && reuse.dimensions() == int(extents.size());
    for (size_t d = 0; fits && d < extents.size(); ++d)
        fits = reuse.dim(int(d)).extent() == extents[d] && reuse.dim(int(d)).min() == mins[d];
    if (fits) return std::move(reuse);
    Buffer<T> b = frame_buffer<T>(extents);
    b.set_min(mins);
    return b;
}


Level make_level(int w, int h, int pad, Level&& reuse) {
    return {w, h, pad, recycled(std::move(reuse.img), {w + 2 * pad, h + 2 * pad}, {-pad, -pad})};
}

// Level 0: 2x2 box sums at every raw pixel (each holds one sample of every
// colour, so it is grey whatever the CFA phase: 1-pixel steps are
// measurable). Level 1: the same at even pixels, i.e. one value per Bayer
// quad. Levels 2 and 3: 4x4 means of the level below. Made from the padded
// Bayer planes P0..P3 (x parity + 2 * y parity).
std::array<Level, 4> grey_pyramid(const Buffer<float>& planes, int width, int height, std::array<Level, 4>&& reuse) {
    std::array<Level, 4> lv;
    lv[0] = make_level(width, height, kLevelPad[0], std::move(reuse[0]));
    lv[1] = make_level(plane_extent(width), plane_extent(height), kLevelPad[1], std::move(reuse[1]));
    auto row = [&](int p, int y) { return &planes(0, y, p); };  // indexable from -kPlanePad
    Level& l1 = lv[1];
    parallel_rows(-l1.pad, l1.h + l1.pad, [&](int y0, int y1) {
        for (int y = y0; y < y1; ++y) {
            const float *p0 = row(0, y), *p1 = row(1, y), *p2 = row(2, y), *p3 = row(3, y);
            float* out = &l1.img(0, y);
            for (int x = -l1.pad; x < l1.w + l1.pad; ++x) out[x] = p0[x] + p1[x] + p2[x] + p3[x];
        }
    });
    Level& l0 = lv[0];
    parallel_rows(-l0.pad, l0.h + l0.pad, [&](int y0, int y1) {
        for (int yy = y0; yy < y1; ++yy) {
            const int y = yy >> 1;
            float* out = &l0.img(0, yy);
            const int x0 = (-l0.pad) >> 1, x1 = (l0.w + l0.pad + 1) >> 1;
            if ((yy & 1) == 0) {
                const float *p0 = row(0, y), *p1 = row(1, y), *p2 = row(2, y), *p3 = row(3, y);
                for (int x = x0; x < x1; ++x) {
                    out[2 * x] = p0[x] + p1[x] + p2[x] + p3[x];
                    if (2 * x + 1 < l0.w + l0.pad) out[2 * x + 1] = p1[x] + p3[x] + p0[x + 1] + p2[x + 1];
                }
            } else {
                const float *p2 = row(2, y), *p3 = row(3, y), *q0 = row(0, y + 1), *q1 = row(1, y + 1);
                for (int x = x0; x < x1; ++x) {
                    out[2 * x] = p2[x] + p3[x] + q0[x] + q1[x];
                    if (2 * x + 1 < l0.w + l0.pad) out[2 * x + 1] = p3[x] + q1[x] + p2[x + 1] + q0[x + 1];
                }
            }
        }
    });
    for (int s = 2; s < 4; ++s) {
        const Level& below = lv[size_t(s - 1)];
        Level& l = lv[size_t(s)] = make_level(std::max(1, below.w / 4), std::max(1, below.h / 4), kLevelPad[s], std::move(reuse[size_t(s)]));
        std::vector<float> inner(size_t(l.w) * l.h);
        for (int y = 0; y < l.h; ++y)
            for (int x = 0; x < l.w; ++x) {
                float sum = 0;
                for (int b = 0; b < 4; ++b)
                    for (int a = 0; a < 4; ++a) sum += below.img(std::min(4 * x + a, below.w - 1), std::min(4 * y + b, below.h - 1));
                inner[size_t(y) * l.w + x] = sum / 16;
            }
        for (int y = -l.pad; y < l.h + l.pad; ++y)
            for (int x = -l.pad; x < l.w + l.pad; ++x) l.img(x, y) = inner[size_t(mirror_index(y, l.h)) * l.w + mirror_index(x, l.w)];
    }
    return lv;
}


void report_median_offset(const Buffer<int16_t>& offsets, BurstFrameReport& frame) {
    std::vector<int> xs, ys;
    for (int ty = 0; ty < offsets.dim(1).extent(); ++ty)
        for (int tx = 0; tx < offsets.dim(0).extent(); ++tx) xs.push_back(offsets(tx, ty, 0)), ys.push_back(offsets(tx, ty, 1));
    std::nth_element(xs.begin(), xs.begin() + long(xs.size() / 2), xs.end());
    std::nth_element(ys.begin(), ys.begin() + long(ys.size() / 2), ys.end());
    frame.median_dx = xs[xs.size() / 2], frame.median_dy = ys[ys.size() / 2];
}

// Offsets for every tile of level `s`, coarse to fine.
Buffer<int16_t> align_frame(std::array<Level, 4>& ref, std::array<Level, 4>& alt) {
    Buffer<int16_t> prior, found;
    for (int s = 3; s >= 0; --s) {
        Level& l = ref[size_t(s)];
        // Level 0 uses level 1's tile grid (tiles twice as large in raw pixels).
        const int nx = tile_count(s == 0 ? ref[1].w : l.w), ny = tile_count(s == 0 ? ref[1].h : l.h);
        Buffer<int16_t> start(nx, ny, 2);
        const int limit = kLevelPad[s] - 24 - (s == 0 ? 16 : 0) - kLevelRadius[s];
        for (int ty = 0; ty < ny; ++ty)
            for (int tx = 0; tx < nx; ++tx)
                for (int c = 0; c < 2; ++c) {
                    int v = 0;
                    if (s == 0) {
                        v = 2 * found(tx, ty, c);
                    } else if (s < 3) {
                        // The coarse tile nearest this tile's centre, its offset scaled up.
                        int cx = std::clamp((tx + 2) / 4, 0, found.dim(0).extent() - 1);
                        int cy = std::clamp((ty + 2) / 4, 0, found.dim(1).extent() - 1);
                        v = 4 * found(cx, cy, c);
                    }
                    start(tx, ty, c) = int16_t(std::clamp(v, -limit, limit));
                }
        Buffer<int16_t> out(nx, ny, 2);
        int rc = s == 0 ? align_fine(ref[0].img, alt[0].img, start, limit, out)
                        : s == 1 ? align_mid(l.img, alt[1].img, start, limit, out)
                                 : align_coarse(l.img, alt[size_t(s)].img, start, limit, out);
        if (rc != 0) throw Error("burst: alignment kernel failed (" + std::to_string(rc) + ")");
        found = std::move(out);
    }
    return found;
}

// Sharpness of a frame: mean squared gradient of the 4x4-binned grey image
// (binning keeps noise from passing for detail), over the central 80% (the
// borders show different content from frame to frame of a shaken burst).
double sharpness(const RawImage& raw) {
    const int w = raw.width / 4, h = raw.height / 4;
    if (w < 3 || h < 3) return 0;
    std::vector<float> g(size_t(w) * h);
    parallel_rows(0, h, [&](int y0, int y1) {
        std::vector<uint32_t> rows(size_t(raw.width));
        for (int y = y0; y < y1; ++y) {
            const uint16_t* r = &raw.data[size_t(4 * y) * raw.width];
            for (int x = 0; x < raw.width; ++x) rows[size_t(x)] = r[x] + r[x + raw.width] + r[x + 2 * raw.width] + r[x + 3 * raw.width];
            for (int x = 0; x < w; ++x) g[size_t(y) * w + x] = float(rows[4 * x] + rows[4 * x + 1] + rows[4 * x + 2] + rows[4 * x + 3]);
        }
    });
    double sum = 0;
    const int x0 = w / 10, x1 = w - w / 10 - 1, y0 = h / 10, y1 = h - h / 10 - 1;
    for (int y = y0; y < y1; ++y)
        for (int x = x0; x < x1; ++x) {
            double gx = g[size_t(y) * w + x + 1] - g[size_t(y) * w + x], gy = g[size_t(y + 1) * w + x] - g[size_t(y) * w + x];
            sum += gx * gx + gy * gy;
        }
    return sum / (double(x1 - x0) * (y1 - y0));
}

// One frame as the merge takes it: a 2x2 Bayer frame. An n x n-cell frame
// (quad, nona, hexadeca) is binned or remosaicked as it is read; its cell
// samples are not kept, since after the merge they would put one frame's
// noise back into the merged samples.
// `layout` is the file's own CFA, which frames of one burst share.
RawImage read_frame(const FrameSource& frames, size_t index, const BurstOptions& options, CfaPattern& layout) {
    RawImage raw = frames.read(index);
    const std::string& file = raw.source;
    // (The merge aligns and merges mosaics; a LinearRaw frame was
    // demosaiced and often merged already in the phone.)
    if (raw.is_linear())
        throw file_error(file, "LinearRaw frame (demosaiced in the camera): burst merges CFA raw frames only; develop it alone");
    if (options.cfa) raw.cfa = *options.cfa;
    layout = raw.cfa;
    if (raw.cfa.cell_size() < 2) return raw;
    raw = options.binning ? bin_cells(std::move(raw)) : remosaic(std::move(raw));
    Samples16().swap(raw.cell_samples);
    return raw;
}

void check_compatible(const RawImage& ref, const CfaPattern& ref_layout, const RawImage& alt, const CfaPattern& alt_layout) {
    if (alt.width != ref.width || alt.height != ref.height)
        throw file_error(alt.source, std::to_string(alt.width) + "x" + std::to_string(alt.height) + " frame in a burst of " +
                                         std::to_string(ref.width) + "x" + std::to_string(ref.height));
    // (The same layout as the reference's: Bayer after read_frame when the
    // reference is, which merge_burst checks.)
    if (alt_layout.width != ref_layout.width || alt_layout.colors != ref_layout.colors)
        throw file_error(alt.source, "CFA " + alt_layout.name() + " differs from the reference frame's " + ref_layout.name());
    if (alt.white_level != ref.white_level || alt.black.pattern != ref.black.pattern)
        throw file_error(alt.source, "black or white level differs from the reference frame's (not one burst?)");
}

// Per tile and plane: the variance of one reference sample (DN^2), from the
// tile's mean level and the noise profile.
Buffer<float> reference_noise(const RawImage& ref, const Buffer<float>& planes, int ntx, int nty) {
    const double black = ref.black.pattern.empty() ? 0 : ref.black.pattern[0];
    const double range = std::max(1.0, ref.white_level - black);
    // Means of 8 x 8 blocks of each plane, for blocks -1 .. ntx - 1.
    const int nbx = ntx, nby = nty;
    std::vector<float> block(size_t(nbx) * nby * 4);
    for (int p = 0; p < 4; ++p)
        for (int by = 0; by < nby; ++by)
            for (int bx = 0; bx < nbx; ++bx) {
                double s = 0;
                for (int j = 0; j < 8; ++j)
                    for (int i = 0; i < 8; ++i) s += planes(8 * (bx - 1) + i, 8 * (by - 1) + j, p);
                block[(size_t(p) * nby + by) * nbx + bx] = float(s / 64 - black);
            }
    Buffer<float> var(ntx, nty, 4);
    for (int p = 0; p < 4; ++p) {
        const int color = ref.cfa.at(p & 1, p / 2);
        std::array<double, 2> sn = ref.noise.planes.size() == 3 ? ref.noise.planes[size_t(color)] : ref.noise.planes[0];
        for (int ty = 0; ty < nty; ++ty)
            for (int tx = 0; tx < ntx; ++tx) {
                auto b = [&](int x, int y) { return block[(size_t(p) * nby + std::clamp(y, 0, nby - 1)) * nbx + std::clamp(x, 0, nbx - 1)]; };
                double mean = (b(tx, ty) + b(tx + 1, ty) + b(tx, ty + 1) + b(tx + 1, ty + 1)) / 4;
                var(tx, ty, p) = float(sn[0] * range * std::max(mean, 0.0) + sn[1] * range * range);
            }
    }
    return var;
}

// Noise variance of an alternate sample relative to a direct one: when the
// offset changes the colour, the merge interpolates half-way with a cubic
// (-1, 9, 9, -1)/16 along each odd direction (gain 164/256 per direction).
// Green moved by odd amounts both ways lands on the other green: direct.
float interpolation_gain(int dx, int dy, bool green) {
    constexpr float kCubic = 164.0f / 256.0f;
    const bool ox = dx & 1, oy = dy & 1;
    if (green && ox && oy) return 1.0f;
    return (ox ? kCubic : 1.0f) * (oy ? kCubic : 1.0f);
}

// The four Bayer planes of a raw frame as floats, padded by mirroring (which
// keeps each sample's colour): what the merge and the grey pyramid read.
Buffer<float> padded_planes(const RawImage& raw, Buffer<float>&& reuse) {
    const int width = raw.width, height = raw.height;
    const int w = plane_extent(width) + kPlanePad + kPlanePadEnd, h = plane_extent(height) + kPlanePad + kPlanePadEnd;
    Buffer<float> planes = recycled(std::move(reuse), {w, h, 4}, {-kPlanePad, -kPlanePad, 0});
    // Raw column of each plane column, per x parity (mirrored outside).
    std::vector<int> column[2];
    for (int px = 0; px < 2; ++px)
        for (int x = -kPlanePad; x < plane_extent(width) + kPlanePadEnd; ++x) column[px].push_back(mirror_index(2 * x + px, width));
    const int inner = width / 2;  // plane columns whose raw column is inside for both parities
    parallel_rows(-kPlanePad, plane_extent(height) + kPlanePadEnd, [&](int y0, int y1) {
        for (int p = 0; p < 4; ++p) {
            const int px = p & 1;
            const int* col = column[px].data() + kPlanePad;
            for (int y = y0; y < y1; ++y) {
                const uint16_t* src = &raw.data[size_t(mirror_index(2 * y + p / 2, height)) * width];
                float* dst = &planes(0, y, p);
                for (int x = -kPlanePad; x < 0; ++x) dst[x] = src[col[x]];
                for (int x = 0; x < inner; ++x) dst[x] = src[2 * x + px];
                for (int x = inner; x < plane_extent(width) + kPlanePadEnd; ++x) dst[x] = src[col[x]];
            }
        }
    });
    return planes;
}

// When the files have no noise profile: estimate one from the reference and
// the first alternate frame, aligned. In the middle 8 x 8 of every tile whose
// offset keeps the colours, ref - alt has no texture left, only the noise of
// both frames (and motion, which only adds). Per level, the lower quarter of
// those tiles' variances (corrected for where a quarter of a chi-square with
// 63 degrees of freedom falls, ~0.88 of its mean) gives S and O by least
// squares.
NoiseProfile estimate_noise(const RawImage& ref, const Buffer<float>& ref_planes, const Buffer<float>& alt_planes,
                            const Buffer<int16_t>& offsets) {
    const double black = ref.black.pattern.empty() ? 0 : ref.black.pattern[0];
    const double range = std::max(1.0, ref.white_level - black);
    constexpr int kBins = 16;
    constexpr double kLowerQuarter = 0.88;
    std::vector<std::vector<std::pair<double, double>>> bins(kBins);  // (level, variance of one frame)
    const int nx = offsets.dim(0).extent(), ny = offsets.dim(1).extent();
    for (int ty = 1; ty + 1 < ny; ++ty)
        for (int tx = 1; tx + 1 < nx; ++tx) {
            const int dx = offsets(tx, ty, 0), dy = offsets(tx, ty, 1);
            if ((dx & 1) || (dy & 1)) continue;
            for (int p = 0; p < 4; ++p) {
                double s = 0, sd = 0, sdd = 0;
                for (int y = 8 * ty - 4; y < 8 * ty + 4; ++y)
                    for (int x = 8 * tx - 4; x < 8 * tx + 4; ++x) {
                        double r = ref_planes(x, y, p), d = r - alt_planes(x + dx / 2, y + dy / 2, p);
                        s += r, sd += d, sdd += d * d;
                    }
                double level = (s / 64 - black) / range;
                if (level <= 0 || level >= 0.95) continue;
                double var = (sdd - sd * sd / 64) / 63 / 2 / kLowerQuarter / (range * range);
                bins[size_t(std::min(kBins - 1, int(level * kBins)))].push_back({level, var});
            }
        }
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    int n = 0;
    for (auto& bin : bins) {
        if (bin.size() < 8) continue;
        std::sort(bin.begin(), bin.end(), [](auto& a, auto& b) { return a.second < b.second; });
        for (size_t k = 0; k < bin.size() / 4; ++k) {
            sx += bin[k].first, sy += bin[k].second, sxx += bin[k].first * bin[k].first, sxy += bin[k].first * bin[k].second;
            ++n;
        }
    }
    NoiseProfile np;
    double s = 1e-4, o = 1e-6;
    if (n >= 2 && n * sxx - sx * sx > 0) {
        s = (n * sxy - sx * sy) / (n * sxx - sx * sx);
        o = (sy - s * sx) / n;
    }
    np.planes = {{std::max(s, 1e-7), std::max(o, 1e-9)}};
    return np;
}

// Where the merge refused frames (motion) it kept more of the reference's
// noise than the merged profile (the frames' over their count) says. Per
// tile, the mean over its coefficients and planes of 1 / (1 + K), K the
// weights the other frames got there (the merged noise's share of one
// frame's, were each weight 0 or 1), as a multiple of the median tile's,
// never below 1: the develop's denoise takes it as the local noise
// (NoiseProfile::map). Tile t's centre is quad 8 t - 1/2, raw pixel 16 t - 1/2.
void map_merged_noise(const Buffer<uint16_t>& sums, int ntx, int nty, NoiseProfile& noise) {
    auto from_bfloat16 = [](uint16_t bits) { return std::bit_cast<float>(uint32_t(bits) << 16); };
    std::vector<float> share(size_t(ntx) * size_t(nty));
    const int nu = sums.dim(2).extent(), nv = sums.dim(3).extent();
    parallel_rows(0, nty, [&](int y0, int y1) {
        for (int ty = y0; ty < y1; ++ty) {
            float* row = &share[size_t(ty) * ntx];  // (tiles innermost in the sums: a row at a time)
            for (int p = 0; p < 4; ++p)
                for (int v = 0; v < nv; ++v)
                    for (int u = 0; u < nu; ++u) {
                        const uint16_t* k = &sums(0, 2, u, v, p, ty);
                        for (int tx = 0; tx < ntx; ++tx) row[tx] += 1.0f / (1.0f + std::max(0.0f, from_bfloat16(k[tx])));
                    }
            for (int tx = 0; tx < ntx; ++tx) row[tx] /= float(4 * nu * nv);
        }
    }, 8);
    std::vector<float> sorted = share;
    std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
    const float typical = std::max(sorted[sorted.size() / 2], 1e-6f);
    for (float& v : share) v = std::max(1.0f, v / typical);
    noise.map = std::move(share);
    noise.map_width = ntx, noise.map_height = nty;
    noise.map_step = 16, noise.map_origin = -0.5;
}

}  // namespace burst

using namespace burst;

RawImage merge_burst(const FrameSource& files, const BurstOptions& options, BurstReport* report) {
    using clock = std::chrono::steady_clock;
    if (files.count == 0 || !files.read) throw Error("burst: no frames given");
    if (options.reference >= int(files.count))
        throw Error("burst: --reference " + std::to_string(options.reference) + " but only " + std::to_string(files.count) + " frames");
    if (!(options.strength > 0 && options.strength <= 1000)) throw Error("burst: strength must be in (0, 1000]");
    BurstReport local;
    BurstReport& rep = report ? *report : local;
    rep = {};
    rep.frames.resize(files.count);

    // The reference: given, or the sharpest of the first three of the
    // first frame's exposure (a later one only when clearly sharper, by 10%:
    // the first is nearest the shutter press, and a frame blurred by motion
    // loses far more than that). Frames of other exposures (a bracket) are
    // fused after the merge of those of the reference's.
    auto t0 = clock::now();
    RawImage ref;
    CfaPattern ref_layout, layout;
    std::vector<size_t> others;
    std::vector<float> ref_levels;  // the reference's exposure, measured once when the files do not say
    if (options.reference >= 0) {
        rep.reference = options.reference;
        ref = read_frame(files, size_t(options.reference), options, ref_layout);
        rep.frames[size_t(options.reference)].file = ref.source;
    } else {
        double best = -1;
        for (int i = 0; i < std::min<int>(3, int(files.count)); ++i) {
            RawImage candidate = read_frame(files, size_t(i), options, layout);
            rep.frames[size_t(i)].file = candidate.source;
            if (i > 0) {
                check_compatible(ref, ref_layout, candidate, layout);
                if (!same_exposure(exposure_ratio(ref, candidate, ref_levels))) {
                    others.push_back(size_t(i));
                    continue;
                }
            }
            double s = sharpness(candidate);
            rep.frames[size_t(i)].sharpness = s;
            if (s > best * 1.10) best = s, rep.reference = i, ref = std::move(candidate), ref_layout = layout, ref_levels.clear();
        }
    }
    rep.seconds_decode += seconds_since(t0);
    if (!ref.cfa.is_bayer())
        throw file_error(ref.source, "burst merge needs Bayer or n x n-cell Bayer frames; this one is " + ref.cfa.name());
    if (ref.width < 64 || ref.height < 64) throw file_error(ref.source, "too small for a burst merge (64 x 64 at least)");
    const bool estimate = ref.noise.planes.empty();

    const int wp = (plane_extent(ref.width) + 7) / 8 * 8, hp = (plane_extent(ref.height) + 7) / 8 * 8;
    const int ntx = tile_count(plane_extent(ref.width)), nty = tile_count(plane_extent(ref.height));
    Buffer<float> ref_planes = padded_planes(ref);
    std::array<Level, 4> ref_grey;  // (made when a frame of the reference's exposure needs it)
    Buffer<float> ref_var;
    if (!estimate) ref_var = reference_noise(ref, ref_planes, ntx, nty);
    Buffer<uint8_t> plane_color(4);
    for (int p = 0; p < 4; ++p) plane_color(p) = uint8_t(ref.cfa.at(p & 1, p / 2));
    // The merge's spectra: per tile, plane and coefficient, the weighted
    // differences and the weights, summed over the frames.
    // (Made at the first frame merged: a bracket with no other frame of the
    // reference's exposure has none to sum.)
    Buffer<uint16_t> sums;  // bfloat16
    auto spectra = [&] {
        if (sums.data()) return;
        // Zeros (0x0000 is 0.0), 166 MB at 12 MP, on huge pages, as the
        // system gives them: a memset first cost a tenth of the burst. (Not
        // Buffer::fill either: its walk over six dimensions computes a
        // pointer far past the end, which UBSan reports.)
        sums = Buffer<uint16_t>(nullptr, {(ntx + 15) / 16 * 16, 3, 16, 9, 4, nty});
        sums.allocate(allocate_zeroed_frame_memory, free_frame_memory);
    };
    Buffer<float> tile_noise(ntx, nty, 4);
    int merged = 1;

    Buffer<float> alt_planes;
    std::array<Level, 4> alt_grey;
    for (size_t f = 0; f < files.count; ++f) {
        if (int(f) == rep.reference) continue;
        if (std::find(others.begin(), others.end(), f) != others.end()) continue;
        auto t = clock::now();
        RawImage alt = read_frame(files, f, options, layout);
        rep.frames[f].file = alt.source;
        check_compatible(ref, ref_layout, alt, layout);
        if (!same_exposure(exposure_ratio(ref, alt, ref_levels))) {
            others.push_back(f);
            rep.seconds_decode += seconds_since(t);
            continue;
        }
        alt_planes = padded_planes(alt, std::move(alt_planes));
        rep.seconds_decode += seconds_since(t);
        t = clock::now();
        if (!ref_grey[0].img.data()) ref_grey = grey_pyramid(ref_planes, ref.width, ref.height);
        alt_grey = grey_pyramid(alt_planes, alt.width, alt.height, std::move(alt_grey));
        Buffer<int16_t> offsets = align_frame(ref_grey, alt_grey);
        if (!ref_var.data()) {
            ref.noise = estimate_noise(ref, ref_planes, alt_planes, offsets);
            ref_var = reference_noise(ref, ref_planes, ntx, nty);
        }
        rep.seconds_align += seconds_since(t);
        t = clock::now();
        for (int ty = 0; ty < nty; ++ty)
            for (int tx = 0; tx < ntx; ++tx) {
                const int dx = offsets(tx, ty, 0), dy = offsets(tx, ty, 1);
                for (int p = 0; p < 4; ++p) {
                    float g = interpolation_gain(dx, dy, plane_color(p) == 1);
                    tile_noise(tx, ty, p) = float(64.0 * ref_var(tx, ty, p) * (1.0 + g));
                }
            }
        report_median_offset(offsets, rep.frames[f]);
        spectra();
        if (int rc = merge_kernel(ref_planes, alt_planes, offsets, tile_noise, plane_color, kMergeLimit,
                                   float(options.strength), kMotionLow, kMotionHigh, sums, sums); rc != 0)
            throw Error("burst: merge kernel failed (" + std::to_string(rc) + ")");
        ++merged;
        rep.seconds_merge += seconds_since(t);
    }

    // The weighted mean of the frames per coefficient.
    auto t = clock::now();
    // (A bracket with one frame of the reference's exposure fuses the others
    // onto it as it is: there is nothing to merge.)
    Buffer<float> mean;
    if (others.empty() || merged > 1) {
        spectra();
        mean = frame_buffer<float>({wp, hp, 4});
        if (int rc = finish_merge(ref_planes, sums, mean); rc != 0)
            throw Error("burst: merge kernel failed (" + std::to_string(rc) + ")");
        if (others.empty() && merged > 1) map_merged_noise(sums, ntx, nty, ref.noise);
    }
    rep.seconds_merge += seconds_since(t);
    if (!others.empty()) {
        // (What the frequency merge held is no longer needed.)
        sums = Buffer<uint16_t>();
        alt_planes = Buffer<float>();
        ref_grey = alt_grey = {};
        std::sort(others.begin(), others.end());
        return fuse_exposures(std::move(ref), ref_planes, merged > 1 ? mean : ref_planes, merged, others, files, options,
                              ref_layout, rep);
    }
    t = clock::now();
    // Rescaled to 16 bits.
    const double scale = std::clamp(std::floor(65535.0 / std::max(1.0, ref.white_level)), 1.0, 16.0);
    parallel_rows(0, ref.height, [&](int y0, int y1) {
        for (int y = y0; y < y1; ++y) {
            uint16_t* row = &ref.data[size_t(y) * ref.width];
            for (int x = 0; x < ref.width; ++x) {
                float v = mean(x / 2, y / 2, (x & 1) + 2 * (y & 1));
                row[x] = uint16_t(std::clamp(std::lround(v * scale), 0L, 65535L));
            }
        }
    });
    for (auto& b : ref.black.pattern) b *= scale;
    for (auto& b : ref.black.delta_h) b *= scale;
    for (auto& b : ref.black.delta_v) b *= scale;
    ref.white_level = std::min(65535.0, ref.white_level * scale);
    ref.bits = 16;
    for (auto& n : ref.noise.planes) n[0] /= merged, n[1] /= merged;
    ref.shot.software = "obscura burst (" + std::to_string(merged) + " frames merged)";
    rep.seconds_merge += seconds_since(t);
    return ref;
}

}  // namespace obscura
