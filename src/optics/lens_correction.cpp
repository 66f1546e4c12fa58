#include "obscura/lens_correction.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <utility>

#include "lensfun_profile.h"
#include "obscura/error.h"

namespace obscura {
namespace {

constexpr int kMaxGrid = 129;   // points per axis of the kernel's gain grid
constexpr int kMaxRepeat = 64;  // pixels per axis over which a map's pixels and the CFA repeat

// The frame the opcodes were written for: the raw itself, or the one a
// remosaic or binning made it from.
struct MapFrame {
    int width, height;
    const CfaPattern& cfa;
    bool is_raw;
};

MapFrame map_frame(const RawImage& raw) {
    if (raw.opcode_frame.width > 0) return {raw.opcode_frame.width, raw.opcode_frame.height, raw.opcode_frame.cfa, false};
    return {raw.width, raw.height, raw.cfa, true};
}

// The repeat, in pixels, over which the frame's CFA and the maps' pitches
// all repeat (0 past kMaxRepeat). (Pitches are >= 1: parse_opcode_list
// refuses zero.)
std::pair<int, int> joint_repeat(const MapFrame& f, const std::vector<const GainMap*>& maps) {
    int64_t w = f.cfa.width, h = f.cfa.height;
    for (const GainMap* g : maps) {
        w = std::lcm(w, int64_t(g->col_pitch));
        h = std::lcm(h, int64_t(g->row_pitch));
        if (w > kMaxRepeat || h > kMaxRepeat) return {0, 0};
    }
    return {int(w), int(h)};
}

// The map's pixel selection: (x, y) of the repeat on its row and column pitch.
bool on_pitch(const GainMap& g, int x, int y) {
    return uint32_t(x) % g.col_pitch == g.left % g.col_pitch && uint32_t(y) % g.row_pitch == g.top % g.row_pitch;
}

// The map's relative coordinates put 0 at the first pixel row/column and 1 at
// the last (as the files we test against, and phone DNGs, use).
void add_gain_maps(const RawImage& raw, const std::vector<const GainMap*>& maps, LensCorrection& out) {
    const MapFrame f = map_frame(raw);
    const auto [repeat_w, repeat_h] = joint_repeat(f, maps);
    // (An n x n-cell raw not yet remosaicked, as `obscura info` plans it,
    // stands for the Bayer frame of its cells.)
    const bool by_parity = f.is_raw && f.cfa.is_bayer();
    const CfaPattern bayer = raw.cfa.cells();
    uint32_t most_v = 2, most_h = 2;
    for (const GainMap* g : maps) most_v = std::max(most_v, g->points_v), most_h = std::max(most_h, g->points_h);
    out.grid_w = int(std::min<uint32_t>(kMaxGrid, 2 * most_h + 1));
    out.grid_h = int(std::min<uint32_t>(kMaxGrid, 2 * most_v + 1));
    for (int site = 0; site < 4; ++site) {
        auto& grid = out.site_gains[site];
        grid.assign(size_t(out.grid_w) * out.grid_h, 0.0f);
        const int sx = site & 1, sy = site >> 1;
        // The pixels of the map frame's repeat this site stands for, each with
        // the maps that select it (only plane 0 exists in a CFA).
        std::vector<std::vector<const GainMap*>> pixels;
        for (int y = 0; y < repeat_h; ++y)
            for (int x = 0; x < repeat_w; ++x) {
                bool mine = by_parity ? (x & 1) == sx && (y & 1) == sy : f.cfa.at(x, y) == bayer.at(sx, sy);
                if (!mine) continue;
                pixels.emplace_back();
                for (const GainMap* g : maps)
                    if (g->plane == 0 && on_pitch(*g, x, y)) pixels.back().push_back(g);
            }
        for (int gy = 0; gy < out.grid_h; ++gy)
            for (int gx = 0; gx < out.grid_w; ++gx) {
                double rv = double(gy) / (out.grid_h - 1), rh = double(gx) / (out.grid_w - 1);
                double y = rv * (f.height - 1), x = rh * (f.width - 1);
                double sum = 0;
                for (const auto& selected : pixels) {
                    double gain = 1;
                    for (const GainMap* g : selected) {
                        // Inside the area, counting the pitch's reach: a site's
                        // first pixel may lie one pitch past the area's first
                        // row/column.
                        if (y <= double(g->top) - g->row_pitch || y >= g->bottom || x <= double(g->left) - g->col_pitch ||
                            x >= g->right)
                            continue;
                        gain *= g->at(rv, rh, 0);
                    }
                    sum += gain;
                }
                grid[size_t(gy) * out.grid_w + gx] = float(pixels.empty() ? 1.0 : sum / double(pixels.size()));
            }
    }
}

}  // namespace

LensCorrection plan_lens_correction(const RawImage& raw) {
    LensCorrection out;
    std::vector<GainMap> cfa_maps;
    for (int list = 0; list < 3; ++list) {
        std::vector<Opcode> ops = parse_opcode_list(raw.opcodes[list], raw.source);
        std::map<std::string, int> used;
        for (auto& op : ops) {
            bool done = false;
            // (GainMaps whose pitches repeat together over more than
            // kMaxRepeat pixels are not supported.)
            auto fits = [&](const GainMap* g) {
                std::vector<const GainMap*> all{g};
                for (const auto& m : cfa_maps) all.push_back(&m);
                return joint_repeat(map_frame(raw), all).first > 0;
            };
            if (const auto* g = std::get_if<GainMap>(&op.params); g && list < 2 && !raw.is_linear() && raw.cfa.cell_size() > 0 && fits(g)) {
                cfa_maps.push_back(*g);
                done = true;
            } else if (const auto* v = std::get_if<VignetteRadial>(&op.params); v && !out.vignette) {
                out.vignette = *v;
                done = true;
            } else if (const auto* w = std::get_if<WarpRectilinear>(&op.params); w && list == 2 && !out.warp) {
                out.warp = radial_warp(*w);
                done = true;
            }
            std::string where = op.name + " (OpcodeList" + std::to_string(list + 1) + ")";
            if (done) {
                ++used[where];
                continue;
            }
            if (!op.optional)
                throw file_error(raw.source, "DNG opcode " + where + " is required by the file but not supported");
            out.skipped.push_back(where);
        }
        for (auto& [name, n] : used) out.applied.push_back(n > 1 ? name + " x" + std::to_string(n) : name);
    }
    // A file that records no corrections of its own gets lensfun's profile
    // for its camera and lens, when the database has one.
    bool has_opcodes = !raw.opcodes[0].empty() || !raw.opcodes[1].empty() || !raw.opcodes[2].empty();
    if (!has_opcodes) {
        if (auto profile = lensfun_profile(raw)) {
            out.warp = profile->warp;
            out.vignette = profile->vignette;
            out.applied.push_back(profile->description);
        }
    }
    if (!cfa_maps.empty()) {
        std::vector<const GainMap*> maps;
        for (const auto& g : cfa_maps) maps.push_back(&g);
        add_gain_maps(raw, maps, out);
    }
    return out;
}

}  // namespace obscura
