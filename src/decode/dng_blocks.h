// The pixels of a DNG raw image directory, from its strips or tiles in every
// compression DNG files use: uncompressed (any bit depth, integers or
// floats), lossless JPEG (7), Deflate (8) with its predictors, lossy JPEG
// (34892) and JPEG XL (52546, with row/column interleaved fields). Blocks
// decode in parallel; each is checked against the file and its size before
// anything is allocated for it.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "obscura/frame_memory.h"

namespace obscura {

class TiffReader;
struct TiffIfd;

struct RawLayout {
    int width = 0, height = 0;   // of the stored image
    int samples_per_pixel = 1;   // 1 CFA, 3 LinearRaw
    int bits = 16;               // BitsPerSample
    bool floating = false;       // SampleFormat 3: 16, 24 or 32-bit floats
    int compression = 1;
    int predictor = 1;           // TIFF Predictor (Deflate)
    int row_interleave = 1, column_interleave = 1;  // DNG 1.7 interleaved fields in each tile
};

// How stored samples become the RawImage's 16-bit codes, per sample plane
// (up to 3): integers through a table (none: as stored), floats as
// value * scale + offset, clamped to 0..65535. (A lossy JPEG XL tile of
// integer samples decodes to floats in code units: scale and offset are
// then those of the integers, without a LinearizationTable.)
struct SampleMap {
    std::vector<uint16_t> table[3];
    float scale[3] = {65535, 65535, 65535}, offset[3] = {0, 0, 0};
};

// "uncompressed", "lossless JPEG", "Deflate", "lossy JPEG", "JPEG XL", or
// the code for one we do not read.
std::string compression_name(int compression);
bool compression_supported(int compression);

// One JPEG XL tile of width x height x spp samples, as 16-bit codes (floats
// scaled by 65535): for the fuzzer. Throws obscura::Error.
std::vector<uint16_t> decode_jpeg_xl_tile(const uint8_t* data, size_t size, int width, int height, int spp);

// The image as 16-bit codes, samples_per_pixel interleaved, row-major.
// `as_stored`: the caller keeps these samples as its frame unchanged (no
// crop, no table applied after): uncompressed 16-bit data may then be the
// file itself, mapped (frame_memory.h), instead of a copy.
// Throws obscura::Error naming the file and the block for damaged data.
Samples16 read_raw_blocks(const TiffReader& tiff, const TiffIfd& ifd, const RawLayout& layout, const SampleMap& map,
                          bool as_stored);

}  // namespace obscura
