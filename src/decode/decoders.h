// The concrete decoders behind obscura::decode().
#pragma once
#include <string>
#include <vector>

#include "obscura/raw_image.h"

namespace obscura {

class MappedFile;

// Our DNG reader: tags, CFA, levels, colour, opcodes; pixels for uncompressed
// strips/tiles, LibRaw's for compressed ones.
RawImage decode_dng(const MappedFile& file);
// True for a TIFF with DNGVersion; throws for a damaged TIFF structure.
bool is_dng(const MappedFile& file);

// Any raw LibRaw can unpack (Bayer sensors).
RawImage decode_with_libraw(const std::string& path);

// LibRaw's unpacked sensor values for a DNG it can read (lossless JPEG and
// other compressions we do not decode), full image size, row-major.
Samples16 libraw_dng_pixels(const std::string& path, int width, int height);

// The file's EXIF (via exiv2) as a blob for the encoders; empty when none.
std::vector<uint8_t> read_exif_blob(const std::string& path);

}  // namespace obscura
