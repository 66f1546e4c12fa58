// Halide helpers the develop kernels share: a power computed without
// tables, the sRGB encoding, and the look's curve lookup.
#pragma once
#include "Halide.h"

namespace obscura::halide {

using namespace Halide;

// x^p for x in [2^-126, 2^10] and p > 0, as 2^(p log2 x): exponent bits plus
// polynomials for the mantissa's log2 and the fraction's exp2 (least squares
// on Chebyshev nodes, degree 6 and 5). Plain arithmetic, so vector and
// scalar code agree bit for bit; the sRGB encoding below is within 0.05 of
// a 16-bit code of the exact one.
inline Expr pow_positive(Expr x, float p) {
    Expr bits = reinterpret<int32_t>(x);
    Expr mantissa = reinterpret<float>((bits & 0x007fffff) | 0x3f800000) - 1.0f;
    const float log_c[] = {2.12374089e-06f, 1.44247531f, -0.717557872f, 0.455527088f,
                           -0.274623258f, 0.119298238f, -0.0251232033f};
    const float exp_c[] = {0.999999896f, 0.69315462f, 0.24014077f, 0.0558632827f, 0.00894621467f, 0.00189510729f};
    Expr log2x = log_c[6];
    for (int k = 5; k >= 0; --k) log2x = log2x * mantissa + log_c[k];
    log2x += cast<float>((bits >> 23) - 127);
    Expr y = log2x * p, whole = floor(y), frac = y - whole;
    Expr r = exp_c[5];
    for (int k = 4; k >= 0; --k) r = r * frac + exp_c[k];
    return reinterpret<float>(reinterpret<int32_t>(r) + (cast<int32_t>(whole) << 23));
}

// The sRGB encoding of linear v in [0, 1].
inline Expr srgb_encode(Expr v) {
    return select(v <= 0.0031308f, v * 12.92f, 1.055f * pow_positive(max(v, 0.0031308f), 1.0f / 2.4f) - 0.055f);
}

// The look's curve (see Develop::curve) at linear 0..1, as a 16-bit code
// before rounding: one lookup fetches both ends of a segment.
inline Expr curve_at(Expr lin, Func curve, Expr n) {
    Expr pos = lin * cast<float>(n);
    Expr k = clamp(cast<int>(pos), 0, n - 1);
    Expr ends = curve(k);
    Expr lo = cast<float>(ends & 0xffff), hi = cast<float>(ends >> 16);
    return lo + (hi - lo) * (pos - cast<float>(k));
}

// The look's curve looked up, rounded to a 16-bit code.
inline Expr look_up_curve(Expr lin, Func curve, Expr n) { return cast<uint16_t>(curve_at(lin, curve, n) + 0.5f); }

// The same, or the sRGB encoding evaluated when srgb_curve is set (exact
// in the deep shadows of a scene-linear rendition over a wide range).
inline Expr encode_output(Expr lin, Func curve, Expr n, Expr srgb_curve) {
    Expr evaluated = srgb_encode(lin) * 65535.0f;
    return cast<uint16_t>(select(srgb_curve != 0, evaluated, curve_at(lin, curve, n)) + 0.5f);
}

}  // namespace obscura::halide
