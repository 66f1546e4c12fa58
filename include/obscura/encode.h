// encode: Image -> JPEG, PNG, 16-bit TIFF, HEIF or AVIF, with EXIF and an ICC profile,
// or OpenEXR (scene-linear half floats),
// written to a temporary file beside the target and renamed into place.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "obscura/image.h"
#include "obscura/raw_image.h"

namespace obscura {

enum class Format { Jpeg, Png, Tiff, Heif, Avif, Exr };

// From the file name's extension; throws obscura::Error for unknown ones.
Format format_for_path(const std::string& path);
const char* format_name(Format f);

struct EncodeOptions {
    int jpeg_quality = 92;  // also the HEIF/AVIF quality
    bool overwrite = true;  // false: refuse to replace an existing file
    // Scene-linear rows into HEIF/AVIF: 10-bit BT.2100 with PQ (true) or HLG.
    bool hdr_pq = true;
};

// Metadata the output carries: the source's EXIF blob (may be empty) and the
// shot info to fill the essentials from when the blob lacks them.
struct OutputMetadata {
    std::vector<uint8_t> exif;
    ShotInfo shot;
    std::string processing;  // what was done beyond the usual (EXIF ImageHistory), e.g. lens corrections
};

inline OutputMetadata metadata_of(const RawImage& raw) { return {raw.exif, raw.shot, {}}; }

void encode(const Image& image, const std::string& path, const OutputMetadata& metadata = {},
            const EncodeOptions& options = {});

// An output file written strip by strip, so a large photo never needs to be
// whole in memory: rows go in top to bottom, then commit() renames the
// temporary file into place. Destroyed without commit(), it leaves nothing.
class OutputFile : public RowSink {
public:
    // Throws obscura::Error (unknown extension, existing file without
    // overwrite, cannot create) naming `path`. `scene_peak` > 0: the rows
    // are scene-linear (Image::scene_peak): OpenEXR, or HDR HEIF/AVIF.
    static std::unique_ptr<OutputFile> open(const std::string& path, int width, int height,
                                            const OutputMetadata& metadata = {}, const EncodeOptions& options = {},
                                            const std::string& color_space = "sRGB", double scene_peak = 0);
    virtual void commit() = 0;
};

// An Ultra HDR JPEG (the gain-map JPEG of Android 14+, Chrome, Photoshop,
// Lightroom): `sdr`, the photograph, is the JPEG every viewer shows; the gain
// map, from `hdr` (its scene-linear rendition, Image::scene_peak), gives an
// HDR display the highlights back. Written to a temporary and renamed.
void encode_ultrahdr(const Image& sdr, const Image& hdr, const std::string& path, const OutputMetadata& metadata = {},
                     const EncodeOptions& options = {});

// 16-bit -> 8-bit, rounded (round(x * 255 / 65535)), as the PNG and HEIF
// writers convert (the JPEG writer converts to Y, Cb, Cr: below).
void to_8bit(const uint16_t* src, uint8_t* dst, size_t n);

// n pixels of interleaved 16-bit RGB -> 8-bit JPEG (JFIF, BT.601 full-range)
// Y, Cb and Cr planes, rounded from the 16-bit values (one rounding, where
// to_8bit and then a JPEG encoder's own conversion round twice).
void rgb16_to_ycbcr8(const uint16_t* rgb, uint8_t* y, uint8_t* cb, uint8_t* cr, size_t n);

// The ICC profile bytes for a colour space name ("sRGB").
std::vector<uint8_t> icc_profile(const std::string& color_space);

}  // namespace obscura
