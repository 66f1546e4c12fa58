// DNG reading per the DNG 1.6 specification: which IFD holds the raw data,
// and how its tags describe the sensor.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include "../core/parallel.h"
#include "decoders.h"
#include "mapped_file.h"
#include "obscura/error.h"
#include "tiff_reader.h"

namespace obscura {
namespace {

enum Tag : uint16_t {
    kNewSubfileType = 254, kImageWidth = 256, kImageLength = 257, kBitsPerSample = 258,
    kCompression = 259, kPhotometric = 262, kMake = 271, kModel = 272, kStripOffsets = 273,
    kOrientation = 274, kSamplesPerPixel = 277, kRowsPerStrip = 278, kStripByteCounts = 279,
    kSoftware = 305, kDateTime = 306, kTileWidth = 322, kTileLength = 323, kTileOffsets = 324,
    kTileByteCounts = 325, kSampleFormat = 339, kCfaRepeatPatternDim = 33421, kCfaPattern = 33422,
    kExposureTime = 33434, kFNumber = 33437, kIso = 34855, kDateTimeOriginal = 36867,
    kFocalLength = 37386, kLensMake = 42035, kLensModel = 42036,
    kDngVersion = 50706, kUniqueCameraModel = 50708, kCfaPlaneColor = 50710, kCfaLayout = 50711,
    kLinearizationTable = 50712, kBlackLevelRepeatDim = 50713, kBlackLevel = 50714,
    kBlackLevelDeltaH = 50715, kBlackLevelDeltaV = 50716, kWhiteLevel = 50717,
    kDefaultCropOrigin = 50719, kDefaultCropSize = 50720, kColorMatrix1 = 50721,
    kColorMatrix2 = 50722, kCameraCalibration1 = 50723, kCameraCalibration2 = 50724,
    kAnalogBalance = 50727, kAsShotNeutral = 50728, kAsShotWhiteXY = 50729,
    kBaselineExposure = 50730, kCalibrationIlluminant1 = 50778, kCalibrationIlluminant2 = 50779,
    kActiveArea = 50829, kForwardMatrix1 = 50964, kForwardMatrix2 = 50965,
    kOpcodeList1 = 51008, kOpcodeList2 = 51009, kOpcodeList3 = 51022, kNoiseProfile = 51041,
};

constexpr uint64_t kMaxPixels = uint64_t(1) << 30;  // 1 gigapixel: far beyond any sensor
constexpr int kMaxCfaRepeat = 16;

const uint16_t kPhotometricCfa = 32803;
const uint16_t kPhotometricLinearRaw = 34892;

// Looks a tag up in the raw IFD first, then IFD0 (DNG allows either for many).
struct TagSource {
    const TiffReader& tiff;
    const TiffIfd& raw;
    const TiffIfd& main;
    const TiffEntry* find(uint16_t tag) const {
        auto it = raw.entries.find(tag);
        if (it != raw.entries.end()) return &it->second;
        it = main.entries.find(tag);
        return it != main.entries.end() ? &it->second : nullptr;
    }
    std::vector<double> numbers(uint16_t tag) const {
        const TiffEntry* e = find(tag);
        return e ? tiff.numbers(*e) : std::vector<double>{};
    }
    std::optional<Mat3> matrix(uint16_t tag) const {
        auto v = numbers(tag);
        if (v.empty()) return std::nullopt;
        if (v.size() != 9)
            throw file_error(tiff.path(), "colour matrix tag " + std::to_string(tag) + " has " +
                                              std::to_string(v.size()) + " values; only 3-colour cameras are supported");
        Mat3 m;
        std::copy(v.begin(), v.end(), m.begin());
        return m;
    }
    std::string text(uint16_t tag) const {
        const TiffEntry* e = find(tag);
        return e ? tiff.text(*e) : std::string();
    }
};

const TiffIfd& find_raw_ifd(const TiffReader& tiff) {
    const TiffIfd* best = nullptr;
    for (const auto& ifd : tiff.ifds()) {
        if (tiff.integer(ifd, kNewSubfileType, 0) != 0) continue;  // previews, masks
        uint64_t photometric = tiff.integer(ifd, kPhotometric, 0);
        if (photometric == kPhotometricLinearRaw)
            throw file_error(tiff.path(), "linear (already demosaiced) DNG is not supported yet");
        if (photometric == kPhotometricCfa && !best) best = &ifd;
    }
    if (!best) throw file_error(tiff.path(), "DNG has no CFA raw image directory");
    return *best;
}

// Unpacks rows [r0, r1) of a block of `bits`-bit samples (MSB first, rows
// padded to bytes) or 8/16-bit samples in file byte order into `out` at
// (x0, y0) of an image `stride` wide. The block's length was checked against
// its rows (read_uncompressed), so this cannot fail: it runs on worker threads.
void unpack_block(const TiffReader& tiff, const uint8_t* src, int bits, int block_w, int x0, int y0, int copy_w,
                  Samples16& out, int stride, int r0, int r1) {
    const size_t row_bytes = (size_t(block_w) * bits + 7) / 8;
    for (int r = r0; r < r1; ++r) {
        const uint8_t* p = src + size_t(r) * row_bytes;
        uint16_t* o = out.data() + size_t(y0 + r) * stride + x0;
        if (bits == 16 && tiff.little_endian() == (std::endian::native == std::endian::little)) {
            std::memcpy(o, p, size_t(copy_w) * 2);  // the file's byte order is ours
        } else if (bits == 16) {
            for (int c = 0; c < copy_w; ++c)
                o[c] = tiff.little_endian() ? uint16_t(p[2 * c] | p[2 * c + 1] << 8) : uint16_t(p[2 * c] << 8 | p[2 * c + 1]);
        } else if (bits == 8) {
            for (int c = 0; c < copy_w; ++c) o[c] = p[c];
        } else {
            uint64_t acc = 0;
            int have = 0;
            size_t at = 0;
            for (int c = 0; c < copy_w; ++c) {
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

// Checks each lossless-JPEG strip or tile's frame header (SOF3) against the
// samples the block holds, as the DNG spec requires: LibRaw trusts the
// stream's own size and can spend minutes on a forged one.
void check_lossless_jpeg_blocks(const TiffReader& tiff, const TiffIfd& ifd, uint32_t width, uint32_t height) {
    const auto& e = ifd.entries;
    bool tiled = e.count(kTileOffsets) > 0;
    if (!tiled && !e.count(kStripOffsets)) throw file_error(tiff.path(), "raw image has neither strips nor tiles");
    auto offsets = tiff.integers(e.at(tiled ? kTileOffsets : kStripOffsets));
    auto counts = tiff.integers(e.at(tiled ? kTileByteCounts : kStripByteCounts));
    uint64_t bw = tiled ? tiff.integer(ifd, kTileWidth, 0) : width;
    uint64_t bh = tiled ? tiff.integer(ifd, kTileLength, 0) : std::min<uint64_t>(tiff.integer(ifd, kRowsPerStrip, height), height);
    for (size_t i = 0; i < offsets.size() && i < counts.size(); ++i) {
        tiff.check_range(offsets[i], counts[i], tiled ? "tile" : "strip");
        const uint8_t* p = tiff.data_at(offsets[i]);
        uint64_t n = counts[i], samples = 0;
        for (uint64_t at = 0; at + 9 < n; ++at)
            if (p[at] == 0xFF && p[at + 1] == 0xC3) {  // SOF3: length, precision, height, width, components
                uint64_t rows = uint64_t(p[at + 5]) << 8 | p[at + 6], cols = uint64_t(p[at + 7]) << 8 | p[at + 8];
                samples = rows * cols * p[at + 9];
                break;
            }
        if (samples == 0 || samples > bw * bh)
            throw file_error(tiff.path(), std::string("lossless JPEG ") + (tiled ? "tile " : "strip ") + std::to_string(i) +
                                              " says " + std::to_string(samples) + " samples; the block holds " +
                                              std::to_string(bw * bh));
    }
}

// The bytes of a raw IFD's strips or tiles that lie inside the file.
uint64_t compressed_bytes(const TiffReader& tiff, const TiffIfd& ifd) {
    const auto& e = ifd.entries;
    bool tiled = e.count(kTileByteCounts) > 0;
    if (!tiled && !e.count(kStripByteCounts)) return 0;
    uint64_t total = 0;
    for (uint64_t n : tiff.integers(e.at(tiled ? kTileByteCounts : kStripByteCounts))) total += std::min<uint64_t>(n, tiff.size());
    return std::min<uint64_t>(total, tiff.size());
}

// Every block is checked against the file (in range, long enough for its
// rows) before the image is allocated, so a damaged header claiming a huge
// image takes no memory.
Samples16 read_uncompressed(const TiffReader& tiff, const TiffIfd& ifd, int width, int height, int bits) {
    struct Block {
        uint64_t offset;
        int block_w, x0, y0, copy_w, copy_h;
    };
    std::vector<Block> blocks;
    auto add = [&](uint64_t offset, uint64_t bytes, int block_w, int x0, int y0, int copy_w, int copy_h, const char* what) {
        tiff.check_range(offset, bytes, what);
        uint64_t need = (uint64_t(block_w) * bits + 7) / 8 * uint64_t(copy_h);
        if (bytes < need) throw file_error(tiff.path(), "image data is shorter than its size says (truncated?)");
        blocks.push_back({offset, block_w, x0, y0, copy_w, copy_h});
    };
    const auto& e = ifd.entries;
    if (e.count(kTileOffsets)) {
        int tw = int(tiff.integer(ifd, kTileWidth, 0)), th = int(tiff.integer(ifd, kTileLength, 0));
        if (tw <= 0 || th <= 0 || tw > 65536 || th > 65536) throw file_error(tiff.path(), "bad tile size");
        auto offsets = tiff.integers(e.at(kTileOffsets));
        auto counts = e.count(kTileByteCounts) ? tiff.integers(e.at(kTileByteCounts)) : std::vector<uint64_t>{};
        size_t across = (size_t(width) + tw - 1) / tw, down = (size_t(height) + th - 1) / th;
        if (offsets.size() < across * down || counts.size() < offsets.size())
            throw file_error(tiff.path(), "DNG has " + std::to_string(offsets.size()) + " tiles; its size needs " +
                                              std::to_string(across * down));
        for (size_t ty = 0; ty < down; ++ty)
            for (size_t tx = 0; tx < across; ++tx) {
                size_t i = ty * across + tx;
                int x0 = int(tx * tw), y0 = int(ty * th);
                add(offsets[i], counts[i], tw, x0, y0, std::min(tw, width - x0), std::min(th, height - y0), "tile");
            }
    } else {
        if (!e.count(kStripOffsets)) throw file_error(tiff.path(), "raw image has neither strips nor tiles");
        auto offsets = tiff.integers(e.at(kStripOffsets));
        auto counts = e.count(kStripByteCounts) ? tiff.integers(e.at(kStripByteCounts)) : std::vector<uint64_t>{};
        uint64_t rps = std::min<uint64_t>(tiff.integer(ifd, kRowsPerStrip, height), uint64_t(height));
        if (rps == 0) throw file_error(tiff.path(), "RowsPerStrip is 0");
        size_t strips = (size_t(height) + rps - 1) / rps;
        if (offsets.size() < strips || counts.size() < strips)
            throw file_error(tiff.path(), "DNG has " + std::to_string(offsets.size()) + " strips; its size needs " +
                                              std::to_string(strips));
        for (size_t i = 0; i < strips; ++i) {
            int y0 = int(i * rps);
            add(offsets[i], counts[i], width, 0, y0, width, std::min<int>(int(rps), height - y0), "strip");
        }
    }
    Samples16 out(size_t(width) * height);
    // On every core (one big strip split by rows, else the blocks shared):
    // at 100+ MP most of the time is the first touch of `out`'s pages, which
    // the kernel zeroes one by one.
    auto unpack = [&](const Block& b, int r0, int r1) {
        unpack_block(tiff, tiff.data_at(b.offset), bits, b.block_w, b.x0, b.y0, b.copy_w, out, width, r0, r1);
    };
    if (blocks.size() == 1)
        parallel_rows(0, blocks[0].copy_h, [&](int r0, int r1) { unpack(blocks[0], r0, r1); }, 256);
    else
        parallel_rows(0, int(blocks.size()), [&](int b0, int b1) {
            for (int i = b0; i < b1; ++i) unpack(blocks[size_t(i)], 0, blocks[size_t(i)].copy_h);
        }, 2);
    return out;
}


// A tag's number as an int, or `fallback` when it is not a finite value in
// int range (converting such a double is undefined behaviour).
int to_int(double v, int fallback) { return std::isfinite(v) && std::abs(v) < 1e9 ? int(v) : fallback; }

CfaPattern read_cfa(const TagSource& tags) {
    auto dims = tags.numbers(kCfaRepeatPatternDim);
    const TiffEntry* pat = tags.find(kCfaPattern);
    if (dims.size() != 2 || !pat) throw file_error(tags.tiff.path(), "DNG lacks CFARepeatPatternDim/CFAPattern");
    int rows = to_int(dims[0], 0), cols = to_int(dims[1], 0);
    if (rows < 1 || cols < 1 || rows > kMaxCfaRepeat || cols > kMaxCfaRepeat)
        throw file_error(tags.tiff.path(), "CFA repeat " + std::to_string(rows) + "x" + std::to_string(cols) +
                                               " is not supported (1..16)");
    auto values = tags.tiff.integers(*pat, 256);
    if (int(values.size()) != rows * cols)
        throw file_error(tags.tiff.path(), "CFAPattern has " + std::to_string(values.size()) + " entries; " +
                                               std::to_string(rows) + "x" + std::to_string(cols) + " repeat needs " +
                                               std::to_string(rows * cols));
    std::vector<double> plane_color = tags.numbers(kCfaPlaneColor);
    if (plane_color.empty()) plane_color = {0, 1, 2};
    if (tags.find(kCfaLayout) && tags.tiff.integer(tags.raw, kCfaLayout, 1) != 1)
        throw file_error(tags.tiff.path(), "only rectangular CFA layouts (CFALayout 1) are supported");
    CfaPattern cfa;
    cfa.width = cols;
    cfa.height = rows;
    cfa.colors.clear();
    for (uint64_t v : values) {
        if (v >= plane_color.size() || plane_color[v] > 2)
            throw file_error(tags.tiff.path(), "CFA " + std::to_string(rows) + "x" + std::to_string(cols) +
                                                   " pattern has colour " + std::to_string(v) + "; expected 0..2");
        cfa.colors.push_back(uint8_t(plane_color[v]));
    }
    bool has[3] = {false, false, false};
    for (auto c : cfa.colors) has[c] = true;
    if (!has[0] || !has[1] || !has[2]) throw file_error(tags.tiff.path(), "CFA pattern lacks one of R, G, B");
    return cfa;
}

BlackLevel read_black(const TagSource& tags, int width, int height) {
    BlackLevel black;
    auto dims = tags.numbers(kBlackLevelRepeatDim);
    if (dims.size() == 2) {
        black.repeat_height = to_int(dims[0], 0);
        black.repeat_width = to_int(dims[1], 0);
        if (black.repeat_height < 1 || black.repeat_width < 1 || black.repeat_height > kMaxCfaRepeat ||
            black.repeat_width > kMaxCfaRepeat)
            throw file_error(tags.tiff.path(), "BlackLevelRepeatDim is out of range");
    }
    auto levels = tags.numbers(kBlackLevel);
    size_t n = size_t(black.repeat_width) * black.repeat_height;
    if (levels.empty()) levels.assign(n, 0.0);
    if (levels.size() == 1 && n > 1) levels.assign(n, levels[0]);
    if (levels.size() < n) throw file_error(tags.tiff.path(), "BlackLevel has fewer values than its repeat needs");
    black.pattern.assign(levels.begin(), levels.begin() + long(n));
    black.delta_h = tags.numbers(kBlackLevelDeltaH);
    black.delta_v = tags.numbers(kBlackLevelDeltaV);
    if (!black.delta_h.empty() && int(black.delta_h.size()) != width)
        throw file_error(tags.tiff.path(), "BlackLevelDeltaH has " + std::to_string(black.delta_h.size()) +
                                               " values for an active area " + std::to_string(width) + " wide");
    if (!black.delta_v.empty() && int(black.delta_v.size()) != height)
        throw file_error(tags.tiff.path(), "BlackLevelDeltaV has " + std::to_string(black.delta_v.size()) +
                                               " values for an active area " + std::to_string(height) + " high");
    for (double v : black.pattern)
        if (!std::isfinite(v) || v < -65536 || v > 65535) throw file_error(tags.tiff.path(), "BlackLevel is out of range");
    return black;
}

void read_color(const TagSource& tags, CameraColor& color) {
    color.color_matrix[0] = tags.matrix(kColorMatrix1);
    color.color_matrix[1] = tags.matrix(kColorMatrix2);
    color.forward_matrix[0] = tags.matrix(kForwardMatrix1);
    color.forward_matrix[1] = tags.matrix(kForwardMatrix2);
    color.camera_calibration[0] = tags.matrix(kCameraCalibration1);
    color.camera_calibration[1] = tags.matrix(kCameraCalibration2);
    auto il1 = tags.numbers(kCalibrationIlluminant1), il2 = tags.numbers(kCalibrationIlluminant2);
    color.illuminant[0] = il1.empty() ? 0 : to_int(il1[0], 0);
    color.illuminant[1] = il2.empty() ? 0 : to_int(il2[0], 0);
    auto vec3 = [&](uint16_t tag) -> std::optional<Vec3> {
        auto v = tags.numbers(tag);
        if (v.empty()) return std::nullopt;
        if (v.size() != 3) throw file_error(tags.tiff.path(), "tag " + std::to_string(tag) + " should have 3 values");
        for (double x : v)
            if (!(x > 0) || !std::isfinite(x)) throw file_error(tags.tiff.path(), "tag " + std::to_string(tag) + " has a value that is not positive");
        return Vec3{v[0], v[1], v[2]};
    };
    color.as_shot_neutral = vec3(kAsShotNeutral);
    color.analog_balance = vec3(kAnalogBalance);
    auto xy = tags.numbers(kAsShotWhiteXY);
    if (xy.size() == 2 && xy[0] > 0 && xy[1] > 0 && xy[0] + xy[1] < 1) color.as_shot_white_xy = std::array<double, 2>{xy[0], xy[1]};
    auto be = tags.numbers(kBaselineExposure);
    if (!be.empty() && std::isfinite(be[0])) color.baseline_exposure = std::clamp(be[0], -10.0, 10.0);
    if (!color.color_matrix[0]) throw file_error(tags.tiff.path(), "DNG has no ColorMatrix1");
}

void read_shot(const TiffReader& tiff, const TagSource& tags, ShotInfo& shot) {
    shot.make = tags.text(kMake);
    shot.model = tags.text(kModel);
    if (shot.model.empty()) shot.model = tags.text(kUniqueCameraModel);
    shot.software = tags.text(kSoftware);
    shot.datetime = tags.text(kDateTime);
    auto o = tags.numbers(kOrientation);
    if (!o.empty() && o[0] >= 1 && o[0] <= 8) shot.orientation = int(o[0]);
    // Shot tags live in the EXIF IFD, or in IFD0 (TIFF/EP style) in some DNGs.
    const TiffIfd* exif = tiff.exif_ifd();
    auto find = [&](uint16_t tag) -> const TiffEntry* {
        for (const TiffIfd* ifd : {exif, &tags.main}) {
            if (!ifd) continue;
            auto it = ifd->entries.find(tag);
            if (it != ifd->entries.end()) return &it->second;
        }
        return nullptr;
    };
    // A damaged shot tag costs that value, never the photo.
    auto first = [&](uint16_t tag) -> std::optional<double> {
        const TiffEntry* e = find(tag);
        if (!e) return std::nullopt;
        try {
            auto v = tiff.numbers(*e, 16);
            if (!v.empty() && std::isfinite(v[0]) && v[0] > 0 && v[0] < 1e7) return v[0];
        } catch (const Error&) {
        }
        return std::nullopt;
    };
    auto text = [&](uint16_t tag) -> std::string {
        const TiffEntry* e = find(tag);
        if (!e) return {};
        try {
            return tiff.text(*e);
        } catch (const Error&) {
            return {};
        }
    };
    shot.exposure_s = first(kExposureTime);
    shot.f_number = first(kFNumber);
    shot.iso = first(kIso);
    shot.focal_mm = first(kFocalLength);
    shot.lens = text(kLensModel);
    std::string lens_make = text(kLensMake);
    if (!lens_make.empty() && !shot.lens.empty() && shot.lens.rfind(lens_make, 0) != 0) shot.lens = lens_make + " " + shot.lens;
    std::string original = text(kDateTimeOriginal);
    if (!original.empty()) shot.datetime = original;
}

}  // namespace

bool is_dng(const MappedFile& file) {
    TiffReader tiff(file);
    return tiff.ifds().front().has(kDngVersion);
}

RawImage decode_dng(const MappedFile& file) {
    TiffReader tiff(file);
    const TiffIfd& main = tiff.ifds().front();
    if (!main.has(kDngVersion)) throw file_error(file.path(), "not a DNG (no DNGVersion tag)");
    const TiffIfd& raw_ifd = find_raw_ifd(tiff);
    TagSource tags{tiff, raw_ifd, main};

    RawImage img;
    img.source = file.path();
    img.decoder = "dng";
    uint64_t full_w = tiff.integer(raw_ifd, kImageWidth, 0), full_h = tiff.integer(raw_ifd, kImageLength, 0);
    if (full_w == 0 || full_h == 0 || full_w > 65535 || full_h > 65535 || full_w * full_h > kMaxPixels)
        throw file_error(file.path(), "raw image size " + std::to_string(full_w) + "x" + std::to_string(full_h) +
                                          " is not plausible");
    if (tiff.integer(raw_ifd, kSamplesPerPixel, 1) != 1) throw file_error(file.path(), "CFA image must have one sample per pixel");
    int bits = int(tiff.integer(raw_ifd, kBitsPerSample, 16));
    if (bits < 1 || bits > 16)
        throw file_error(file.path(), std::to_string(bits) + "-bit samples are not supported (1..16)");
    if (tiff.integer(raw_ifd, kSampleFormat, 1) == 3) throw file_error(file.path(), "floating-point DNG is not supported yet");
    img.bits = bits;

    uint64_t compression = tiff.integer(raw_ifd, kCompression, 1);
    Samples16 full;
    bool linearized_by_libraw = false;
    if (compression == 1) {
        full = read_uncompressed(tiff, raw_ifd, int(full_w), int(full_h), bits);
    } else {
        // Lossless JPEG (7) and friends: LibRaw decodes the pixels, we keep the
        // tags. Lossless JPEG spends at least one bit per sample, so a claim
        // of more samples than its data can hold is refused here: LibRaw
        // would spend minutes decoding garbage into a huge image.
        uint64_t data = compressed_bytes(tiff, raw_ifd);
        uint64_t pixels = uint64_t(full_w) * full_h;
        if ((compression == 7 && data * 8 < pixels) || data * 1024 < pixels)
            throw file_error(file.path(), "compressed image data (" + std::to_string(data) + " bytes) is far too short for " +
                                              std::to_string(full_w) + "x" + std::to_string(full_h) + " pixels (truncated?)");
        if (compression == 7) check_lossless_jpeg_blocks(tiff, raw_ifd, uint32_t(full_w), uint32_t(full_h));
        full = libraw_dng_pixels(file.path(), int(full_w), int(full_h));
        linearized_by_libraw = true;
    }

    // Active area: the part of the sensor that saw light.
    int top = 0, left = 0, bottom = int(full_h), right = int(full_w);
    auto area = tags.numbers(kActiveArea);
    if (area.size() == 4) {
        top = to_int(area[0], -1), left = to_int(area[1], -1), bottom = to_int(area[2], -1), right = to_int(area[3], -1);
        if (top < 0 || left < 0 || bottom > int(full_h) || right > int(full_w) || bottom - top < 16 || right - left < 16)
            throw file_error(file.path(), "ActiveArea lies outside the image");
    }
    img.width = right - left;
    img.height = bottom - top;
    if (left == 0 && top == 0 && img.width == int(full_w) && img.height == int(full_h)) {
        img.data = std::move(full);
    } else {
        img.data.resize(size_t(img.width) * img.height);
        for (int y = 0; y < img.height; ++y)
            std::memcpy(&img.data[size_t(y) * img.width], &full[size_t(y + top) * full_w + left], size_t(img.width) * 2);
    }

    if (!linearized_by_libraw) {
        if (const TiffEntry* lin = tags.find(kLinearizationTable)) {
            auto table = tiff.integers(*lin, 65536);
            if (table.empty()) throw file_error(file.path(), "LinearizationTable is empty");
            std::vector<uint16_t> lut(65536);
            for (size_t i = 0; i < lut.size(); ++i) lut[i] = uint16_t(std::min<uint64_t>(table[std::min(i, table.size() - 1)], 65535));
            for (auto& v : img.data) v = lut[v];
        }
    }

    img.cfa = read_cfa(tags);
    img.black = read_black(tags, img.width, img.height);
    auto white = tags.numbers(kWhiteLevel);
    img.white_level = white.empty() ? double((1u << bits) - 1) : white[0];
    if (tags.find(kLinearizationTable) && white.empty()) img.white_level = 65535;
    if (!(img.white_level > img.black.pattern[0] + 1) || img.white_level > 65535)
        throw file_error(file.path(), "WhiteLevel " + std::to_string(img.white_level) + " is not above the black level");

    img.crop = {0, 0, img.width, img.height};
    auto origin = tags.numbers(kDefaultCropOrigin), size = tags.numbers(kDefaultCropSize);
    if (origin.size() == 2 && size.size() == 2) {
        auto r = [](double v) { return to_int(std::round(v), -1); };
        Rect c{r(origin[0]), r(origin[1]), r(size[0]), r(size[1])};
        // A crop that does not fit is ignored, not fatal: the pixels are fine.
        if (c.x >= 0 && c.y >= 0 && c.width >= 8 && c.height >= 8 && c.x + c.width <= img.width && c.y + c.height <= img.height)
            img.crop = c;
    }

    read_color(tags, img.color);
    auto noise = tags.numbers(kNoiseProfile);
    if (noise.size() >= 2 && noise.size() % 2 == 0) {
        for (size_t i = 0; i + 1 < noise.size(); i += 2) img.noise.planes.push_back({noise[i], noise[i + 1]});
        img.noise.from_file = true;
    }
    const uint16_t opcode_tags[3] = {kOpcodeList1, kOpcodeList2, kOpcodeList3};
    for (int i = 0; i < 3; ++i)
        if (const TiffEntry* e = tags.find(opcode_tags[i])) {
            size_t n = 0;
            const uint8_t* p = tiff.bytes(*e, n);
            img.opcodes[i].assign(p, p + n);
        }
    read_shot(tiff, tags, img.shot);
    return img;
}

}  // namespace obscura
