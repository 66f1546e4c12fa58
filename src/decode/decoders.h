// The concrete decoders behind obscura::decode().
#pragma once
#include <string>
#include <vector>

#include "obscura/raw_image.h"

namespace obscura {

class MappedFile;

// Our DNG reader: tags, CFA or LinearRaw, levels, colour, opcodes; the
// pixels of every compression DNG uses (dng_blocks.h).
RawImage decode_dng(const MappedFile& file);
// True for a TIFF with DNGVersion; throws for a damaged TIFF structure.
bool is_dng(const MappedFile& file);

// Any raw LibRaw can unpack (Bayer sensors).
RawImage decode_with_libraw(const std::string& path);

// The file's EXIF (via exiv2) as a blob for the encoders; empty when none.
std::vector<uint8_t> read_exif_blob(const std::string& path);

}  // namespace obscura
