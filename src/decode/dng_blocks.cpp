// Strips and tiles of a DNG raw image, decoded block by block on every core.
//
// Each block is decoded into samples of its own (integers or floats), then
// placed: its interleaved fields put back where they belong (DNG 1.7 Row/
// ColumnInterleaveFactor), each sample taken through the SampleMap to a
// 16-bit code. Uncompressed integer data skips the copy: it is unpacked
// straight into the image, the rows of one big strip split over the cores
// (at 100+ MP most of that time is the first touch of the image's pages).
#include "dng_blocks.h"

#include <jxl/decode.h>
#include <jxl/thread_parallel_runner.h>
#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <csetjmp>
#include <cstring>
#include <memory>

#include <jpeglib.h>

#include "../core/jpeg_error.h"
#include "../core/lazy_library.h"
#include "../core/parallel.h"
#include "lossless_jpeg.h"
#include "obscura/error.h"
#include "tiff_reader.h"

namespace obscura {
namespace {

enum Tag : uint16_t {
    kRowsPerStrip = 278, kStripOffsets = 273, kStripByteCounts = 279, kTileWidth = 322, kTileLength = 323,
    kTileOffsets = 324, kTileByteCounts = 325,
};

enum Compression : int {
    kNone = 1, kLosslessJpeg = 7, kDeflate = 8, kDeflateOld = 32946, kLossyJpeg = 34892, kJpegXl = 52546,
};

struct Block {
    uint64_t offset, bytes;
    int index;                 // in the file's list, for messages
    int block_w, block_h;      // as stored (tiles are whole even at the edges)
    int x0, y0, copy_w, copy_h;
};

// A block's decoded samples: block_w x block_h x spp, row-major.
struct Decoded {
    std::vector<uint16_t> ints;
    std::vector<float> floats;
};

float half_to_float(uint16_t h) {
    uint32_t sign = uint32_t(h >> 15) << 31, exponent = (h >> 10) & 31, mantissa = h & 1023;
    if (exponent == 31) return std::bit_cast<float>(sign | 0x7f800000u | mantissa << 13);
    if (exponent == 0) {
        float v = std::ldexp(float(mantissa), -24);
        return sign ? -v : v;
    }
    return std::bit_cast<float>(sign | (exponent + 112) << 23 | mantissa << 13);
}

// DNG's 24-bit float: sign, 7 exponent bits (bias 63), 16 mantissa bits.
float fp24_to_float(uint32_t v) {
    uint32_t sign = (v >> 23) & 1, exponent = (v >> 16) & 0x7f, mantissa = v & 0xffff;
    if (exponent == 0x7f) return std::bit_cast<float>(sign << 31 | 0x7f800000u | mantissa << 7);
    if (exponent == 0 && mantissa == 0) return sign ? -0.0f : 0.0f;
    if (exponent == 0) {
        float f = std::ldexp(float(mantissa), -16 - 62);
        return sign ? -f : f;
    }
    return std::bit_cast<float>(sign << 31 | (exponent + 64) << 23 | mantissa << 7);
}

// Rows [r0, r1) of packed `bits`-bit integers (MSB first, rows padded to
// bytes; 8 and 16-bit in the file's byte order) into `out`, row_samples
// read per row, copy_samples kept, rows `stride` apart.
void unpack_rows(const uint8_t* src, int bits, bool little, size_t row_samples, size_t copy_samples, uint16_t* out,
                 size_t stride, int r0, int r1) {
    const size_t row_bytes = (row_samples * bits + 7) / 8;
    for (int r = r0; r < r1; ++r) {
        const uint8_t* p = src + size_t(r) * row_bytes;
        uint16_t* o = out + size_t(r) * stride;
        if (bits == 16 && little == (std::endian::native == std::endian::little)) {
            std::memcpy(o, p, copy_samples * 2);  // the file's byte order is ours
        } else if (bits == 16) {
            for (size_t c = 0; c < copy_samples; ++c)
                o[c] = little ? uint16_t(p[2 * c] | p[2 * c + 1] << 8) : uint16_t(p[2 * c] << 8 | p[2 * c + 1]);
        } else if (bits == 8) {
            for (size_t c = 0; c < copy_samples; ++c) o[c] = p[c];
        } else {
            uint64_t acc = 0;
            int have = 0;
            size_t at = 0;
            for (size_t c = 0; c < copy_samples; ++c) {
                while (have < bits) {
                    acc = acc << 8 | p[at++];
                    have += 8;
                }
                o[c] = uint16_t((acc >> (have - bits)) & ((1u << bits) - 1));
                have -= bits;
            }
        }
    }
}

// Floats of 16, 24 or 32 bits in the file's byte order.
void unpack_floats(const uint8_t* p, int bits, bool little, size_t n, float* out) {
    const int bytes = bits / 8;
    for (size_t i = 0; i < n; ++i, p += bytes) {
        uint32_t v = 0;
        for (int b = 0; b < bytes; ++b) v |= uint32_t(little ? p[b] : p[bytes - 1 - b]) << (8 * b);
        out[i] = bits == 16 ? half_to_float(uint16_t(v)) : bits == 24 ? fp24_to_float(v) : std::bit_cast<float>(v);
    }
}

std::string block_name(const Block& b, bool tiled) {
    return std::string(tiled ? "tile " : "strip ") + std::to_string(b.index);
}

// zlib's inflate into exactly `expected` bytes: more is a damaged block (or a
// decompression bomb) and stops there; fewer is a truncated one.
std::vector<uint8_t> inflate_block(const uint8_t* data, size_t size, size_t expected, const std::string& where) {
    std::vector<uint8_t> out(expected + 1);
    z_stream z{};
    if (inflateInit(&z) != Z_OK) throw Error(where + ": zlib cannot start");
    z.next_in = const_cast<uint8_t*>(data);
    z.avail_in = uInt(std::min<size_t>(size, 0xffffffffu));
    z.next_out = out.data();
    z.avail_out = uInt(out.size());
    int rc = inflate(&z, Z_FINISH);
    size_t got = out.size() - z.avail_out;
    inflateEnd(&z);
    if (rc != Z_STREAM_END && rc != Z_OK && rc != Z_BUF_ERROR) throw Error(where + ": Deflate data is damaged (zlib error " + std::to_string(rc) + ")");
    if (got > expected) throw Error(where + ": Deflate data holds more than its block");
    if (got < expected) throw Error(where + ": Deflate data is shorter than its block (truncated?)");
    out.resize(expected);
    return out;
}

// Undoes the TIFF/DNG predictors on one inflated block, in place where the
// samples stay bytes: horizontal differences (2, and DNG's 34892/34893 over
// 2 and 4 pixels) on integers; floating point (3, 34894/34895): each row's
// bytes stored as byte planes (most significant first) with horizontal
// byte differences.
void decode_deflated(std::vector<uint8_t>& bytes, const RawLayout& L, const Block& b, bool little, Decoded& out,
                     const std::string& where) {
    const size_t spp = size_t(L.samples_per_pixel), row_samples = size_t(b.block_w) * spp;
    const int p = L.predictor;
    const bool fp_pred = p == 3 || p == 34894 || p == 34895, int_pred = p == 2 || p == 34892 || p == 34893;
    if (p != 1 && !fp_pred && !int_pred) throw Error(where + ": predictor " + std::to_string(p) + " is not supported");
    if (fp_pred != L.floating && p != 1) throw Error(where + ": predictor " + std::to_string(p) + " does not fit the sample format");
    const size_t factor = (p == 34892 || p == 34894) ? 2 : (p == 34893 || p == 34895) ? 4 : 1;
    const size_t n = row_samples * size_t(b.block_h);
    if (L.floating) {
        out.floats.resize(n);
        const int nb = L.bits / 8;
        const size_t row_bytes = row_samples * size_t(nb);
        std::vector<uint8_t> row(row_bytes);
        for (int r = 0; r < b.block_h; ++r) {
            uint8_t* src = bytes.data() + size_t(r) * row_bytes;
            if (!fp_pred) {
                unpack_floats(src, L.bits, little, row_samples, out.floats.data() + size_t(r) * row_samples);
                continue;
            }
            const size_t step = spp * factor;
            for (size_t i = step; i < row_bytes; ++i) src[i] = uint8_t(src[i] + src[i - step]);
            for (size_t k = 0; k < row_samples; ++k) {
                uint32_t v = 0;
                for (int by = 0; by < nb; ++by) v = v << 8 | src[size_t(by) * row_samples + k];
                float* o = out.floats.data() + size_t(r) * row_samples + k;
                *o = L.bits == 16 ? half_to_float(uint16_t(v)) : L.bits == 24 ? fp24_to_float(v) : std::bit_cast<float>(v);
            }
        }
        return;
    }
    if (int_pred && L.bits != 8 && L.bits != 16) throw Error(where + ": horizontal predictor on " + std::to_string(L.bits) + "-bit samples");
    out.ints.resize(n);
    unpack_rows(bytes.data(), L.bits, little, row_samples, row_samples, out.ints.data(), row_samples, 0, b.block_h);
    if (int_pred) {
        const size_t step = spp * factor;
        for (int r = 0; r < b.block_h; ++r) {
            uint16_t* row = out.ints.data() + size_t(r) * row_samples;
            for (size_t i = step; i < row_samples; ++i) row[i] = uint16_t(row[i] + row[i - step]);
            if (L.bits == 8)
                for (size_t i = 0; i < row_samples; ++i) row[i] &= 0xff;
        }
    }
}

// Baseline JPEG (DNG's lossy compression, as ProRAW writes it) through
// libjpeg-turbo: 8-bit samples, errors as exceptions.
void decode_lossy_jpeg(const uint8_t* data, size_t size, const Block& b, int spp, Decoded& out, const std::string& where) {
    jpeg_decompress_struct cinfo;
    LibjpegErrors failure;
    cinfo.err = failure.manager();
    failure.base.emit_message = [](j_common_ptr, int) {};
    jpeg_create_decompress(&cinfo);
    if (setjmp(failure.jump)) {
        jpeg_destroy_decompress(&cinfo);
        throw Error(where + ": JPEG data is damaged (" + failure.message + ")");
    }
    jpeg_mem_src(&cinfo, data, static_cast<unsigned long>(size));
    jpeg_read_header(&cinfo, TRUE);
    cinfo.out_color_space = spp == 1 ? JCS_GRAYSCALE : JCS_RGB;
    if (int(cinfo.image_width) != b.block_w || int(cinfo.image_height) != b.block_h) {
        std::string got = std::to_string(cinfo.image_width) + "x" + std::to_string(cinfo.image_height);
        jpeg_destroy_decompress(&cinfo);
        throw Error(where + ": JPEG is " + got + "; the block is " + std::to_string(b.block_w) + "x" + std::to_string(b.block_h));
    }
    if (spp != 1 && spp != 3) {
        jpeg_destroy_decompress(&cinfo);
        throw Error(where + ": lossy JPEG of " + std::to_string(spp) + " samples a pixel");
    }
    jpeg_start_decompress(&cinfo);
    std::vector<uint8_t> row(size_t(b.block_w) * size_t(spp));
    out.ints.resize(row.size() * size_t(b.block_h));
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW rows[1] = {row.data()};
        size_t y = cinfo.output_scanline;
        jpeg_read_scanlines(&cinfo, rows, 1);
        std::copy(row.begin(), row.end(), out.ints.begin() + long(y * row.size()));
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
}

// libjxl and its thread pool, opened at the first JPEG XL block
// (lazy_library.h).
OBSCURA_LAZY_LIBRARY(libjxl, OBSCURA_SONAME_LIBJXL)
OBSCURA_LAZY_LIBRARY(libjxl_threads, OBSCURA_SONAME_LIBJXL_THREADS)
#define JXL(function) OBSCURA_LAZY(libjxl(), function)
#define JXL_THREADS(function) OBSCURA_LAZY(libjxl_threads(), function)

// JPEG XL (DNG 1.7) through libjxl: integers as 16-bit, floats as floats.
// The codestream's size is checked before any pixel is decoded.
void decode_jpeg_xl(const uint8_t* data, size_t size, const Block& b, const RawLayout& L, bool threads, Decoded& out,
                    const std::string& where) {
    for (LazyLibrary* library : {&libjxl(), &libjxl_threads()})
        if (!library->available()) throw Error(where + ": JPEG XL data cannot be read: " + library->problem());
    struct Free {
        void operator()(JxlDecoder* d) const { JXL(JxlDecoderDestroy)(d); }
        void operator()(void* r) const { JXL_THREADS(JxlThreadParallelRunnerDestroy)(r); }
    };
    std::unique_ptr<JxlDecoder, Free> dec(JXL(JxlDecoderCreate)(nullptr));
    std::unique_ptr<void, Free> runner;
    if (!dec) throw Error(where + ": libjxl cannot start");
    if (threads) {
        const size_t workers = JXL_THREADS(JxlThreadParallelRunnerDefaultNumWorkerThreads)();
        runner.reset(JXL_THREADS(JxlThreadParallelRunnerCreate)(nullptr, workers));
        if (runner) JXL(JxlDecoderSetParallelRunner)(dec.get(), JXL_THREADS(JxlThreadParallelRunner), runner.get());
    }
    JXL(JxlDecoderSubscribeEvents)(dec.get(), JXL_DEC_BASIC_INFO | JXL_DEC_FULL_IMAGE);
    JXL(JxlDecoderSetInput)(dec.get(), data, size);
    JXL(JxlDecoderCloseInput)(dec.get());
    const int spp = L.samples_per_pixel;
    JxlPixelFormat format{uint32_t(spp), L.floating ? JXL_TYPE_FLOAT : JXL_TYPE_UINT16, JXL_NATIVE_ENDIAN, 0};
    const size_t n = size_t(b.block_w) * size_t(b.block_h) * size_t(spp);
    uint32_t coded_bits = 16;
    // A lossy (XYB) image comes out of libjxl in the sRGB transfer curve as
    // integers but linear as floats: taken as floats, then coded.
    bool xyb = false;
    std::vector<float> linear;
    for (;;) {
        JxlDecoderStatus status = JXL(JxlDecoderProcessInput)(dec.get());
        if (status == JXL_DEC_ERROR) throw Error(where + ": JPEG XL data is damaged");
        if (status == JXL_DEC_NEED_MORE_INPUT) throw Error(where + ": JPEG XL data ends early (truncated?)");
        if (status == JXL_DEC_BASIC_INFO) {
            JxlBasicInfo info;
            if (JXL(JxlDecoderGetBasicInfo)(dec.get(), &info) != JXL_DEC_SUCCESS) throw Error(where + ": JPEG XL header is damaged");
            if (int(info.xsize) != b.block_w || int(info.ysize) != b.block_h)
                throw Error(where + ": JPEG XL image is " + std::to_string(info.xsize) + "x" + std::to_string(info.ysize) +
                            "; the block is " + std::to_string(b.block_w) + "x" + std::to_string(b.block_h));
            if (int(info.num_color_channels) != spp)
                throw Error(where + ": JPEG XL image has " + std::to_string(info.num_color_channels) + " colour channels; the DNG says " +
                            std::to_string(spp));
            coded_bits = info.bits_per_sample;
            xyb = !info.uses_original_profile;
        } else if (status == JXL_DEC_NEED_IMAGE_OUT_BUFFER) {
            void* buffer;
            size_t bytes;
            if (xyb && !L.floating) format.data_type = JXL_TYPE_FLOAT;
            if (L.floating) out.floats.resize(n), buffer = out.floats.data(), bytes = n * 4;
            else if (xyb) linear.resize(n), buffer = linear.data(), bytes = n * 4;
            else out.ints.resize(n), buffer = out.ints.data(), bytes = n * 2;
            size_t want = 0;
            if (JXL(JxlDecoderImageOutBufferSize)(dec.get(), &format, &want) != JXL_DEC_SUCCESS || want != bytes ||
                JXL(JxlDecoderSetImageOutBuffer)(dec.get(), &format, buffer, bytes) != JXL_DEC_SUCCESS)
                throw Error(where + ": JPEG XL image does not fit its block");
        } else if (status == JXL_DEC_FULL_IMAGE) {
            // libjxl scales a lower-precision image to 16 bits; DNG wants
            // the codes as coded.
            if (!linear.empty()) {
                // In code units, unclamped: the lossy codec's small
                // excursions below black average out as the sensor's noise does.
                const float top = float((1u << std::min<uint32_t>(coded_bits, 16)) - 1);
                for (auto& v : linear) v *= top;
                out.floats = std::move(linear);
                return;
            }
            if (!L.floating && coded_bits < 16) {
                const uint32_t top = (1u << coded_bits) - 1;
                for (auto& v : out.ints) v = uint16_t((uint32_t(v) * top + 32767) / 65535);
            }
            return;
        } else if (status == JXL_DEC_SUCCESS) {
            throw Error(where + ": JPEG XL stream has no image");
        }
    }
}

// Where stored row (or column) k of a block with `factor` interleaved fields
// belongs: field f holds rows f, f + factor, ...; the fields are stored one
// after another.
std::vector<int> deinterleave(int n, int factor) {
    std::vector<int> at(static_cast<size_t>(n));
    int k = 0;
    for (int f = 0; f < factor; ++f)
        for (int r = f; r < n; r += factor) at[size_t(k++)] = r;
    return at;
}

}  // namespace

std::string compression_name(int compression) {
    switch (compression) {
        case kNone: return "uncompressed";
        case kLosslessJpeg: return "lossless JPEG";
        case kDeflate:
        case kDeflateOld: return "Deflate";
        case kLossyJpeg: return "lossy JPEG";
        case kJpegXl: return "JPEG XL";
        default: return "compression " + std::to_string(compression);
    }
}

bool compression_supported(int c) {
    return c == kNone || c == kLosslessJpeg || c == kDeflate || c == kDeflateOld || c == kLossyJpeg || c == kJpegXl;
}

std::vector<uint16_t> decode_jpeg_xl_tile(const uint8_t* data, size_t size, int width, int height, int spp) {
    RawLayout layout;
    layout.width = width, layout.height = height, layout.samples_per_pixel = spp, layout.compression = kJpegXl;
    Block b{0, size, 0, width, height, 0, 0, width, height};
    Decoded d;
    decode_jpeg_xl(data, size, b, layout, false, d, "tile 0");
    if (d.ints.empty())
        for (float v : d.floats) d.ints.push_back(uint16_t(std::isfinite(v) ? std::clamp(v, 0.0f, 65535.0f) : 0.0f));
    return d.ints;
}

Samples16 read_raw_blocks(const TiffReader& tiff, const TiffIfd& ifd, const RawLayout& L, const SampleMap& map,
                          bool as_stored) {
    const std::string& path = tiff.path();
    const int spp = L.samples_per_pixel, width = L.width, height = L.height;
    if (!compression_supported(L.compression))
        throw file_error(path, "raw data in " + compression_name(L.compression) + " is not supported");
    if (L.floating && L.bits != 16 && L.bits != 24 && L.bits != 32)
        throw file_error(path, std::to_string(L.bits) + "-bit floating-point samples are not supported (16, 24, 32)");
    if (!L.floating && (L.bits < 1 || L.bits > 16))
        throw file_error(path, std::to_string(L.bits) + "-bit samples are not supported (1..16)");
    if (L.row_interleave < 1 || L.column_interleave < 1 || L.row_interleave > 16 || L.column_interleave > 16)
        throw file_error(path, "interleave factors out of range (1..16)");

    // The blocks, each checked against the file before anything is allocated.
    std::vector<Block> blocks;
    const auto& e = ifd.entries;
    const bool tiled = e.count(kTileOffsets) > 0;
    const uint64_t bits_per_pixel = uint64_t(L.bits) * uint64_t(spp);
    auto add = [&](int index, uint64_t offset, uint64_t bytes, int bw, int bh, int x0, int y0) {
        Block b{offset, bytes, index, bw, bh, x0, y0, std::min(bw, width - x0), std::min(bh, height - y0)};
        tiff.check_range(offset, bytes, tiled ? "tile" : "strip");
        if (L.compression == kNone) {
            uint64_t need = (uint64_t(bw) * bits_per_pixel + 7) / 8 * uint64_t(tiled ? bh : b.copy_h);
            if (bytes < need) throw file_error(path, "image data is shorter than its size says (truncated?)");
        } else if (bytes < 2) {
            throw file_error(path, block_name(b, tiled) + ": compressed data is empty");
        }
        blocks.push_back(b);
    };
    if (tiled) {
        int tw = int(tiff.integer(ifd, kTileWidth, 0)), th = int(tiff.integer(ifd, kTileLength, 0));
        if (tw <= 0 || th <= 0 || tw > 65536 || th > 65536) throw file_error(path, "bad tile size");
        auto offsets = tiff.integers(e.at(kTileOffsets));
        auto counts = e.count(kTileByteCounts) ? tiff.integers(e.at(kTileByteCounts)) : std::vector<uint64_t>{};
        size_t across = (size_t(width) + tw - 1) / tw, down = (size_t(height) + th - 1) / th;
        if (offsets.size() < across * down || counts.size() < offsets.size())
            throw file_error(path, "DNG has " + std::to_string(offsets.size()) + " tiles; its size needs " + std::to_string(across * down));
        for (size_t ty = 0; ty < down; ++ty)
            for (size_t tx = 0; tx < across; ++tx) {
                size_t i = ty * across + tx;
                add(int(i), offsets[i], counts[i], tw, th, int(tx * tw), int(ty * th));
            }
    } else {
        if (!e.count(kStripOffsets)) throw file_error(path, "raw image has neither strips nor tiles");
        auto offsets = tiff.integers(e.at(kStripOffsets));
        auto counts = e.count(kStripByteCounts) ? tiff.integers(e.at(kStripByteCounts)) : std::vector<uint64_t>{};
        uint64_t rps = std::min<uint64_t>(tiff.integer(ifd, kRowsPerStrip, height), uint64_t(height));
        if (rps == 0) throw file_error(path, "RowsPerStrip is 0");
        size_t strips = (size_t(height) + rps - 1) / rps;
        if (offsets.size() < strips || counts.size() < strips)
            throw file_error(path, "DNG has " + std::to_string(offsets.size()) + " strips; its size needs " + std::to_string(strips));
        for (size_t i = 0; i < strips; ++i) {
            int y0 = int(i * rps);
            add(int(i), offsets[i], counts[i], width, std::min<int>(int(rps), height - y0), 0, y0);
        }
    }
    if ((L.row_interleave > 1 || L.column_interleave > 1) && L.compression != kJpegXl)
        throw file_error(path, "interleaved fields outside JPEG XL tiles are not supported");
    // Lossless JPEG spends at least one bit a sample: a header claiming more
    // samples than its data could hold is refused before the frame is
    // allocated (as the reader did when LibRaw decoded these blocks).
    if (L.compression == kLosslessJpeg) {
        uint64_t bytes = 0;
        for (const Block& b : blocks) bytes += b.bytes;
        if (bytes * 8 < uint64_t(width) * uint64_t(height) * uint64_t(spp))
            throw file_error(path, "compressed image data (" + std::to_string(bytes) + " bytes) is far too short for " +
                                       std::to_string(width) + "x" + std::to_string(height) + " pixels (truncated?)");
    }

    const bool identity = !L.floating && map.table[0].empty();
    // 16-bit samples in this machine's byte order, one block after another
    // with nothing between rows, no table to apply, kept as they are: the
    // file's bytes are the frame, read straight into it.
    if (as_stored && L.compression == kNone && !L.floating && L.bits == 16 && identity &&
        tiff.little_endian() == (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)) {
        const uint64_t row_bytes = uint64_t(width) * uint64_t(spp) * 2, first = blocks[0].offset;
        bool contiguous = true;
        for (const Block& b : blocks) contiguous = contiguous && b.block_w == width && b.offset == first + uint64_t(b.y0) * row_bytes;
        if (contiguous) {
            Samples16 read = read_file_samples(path, first, size_t(width) * height * size_t(spp));
            if (!read.empty()) return read;
        }
    }

    // (Every block is read through the file's map from here on: mapped in one go.)
    uint64_t first = UINT64_MAX, last = 0;
    for (const Block& b : blocks) first = std::min(first, b.offset), last = std::max(last, b.offset + b.bytes);
    if (first < last) tiff.populate(first, last - first);
    Samples16 out(size_t(width) * height * size_t(spp));

    // Uncompressed integers: straight into the image (then through the map,
    // in place).
    if (L.compression == kNone && !L.floating) {
        auto unpack = [&](const Block& b, int r0, int r1) {
            unpack_rows(tiff.data_at(b.offset), L.bits, tiff.little_endian(), size_t(b.block_w) * spp, size_t(b.copy_w) * spp,
                        out.data() + (size_t(b.y0) * width + size_t(b.x0)) * spp, size_t(width) * spp, r0, r1);
        };
        if (blocks.size() == 1)
            parallel_rows(0, blocks[0].copy_h, [&](int r0, int r1) { unpack(blocks[0], r0, r1); }, 256);
        else
            parallel_rows(0, int(blocks.size()), [&](int b0, int b1) {
                for (int i = b0; i < b1; ++i) unpack(blocks[size_t(i)], 0, blocks[size_t(i)].copy_h);
            }, 2);
        if (!identity)
            parallel_rows(0, height, [&](int y0, int y1) {
                uint16_t* p = out.data() + size_t(y0) * width * spp;
                for (size_t i = 0, n = size_t(y1 - y0) * width; i < n; ++i)
                    for (int c = 0; c < spp; ++c, ++p) *p = map.table[c][*p];
            });
        return out;
    }

    const bool one_block = blocks.size() == 1;
    auto code_of_int = [&](uint16_t v, int c) { return map.table[c].empty() ? v : map.table[c][v]; };
    auto code_of_float = [&](float v, int c) {
        float x = v * map.scale[c] + map.offset[c];
        return uint16_t(std::isfinite(x) ? std::clamp(x, 0.0f, 65535.0f) + 0.5f : (x > 0 ? 65535.0f : 0.0f));
    };
    auto decode_block = [&](int i) {
        const Block& b = blocks[size_t(i)];
        const std::string where = path + ": " + block_name(b, tiled);
        const uint8_t* data = tiff.data_at(b.offset);
        const size_t n = size_t(b.block_w) * size_t(b.block_h) * size_t(spp);
        Decoded d;
        switch (L.compression) {
            case kNone:
                if (L.floating) {
                    d.floats.resize(n);
                    unpack_floats(data, L.bits, tiff.little_endian(), n, d.floats.data());
                } else {
                    const size_t row = size_t(b.block_w) * size_t(spp);
                    d.ints.resize(n);
                    unpack_rows(data, L.bits, tiff.little_endian(), row, row, d.ints.data(), row, 0, b.copy_h);
                }
                break;
            case kLosslessJpeg: {
                if (L.floating) throw Error(where + ": lossless JPEG of floating-point samples");
                LosslessJpegFrame f;
                try {
                    f = lossless_jpeg_frame(data, b.bytes);
                } catch (const JpegError& err) {
                    throw Error(where + ": lossless JPEG: " + err.what());
                }
                // A converter may store a block as several components of a
                // fraction of its width (or rows of several): the samples
                // run in the same order, so only their count must agree.
                if (f.samples() != n)
                    throw Error(where + ": lossless JPEG holds " + std::to_string(f.samples()) + " samples; the block holds " +
                                std::to_string(n));
                try {
                    // Straight into the frame when its rows are the block's
                    // (a whole tile or strip inside the image, codes as coded).
                    const size_t block_row = size_t(b.block_w) * spp;
                    if (identity && b.copy_w == b.block_w && b.copy_h == b.block_h && size_t(f.columns) * f.components == block_row) {
                        const size_t frame_row = size_t(width) * spp;
                        uint16_t* at = out.data() + (size_t(b.y0) * width + size_t(b.x0)) * spp;
                        decode_lossless_jpeg(data, b.bytes, at, (size_t(b.block_h) - 1) * frame_row + block_row, one_block, frame_row);
                        return;
                    }
                    d.ints.resize(n);
                    decode_lossless_jpeg(data, b.bytes, d.ints.data(), n, one_block);
                } catch (const JpegError& err) {
                    throw Error(where + ": lossless JPEG: " + err.what());
                }
                break;
            }
            case kDeflate:
            case kDeflateOld: {
                size_t row_bytes = (size_t(b.block_w) * bits_per_pixel + 7) / 8;
                auto bytes = inflate_block(data, b.bytes, row_bytes * size_t(b.block_h), where);
                decode_deflated(bytes, L, b, tiff.little_endian(), d, where);
                break;
            }
            case kLossyJpeg:
                if (L.floating || L.bits != 8) throw Error(where + ": lossy JPEG needs 8-bit samples (BitsPerSample " + std::to_string(L.bits) + ")");
                decode_lossy_jpeg(data, b.bytes, b, spp, d, where);
                break;
            case kJpegXl:
                // (libjxl's own threads only for a big lone tile: starting
                // them costs more than a small tile's decode.)
                decode_jpeg_xl(data, b.bytes, b, L, one_block && n >= (size_t(1) << 20), d, where);
                break;
        }
        // Placed: fields de-interleaved, samples mapped, the block's part
        // that lies inside the image kept.
        if (identity && !d.ints.empty() && L.row_interleave == 1 && L.column_interleave == 1) {
            for (int y = 0; y < b.copy_h; ++y)
                std::memcpy(out.data() + (size_t(b.y0 + y) * width + size_t(b.x0)) * spp, d.ints.data() + size_t(y) * b.block_w * spp,
                            size_t(b.copy_w) * spp * 2);
            return;
        }
        std::vector<int> rows = deinterleave(b.block_h, L.row_interleave), cols = deinterleave(b.block_w, L.column_interleave);
        for (int sr = 0; sr < b.block_h; ++sr) {
            int y = rows[size_t(sr)];
            if (y >= b.copy_h) continue;
            uint16_t* o = out.data() + (size_t(b.y0 + y) * width + size_t(b.x0)) * spp;
            size_t at = size_t(sr) * b.block_w * spp;
            for (int sc = 0; sc < b.block_w; ++sc) {
                int x = cols[size_t(sc)];
                if (x >= b.copy_w) continue;
                for (int c = 0; c < spp; ++c) {
                    size_t k = at + size_t(sc) * spp + size_t(c);
                    o[size_t(x) * spp + size_t(c)] = d.floats.empty() ? code_of_int(d.ints[k], c) : code_of_float(d.floats[k], c);
                }
            }
        }
    };
    if (one_block) decode_block(0);
    else parallel_tasks(int(blocks.size()), decode_block);
    return out;
}

}  // namespace obscura
