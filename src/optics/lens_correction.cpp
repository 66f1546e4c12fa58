#include "obscura/lens_correction.h"

#include <algorithm>
#include <map>

#include "lensfun_profile.h"
#include "obscura/error.h"

namespace obscura {
namespace {

constexpr int kMaxGrid = 129;  // points per axis of the kernel's gain grid

// The map's relative coordinates put 0 at the first pixel row/column and 1 at
// the last (as the files we test against, and phone DNGs, use).
void add_gain_maps(const RawImage& raw, const std::vector<const GainMap*>& maps, LensCorrection& out) {
    uint32_t most_v = 2, most_h = 2;
    for (const GainMap* g : maps) most_v = std::max(most_v, g->points_v), most_h = std::max(most_h, g->points_h);
    out.grid_w = int(std::min<uint32_t>(kMaxGrid, 2 * most_h + 1));
    out.grid_h = int(std::min<uint32_t>(kMaxGrid, 2 * most_v + 1));
    for (int site = 0; site < 4; ++site) {
        auto& grid = out.site_gains[site];
        grid.assign(size_t(out.grid_w) * out.grid_h, 1.0f);
        uint32_t sx = site & 1, sy = site >> 1;
        for (const GainMap* g : maps) {
            // A map applies to this site when the site's pixels lie on its
            // pitch (area offsets included); only plane 0 exists in a CFA.
            bool hits = (g->col_pitch == 1 || (g->col_pitch == 2 && ((g->left & 1) == sx))) &&
                        (g->row_pitch == 1 || (g->row_pitch == 2 && ((g->top & 1) == sy)));
            if (!hits || g->plane != 0) continue;
            for (int gy = 0; gy < out.grid_h; ++gy)
                for (int gx = 0; gx < out.grid_w; ++gx) {
                    double rv = double(gy) / (out.grid_h - 1), rh = double(gx) / (out.grid_w - 1);
                    double y = rv * (raw.height - 1), x = rh * (raw.width - 1);
                    // Inside the area, counting the pitch's reach: a site's
                    // first pixel may lie one past the area's first row/column.
                    if (y <= double(g->top) - g->row_pitch || y >= g->bottom || x <= double(g->left) - g->col_pitch ||
                        x >= g->right)
                        continue;
                    grid[size_t(gy) * out.grid_w + gx] *= float(g->at(rv, rh, 0));
                }
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
            if (const auto* g = std::get_if<GainMap>(&op.params); g && list < 2 && raw.cfa.is_bayer() &&
                                                                  (g->col_pitch <= 2 && g->row_pitch <= 2)) {
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
