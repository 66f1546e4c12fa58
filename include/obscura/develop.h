// develop: RawImage -> finished Image (normalise, white balance, demosaic,
// camera colour -> sRGB, look, crop, orientation).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "obscura/color_math.h"
#include "obscura/image.h"
#include "obscura/look.h"
#include "obscura/raw_image.h"

namespace obscura {

struct Lut3D;  // obscura/finish.h

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
};

// The output colour spaces develop knows, by name ("sRGB", "Display P3");
// color_space_named also takes the command line's "srgb" and "display-p3".
const std::vector<std::string>& output_color_spaces();
std::string color_space_named(const std::string& name);  // throws Error naming the known ones

// How the camera's colour maps to the working space, as solved from the DNG
// colour tags (dual-illuminant interpolation, ForwardMatrix when present).
struct ColorSolution {
    Vec3 neutral;              // camera response to white, max component 1
    Mat3 camera_to_xyz_d50;    // white-balanced camera (camera / neutral) -> XYZ D50
    double white_xy[2];        // chromaticity of the scene white
    double temperature_k;      // its correlated colour temperature
    bool used_forward_matrix;
    bool camera_assumed_srgb;  // the file has no colour matrix: camera RGB taken as linear sRGB
    double calibration1_weight;  // of calibration 1 against 2 for this white (for the profile's tables too)
};

ColorSolution solve_color(const CameraColor& color, const std::string& source = "");

Image develop(const RawImage& raw, const DevelopOptions& options = {});

// Develops into `sink` strip by strip, top to bottom, so the photo is never
// whole in memory; orientation is not applied (the rows are as stored).
// The sink is called from one thread at a time, not the caller's.
void develop_rows(const RawImage& raw, const DevelopOptions& options, RowSink& sink);

}  // namespace obscura
