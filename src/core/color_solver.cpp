// Camera colour per the DNG specification, chapter 6 ("Mapping Camera Color
// Space to CIE XYZ Space"): interpolate the two calibrations by the inverse
// of the scene white's colour temperature, find that white by iteration.
#include <algorithm>
#include <cmath>

#include "obscura/color_solution.h"
#include "obscura/error.h"

namespace obscura {
namespace {

// Weight of calibration 1 (of EXIF light source `first`, against `second`)
// for a scene white at `temperature`.
double weight1(int first, int second, double temperature) {
    double t1 = illuminant_temperature(first), t2 = illuminant_temperature(second);
    if (t1 <= 0 || t2 <= 0 || t1 == t2) return 1.0;
    if (t1 > t2) return 1.0 - weight1(second, first, temperature);
    if (temperature <= t1) return 1.0;
    if (temperature >= t2) return 0.0;
    return (1.0 / temperature - 1.0 / t2) / (1.0 / t1 - 1.0 / t2);
}

Mat3 interpolated(const std::optional<Mat3>& m1, const std::optional<Mat3>& m2, double w1) {
    if (!m2) return *m1;
    if (!m1) return *m2;
    return lerp(*m2, *m1, w1);
}

// XYZ -> camera for a white at `temperature`, including the calibration and
// analog balance the DNG may carry.
Mat3 xyz_to_camera(const CameraColor& c, double temperature) {
    double w1 = weight1(c.illuminant[0], c.illuminant[1], temperature);
    Mat3 cm = interpolated(c.color_matrix[0], c.color_matrix[1], w1);
    if (c.camera_calibration[0] || c.camera_calibration[1])
        cm = mul(interpolated(c.camera_calibration[0] ? c.camera_calibration[0] : identity3(),
                              c.camera_calibration[1] ? c.camera_calibration[1] : identity3(), w1),
                 cm);
    if (c.analog_balance) cm = mul(diag3(*c.analog_balance), cm);
    return cm;
}

Vec3 normalised(Vec3 v) {
    double m = std::max({v[0], v[1], v[2]});
    return {v[0] / m, v[1] / m, v[2] / m};
}

}  // namespace

ColorSolution solve_color(const CameraColor& given, const std::string& source) {
    // A camera with no colour matrix anywhere: its RGB is taken as linear
    // sRGB (D65), which the caller says in a warning.
    CameraColor color = given;
    const bool assumed = !given.color_matrix[0] && !given.color_matrix[1];
    if (assumed) {
        color.color_matrix[0] = kXyzToLinearSrgb;
        color.illuminant[0] = 21;  // D65
        color.forward_matrix[0] = color.forward_matrix[1] = std::nullopt;
        color.camera_calibration[0] = color.camera_calibration[1] = std::nullopt;
    }
    ColorSolution s{};
    s.camera_assumed_srgb = assumed;
    try {
        std::array<double, 2> xy{0.3457, 0.3585};  // start at D50
        if (color.as_shot_white_xy) {
            xy = *color.as_shot_white_xy;
            Mat3 cm = xyz_to_camera(color, xy_to_cct(xy[0], xy[1]));
            s.neutral = normalised(mul(cm, xy_to_xyz(xy[0], xy[1])));
        } else {
            // No neutral recorded: assume daylight (D65) light on the scene.
            Vec3 neutral = color.as_shot_neutral ? *color.as_shot_neutral
                                                 : mul(xyz_to_camera(color, 6504), xy_to_xyz(0.3127, 0.3290));
            s.neutral = normalised(neutral);
            for (int i = 0; i < 30; ++i) {
                Vec3 xyz = mul(inverse(xyz_to_camera(color, xy_to_cct(xy[0], xy[1]))), s.neutral);
                auto next = xyz_to_xy(xyz);
                bool done = std::fabs(next[0] - xy[0]) + std::fabs(next[1] - xy[1]) < 1e-7;
                xy = next;
                if (done) break;
            }
        }
        if (!(s.neutral[0] > 0 && s.neutral[1] > 0 && s.neutral[2] > 0))
            throw file_error(source, "the scene white maps to a non-positive camera neutral");
        s.white_xy[0] = xy[0];
        s.white_xy[1] = xy[1];
        s.temperature_k = xy_to_cct(xy[0], xy[1]);
        double w1 = weight1(color.illuminant[0], color.illuminant[1], s.temperature_k);
        s.calibration1_weight = w1;
        if (color.forward_matrix[0] || color.forward_matrix[1]) {
            // ForwardMatrix maps white-balanced camera colour straight to D50.
            s.camera_to_xyz_d50 = interpolated(color.forward_matrix[0], color.forward_matrix[1], w1);
            s.used_forward_matrix = true;
        } else {
            Mat3 camera_to_xyz = inverse(xyz_to_camera(color, s.temperature_k));
            Vec3 white = mul(camera_to_xyz, s.neutral);
            if (!(white[1] > 0)) throw file_error(source, "colour matrix maps the neutral to a white with Y <= 0");
            Vec3 white_n{white[0] / white[1], 1.0, white[2] / white[1]};
            s.camera_to_xyz_d50 = scale(mul(bradford(white_n, kD50), mul(camera_to_xyz, diag3(s.neutral))), 1.0 / white[1]);
            s.used_forward_matrix = false;
        }
    } catch (const Error& e) {
        std::string what = e.what();
        if (what.rfind(source, 0) == 0 && !source.empty()) throw;
        throw file_error(source, what);
    }
    return s;
}

}  // namespace obscura
