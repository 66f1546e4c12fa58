// Binning: the mean of each n x n cell, in one pass over the rows.
#include "obscura/binning.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "obscura/error.h"

namespace obscura {

RawImage bin_cells(RawImage raw) {
    if (raw.is_linear()) throw file_error(raw.source, "LinearRaw frame has no CFA to bin");
    const int n = raw.cfa.cell_size();
    if (n < 2) throw file_error(raw.source, "binning needs an n x n-cell CFA (quad, nona, hexadeca); this one is " + raw.cfa.name());
    make_black_uniform(raw);
    // The samples move out; `raw` stays the n x n frame's description, and a
    // copy of it (no samples to copy now) becomes the binned frame's.
    const Samples16 cells = std::move(raw.data);
    RawImage out = raw;
    out.width = raw.width / n;
    out.height = raw.height / n;
    if (out.width < 2 || out.height < 2) throw file_error(raw.source, "too small to bin");
    out.cfa = raw.cfa.cells();
    // Levels scaled by up to n: the mean of n^2 samples has ~log2(n) more bits.
    const double scale = std::clamp(std::floor(65535.0 / std::max(1.0, raw.white_level)), 1.0, double(n));
    const double black = raw.black.pattern.empty() ? 0 : raw.black.pattern[0];
    out.black = BlackLevel{};
    out.black.pattern = {black * scale};
    out.white_level = std::min(65535.0, raw.white_level * scale);
    out.bits = std::min(16, raw.bits + int(std::lround(std::log2(scale))));
    out.crop = {(raw.crop.x + n - 1) / n, (raw.crop.y + n - 1) / n, raw.crop.width / n, raw.crop.height / n};
    out.crop.width = std::min(out.crop.width, out.width - out.crop.x);
    out.crop.height = std::min(out.crop.height, out.height - out.crop.y);
    for (auto& p : out.noise.planes) p[0] /= n * n, p[1] /= n * n;
    // The opcodes stay, for the frame they were written for (GainMaps pick
    // pixels of that frame; the other opcodes use relative coordinates).
    if (out.opcode_frame.width == 0) out.opcode_frame = {raw.width, raw.height, raw.cfa};
    out.data.assign(size_t(out.width) * out.height, 0);
    const double norm = scale / double(n * n);
    std::vector<uint32_t> sums(size_t(out.width));
    for (int y = 0; y < out.height; ++y) {
        std::fill(sums.begin(), sums.end(), 0u);
        for (int r = 0; r < n; ++r) {
            const uint16_t* row = &cells[size_t(y * n + r) * raw.width];
            for (int x = 0; x < out.width; ++x)
                for (int c = 0; c < n; ++c) sums[size_t(x)] += row[x * n + c];
        }
        uint16_t* dst = &out.data[size_t(y) * out.width];
        for (int x = 0; x < out.width; ++x) dst[x] = uint16_t(std::min(65535L, std::lround(sums[size_t(x)] * norm)));
    }
    return out;
}

int detect_cell_size(const RawImage& raw) {
    if (raw.width < 96 || raw.height < 96) return 1;
    // Mean |difference| of horizontal and vertical neighbours by phase mod 12
    // (a multiple of 2, 3 and 4): a step that crosses a colour boundary
    // differs by the colours' levels, one inside a cell only by detail.
    constexpr int kPhases = 12;
    double sum[kPhases] = {}, count[kPhases] = {};
    for (int y = 0; y + 1 < raw.height; y += 5)
        for (int x = 0; x + 1 < raw.width; ++x) {
            sum[x % kPhases] += std::abs(int(raw.at(x + 1, y)) - int(raw.at(x, y)));
            count[x % kPhases] += 1;
        }
    for (int x = 0; x < raw.width; x += 5)
        for (int y = 0; y + 1 < raw.height; ++y) {
            sum[y % kPhases] += std::abs(int(raw.at(x, y + 1)) - int(raw.at(x, y)));
            count[y % kPhases] += 1;
        }
    int best = 1;
    double best_ratio = 1.5;  // boundaries must stand out clearly
    for (int n : {2, 3, 4}) {
        double across = 0, inside = 0, na = 0, ni = 0;
        for (int p = 0; p < kPhases; ++p) {
            // The step from p to p + 1 crosses a cell boundary when (p + 1) % n == 0.
            if ((p + 1) % n == 0) across += sum[p], na += count[p];
            else inside += sum[p], ni += count[p];
        }
        if (ni == 0 || na == 0 || inside <= 0) continue;
        double ratio = (across / na) / (inside / ni);
        if (ratio > best_ratio) best_ratio = ratio, best = n;
    }
    return best;
}

bool binning_pays(const RawImage& raw) {
    const int n = raw.cfa.cell_size();
    if (n < 2 || raw.noise.planes.empty()) return false;
    double variance = 0;  // at mid-grey, the noisiest plane
    for (const auto& p : raw.noise.planes) variance = std::max(variance, p[0] * 0.18 + p[1]);
    // (quad: between S 0.01, where the remosaic still wins by 1.5 dB, and
    // S 0.04, where binning wins by up to 0.5; larger cells later: the
    // binned frame is n^2 times smaller.)
    const double threshold = n == 2 ? 0.0075 : 0.015;
    return variance > threshold;
}

}  // namespace obscura
