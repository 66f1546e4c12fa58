#include "lensfun_profile.h"

#include "polyfit.h"

#include <lensfun/lensfun.h>

#include <array>
#include <cmath>
#include <memory>
#include <mutex>
#include <vector>

#include "core/lazy_library.h"

namespace obscura {
namespace {

// lensfun (with GLib), opened at the first lookup (lazy_library.h): its C
// interface, so no C++ symbol of it is bound when the program loads.
OBSCURA_LAZY_LIBRARY(lensfun_library, OBSCURA_SONAME_LENSFUN)
#define LENSFUN(function) OBSCURA_LAZY(lensfun_library(), function)

// The database, loaded once; none when lensfun cannot be opened or loaded.
const lfDatabase* database() {
    static lfDatabase* db = nullptr;
    static std::once_flag once;
    std::call_once(once, [] {
        if (!lensfun_library().available()) return;
        lfDatabase* d = LENSFUN(lf_db_new)();
        if (d && LENSFUN(lf_db_load)(d) == LF_NO_ERROR) db = d;
        else if (d) LENSFUN(lf_db_destroy)(d);
    });
    return db;
}

struct ModifierFree {
    void operator()(lfModifier* m) const { LENSFUN(lf_modifier_destroy)(m); }
};

}  // namespace

std::optional<LensProfile> lensfun_profile(const RawImage& raw) {
    const ShotInfo& shot = raw.shot;
    if (shot.make.empty() || shot.model.empty() || shot.lens.empty() || !shot.focal_mm) return std::nullopt;
    const lfDatabase* db = database();
    if (!db) return std::nullopt;
    const lfCamera** cameras = LENSFUN(lf_db_find_cameras_ext)(db, shot.make.c_str(), shot.model.c_str(), 0);
    if (!cameras) return std::nullopt;
    const lfCamera* camera = cameras[0];
    LENSFUN(lf_free)(cameras);
    const lfLens** lenses = LENSFUN(lf_db_find_lenses_hd)(db, camera, nullptr, shot.lens.c_str(), 0);
    if (!lenses) return std::nullopt;
    const lfLens* lens = lenses[0];
    LENSFUN(lf_free)(lenses);

    const int w = raw.width, h = raw.height;
    float focal = float(*shot.focal_mm), aperture = float(shot.f_number.value_or(8.0));
    std::unique_ptr<lfModifier, ModifierFree> mod(LENSFUN(lf_modifier_new)(lens, camera->CropFactor, w, h));
    if (!mod) return std::nullopt;
    int want = LF_MODIFY_DISTORTION | LF_MODIFY_TCA | LF_MODIFY_VIGNETTING;
    int got = LENSFUN(lf_modifier_initialize)(mod.get(), lens, LF_PF_F32, focal, aperture, 1000.0f, 1.0f, LF_RECTILINEAR,
                                              want, 0);
    if (!(got & want)) return std::nullopt;

    // Sample lensfun's own mapping from the centre to a corner and along
    // the long side, and fit the opcode forms to it.
    const double cx = 0.5 * (w - 1), cy = 0.5 * (h - 1), radius = std::hypot(cx, cy);
    std::vector<std::array<double, 2>> points;
    for (int k = 1; k <= 64; ++k) {
        double t = k / 64.0;
        points.push_back({cx + t * cx, cy + t * cy});                 // to the corner
        if (t * radius <= cx) points.push_back({cx + t * radius, cy});  // along the middle row
    }
    LensProfile out;
    std::string parts;
    if (got & (LF_MODIFY_DISTORTION | LF_MODIFY_TCA)) {
        RadialWarp warp;
        std::vector<double> rs, ratio[3];
        for (const auto& p : points) {
            float res[6];
            if (!LENSFUN(lf_modifier_apply_subpixel_geometry_distortion)(mod.get(), float(p[0]), float(p[1]), 1, 1, res))
                return std::nullopt;
            double r = std::hypot(p[0] - cx, p[1] - cy) / radius;
            rs.push_back(r);
            for (int c = 0; c < 3; ++c) ratio[c].push_back(std::hypot(res[2 * c] - cx, res[2 * c + 1] - cy) / radius / r);
        }
        for (int c = 0; c < 3; ++c) {
            auto a = fit_powers<7>(rs, ratio[c], 1, 0);
            warp.coef[c] = {a[0], a[1], a[2], a[3], a[4], a[5], a[6], 0, 0};
            for (size_t s = 0; s < rs.size(); ++s) {
                double f = 0;
                for (int k = 6; k >= 0; --k) f = a[k] + rs[s] * f;
                out.fit_error_px = std::max(out.fit_error_px, std::abs(f - ratio[c][s]) * rs[s] * radius);
            }
        }
        out.warp = warp;
        parts += got & LF_MODIFY_DISTORTION ? "distortion" : "";
        if (got & LF_MODIFY_TCA) parts += std::string(parts.empty() ? "" : ", ") + "TCA";
    }
    if (got & LF_MODIFY_VIGNETTING) {
        std::vector<double> rs, gain;
        for (const auto& p : points) {
            float px[3] = {1, 1, 1};
            LENSFUN(lf_modifier_apply_color_modification)(mod.get(), px, float(p[0]), float(p[1]), 1, 1,
                                                          LF_CR_3(RED, GREEN, BLUE), int(sizeof px));
            rs.push_back(std::hypot(p[0] - cx, p[1] - cy) / radius);
            gain.push_back(px[1] - 1.0);
        }
        auto k = fit_powers<5>(rs, gain, 2, 2);
        out.vignette = VignetteRadial{{k[0], k[1], k[2], k[3], k[4]}, 0.5, 0.5};
        parts += std::string(parts.empty() ? "" : ", ") + "vignetting";
    }
    out.description = std::string("lensfun: ") + LENSFUN(lf_mlstr_get)(lens->Model) + " (" + parts + ")";
    return out;
}

}  // namespace obscura
