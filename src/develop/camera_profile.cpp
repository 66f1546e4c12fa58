// camera_profile: the DNG camera profile's tables and curves, per pixel.
#include "camera_profile.h"

#include <algorithm>
#include <cmath>

#include "../core/parallel.h"

namespace obscura {
namespace {

// ProPhoto RGB (ROMM/RIMM primaries, D50 white) -> XYZ D50.
const Mat3 kProPhotoToXyz = {0.7976749, 0.1351917, 0.0313534, 0.2880402, 0.7118741, 0.0000857, 0.0, 0.0, 0.8252100};

// The two calibrations' tables mixed as the matrices are (weight w1 of the
// first); a table alone is used whatever the white.
HsvTable mixed(const HsvTable& t1, const HsvTable& t2, double w1) {
    if (t1.empty()) return t2;
    if (t2.empty() || w1 >= 1) return t1;
    if (w1 <= 0) return t2;
    if (t1.hues != t2.hues || t1.sats != t2.sats || t1.vals != t2.vals) return w1 >= 0.5 ? t1 : t2;
    HsvTable t = t1;
    for (size_t i = 0; i < t.data.size(); ++i) t.data[i] = float(w1 * t1.data[i] + (1 - w1) * t2.data[i]);
    return t;
}

// A natural cubic spline through the curve's points, sampled at n + 1
// evenly spaced inputs over 0..1 (the DNG asks for a cubic spline).
std::vector<float> sampled_spline(const std::vector<std::array<float, 2>>& pts, int n) {
    const size_t m = pts.size();
    std::vector<double> x(m), y(m), h(m), second(m, 0.0);
    for (size_t i = 0; i < m; ++i) x[i] = pts[i][0], y[i] = pts[i][1];
    if (m > 2) {
        // The tridiagonal system for the second derivatives (zero at the ends).
        std::vector<double> diag(m, 0.0), rhs(m, 0.0), upper(m, 0.0);
        for (size_t i = 1; i + 1 < m; ++i) {
            double h0 = x[i] - x[i - 1], h1 = x[i + 1] - x[i];
            diag[i] = 2 * (h0 + h1);
            upper[i] = h1;
            rhs[i] = 6 * ((y[i + 1] - y[i]) / h1 - (y[i] - y[i - 1]) / h0);
        }
        for (size_t i = 2; i + 1 < m; ++i) {
            double f = (x[i] - x[i - 1]) / diag[i - 1];
            diag[i] -= f * upper[i - 1];
            rhs[i] -= f * rhs[i - 1];
        }
        for (size_t i = m - 2; i >= 1; --i) second[i] = (rhs[i] - upper[i] * second[i + 1]) / diag[i];
    }
    std::vector<float> out(size_t(n) + 1);
    size_t k = 0;
    for (int i = 0; i <= n; ++i) {
        double t = double(i) / n, v;
        if (t <= x[0]) {
            v = y[0];
        } else if (t >= x[m - 1]) {
            v = y[m - 1];
        } else {
            while (k + 2 < m && t > x[k + 1]) ++k;
            double hk = x[k + 1] - x[k], a = (x[k + 1] - t) / hk, b = (t - x[k]) / hk;
            v = a * y[k] + b * y[k + 1] + ((a * a * a - a) * second[k] + (b * b * b - b) * second[k + 1]) * hk * hk / 6;
        }
        out[size_t(i)] = float(std::clamp(v, 0.0, 1.0));
    }
    return out;
}

// A curve sampled at n + 1 points over 0..1, at v (clamped).
inline float lookup(const std::vector<float>& table, float v) {
    const int n = int(table.size()) - 1;
    float pos = std::clamp(v, 0.0f, 1.0f) * float(n);
    int i = std::min(int(pos), n - 1);
    return table[size_t(i)] + (table[size_t(i) + 1] - table[size_t(i)]) * (pos - float(i));
}

float srgb_encode_exact(float v) { return v <= 0.0031308f ? v * 12.92f : 1.055f * std::pow(v, 1 / 2.4f) - 0.055f; }
float srgb_decode_exact(float v) { return v <= 0.04045f ? v / 12.92f : std::pow((v + 0.055f) / 1.055f, 2.4f); }

// The sRGB curve both ways by tables (the exact ones cost two powers a
// value): decoding sampled uniformly (its slope is bounded), encoding
// sampled uniformly in the square root of its input (its slope is not, near
// black). Both within 1e-6 of the exact curves.
struct SrgbTables {
    static constexpr int kN = 4096;
    float decode[kN + 1], encode_sqrt[kN + 1];
    SrgbTables() {
        for (int i = 0; i <= kN; ++i) {
            float t = float(i) / kN;
            decode[i] = srgb_decode_exact(t);
            encode_sqrt[i] = srgb_encode_exact(t * t);
        }
    }
};
const SrgbTables& srgb_tables() {
    static const SrgbTables tables;
    return tables;
}
inline float sampled(const float* table, float pos) {
    int i = std::min(int(pos), SrgbTables::kN - 1);
    return table[i] + (table[i + 1] - table[i]) * (pos - float(i));
}
inline float srgb_decode_f(float v) { return sampled(srgb_tables().decode, std::clamp(v, 0.0f, 1.0f) * SrgbTables::kN); }
inline float srgb_encode_f(float v) {
    return sampled(srgb_tables().encode_sqrt, std::sqrt(std::clamp(v, 0.0f, 1.0f)) * SrgbTables::kN);
}

// Hue in 0..6 (red 0, green 2, blue 4), saturation and value, as the DNG
// SDK defines them.
void rgb_to_hsv(const float c[3], float& h, float& s, float& v) {
    v = std::max({c[0], c[1], c[2]});
    float gap = v - std::min({c[0], c[1], c[2]});
    h = 0, s = 0;
    if (gap <= 0) return;
    s = gap / v;
    if (c[0] == v) {
        h = (c[1] - c[2]) / gap;
        if (h < 0) h += 6;
    } else if (c[1] == v) {
        h = 2 + (c[2] - c[0]) / gap;
    } else {
        h = 4 + (c[0] - c[1]) / gap;
    }
}

void hsv_to_rgb(float h, float s, float v, float c[3]) {
    if (s <= 0) {
        c[0] = c[1] = c[2] = v;
        return;
    }
    int i = std::min(int(h), 5);
    float f = h - float(i), p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
    switch (i) {
        case 0: c[0] = v, c[1] = t, c[2] = p; break;
        case 1: c[0] = q, c[1] = v, c[2] = p; break;
        case 2: c[0] = p, c[1] = v, c[2] = t; break;
        case 3: c[0] = p, c[1] = q, c[2] = v; break;
        case 4: c[0] = t, c[1] = p, c[2] = v; break;
        default: c[0] = v, c[1] = p, c[2] = q; break;
    }
}

// One hue/saturation/value table applied to linear c (DNG 1.7.1 chapter 6,
// "Applying the Hue/Saturation/Value Mapping Table"), standard dynamic range.
void apply_hsv_table(const HsvTable& t, float c[3]) {
    const bool encoded = t.srgb_encoded && t.vals > 1;
    if (encoded)
        for (int k = 0; k < 3; ++k) c[k] = srgb_encode_f(std::max(c[k], 0.0f));
    float h, s, v;
    rgb_to_hsv(c, h, s, v);
    float hs = h * float(t.hues) / 6.0f;
    int h0 = int(hs);
    float hf = hs - float(h0);
    if (h0 >= t.hues) h0 -= t.hues;  // (h is below 6)
    int h1 = h0 + 1 == t.hues ? 0 : h0 + 1;
    float sc = std::clamp(s, 0.0f, 1.0f) * float(t.sats - 1);
    int s0 = std::min(int(sc), t.sats - 2);
    float sf = sc - float(s0);
    int v0 = 0;
    float vf = 0;
    if (t.vals > 1) {
        float vc = std::clamp(v, 0.0f, 1.0f) * float(t.vals - 1);
        v0 = std::min(int(vc), t.vals - 2);
        vf = vc - float(v0);
    }
    float out[3] = {0, 0, 0};
    for (int dv = 0; dv < (t.vals > 1 ? 2 : 1); ++dv) {
        float wv = t.vals > 1 ? (dv ? vf : 1 - vf) : 1;
        const float* layer = &t.data[size_t(3) * size_t(v0 + dv) * size_t(t.hues) * size_t(t.sats)];
        auto at = [&](int hi, int si) { return layer + 3 * (size_t(hi) * size_t(t.sats) + size_t(si)); };
        const float *a = at(h0, s0), *b = at(h0, s0 + 1), *cc = at(h1, s0), *d = at(h1, s0 + 1);
        for (int k = 0; k < 3; ++k) {
            float lo = a[k] + (b[k] - a[k]) * sf, hi = cc[k] + (d[k] - cc[k]) * sf;
            out[k] += wv * (lo + (hi - lo) * hf);
        }
    }
    h += out[0] * (6.0f / 360.0f);
    if (h < 0 || h >= 6) h -= 6.0f * std::floor(h / 6.0f);
    s = std::min(s * out[1], 1.0f);
    v = std::min(v * out[2], 1.0f);
    hsv_to_rgb(h, s, v, c);
    if (encoded)
        for (int k = 0; k < 3; ++k) c[k] = srgb_decode_f(c[k]);
}

// The tone curve on the largest and smallest channel, the middle one placed
// between them as it was (the hue is kept).
void apply_rgb_tone(const std::vector<float>& tone, float c[3]) {
    int hi = 0, lo = 0;
    for (int k = 1; k < 3; ++k) {
        if (c[k] > c[hi]) hi = k;
        if (c[k] < c[lo]) lo = k;
    }
    if (c[hi] == c[lo]) {
        c[0] = c[1] = c[2] = lookup(tone, c[hi]);
        return;
    }
    int mid = 3 - hi - lo;
    float th = lookup(tone, c[hi]), tl = lookup(tone, c[lo]);
    float tm = tl + (th - tl) * (c[mid] - c[lo]) / (c[hi] - c[lo]);
    c[hi] = th, c[lo] = tl, c[mid] = tm;
}

}  // namespace

bool ProfileRendering::applies(const RawImage& raw, const Look& look) {
    return look.camera_profile && !raw.color.profile.empty();
}

ProfileRendering::ProfileRendering(const RawImage& raw, const ColorSolution& color, const Look& look,
                                   const std::string& color_space) {
    const CameraProfile& p = raw.color.profile;
    camera_to_prophoto_ = mul(inverse(kProPhotoToXyz), color.camera_to_xyz_d50);
    const Mat3& to_output = color_space == "Display P3" ? kXyzToLinearDisplayP3 : kXyzToLinearSrgb;
    Mat3 out = mul(to_output, mul(bradford(kD50, kD65), kProPhotoToXyz));
    for (int i = 0; i < 9; ++i) to_output_[i] = float(out[size_t(i)]);
    hue_sat_map_ = mixed(p.hue_sat_map[0], p.hue_sat_map[1], color.calibration1_weight);
    look_table_ = p.look_table;
    gain_map_ = p.gain_table_map;

    // The profile's tone curve stands in for the look's tone (its exposure
    // kept); without one the look's curve encodes as usual.
    double ev = raw.color.baseline_exposure + p.exposure_offset;
    Look tone = look;
    if (!p.tone_curve.empty()) {
        tone_ = sampled_spline(p.tone_curve, 4096);
        ev += look.exposure_ev;
        tone = Look{};
    }
    exposure_ = float(std::pow(2.0, ev));
    encode_ = tone.encoding_curve();
    decode_.resize(65536);
    for (size_t i = 0; i < decode_.size(); ++i) decode_[i] = srgb_decode_exact(float(i) / 65535.0f);

    // The gain table map's grid over the active area, pixel-centred.
    crop_y_ = raw.crop.y, image_height_ = raw.height;
    if (!gain_map_.empty()) {
        column_pos_.resize(size_t(std::max(raw.crop.width, 1)));
        for (size_t x = 0; x < column_pos_.size(); ++x) {
            double rel = (double(raw.crop.x) + double(x) + 0.5) / raw.width;
            column_pos_[x] = float(std::clamp((rel - gain_map_.origin_h) / gain_map_.spacing_h, 0.0, double(gain_map_.points_h - 1)));
        }
    }
}

void ProfileRendering::before_gain_map(float c[3]) const {
    if (!hue_sat_map_.empty()) apply_hsv_table(hue_sat_map_, c);
    for (int k = 0; k < 3; ++k) c[k] *= exposure_;
}

float ProfileRendering::gain_at(const float c[3], int x, float row_pos) const {
    const GainTableMap& g = gain_map_;
    const auto& w = g.weights;
    float in = w[0] * c[0] + w[1] * c[1] + w[2] * c[2] + w[3] * std::min({c[0], c[1], c[2]}) +
               w[4] * std::max({c[0], c[1], c[2]});
    float t = std::clamp(in, 0.0f, 1.0f) * float(g.points_n);
    int i0 = std::min(int(t), g.points_n - 1), i1 = std::min(i0 + 1, g.points_n - 1);
    float tf = t - float(i0);
    float cp = column_pos_[size_t(x)];
    int c0 = int(cp), c1 = std::min(c0 + 1, g.points_h - 1), r0 = int(row_pos), r1 = std::min(r0 + 1, g.points_v - 1);
    float cf = cp - float(c0), rf = row_pos - float(r0);
    auto table = [&](int r, int col) {
        const float* e = &g.gains[(size_t(r) * size_t(g.points_h) + size_t(col)) * size_t(g.points_n)];
        return e[i0] + (e[i1] - e[i0]) * tf;
    };
    float top = table(r0, c0) + (table(r0, c1) - table(r0, c0)) * cf;
    float bottom = table(r1, c0) + (table(r1, c1) - table(r1, c0)) * cf;
    return top + (bottom - top) * rf;
}

void ProfileRendering::after_gain_map(float c[3]) const {
    for (int k = 0; k < 3; ++k) c[k] = std::clamp(c[k], 0.0f, 1.0f);
    if (!look_table_.empty()) apply_hsv_table(look_table_, c);
    if (!tone_.empty()) apply_rgb_tone(tone_, c);
    float o[3];
    for (int r = 0; r < 3; ++r) o[r] = to_output_[3 * r] * c[0] + to_output_[3 * r + 1] * c[1] + to_output_[3 * r + 2] * c[2];
    for (int k = 0; k < 3; ++k) c[k] = lookup(encode_, o[k]);
}

void ProfileRendering::apply(uint16_t* pixels, size_t stride, int width, int y0, int rows) const {
    parallel_rows(0, rows, [&](int a, int b) {
        for (int y = a; y < b; ++y) {
            float row_pos = 0;
            if (!gain_map_.empty()) {
                double rel = (double(crop_y_) + double(y0 + y) + 0.5) / image_height_;
                row_pos = float(std::clamp((rel - gain_map_.origin_v) / gain_map_.spacing_v, 0.0, double(gain_map_.points_v - 1)));
            }
            uint16_t* p = pixels + size_t(y) * stride;
            for (int x = 0; x < width; ++x, p += 3) {
                float c[3] = {decode_[p[0]], decode_[p[1]], decode_[p[2]]};
                before_gain_map(c);
                if (!gain_map_.empty()) {
                    float gain = gain_at(c, x, row_pos);
                    for (int k = 0; k < 3; ++k) c[k] *= gain;
                }
                after_gain_map(c);
                for (int k = 0; k < 3; ++k) p[k] = uint16_t(std::clamp(c[k], 0.0f, 1.0f) * 65535.0f + 0.5f);
            }
        }
    }, 16);
}

}  // namespace obscura
