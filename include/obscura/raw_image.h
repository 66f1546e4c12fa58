// RawImage: one sensor frame as the file describes it, with everything later
// stages need to develop it. Metadata travels with the pixels; no stage
// reaches back to the file.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "obscura/frame_memory.h"

#include "obscura/color_math.h"

namespace obscura {

enum Channel : uint8_t { kRed = 0, kGreen = 1, kBlue = 2 };

// Colour filter array: colour of each site of an n x m repeat, relative to the
// top-left pixel of the image data. 2x2 Bayer, 4x4 quad, 6x6 nona, 8x8
// hexadeca, or anything else a DNG declares.
struct CfaPattern {
    int width = 2, height = 2;
    std::vector<uint8_t> colors{kRed, kGreen, kGreen, kBlue};

    int at(int x, int y) const { return colors[(y % height) * width + (x % width)]; }
    bool is_bayer() const;            // 2x2 with one R, two G, one B
    // The n of an n x n-cell layout (1 = plain Bayer, 2 = quad, 3 = nona,
    // 4 = hexadeca), 0 when the pattern is none of those.
    int cell_size() const;
    // The 2x2 pattern of the cells' colours (each cell's top-left sample, for
    // n = width / 2): the Bayer frame that binning or remosaicing makes; a
    // Bayer pattern gives itself. Meaningful when cell_size() > 0.
    CfaPattern cells() const;
    // "RGGB", "BGGR", "GRBG", "GBRG", "quad RGGB (4x4)", or the raw layout.
    std::string name() const;
    // Parses RGGB/BGGR/GRBG/GBRG and quad|nona|hexadeca[-LAYOUT].
    static std::optional<CfaPattern> parse(const std::string& name);
};

// DNG black level: a repeating pattern plus per-column and per-row deltas.
struct BlackLevel {
    int repeat_width = 1, repeat_height = 1;
    std::vector<double> pattern{0.0};   // repeat_height x repeat_width
    std::vector<double> delta_h;        // per column, may be empty
    std::vector<double> delta_v;        // per row, may be empty

    double at(int x, int y) const;
    // One level for every pixel (no deltas, the pattern all one value).
    bool is_uniform() const;
    // The highest level at any pixel of a width x height frame.
    double highest(int width, int height) const;
    bool has_deltas() const { return !delta_h.empty() || !delta_v.empty(); }
    // One level per site of a 2x2 repeat, no deltas: what the develop kernel
    // and the bracket merge take as they are.
    bool is_2x2_periodic() const;
};

// Per-colour-plane noise: variance = scale * x + offset, x in 0..1 of the
// white level (DNG tag NoiseProfile, 51041).
struct NoiseProfile {
    std::vector<std::array<double, 2>> planes;  // {scale, offset}
    bool from_file = false;
    // Where the noise differs across the frame (a merged burst keeps more
    // where it refused frames for motion): the variance as a multiple of
    // the profile's, on a grid of map_width x map_height points, point
    // (gx, gy) at raw pixel (map_origin + gx map_step, map_origin + gy
    // map_step), bilinear between, the edge points beyond. Empty: 1
    // everywhere. (In a DNG: its DNGPrivateData, src/core/noise_map.h.)
    int map_width = 0, map_height = 0;
    double map_step = 0, map_origin = 0;
    std::vector<float> map;
};

// A camera profile's hue/saturation/value table (ProfileHueSatMap,
// ProfileLookTable): for each value x hue x saturation division, a hue
// shift in degrees, a saturation scale and a value scale.
struct HsvTable {
    int hues = 0, sats = 0, vals = 0;
    std::vector<float> data;    // value outermost, then hue, then saturation; 3 floats each
    bool srgb_encoded = false;  // indexed in the sRGB encoding (ProfileHueSatMapEncoding 1)
    bool empty() const { return data.empty(); }
};

// DNG 1.6 ProfileGainTableMap (a phone's local tone map): a grid of gain
// tables over the image, each indexed by a weighted mix of R, G, B, their
// minimum and maximum.
struct GainTableMap {
    int points_v = 0, points_h = 0, points_n = 0;
    double spacing_v = 1, spacing_h = 1, origin_v = 0, origin_h = 0;  // relative to the image
    std::array<float, 5> weights{};
    std::vector<float> gains;  // points_v x points_h x points_n
    bool empty() const { return gains.empty(); }
};

// The rendering parts of the DNG camera profile, beyond its matrices: what
// makes a phone DNG look as the phone shows it.
struct CameraProfile {
    std::string name;
    HsvTable hue_sat_map[2];  // per calibration illuminant (one may be empty)
    HsvTable look_table;
    std::vector<std::array<float, 2>> tone_curve;  // (x, y) pairs, linear, x rising
    double exposure_offset = 0;                     // BaselineExposureOffset, EV
    GainTableMap gain_table_map;
    bool empty() const {
        return hue_sat_map[0].empty() && hue_sat_map[1].empty() && look_table.empty() && tone_curve.empty() &&
               exposure_offset == 0 && gain_table_map.empty();
    }
};

// The DNG colour description of the camera (or LibRaw's equivalent).
struct CameraColor {
    std::optional<Mat3> color_matrix[2];     // XYZ -> camera, per illuminant
    std::optional<Mat3> forward_matrix[2];   // white-balanced camera -> XYZ D50
    std::optional<Mat3> camera_calibration[2];
    int illuminant[2] = {0, 0};              // EXIF LightSource codes
    std::optional<Vec3> analog_balance;
    std::optional<Vec3> as_shot_neutral;     // camera response to the scene white
    std::optional<std::array<double, 2>> as_shot_white_xy;
    double baseline_exposure = 0.0;          // EV
    CameraProfile profile;                   // rendered by looks with camera_profile (authentic)
};

// What the photographer did, from EXIF. Missing values stay empty.
struct ShotInfo {
    std::string make, model, lens, datetime, software;
    std::optional<double> iso, exposure_s, f_number, focal_mm;
    int orientation = 1;  // EXIF 1..8
};

// How the file stored the pixels, for `info`: compression, blocks, the
// DNG 1.7 JPEG XL settings.
struct RawStorage {
    std::string compression = "uncompressed";
    int tile_width = 0, tile_height = 0;  // 0 x 0: strips
    int row_interleave = 1, column_interleave = 1;
    bool floating = false;                // floating-point samples (normalised to 16 bits on reading)
    std::optional<double> jxl_distance, jxl_effort, jxl_decode_speed;
    bool user_crop = false;                  // the crop is the file's DefaultUserCrop
    // The camera profile's parts the file carries (ProfileHueSatMap,
    // ProfileLookTable, ProfileToneCurve, ProfileGainTableMap...; those
    // malformed and so ignored say so), its semantic masks by name, and
    // whether it has a depth map: named by `info`. The masks and depth map
    // are not used by the develop.
    std::vector<std::string> profile, semantic_masks;
    bool depth_map = false;
};

struct Rect {
    int x = 0, y = 0, width = 0, height = 0;
};

struct RawImage {
    std::string source;          // file it came from, for messages
    std::string decoder;         // "dng" or "libraw"
    int width = 0, height = 0;   // of `data`: the active area
    // Row-major samples, linearised: one CFA sample a pixel, or for a
    // LinearRaw file (demosaiced in the camera) three, camera R, G, B
    // interleaved, normalised on reading to black 4096 and white 65535 per
    // channel (`cfa` then means nothing).
    Samples16 data;
    int samples_per_pixel = 1;
    RawStorage storage;
    int bits = 16;               // bits per sample as stored
    CfaPattern cfa;
    BlackLevel black;
    double white_level = 65535;
    Rect crop;                   // DNG default crop, relative to `data`
    CameraColor color;
    NoiseProfile noise;
    ShotInfo shot;
    // DNG opcode lists 1..3 as stored (big-endian), applied by later stages.
    std::vector<uint8_t> opcodes[3];
    // The frame the opcodes were written for when a sensor step has since
    // changed the layout (remosaic) or the size (binning): its size and CFA,
    // which GainMaps select their pixels by. Width 0: `data` itself.
    struct OpcodeFrame {
        int width = 0, height = 0;
        CfaPattern cfa;
    } opcode_frame;
    // EXIF of the shot as a TIFF-structured blob (exiv2), for the encoders.
    std::vector<uint8_t> exif;

    // After remosaicing (sensor/remosaic.h): the n x n-cell frame `data` was
    // made from, same size and levels, and its layout; empty otherwise.
    Samples16 cell_samples;
    CfaPattern cell_cfa;

    bool is_linear() const { return samples_per_pixel == 3; }
    uint16_t at(int x, int y) const { return data[size_t(y) * width + x]; }
};

// The samples re-based from a black level that varies by position (pattern,
// row and column deltas) onto one level `flat`: sample - black(x, y) + flat,
// clamped to 16 bits. On every core.
Samples16 black_folded(const RawImage& raw, double flat);

// Folds a varying black level into the samples (black_folded onto its
// highest level, so no sample goes below black) and makes `raw.black` that
// one level: what the sensor steps (binning, remosaic) work on. Does nothing
// to a uniform black.
void make_black_uniform(RawImage& raw);

}  // namespace obscura
