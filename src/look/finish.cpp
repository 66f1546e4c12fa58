// The look's finishing, on sRGB-encoded values in 0..1: colour (monochrome
// mix, or hue rotation, saturation and vibrance on the chroma), split
// toning, vignette and grain, then the 3D LUT.
#include "obscura/finish.h"

#include <algorithm>
#include <cmath>

#include "core/parallel.h"
#include "obscura/error.h"

namespace obscura {
namespace {

constexpr float kPi = 3.14159265358979f;

// The chroma direction of a hue (0 red, 120 green, 240 blue): a fully
// saturated colour of that hue minus its mean, scaled to unit length.
void hue_direction(double hue_deg, float out[3]) {
    double h = hue_deg * kPi / 180;
    double len = 0;
    for (int c = 0; c < 3; ++c) {
        out[c] = float(std::cos(h - c * 2 * kPi / 3));
        len += out[c] * out[c];
    }
    for (int c = 0; c < 3; ++c) out[c] = float(out[c] / std::sqrt(len));
}

// Film-like grain: value noise on a lattice `size` pixels apart, from an
// integer hash of the lattice point (so any strip gives the same grain).
float lattice(int x, int y) {
    uint32_t h = uint32_t(x) * 0x8da6b343u ^ uint32_t(y) * 0xd8163841u;
    h ^= h >> 13, h *= 0x5bd1e995u, h ^= h >> 15;
    return float(h & 0xffff) / 32767.5f - 1.0f;
}

float value_noise(float x, float y) {
    int xi = int(std::floor(x)), yi = int(std::floor(y));
    float fx = x - float(xi), fy = y - float(yi);
    fx = fx * fx * (3 - 2 * fx), fy = fy * fy * (3 - 2 * fy);
    float top = lattice(xi, yi) + fx * (lattice(xi + 1, yi) - lattice(xi, yi));
    float bottom = lattice(xi, yi + 1) + fx * (lattice(xi + 1, yi + 1) - lattice(xi, yi + 1));
    return top + fy * (bottom - top);
}

}  // namespace

Finisher::Finisher(const Look& look, int width, int height, std::shared_ptr<const Lut3D> lut)
    : look_(look), width_(width), height_(height), lut_(std::move(lut)) {
    if (!lut_ && !look.lut.empty()) lut_ = std::make_shared<const Lut3D>(Lut3D::load(look.lut));
    lut_linear_ = look.lut_space == "linear";
    colour_ = !look.finishing_is_identity();
    active_ = colour_ || lut_;
    // Rotation by the hue angle about the grey axis (Rodrigues).
    double t = look.hue_deg * kPi / 180, c = std::cos(t), s = std::sin(t), k = (1 - c) / 3, r = s / std::sqrt(3.0);
    const double m[9] = {c + k, k - r, k + r, k + r, c + k, k - r, k - r, k + r, c + k};
    for (int i = 0; i < 9; ++i) hue_[i] = float(m[i]);
    hue_direction(look.shadow_hue, shadow_tint_);
    hue_direction(look.highlight_hue, highlight_tint_);
}

void Finisher::apply_row(uint16_t* row, int y) const {
    const Look& L = look_;
    const float cx = 0.5f * float(width_ - 1), cy = 0.5f * float(height_ - 1);
    const float inv_radius = 1.0f / std::sqrt(cx * cx + cy * cy + 1e-6f);
    const float dy = (float(y) - cy) * inv_radius;
    const float pivot = 0.5f + 0.4f * float(L.split_balance);
    const float grain_scale = 1.0f / float(L.grain_size);
    for (int x = 0; x < width_; ++x) {
        uint16_t* p = row + size_t(x) * 3;
        float v[3] = {p[0] / 65535.0f, p[1] / 65535.0f, p[2] / 65535.0f};
        if (colour_) {
            if (L.mono_mix) {
                const auto& m = *L.mono_mix;
                float grey = float(m[0]) * v[0] + float(m[1]) * v[1] + float(m[2]) * v[2];
                v[0] = v[1] = v[2] = grey;
            } else {
                if (L.hue_deg != 0) {
                    float h[3];
                    for (int c = 0; c < 3; ++c) h[c] = hue_[c * 3] * v[0] + hue_[c * 3 + 1] * v[1] + hue_[c * 3 + 2] * v[2];
                    std::copy_n(h, 3, v);
                }
                float luma = 0.2126f * v[0] + 0.7152f * v[1] + 0.0722f * v[2];
                float chroma = std::max({v[0], v[1], v[2]}) - std::min({v[0], v[1], v[2]});
                // Vibrance favours the colours that have little (skin and
                // skies before the already saturated).
                float k = float(L.saturation) * (1.0f + float(L.vibrance) * (1.0f - std::min(chroma * 1.6f, 1.0f)));
                for (float& c : v) c = luma + k * (c - luma);
            }
            float luma = 0.2126f * v[0] + 0.7152f * v[1] + 0.0722f * v[2];
            if (L.shadow_amount > 0 || L.highlight_amount > 0) {
                float ws = luma < pivot ? 1.0f - luma / pivot : 0.0f;
                float wh = luma > pivot ? (luma - pivot) / (1.0f - pivot) : 0.0f;
                // Tints fade at black and white, so both stay neutral.
                float room = 4.0f * luma * (1.0f - luma);
                for (int c = 0; c < 3; ++c)
                    v[c] += 0.5f * room * (float(L.shadow_amount) * ws * shadow_tint_[c] +
                                            float(L.highlight_amount) * wh * highlight_tint_[c]);
            }
            if (L.vignette != 0) {
                float dx = (float(x) - cx) * inv_radius, r2 = dx * dx + dy * dy;
                float f = 1.0f - float(L.vignette) * r2 * r2;  // flat centre, falling to the corners
                for (float& c : v) c *= f;
            }
            if (L.grain > 0) {
                float n = value_noise(float(x) * grain_scale, float(y) * grain_scale);
                float amp = float(L.grain) * 4.0f * luma * (1.0f - luma);  // midtones most, as film
                for (float& c : v) c += n * amp;
            }
        }
        if (lut_) {
            for (float& c : v) c = std::clamp(c, 0.0f, 1.0f);
            if (lut_linear_)
                for (float& c : v) c = float(srgb_decode(c));
            lut_->apply(v);
            if (lut_linear_)
                for (float& c : v) c = float(srgb_encode(c));
        }
        for (int c = 0; c < 3; ++c) p[c] = uint16_t(std::lround(std::clamp(v[c], 0.0f, 1.0f) * 65535.0f));
    }
}

void Finisher::apply(uint16_t* rows, size_t stride, int y, int count) const {
    if (!active_) return;
    // The strip's rows on every core (the develop kernel is idle meanwhile).
    parallel_rows(0, count, [&](int r0, int r1) {
        for (int r = r0; r < r1; ++r) apply_row(rows + size_t(r) * stride, y + r);
    }, 2);
}

}  // namespace obscura
