// DNG opcodes (DNG 1.4+ chapter 7): the lens and sensor corrections a camera
// records for the raw developer, parsed from the stored lists (big-endian).
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace obscura {

// GainMap (9): a smooth per-plane gain over an area, sampled on a grid; as
// phones write it, one per Bayer site for lens shading (OpcodeList2).
struct GainMap {
    uint32_t top, left, bottom, right;  // area, in raw pixels
    uint32_t plane, planes, row_pitch, col_pitch;
    uint32_t points_v, points_h;
    double spacing_v, spacing_h, origin_v, origin_h;  // relative to the image (0..1)
    uint32_t map_planes;
    std::vector<float> gains;  // [v][h][map plane]

    // The gain at relative image position (rv, rh) for map plane p,
    // bilinearly interpolated, held constant past the map's edges.
    double at(double rv, double rh, uint32_t p) const;
    bool covers(uint32_t x, uint32_t y) const;  // (x, y) is in the area and on the pitch
};

// FixVignetteRadial (3): gain = 1 + k0 r^2 + k1 r^4 + ... + k4 r^10, r the
// distance from the optical centre over the largest centre-corner distance.
struct VignetteRadial {
    std::array<double, 5> k;
    double cx, cy;  // relative to the image
    double gain(double x, double y, double width, double height) const;  // at pixel (x, y)
};

// WarpRectilinear (1): per-plane radial (kr0..kr3) and tangential (kt0, kt1)
// distortion; maps each output pixel to where it is found in the input.
struct WarpRectilinear {
    uint32_t planes;                           // 1 (all colours) or 3 (lateral CA)
    std::array<std::array<double, 6>, 3> coef;  // kr0 kr1 kr2 kr3 kt0 kt1 per plane
    double cx, cy;                             // relative to the image
};

struct Opcode {
    uint32_t id;
    std::string name;
    bool optional;      // a reader may skip it
    bool preview_only;  // may be skipped for previews
    std::variant<std::monostate, GainMap, VignetteRadial, WarpRectilinear> params;
    std::vector<uint8_t> record;  // as stored: header and parameters, to be written again
};

const char* opcode_name(uint32_t id);

// Parses one stored opcode list; throws obscura::Error naming `source` for a
// list whose sizes or counts do not add up.
std::vector<Opcode> parse_opcode_list(const std::vector<uint8_t>& list, const std::string& source);

// A GainMap as a stored opcode (header and parameters, big-endian); a list
// of stored opcodes as an opcode list (their count, then each).
std::vector<uint8_t> gain_map_record(const GainMap& map, bool optional);
std::vector<uint8_t> opcode_list(const std::vector<std::vector<uint8_t>>& records);

}  // namespace obscura
