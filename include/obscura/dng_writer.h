// DNG writer: a RawImage back to a DNG that raw developers open (ours,
// darktable, RawTherapee, LibRaw) — a merged burst, or simulated frames.
#pragma once
#include <string>

#include "obscura/raw_image.h"

namespace obscura {

struct DngWriteOptions {
    bool overwrite = true;  // false: refuse to replace an existing file
};

// Writes `raw` (CFA samples, levels, crop, colour tags, noise profile, opcodes,
// camera and exposure) as an uncompressed DNG 1.4, to a temporary file beside
// `path` that is renamed into place when complete. Throws obscura::Error
// naming `path`.
void write_dng(const RawImage& raw, const std::string& path, const DngWriteOptions& options = {});

}  // namespace obscura
