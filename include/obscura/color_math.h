// Small fixed-size colour maths: 3-vectors, 3x3 matrices, xy/XYZ, CCT.
#pragma once
#include <array>
#include <string>

namespace obscura {

using Vec3 = std::array<double, 3>;
using Mat3 = std::array<double, 9>;  // row-major

Mat3 identity3();
Mat3 diag3(const Vec3& d);
Mat3 mul(const Mat3& a, const Mat3& b);
Vec3 mul(const Mat3& m, const Vec3& v);
Mat3 inverse(const Mat3& m);  // throws obscura::Error when singular
Mat3 scale(const Mat3& m, double s);
Mat3 lerp(const Mat3& a, const Mat3& b, double t);

// CIE xy chromaticity <-> XYZ with Y = 1.
Vec3 xy_to_xyz(double x, double y);
std::array<double, 2> xyz_to_xy(const Vec3& xyz);
// Correlated colour temperature of an xy point (kelvin; Robertson's method).
double xy_to_cct(double x, double y);
// Nominal temperature of an EXIF LightSource / DNG CalibrationIlluminant code,
// 0 when the code names none.
double illuminant_temperature(int exif_light_source);
std::string illuminant_name(int exif_light_source);

// Bradford chromatic adaptation from one white (XYZ) to another.
Mat3 bradford(const Vec3& from_white, const Vec3& to_white);

extern const Vec3 kD50;  // XYZ of the PCS white
extern const Vec3 kD65;
extern const Mat3 kXyzToLinearSrgb;  // D65
extern const Mat3 kLinearSrgbToXyz;
extern const Mat3 kXyzToLinearDisplayP3;  // D65, DCI-P3 primaries (Apple's Display P3)
extern const Mat3 kLinearDisplayP3ToXyz;

std::string format_matrix(const Mat3& m);

}  // namespace obscura
