#include "obscura/color_math.h"

#include <cmath>
#include <cstdio>

#include "obscura/error.h"

namespace obscura {

const Vec3 kD50{0.96422, 1.0, 0.82521};
const Vec3 kD65{0.95047, 1.0, 1.08883};
const Mat3 kLinearSrgbToXyz{0.4124564, 0.3575761, 0.1804375, 0.2126729, 0.7151522,
                            0.0721750, 0.0193339, 0.1191920, 0.9503041};
const Mat3 kXyzToLinearSrgb = inverse(kLinearSrgbToXyz);
// From the primaries R (0.680, 0.320), G (0.265, 0.690), B (0.150, 0.060) and D65.
const Mat3 kLinearDisplayP3ToXyz{0.4865709, 0.2656677, 0.1982173, 0.2289746, 0.6917385,
                                 0.0792869, 0.0000000, 0.0451134, 1.0439444};
const Mat3 kXyzToLinearDisplayP3 = inverse(kLinearDisplayP3ToXyz);

Mat3 identity3() { return {1, 0, 0, 0, 1, 0, 0, 0, 1}; }
Mat3 diag3(const Vec3& d) { return {d[0], 0, 0, 0, d[1], 0, 0, 0, d[2]}; }

Mat3 mul(const Mat3& a, const Mat3& b) {
    Mat3 r{};
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j)
            for (int k = 0; k < 3; ++k) r[i * 3 + j] += a[i * 3 + k] * b[k * 3 + j];
    return r;
}

Vec3 mul(const Mat3& m, const Vec3& v) {
    return {m[0] * v[0] + m[1] * v[1] + m[2] * v[2], m[3] * v[0] + m[4] * v[1] + m[5] * v[2],
            m[6] * v[0] + m[7] * v[1] + m[8] * v[2]};
}

Mat3 inverse(const Mat3& m) {
    double a = m[4] * m[8] - m[5] * m[7], b = m[5] * m[6] - m[3] * m[8], c = m[3] * m[7] - m[4] * m[6];
    double det = m[0] * a + m[1] * b + m[2] * c;
    if (!std::isfinite(det) || std::fabs(det) < 1e-12) throw Error("colour matrix is singular");
    return {a / det, (m[2] * m[7] - m[1] * m[8]) / det, (m[1] * m[5] - m[2] * m[4]) / det,
            b / det, (m[0] * m[8] - m[2] * m[6]) / det, (m[2] * m[3] - m[0] * m[5]) / det,
            c / det, (m[1] * m[6] - m[0] * m[7]) / det, (m[0] * m[4] - m[1] * m[3]) / det};
}

Mat3 scale(const Mat3& m, double s) {
    Mat3 r = m;
    for (auto& v : r) v *= s;
    return r;
}

Mat3 lerp(const Mat3& a, const Mat3& b, double t) {
    Mat3 r;
    for (int i = 0; i < 9; ++i) r[i] = a[i] + (b[i] - a[i]) * t;
    return r;
}

Vec3 xy_to_xyz(double x, double y) { return {x / y, 1.0, (1.0 - x - y) / y}; }

std::array<double, 2> xyz_to_xy(const Vec3& v) {
    double s = v[0] + v[1] + v[2];
    if (!(s > 0)) return {0.3127, 0.3290};
    return {v[0] / s, v[1] / s};
}

double xy_to_cct(double x, double y) {
    // Robertson (1968): isotemperature lines in CIE 1960 uv.
    static const double kTable[][4] = {  // reciprocal megakelvin, u, v, slope t
        {0, 0.18006, 0.26352, -0.24341},   {10, 0.18066, 0.26589, -0.25479},  {20, 0.18133, 0.26846, -0.26876},
        {30, 0.18208, 0.27119, -0.28539},  {40, 0.18293, 0.27407, -0.30470},  {50, 0.18388, 0.27709, -0.32675},
        {60, 0.18494, 0.28021, -0.35156},  {70, 0.18611, 0.28342, -0.37915},  {80, 0.18740, 0.28668, -0.40955},
        {90, 0.18880, 0.28997, -0.44278},  {100, 0.19032, 0.29326, -0.47888}, {125, 0.19462, 0.30141, -0.58204},
        {150, 0.19962, 0.30921, -0.70471}, {175, 0.20525, 0.31647, -0.84901}, {200, 0.21142, 0.32312, -1.0182},
        {225, 0.21807, 0.32909, -1.2168},  {250, 0.22511, 0.33439, -1.4512},  {275, 0.23247, 0.33904, -1.7298},
        {300, 0.24010, 0.34308, -2.0637},  {325, 0.24792, 0.34655, -2.4681},  {350, 0.25591, 0.34951, -2.9641},
        {375, 0.26400, 0.35200, -3.5814},  {400, 0.27218, 0.35407, -4.3633},  {425, 0.28039, 0.35577, -5.3762},
        {450, 0.28863, 0.35714, -6.7262},  {475, 0.29685, 0.35823, -8.5955},  {500, 0.30505, 0.35907, -11.324},
        {525, 0.31320, 0.35968, -15.628},  {550, 0.32129, 0.36011, -23.325},  {575, 0.32931, 0.36038, -40.770},
        {600, 0.33724, 0.36051, -116.45}};
    double den = -2 * x + 12 * y + 3;
    double u = 4 * x / den, v = 6 * y / den;
    double last_d = 0;
    const int n = sizeof kTable / sizeof kTable[0];
    for (int i = 0; i < n; ++i) {
        double t = kTable[i][3];
        double d = ((v - kTable[i][2]) - t * (u - kTable[i][1])) / std::sqrt(1 + t * t);
        if (i > 0 && (d <= 0) != (last_d <= 0)) {
            double f = last_d / (last_d - d);
            double mired = kTable[i - 1][0] + f * (kTable[i][0] - kTable[i - 1][0]);
            return mired > 0 ? 1e6 / mired : 50000;
        }
        last_d = d;
    }
    return last_d <= 0 ? 50000 : 1e6 / 600;  // outside the table: clamp
}

double illuminant_temperature(int code) {
    switch (code) {
        case 1: case 4: case 9: return 5500;    // daylight, flash, fine weather
        case 2: case 14: return 4150;           // fluorescent, cool white fluorescent
        case 3: return 2850;                    // tungsten
        case 10: return 6500;                   // cloudy
        case 11: return 7500;                   // shade
        case 12: return 6400;                   // daylight fluorescent
        case 13: return 5000;                   // day white fluorescent
        case 15: return 3450;                   // white fluorescent
        case 16: return 2940;                   // warm white fluorescent
        case 17: return 2856;                   // standard light A
        case 18: return 4874;                   // standard light B
        case 19: return 6774;                   // standard light C
        case 20: return 5503;                   // D55
        case 21: return 6504;                   // D65
        case 22: return 7504;                   // D75
        case 23: return 5003;                   // D50
        case 24: return 3200;                   // ISO studio tungsten
        default: return 0;
    }
}

std::string illuminant_name(int code) {
    switch (code) {
        case 0: return "unknown";
        case 1: return "daylight";
        case 2: return "fluorescent";
        case 3: return "tungsten";
        case 4: return "flash";
        case 9: return "fine weather";
        case 10: return "cloudy";
        case 11: return "shade";
        case 17: return "standard light A";
        case 18: return "standard light B";
        case 19: return "standard light C";
        case 20: return "D55";
        case 21: return "D65";
        case 22: return "D75";
        case 23: return "D50";
        case 24: return "ISO studio tungsten";
        default: return "code " + std::to_string(code);
    }
}

Mat3 bradford(const Vec3& from, const Vec3& to) {
    static const Mat3 kB{0.8951, 0.2664, -0.1614, -0.7502, 1.7135, 0.0367, 0.0389, -0.0685, 1.0296};
    Vec3 s = mul(kB, from), d = mul(kB, to);
    return mul(inverse(kB), mul(diag3({d[0] / s[0], d[1] / s[1], d[2] / s[2]}), kB));
}

std::string format_matrix(const Mat3& m) {
    char buf[200];
    std::snprintf(buf, sizeof buf, "[%.4f %.4f %.4f; %.4f %.4f %.4f; %.4f %.4f %.4f]", m[0], m[1], m[2], m[3], m[4], m[5],
                  m[6], m[7], m[8]);
    return buf;
}

}  // namespace obscura
