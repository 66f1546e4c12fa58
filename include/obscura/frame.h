// The watermark frame: a clean band under the photo carrying the shot's
// camera, lens, focal length, f-number, shutter time, ISO and date, typeset
// with HarfBuzz and FreeType in DejaVu Sans (Debian's fonts-dejavu-core).
#pragma once
#include <string>

#include "obscura/image.h"
#include "obscura/raw_image.h"

namespace obscura {

// What the band says, from the shot's EXIF; a value the file lacks is left
// out, never invented (a line may be empty).
struct FrameLines {
    std::string camera;    // "Make Model" (the make once, when the model repeats it)
    std::string lens;      // the lens model
    std::string exposure;  // "26 mm  f/1.8  1/120 s  ISO 100"
    std::string date;      // "2026-11-24 12:34"
};
FrameLines frame_lines(const ShotInfo& shot);

// The photo with the band added below it (same width; the band is a tenth of
// the shorter side high, at least 48 pixels). Throws obscura::Error when the
// fonts are missing.
Image add_frame(const Image& photo, const ShotInfo& shot);

}  // namespace obscura
