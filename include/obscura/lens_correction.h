// Lens corrections for one photo: what its DNG opcodes ask for, prepared
// in the form the develop kernel applies them.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "obscura/opcodes.h"
#include "obscura/raw_image.h"
#include "obscura/warp.h"

namespace obscura {

struct LensCorrection {
    // Shading gains per raw site parity (x & 1) + 2 (y & 1), resampled onto
    // one grid of grid_w x grid_h points spanning the raw image corner to
    // corner (empty: no gain map).
    int grid_w = 0, grid_h = 0;
    std::vector<float> site_gains[4];
    std::optional<VignetteRadial> vignette;  // on the demosaiced linear image
    std::optional<RadialWarp> warp;          // on the developed image
    std::vector<std::string> applied;        // "GainMap x4 (OpcodeList2)", ...
    std::vector<std::string> skipped;        // optional opcodes we do not apply
};

// Reads the raw's opcode lists. GainMaps may pick pixels by any pitch of
// the frame they were written for (raw.opcode_frame when a remosaic or
// binning has changed it): each site's gain is the mean gain of that frame's
// pixels the site stands for, those of its parity when the frame is the raw
// itself, else those of its colour (an n x n-cell frame's gains per cell
// position become one per colour). Throws obscura::Error naming the file when
// an opcode we cannot apply is not marked optional (the file says its
// pixels are wrong without it).
LensCorrection plan_lens_correction(const RawImage& raw);

}  // namespace obscura
