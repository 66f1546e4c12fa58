// color_solution: how a camera's colour maps to XYZ D50 for the scene's
// white (DNG 1.7.1 chapter 6), solved once from the RawImage's colour tags;
// the sensor steps and the develop both use it.
#pragma once
#include <string>

#include "obscura/color_math.h"
#include "obscura/raw_image.h"

namespace obscura {

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

}  // namespace obscura
