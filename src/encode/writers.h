// The per-format writers behind obscura::encode() and OutputFile. Each
// writes `path` (a temporary file) row strip by row strip; finish()
// completes the file. Errors throw obscura::Error naming `path`.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "obscura/encode.h"

namespace obscura {

class FormatWriter {
public:
    virtual ~FormatWriter() = default;
    // Rows arrive in order: y is the next row not yet written.
    virtual void write_rows(const uint16_t* rows, size_t stride, int y, int count) = 0;
    virtual void finish() = 0;
};

struct WriterSetup {
    std::string path;
    int width, height;
    std::vector<uint8_t> exif, icc;
};

std::unique_ptr<FormatWriter> jpeg_writer(const WriterSetup& setup, int quality);
std::unique_ptr<FormatWriter> png_writer(const WriterSetup& setup);
std::unique_ptr<FormatWriter> tiff16_writer(const WriterSetup& setup);
// Light per 16-bit code of a scene-linear image (Image::scene_peak):
// peak * srgb_decode(code / 65535), for the 65536 codes.
std::vector<float> scene_light_table(double peak);

// An HDR HEIF/AVIF: scene-linear rows (Image::scene_peak) in `color_space`,
// written as 10-bit BT.2020 with PQ or HLG.
struct HdrEncoding {
    double scene_peak;
    std::string color_space;
    bool pq;  // else HLG
};
std::unique_ptr<FormatWriter> heif_writer(const WriterSetup& setup, int quality, const HdrEncoding* hdr = nullptr);  // .heic: HEVC
std::unique_ptr<FormatWriter> avif_writer(const WriterSetup& setup, int quality, const HdrEncoding* hdr = nullptr);  // .avif: AV1
// .exr: half floats; scene_peak as Image::scene_peak (0: sRGB-encoded rows).
std::unique_ptr<FormatWriter> exr_writer(const WriterSetup& setup, const std::string& color_space, double scene_peak);

// An empty hidden file beside `path` (".NAME.XXXXXX") to write into and then
// rename over `path`, so a reader never sees half a file.
std::string create_temporary_beside(const std::string& path);
// The finished temporary renamed over `path` (readable by all, like any
// output); throws obscura::Error naming `path`, leaving `temp` to the caller.
void move_into_place(const std::string& temp, const std::string& path);

// EXIF for the output: the source's, with the shot info filled in where it
// is missing, orientation reset (pixels are already upright) and the size set.
std::vector<uint8_t> output_exif(const OutputMetadata& metadata, int width, int height);

}  // namespace obscura
