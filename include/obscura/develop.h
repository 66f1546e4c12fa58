// develop: RawImage -> finished Image (normalise, white balance, demosaic,
// camera colour -> sRGB, look, crop, orientation).
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "obscura/color_math.h"
#include "obscura/color_solution.h"
#include "obscura/image.h"
#include "obscura/look.h"
#include "obscura/raw_image.h"

namespace obscura {

struct Lut3D;  // obscura/finish.h
class HighlightRebuild;  // obscura/highlights.h

// A demosaic method the develop kernel can run.
struct DemosaicMethod {
    std::string name;
    std::string description;
    bool fast;
};
const std::vector<DemosaicMethod>& demosaic_methods();
const DemosaicMethod& find_demosaic(const std::string& name);  // throws Error naming the known ones

struct DevelopOptions {
    std::string look = default_look_name();  // a shipped look's name or a .toml look file
    std::shared_ptr<const Lut3D> lut;         // a 3D LUT replacing the look's own (Lut3D::load)
    std::string demosaic = "best";
    bool lens_correction = true;  // apply the file's lens corrections (DNG opcodes)
    bool apply_orientation = true;
    std::string color_space = "sRGB";  // output primaries: "sRGB" or "Display P3" (both with the sRGB curve)
    // Noise reduction on a Bayer mosaic or a LinearRaw frame
    // (src/develop/denoise.h): empty, the
    // look's strength (1 for every shipped look but reference, which is
    // off) when the file has a noise profile, else off; 0 off; else the
    // strength, a factor on the noise profile, or on the noise measured on
    // the frame when the file has none (0 < S <= 16).
    std::optional<double> denoise;
    // The HDR rendition instead of the photograph: scene-linear light, 1.0 =
    // the white of the raw (times 2^BaselineExposure), nothing of the look
    // but its noise reduction (Image::scene_peak).
    bool scene_linear = false;
};

// The brightest light a scene-linear develop of `raw` keeps (Image::scene_peak):
// its white times 2^BaselineExposure, with a stop to spare for colours
// brighter than white.
double scene_linear_peak(const RawImage& raw);

// The output colour spaces develop knows, by name ("sRGB", "Display P3");
// color_space_named also takes the command line's "srgb" and "display-p3".
const std::vector<std::string>& output_color_spaces();
std::string color_space_named(const std::string& name);  // throws Error naming the known ones


Image develop(const RawImage& raw, const DevelopOptions& options = {});

// Develops into `sink` strip by strip, top to bottom, so the photo is never
// whole in memory; orientation is not applied (the rows are as stored).
// The sink is called from one thread at a time, not the caller's.
// `highlights`, when given, is the frame's highlight rebuild still to be
// done (raw's levels already relevelled, its samples as read): each strip
// rebuilds its own rows, so the frame is not copied whole to be rebuilt.
void develop_rows(const RawImage& raw, const DevelopOptions& options, RowSink& sink,
                  const HighlightRebuild* highlights = nullptr);

}  // namespace obscura
