// DNG reading per the DNG 1.6 specification: which IFD holds the raw data,
// and how its tags describe the sensor.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include "../core/noise_map.h"
#include "../core/parallel.h"
#include "decoders.h"
#include "dng_blocks.h"
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
    kOpcodeList1 = 51008, kOpcodeList2 = 51009, kOpcodeList3 = 51022, kNoiseProfile = 51041, kDngPrivateData = 50740,
    kPredictor = 317, kRowInterleaveFactor = 50975, kColumnInterleaveFactor = 52547,
    kJxlDistance = 52553, kJxlEffort = 52554, kJxlDecodeSpeed = 52555, kDefaultUserCrop = 51125,
    kProfileHueSatMapData1 = 50938, kProfileHueSatMapData2 = 50939, kProfileToneCurve = 50940,
    kProfileLookTableData = 50982, kBaselineExposureOffset = 51109, kProfileGainTableMap = 52525,
    kProfileName = 50936, kProfileHueSatMapDims = 50937, kProfileLookTableDims = 50981,
    kProfileHueSatMapEncoding = 51107, kProfileLookTableEncoding = 51108, kProfileGainTableMap2 = 52544,
    kSemanticName = 52526, kDepthFormat = 51177,
};

// LinearRaw samples are normalised on reading to this black level on a
// white of 65535 (room below black for noise; ~16 bits above it).
constexpr double kLinearBlack = 4096;

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
        if ((photometric == kPhotometricCfa || photometric == kPhotometricLinearRaw) && !best) best = &ifd;
    }
    if (!best) throw file_error(tiff.path(), "DNG has no CFA or LinearRaw image directory");
    return *best;
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
    // (No ColorMatrix1: the develop takes camera RGB as sRGB, with a warning.)
}

// One hue/saturation/value table and its dimensions, or empty (with the
// reason in `why`) when the tag is absent or malformed.
HsvTable read_hsv_table(const TagSource& tags, uint16_t data_tag, uint16_t dims_tag, uint16_t encoding_tag,
                        std::string& why) {
    HsvTable t;
    if (!tags.find(data_tag)) return t;
    auto dims = tags.numbers(dims_tag);
    if (dims.size() == 2) dims.push_back(1);  // (DNG 1.2 tables have no value divisions)
    if (dims.size() != 3 || !(dims[0] >= 1 && dims[0] <= 360) || !(dims[1] >= 2 && dims[1] <= 256) ||
        !(dims[2] >= 1 && dims[2] <= 256)) {
        why = "no valid dimensions";
        return t;
    }
    HsvTable table;
    table.hues = int(dims[0]), table.sats = int(dims[1]), table.vals = int(dims[2]);
    const size_t count = tags.find(data_tag)->count;
    if (count != size_t(3) * table.hues * table.sats * table.vals) {
        why = std::to_string(count) + " values for " + std::to_string(table.hues) + " x " +
              std::to_string(table.sats) + " x " + std::to_string(table.vals) + " divisions";
        return t;
    }
    auto data = tags.numbers(data_tag);
    for (size_t i = 0; i < data.size(); i += 3)
        if (!std::isfinite(data[i]) || !(data[i + 1] >= 0 && data[i + 1] < 64) || !(data[i + 2] >= 0 && data[i + 2] < 64)) {
            why = "a scale that is negative or not finite";
            return t;
        }
    table.data.assign(data.begin(), data.end());
    auto enc = tags.numbers(encoding_tag);
    table.srgb_encoded = !enc.empty() && enc[0] == 1;
    return table;
}

// ProfileGainTableMap: 64 bytes of header in the file's byte order, then
// the gains as 32-bit floats.
GainTableMap read_gain_table_map(const TagSource& tags, std::string& why) {
    GainTableMap m;
    const TiffEntry* e = tags.find(kProfileGainTableMap);
    if (!e) return m;
    size_t n = 0;
    const uint8_t* p = tags.tiff.bytes(*e, n);
    const bool little = tags.tiff.little_endian();
    auto u32 = [&](size_t at) {
        uint32_t v = 0;
        for (int i = 0; i < 4; ++i) v |= uint32_t(p[at + (little ? i : 3 - i)]) << (8 * i);
        return v;
    };
    auto f32 = [&](size_t at) {
        uint32_t v = u32(at);
        float f;
        std::memcpy(&f, &v, 4);
        return f;
    };
    auto f64 = [&](size_t at) {
        uint64_t lo = u32(at + (little ? 0 : 4)), hi = u32(at + (little ? 4 : 0));
        uint64_t v = lo | hi << 32;
        double d;
        std::memcpy(&d, &v, 8);
        return d;
    };
    if (n < 64) {
        why = "shorter than its 64-byte header";
        return m;
    }
    GainTableMap g;
    const uint32_t pv = u32(0), ph = u32(4), pn = u32(40);
    g.spacing_v = f64(8), g.spacing_h = f64(16), g.origin_v = f64(24), g.origin_h = f64(32);
    for (int i = 0; i < 5; ++i) g.weights[size_t(i)] = f32(44 + 4 * size_t(i));
    if (pv < 1 || ph < 1 || pn < 1 || pv > 4096 || ph > 4096 || pn > 4096 || uint64_t(pv) * ph * pn > (1u << 24)) {
        why = "a grid of " + std::to_string(pv) + " x " + std::to_string(ph) + " x " + std::to_string(pn) + " points";
        return m;
    }
    if (n != 64 + 4 * size_t(pv) * ph * pn) {
        why = std::to_string(n) + " bytes where its grid needs " + std::to_string(64 + 4 * size_t(pv) * ph * pn);
        return m;
    }
    if (!(g.spacing_v > 0 && g.spacing_h > 0) || !std::isfinite(g.origin_v) || !std::isfinite(g.origin_h) ||
        !std::isfinite(g.spacing_v) || !std::isfinite(g.spacing_h)) {
        why = "a spacing that is not positive";
        return m;
    }
    for (float w : g.weights)
        if (!std::isfinite(w)) {
            why = "input weights that are not finite";
            return m;
        }
    g.points_v = int(pv), g.points_h = int(ph), g.points_n = int(pn);
    g.gains.resize(size_t(pv) * ph * pn);
    for (size_t i = 0; i < g.gains.size(); ++i) {
        g.gains[i] = f32(64 + 4 * i);
        if (!(g.gains[i] >= 0 && g.gains[i] < 1024)) {
            why = "a gain that is negative or not finite";
            return m;
        }
    }
    return g;
}

// The camera profile's rendering parts; each malformed one is left out (a
// reader must still open the photo) and named so in `names` for `info`.
void read_profile(const TagSource& tags, CameraProfile& profile, std::vector<std::string>& names) {
    profile.name = tags.text(kProfileName);
    auto part = [&](bool present, const std::string& name, bool read, const std::string& why) {
        if (present) names.push_back(read ? name : name + " (ignored: " + (why.empty() ? "malformed" : why) + ")");
    };
    std::string why;
    profile.hue_sat_map[0] = read_hsv_table(tags, kProfileHueSatMapData1, kProfileHueSatMapDims, kProfileHueSatMapEncoding, why);
    part(tags.find(kProfileHueSatMapData1), "ProfileHueSatMap 1", !profile.hue_sat_map[0].empty(), why);
    why.clear();
    profile.hue_sat_map[1] = read_hsv_table(tags, kProfileHueSatMapData2, kProfileHueSatMapDims, kProfileHueSatMapEncoding, why);
    part(tags.find(kProfileHueSatMapData2), "ProfileHueSatMap 2", !profile.hue_sat_map[1].empty(), why);
    why.clear();
    profile.look_table = read_hsv_table(tags, kProfileLookTableData, kProfileLookTableDims, kProfileLookTableEncoding, why);
    part(tags.find(kProfileLookTableData), "ProfileLookTable", !profile.look_table.empty(), why);
    why.clear();
    if (tags.find(kProfileToneCurve)) {
        const bool sized = tags.find(kProfileToneCurve)->count <= 2 * 8192;
        auto v = sized ? tags.numbers(kProfileToneCurve) : std::vector<double>{};
        bool ok = v.size() >= 4 && v.size() % 2 == 0 && v.size() <= 2 * 8192;
        for (size_t i = 0; ok && i < v.size(); i += 2) {
            ok = v[i] >= 0 && v[i] <= 1 && v[i + 1] >= 0 && v[i + 1] <= 1 && (i == 0 || v[i] > v[i - 2]);
            if (ok) profile.tone_curve.push_back({float(v[i]), float(v[i + 1])});
        }
        if (!ok) profile.tone_curve.clear();
        part(true, "ProfileToneCurve", ok, "points not within 0..1 with x rising");
    }
    if (tags.find(kBaselineExposureOffset)) {
        auto v = tags.numbers(kBaselineExposureOffset);
        bool ok = v.size() == 1 && std::isfinite(v[0]) && std::abs(v[0]) <= 10;
        if (ok) profile.exposure_offset = v[0];
        part(true, "BaselineExposureOffset", ok, "not one value within +-10 EV");
    }
    profile.gain_table_map = read_gain_table_map(tags, why);
    part(tags.find(kProfileGainTableMap), "ProfileGainTableMap", !profile.gain_table_map.empty(), why);
    part(tags.find(kProfileGainTableMap2), "ProfileGainTableMap2", false, "DNG 1.7 version not read yet");
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
    const bool linear = tiff.integer(raw_ifd, kPhotometric, 0) == kPhotometricLinearRaw;
    const uint64_t spp = tiff.integer(raw_ifd, kSamplesPerPixel, 1);
    if (!linear && spp != 1) throw file_error(file.path(), "CFA image must have one sample per pixel");
    if (linear && spp != 3)
        throw file_error(file.path(), "LinearRaw image with " + std::to_string(spp) +
                                          " samples a pixel is not supported (3: camera RGB)");
    RawLayout layout;
    layout.width = int(full_w), layout.height = int(full_h);
    layout.samples_per_pixel = int(spp);
    layout.bits = int(tiff.integer(raw_ifd, kBitsPerSample, 16));
    layout.floating = tiff.integer(raw_ifd, kSampleFormat, 1) == 3;
    layout.compression = int(std::min<uint64_t>(tiff.integer(raw_ifd, kCompression, 1), 1u << 20));
    layout.predictor = int(std::min<uint64_t>(tiff.integer(raw_ifd, kPredictor, 1), 1u << 20));
    layout.row_interleave = int(std::min<uint64_t>(tiff.integer(raw_ifd, kRowInterleaveFactor, 1), 1000));
    layout.column_interleave = int(std::min<uint64_t>(tiff.integer(raw_ifd, kColumnInterleaveFactor, 1), 1000));
    img.bits = layout.floating ? 16 : layout.bits;
    img.samples_per_pixel = int(spp);
    img.storage.compression = compression_name(layout.compression);
    if (raw_ifd.has(kTileOffsets))
        img.storage.tile_width = int(tiff.integer(raw_ifd, kTileWidth, 0)), img.storage.tile_height = int(tiff.integer(raw_ifd, kTileLength, 0));
    img.storage.row_interleave = layout.row_interleave, img.storage.column_interleave = layout.column_interleave;
    img.storage.floating = layout.floating;
    auto setting = [&](uint16_t tag) -> std::optional<double> {
        auto v = tags.numbers(tag);
        return v.empty() || !std::isfinite(v[0]) ? std::nullopt : std::optional<double>(v[0]);
    };
    img.storage.jxl_distance = setting(kJxlDistance);
    img.storage.jxl_effort = setting(kJxlEffort);
    img.storage.jxl_decode_speed = setting(kJxlDecodeSpeed);

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

    // Levels. Integers keep their codes (the sensor stage normalises them);
    // floats become 16-bit codes with white at 65535; LinearRaw samples are
    // normalised per channel onto kLinearBlack..65535 (LinearizationTable,
    // BlackLevel and WhiteLevel per sample folded in), so every later stage
    // sees one black and one white.
    std::vector<uint16_t> linearization;
    if (const TiffEntry* lin = tags.find(kLinearizationTable)) {
        auto table = tiff.integers(*lin, 65536);
        if (table.empty()) throw file_error(file.path(), "LinearizationTable is empty");
        linearization.resize(65536);
        for (size_t i = 0; i < linearization.size(); ++i)
            linearization[i] = uint16_t(std::min<uint64_t>(table[std::min(i, table.size() - 1)], 65535));
    }
    auto white = tags.numbers(kWhiteLevel);
    const double default_white = layout.floating ? 1.0 : linearization.empty() ? double((1u << std::min(layout.bits, 16)) - 1) : 65535.0;
    auto white_of = [&](size_t c) { return white.empty() ? default_white : white[std::min(c, white.size() - 1)]; };
    SampleMap map;
    if (linear) {
        auto dims = tags.numbers(kBlackLevelRepeatDim);
        if ((dims.size() == 2 && (dims[0] != 1 || dims[1] != 1)) || tags.find(kBlackLevelDeltaH) || tags.find(kBlackLevelDeltaV))
            throw file_error(file.path(), "LinearRaw black level varying by position is not supported");
        auto levels = tags.numbers(kBlackLevel);
        for (int c = 0; c < 3; ++c) {
            double b = levels.empty() ? 0.0 : levels[std::min<size_t>(size_t(c), levels.size() - 1)], w = white_of(size_t(c));
            if (!std::isfinite(b) || !std::isfinite(w) || !(w > b))
                throw file_error(file.path(), "WhiteLevel " + std::to_string(w) + " is not above the black level of sample " + std::to_string(c));
            double scale = (65535.0 - kLinearBlack) / (w - b);
            map.scale[c] = float(scale), map.offset[c] = float(kLinearBlack - b * scale);
            if (!layout.floating) {
                map.table[c].resize(65536);
                for (size_t v = 0; v < 65536; ++v) {
                    double x = linearization.empty() ? double(v) : linearization[v];
                    map.table[c][v] = uint16_t(std::clamp(std::lround(kLinearBlack + (x - b) * scale), 0L, 65535L));
                }
            }
        }
        img.black = BlackLevel{};
        img.black.pattern = {kLinearBlack};
        img.white_level = 65535;
    } else {
        for (int c = 0; c < 3; ++c) map.scale[c] = 1.0f;
        img.black = read_black(tags, img.width, img.height);
        img.white_level = white_of(0);
        if (layout.floating) {
            if (!(img.white_level > 0) || !std::isfinite(img.white_level))
                throw file_error(file.path(), "WhiteLevel " + std::to_string(img.white_level) + " of floating-point samples is not positive");
            double scale = 65535.0 / img.white_level;
            for (int c = 0; c < 3; ++c) map.scale[c] = float(scale);
            for (double& b : img.black.pattern) b *= scale;
            for (double& b : img.black.delta_h) b *= scale;
            for (double& b : img.black.delta_v) b *= scale;
            img.white_level = 65535;
        }
    }
    if (!(img.white_level > img.black.pattern[0] + 1) || img.white_level > 65535)
        throw file_error(file.path(), "WhiteLevel " + std::to_string(img.white_level) + " is not above the black level");

    const bool whole = left == 0 && top == 0 && img.width == int(full_w) && img.height == int(full_h);
    // CFA integers take their LinearizationTable after the read (below).
    const bool table_after = !linear && !layout.floating && !linearization.empty();
    Samples16 full = read_raw_blocks(tiff, raw_ifd, layout, map, whole && !table_after);
    const size_t n = spp;
    if (whole) {
        img.data = std::move(full);
    } else {
        img.data.resize(size_t(img.width) * img.height * n);
        for (int y = 0; y < img.height; ++y)
            std::memcpy(&img.data[size_t(y) * img.width * n], &full[(size_t(y + top) * full_w + left) * n], size_t(img.width) * 2 * n);
    }
    // CFA integers: the table after the fact (the unpack copies them straight in).
    if (table_after)
        for (auto& v : img.data) v = linearization[v];
    if (!linear) img.cfa = read_cfa(tags);

    img.crop = {0, 0, img.width, img.height};
    auto origin = tags.numbers(kDefaultCropOrigin), size = tags.numbers(kDefaultCropSize);
    if (origin.size() == 2 && size.size() == 2) {
        auto r = [](double v) { return to_int(std::round(v), -1); };
        Rect c{r(origin[0]), r(origin[1]), r(size[0]), r(size[1])};
        // A crop that does not fit is ignored, not fatal: the pixels are fine.
        if (c.x >= 0 && c.y >= 0 && c.width >= 8 && c.height >= 8 && c.x + c.width <= img.width && c.y + c.height <= img.height)
            img.crop = c;
    }
    // DefaultUserCrop (DNG 1.6): the photographer's crop, top, left, bottom,
    // right as fractions of the default crop.
    auto user = tags.numbers(kDefaultUserCrop);
    if (user.size() == 4 && user[0] >= 0 && user[1] >= 0 && user[2] <= 1 && user[3] <= 1 && user[2] > user[0] &&
        user[3] > user[1]) {
        const Rect d = img.crop;
        int x0 = d.x + to_int(std::round(user[1] * d.width), 0), y0 = d.y + to_int(std::round(user[0] * d.height), 0);
        int x1 = d.x + to_int(std::round(user[3] * d.width), 0), y1 = d.y + to_int(std::round(user[2] * d.height), 0);
        if (x1 - x0 >= 8 && y1 - y0 >= 8 && (x1 - x0 < d.width || y1 - y0 < d.height)) {
            img.crop = {x0, y0, x1 - x0, y1 - y0};
            img.storage.user_crop = true;
        }
    }

    read_color(tags, img.color);
    auto noise = tags.numbers(kNoiseProfile);
    if (noise.size() >= 2 && noise.size() % 2 == 0) {
        for (size_t i = 0; i + 1 < noise.size(); i += 2) img.noise.planes.push_back({noise[i], noise[i + 1]});
        img.noise.from_file = true;
    }
    if (const TiffEntry* e = tags.find(kDngPrivateData)) {
        size_t n = 0;
        const uint8_t* p = tiff.bytes(*e, n);
        read_noise_map_private_data(p, n, img.noise);  // (anyone else's private data is passed over)
    }
    const uint16_t opcode_tags[3] = {kOpcodeList1, kOpcodeList2, kOpcodeList3};
    for (int i = 0; i < 3; ++i)
        if (const TiffEntry* e = tags.find(opcode_tags[i])) {
            size_t n = 0;
            const uint8_t* p = tiff.bytes(*e, n);
            img.opcodes[i].assign(p, p + n);
        }
    read_shot(tiff, tags, img.shot);
    read_profile(tags, img.color.profile, img.storage.profile);
    for (const auto& ifd : tiff.ifds()) {
        if (&ifd == &raw_ifd) continue;
        if (ifd.has(kSemanticName)) {
            std::string name;
            try {
                name = tiff.text(ifd.entries.at(kSemanticName));
            } catch (const Error&) {
                name = "(unreadable name)";
            }
            img.storage.semantic_masks.push_back(name.empty() ? "(unnamed)" : name);
        }
        if (ifd.has(kDepthFormat) || tiff.integer(ifd, kNewSubfileType, 0) == 8) img.storage.depth_map = true;
    }
    return img;
}

}  // namespace obscura
