// The per-format writers behind obscura::encode(). Each writes `path` (a
// temporary file) whole or throws obscura::Error.
#pragma once
#include <string>
#include <vector>

#include "obscura/encode.h"

namespace obscura {

void write_jpeg(const Image& image, const std::string& path, const std::vector<uint8_t>& exif,
                const std::vector<uint8_t>& icc, int quality);
void write_png(const Image& image, const std::string& path, const std::vector<uint8_t>& exif,
               const std::vector<uint8_t>& icc);
void write_tiff16(const Image& image, const std::string& path, const std::vector<uint8_t>& exif,
                  const std::vector<uint8_t>& icc);

// EXIF for the output: the source's, with the shot info filled in where it
// is missing, orientation reset (pixels are already upright) and the size set.
std::vector<uint8_t> output_exif(const OutputMetadata& metadata, int width, int height);

}  // namespace obscura
