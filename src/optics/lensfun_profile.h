// Lens profiles from the lensfun database, for raws whose files carry no
// corrections of their own: found by the shot's camera and lens, and fitted
// to the same forms the DNG opcodes use, so one set of kernels applies both.
#pragma once
#include <optional>
#include <string>

#include "obscura/opcodes.h"
#include "obscura/raw_image.h"
#include "obscura/warp.h"

namespace obscura {

struct LensProfile {
    std::optional<RadialWarp> warp;            // distortion and lateral CA
    std::optional<VignetteRadial> vignette;
    std::string description;                   // "lensfun: <lens> (distortion, TCA, vignetting)"
    double fit_error_px = 0;                   // worst distance of the fitted warp from lensfun's own
};

// nullopt when the shot lacks camera, lens or focal length, or lensfun does
// not know them.
std::optional<LensProfile> lensfun_profile(const RawImage& raw);

}  // namespace obscura
