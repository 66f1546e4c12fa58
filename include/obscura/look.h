// Look: the photographic rendering applied after the colour transform, read
// from a look file (TOML) in styles/ or given by path.
//
// A look has two parts, applied in order: the tone curve (exposure, highlight
// roll-off, shadow lift, contrast), which the develop kernel folds into its
// output encoding, and the finishing (saturation, vibrance, hue, monochrome
// mix, split toning, vignette, grain, a 3D LUT), applied to the encoded
// photo strip by strip.
#pragma once
#include <array>
#include <optional>
#include <string>
#include <vector>

namespace obscura {

struct Look {
    std::string name, description;
    std::string source;  // the look file it came from ("" for built-in)

    // [tone]
    double exposure_ev = 0.0;  // added to the camera's BaselineExposure
    double shoulder = 0.0;     // highlight roll-off strength; 0 = none
    double shadows = 0.0;      // lift of the shadows (toe), 0..1; 0 = none
    double contrast = 0.0;     // S-curve around mid-grey in the encoded domain; 0 = none
    // Render with the DNG's own camera profile when the file has one (its
    // hue/saturation map, look table, tone curve, exposure offset and gain
    // table map: camera_profile.h); its tone curve then replaces shoulder,
    // shadows and contrast.
    bool camera_profile = false;

    // [local]
    double local_amount = 0.0;  // local tone mapping: shadows lifted by their neighbourhood, 0..1

    // [color]
    double saturation = 1.0;   // chroma scale (0 = grey)
    double vibrance = 0.0;     // extra chroma for the least saturated colours, -1..1
    double hue_deg = 0.0;      // rotation of every hue, degrees

    // [mono]: a monochrome look, grey = mix . RGB (normalised to sum 1)
    std::optional<std::array<double, 3>> mono_mix;

    // [split_toning]: tints for the shadows and highlights, hue in degrees
    // (0 red, 60 yellow, 120 green, 240 blue), amount 0..1; balance -1..1
    // moves the split point from the shadows to the highlights.
    double shadow_hue = 0.0, shadow_amount = 0.0;
    double highlight_hue = 0.0, highlight_amount = 0.0;
    double split_balance = 0.0;

    // [vignette]
    double lens_vignette_kept = 0.0;  // fraction of the lens's own falloff left in, 0..1
    double vignette = 0.0;            // darkening added at the corners, -1..1 (negative lightens)

    // [denoise]
    double denoise = 1.0;  // noise reduction strength when the command line leaves it to the look; 0 = off

    // [grain]
    double grain = 0.0;       // amplitude, 0..1 (0.1 is strong film grain)
    double grain_size = 1.5;  // pixels, 0.5..8

    // [lut]
    std::string lut;              // .cube file (relative to the look file)
    std::string lut_space = "srgb";  // the LUT's input: "srgb" (encoded) or "linear"

    // True when the tone part is the plain sRGB encoding after a gain.
    bool tone_is_plain() const { return shoulder == 0 && shadows == 0 && contrast == 0; }
    // True when the finishing part changes nothing (besides a LUT).
    bool finishing_is_identity() const;

    // The look's tone curve composed with the sRGB encoding, sampled
    // uniformly over linear 0..1 (`samples` points), values 0..1.
    // Over linear light [0, range] (1 = white before the look's exposure;
    // beyond 1 where the raw keeps more, as a bracket merge does), with the
    // shoulder's white at `peak`: highlights up to it roll off instead of
    // clipping.
    std::vector<float> encoding_curve(int samples = 16385, double range = 1.0, double peak = 1.0) const;

    // The same curve at one linear light x (1 = white before the look's
    // exposure), value 0..1: for a caller that tabulates it its own way.
    struct Encoding {
        double gain, white, shoulder, shadows, contrast;
        double shoulder_norm;  // the shoulder's value at its white
        double operator()(double x) const;
    };
    Encoding encoding(double peak = 1.0) const;
};

// Reads a look file; throws obscura::Error naming the file and the key for
// anything wrong (unknown key, value out of range, bad TOML).
Look load_look(const std::string& path);

// The looks shipped in styles/, by name, `reference` first.
const std::vector<Look>& builtin_looks();
// A shipped look by name, or a look file when `name_or_path` ends in .toml.
// Throws obscura::Error naming the look and the known ones when unknown.
Look find_look(const std::string& name_or_path);
// The look used when none is asked for.
const std::string& default_look_name();
// Where the shipped looks were found ("" when nowhere: only `reference`,
// built in, is then known).
std::string styles_directory();

// sRGB encoding of a linear value in 0..1.
double srgb_encode(double linear);
double srgb_decode(double encoded);

}  // namespace obscura
