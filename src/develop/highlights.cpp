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

#include "core/parallel.h"
#include "obscura/frame_memory.h"
#include "obscura/color_solution.h"

namespace obscura {
namespace {

constexpr double kClipped = 0.98;   // of the range above black: a sample at white
constexpr int kBlock = 8;           // quads a block side (16 x 16 pixels)
constexpr double kBright = 0.25;    // unclipped quads this bright (of white) give a block its colour
constexpr double kNewBlack = 2048;  // the rebuilt frame's black (room for the noise below it)

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

namespace {

// The rebuild, in place, of a frame has_partial_clipping accepted.
void rebuild(RawImage& raw) {
    // (Rewritten below: a frame mapped from its file becomes a copy first,
    // not a fault per page; and the scan then reads the copy.)
    own_file_map(raw.data);
    const ColorSolution color = solve_color(raw.color, raw.source);
    const int qw = raw.width / 2, qh = raw.height / 2;
    const Sites sites(raw);
    const double* black = sites.black;
    const double* range = sites.range;
    const int* colour = sites.colour;
    // A sample's light, white balanced (fractions of white / neutral), by
    // one multiply: the scan below takes it for every bright quad (two
    // divisions a sample were a tenth of a 12 MP JPEG develop's CPU).
    double per_code[4];
    for (int s = 0; s < 4; ++s) per_code[s] = 1.0 / (range[s] * color.neutral[colour[s]]);
    auto light_of = [&](uint16_t v, int s) { return (v - black[s]) * per_code[s]; };
    // A quad's four samples (site s = 2 * row + column in the quad).
    auto samples = [&](int qx, int qy, uint16_t v[4]) {
        const uint16_t* r0 = &raw.data[size_t(2 * qy) * raw.width + size_t(2 * qx)];
        const uint16_t* r1 = r0 + raw.width;
        v[0] = r0[0], v[1] = r0[1], v[2] = r1[0], v[3] = r1[1];
    };
    // A green sample under this cannot make its quad bright (kBright): most
    // quads are passed over on one integer compare.
    uint16_t dim_green = 65535;
    for (int s = 0; s < 4; ++s)
        if (colour[s] == kGreen)
            dim_green = std::min<uint16_t>(dim_green, uint16_t(std::clamp(
                std::floor(black[s] + kBright * range[s] * color.neutral[kGreen]), 0.0, 65535.0)));

    // Each block's colour: the ratios of its bright unclipped quads' summed
    // red and blue to their green, as logs.
    const int bw = (qw + kBlock - 1) / kBlock, bh = (qh + kBlock - 1) / kBlock;
    std::vector<double> sums(size_t(bw) * bh * 3, 0.0);
    parallel_rows(0, bh, [&](int b0, int b1) {
        for (int qy = b0 * kBlock; qy < std::min(qh, b1 * kBlock); ++qy)
            for (int qx = 0; qx < qw; ++qx) {
                uint16_t v[4];
                samples(qx, qy, v);
                bool skip = false, bright = false;
                for (int s = 0; s < 4; ++s) {
                    skip = skip || v[s] >= sites.clip[s];
                    bright = bright || (colour[s] == kGreen && v[s] >= dim_green);
                }
                if (skip || !bright) continue;
                double c[3] = {0, 0, 0};
                int greens = 0;
                for (int s = 0; s < 4; ++s) {
                    c[colour[s]] += light_of(v[s], s);
                    greens += colour[s] == kGreen;
                }
                c[kGreen] /= std::max(greens, 1);
                if (c[kGreen] < kBright || c[kRed] <= 0 || c[kBlue] <= 0) continue;
                double* sum = &sums[(size_t(qy / kBlock) * bw + size_t(qx / kBlock)) * 3];
                for (int k = 0; k < 3; ++k) sum[k] += c[k];
            }
    }, 1);
    std::vector<double> ratio(size_t(bw) * bh * 2, 0.0);
    std::vector<bool> known(size_t(bw) * bh);
    for (size_t b = 0; b < known.size(); ++b)
        if ((known[b] = sums[3 * b + 1] > 0))
            ratio[2 * b] = std::log(sums[3 * b] / sums[3 * b + 1]), ratio[2 * b + 1] = std::log(sums[3 * b + 2] / sums[3 * b + 1]);
    // Spread into the blocks without: each pass gives an unknown block the
    // mean of its known neighbours (blocks nowhere near any stay neutral).
    // Pass by pass, only the blocks next to the last pass's are visited: a
    // 200 MP frame has 800,000 blocks and up to a thousand passes.
    std::vector<size_t> front;
    std::vector<bool> queued(known.size());
    auto queue_neighbours = [&](size_t b) {
        const int by = int(b / size_t(bw)), bx = int(b % size_t(bw));
        for (int y = std::max(0, by - 1); y <= std::min(bh - 1, by + 1); ++y)
            for (int x = std::max(0, bx - 1); x <= std::min(bw - 1, bx + 1); ++x) {
                const size_t k = size_t(y) * bw + x;
                if (!known[k] && !queued[k]) queued[k] = true, front.push_back(k);
            }
    };
    for (size_t b = 0; b < known.size(); ++b)
        if (known[b]) queue_neighbours(b);
    std::vector<double> filled;
    while (!front.empty()) {
        filled.assign(front.size() * 2, 0.0);
        for (size_t i = 0; i < front.size(); ++i) {
            const int by = int(front[i] / size_t(bw)), bx = int(front[i] % size_t(bw));
            double r = 0, l = 0;
            int n = 0;
            for (int y = std::max(0, by - 1); y <= std::min(bh - 1, by + 1); ++y)
                for (int x = std::max(0, bx - 1); x <= std::min(bw - 1, bx + 1); ++x) {
                    const size_t k = size_t(y) * bw + x;
                    if (known[k]) r += ratio[2 * k], l += ratio[2 * k + 1], ++n;
                }
            filled[2 * i] = r / n, filled[2 * i + 1] = l / n;  // (n >= 1: queued next to a known block)
        }
        const std::vector<size_t> pass = std::move(front);
        front.clear();
        for (size_t i = 0; i < pass.size(); ++i) {
            ratio[2 * pass[i]] = filled[2 * i], ratio[2 * pass[i] + 1] = filled[2 * i + 1];
            known[pass[i]] = true;
        }
        for (size_t b : pass) queue_neighbours(b);
    }

    // A stop of headroom, the clipped colours rebuilt, quad by quad (each
    // reads only its own samples, so in place): where the samples have room
    // (a black level one for all, white + range within 16 bits) they stay as
    // read and the white moves up a stop; else every sample is rescaled to
    // 16 bits with white at half of full scale.
    const bool room = raw.black.is_uniform() && black[0] + 2 * range[0] <= 65535.0;
    const double scale = room ? range[0] : (65535.0 - kNewBlack) / 2;  // per fraction of white
    const double base = room ? black[0] : kNewBlack;
    const double to_new[4] = {scale / range[0], scale / range[1], scale / range[2], scale / range[3]};
    // A sample as read, on the rebuilt frame's levels (when it has no room).
    auto rescaled = [&](uint16_t v, int s) {
        return uint16_t(std::clamp(base + (v - black[s]) * to_new[s] + 0.5, 0.0, 65535.0));
    };
    parallel_rows(0, qh, [&](int q0, int q1) {
        for (int qy = q0; qy < q1; ++qy)
            for (int qx = 0; qx < qw; ++qx) {
                uint16_t v[4], out[4];
                samples(qx, qy, v);
                bool clip[4];
                int n = 0;
                for (int s = 0; s < 4; ++s) n += clip[s] = v[s] >= sites.clip[s];
                if (n == 0 && room) continue;
                for (int s = 0; s < 4; ++s)
                    out[s] = room ? v[s] : rescaled(v[s], s);
                auto put = [&](int s, double rebuilt) {
                    const double u = rebuilt * color.neutral[colour[s]];
                    out[s] = uint16_t(std::clamp(base + u * scale + 0.5, 0.0, 65535.0));
                };
                if (n == 4) {
                    // Nothing known but the bounds: neutral, at the highest
                    // (white balanced, the colours' clips differ), which the
                    // looks roll off to white.
                    double top = 0;
                    for (int s = 0; s < 4; ++s) top = std::max(top, light_of(v[s], s));
                    for (int s = 0; s < 4; ++s) put(s, top);
                } else if (n > 0) {
                    const size_t b = size_t(qy / kBlock) * bw + size_t(qx / kBlock);
                    const double log_ratio[3] = {ratio[2 * b], 0.0, ratio[2 * b + 1]};
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
                uint16_t* r0 = &raw.data[size_t(2 * qy) * raw.width + size_t(2 * qx)];
                uint16_t* r1 = r0 + raw.width;
                r0[0] = out[0], r0[1] = out[1], r1[0] = out[2], r1[1] = out[3];
            }
    });
    if (!room) {
        // (An odd last row or column, outside every quad, rescaled alike.)
        for (int y = 0; y < raw.height; ++y)
            for (int x = (y < 2 * qh ? 2 * qw : 0); x < raw.width; ++x) {
                uint16_t& p = raw.data[size_t(y) * raw.width + size_t(x)];
                p = rescaled(p, 2 * (y & 1) + (x & 1));
            }
    }
    if (room) {
        raw.white_level = black[0] + 2 * range[0];
    } else {
        raw.black = BlackLevel{};
        raw.black.pattern = {kNewBlack};
        raw.white_level = 65535;
        raw.bits = 16;
    }
    raw.color.baseline_exposure += 1.0;
    for (auto& p : raw.noise.planes) p[0] /= 2, p[1] /= 4;
}

}  // namespace

bool rebuild_highlights_in_place(RawImage& raw) {
    if (!has_partial_clipping(raw)) return false;
    rebuild(raw);
    return true;
}

std::optional<RawImage> rebuild_highlights(const RawImage& raw) {
    if (!has_partial_clipping(raw)) return std::nullopt;
    RawImage out = raw;
    rebuild(out);
    return out;
}

}  // namespace obscura
