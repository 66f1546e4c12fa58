// Image: the developed photograph, display-encoded RGB, 16 bits per sample.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "obscura/frame_memory.h"

namespace obscura {

struct Image {
    int width = 0, height = 0;
    Samples16 pixels;  // RGB interleaved, row-major, encoded for `color_space`
    std::string color_space = "sRGB";
    // 0: a finished photograph, display-referred. > 0: scene-linear light in
    // the primaries of `color_space` (the HDR rendition, for OpenEXR and the
    // HDR side of Ultra HDR), stored with the sRGB curve over [0, scene_peak]:
    // light = scene_peak * srgb_decode(code / 65535), 1.0 = the reference white.
    double scene_peak = 0;

    uint16_t at(int x, int y, int c) const { return pixels[(size_t(y) * width + x) * 3 + c]; }
};

// Where developed rows go, strip by strip, top to bottom: `count` rows
// starting at row `y`, each width * 3 samples, `stride` samples apart.
class RowSink {
public:
    virtual ~RowSink() = default;
    virtual void write_rows(const uint16_t* rows, size_t stride, int y, int count) = 0;
};

// Applies an EXIF orientation (1..8) so the result displays upright.
Image oriented(Image image, int exif_orientation);

}  // namespace obscura
