// optics: the file's lens corrections (DNG opcodes) are read, applied where
// they belong, and refused when required but unknown.
#include <gtest/gtest.h>
#include <lensfun/lensfun.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "obscura/decode.h"
#include "obscura/develop.h"
#include "obscura/error.h"
#include "obscura/lens_correction.h"
#include "obscura/look.h"
#include "obscura/opcodes.h"
#include "support/truth.h"

namespace obscura {
namespace {

using test::data_path;
using test::dng_path;

Image develop_reference(const std::string& dng, bool lens_correction = true) {
    DevelopOptions o;
    o.look = "reference";
    o.lens_correction = lens_correction;
    return develop(decode(dng_path(dng)), o);
}

TEST(Optics, ShadingGainMapsUndoTheShading) {
    // mkdng --shading 0.6: corners fall to 1/1.72 (colour-dependent), and
    // four GainMaps (one per Bayer site, OpcodeList2) undo it.
    Image truth = test::load_png(data_path("kodim05.png"));
    double plain = cpsnr(develop_reference("kodim05_RGGB_14.dng"), truth);
    Image shaded = develop_reference("kodim05_RGGB_14_shading.dng");
    double corrected = cpsnr(shaded, truth), de = ciede2000(shaded, truth);
    double ignored = cpsnr(develop_reference("kodim05_RGGB_14_shading.dng", false), truth);
    std::printf("  kodim05: %.2f dB plain, %.2f dB shaded and corrected (CIEDE2000 %.2f), %.2f dB uncorrected\n", plain,
                corrected, de, ignored);
    EXPECT_GE(corrected, plain - 0.3);
    EXPECT_LE(de, 2.0);
    EXPECT_LE(ignored, plain - 5.0);  // the shading is real: ignoring it costs

    LensCorrection plan = plan_lens_correction(decode(dng_path("kodim05_RGGB_14_shading.dng")));
    ASSERT_EQ(plan.applied.size(), 1u);
    EXPECT_EQ(plan.applied[0], "GainMap (OpcodeList2) x4");
}

TEST(Optics, RequiredUnknownOpcodeIsRefusedOptionalIsSkipped) {
    RawImage required = decode(dng_path("v_op_required.dng"));
    try {
        develop(required);
        FAIL() << "a required WarpFisheye was ignored";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("WarpFisheye"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("v_op_required.dng"), std::string::npos) << e.what();
    }
    DevelopOptions off;
    off.lens_correction = false;
    EXPECT_NO_THROW(develop(required, off));

    RawImage optional = decode(dng_path("v_op_optional.dng"));
    LensCorrection plan = plan_lens_correction(optional);
    ASSERT_EQ(plan.skipped.size(), 1u);
    EXPECT_EQ(plan.skipped[0], "WarpRectilinear2 (OpcodeList3)");
    Image truth = test::load_png(data_path("kodim05.png"));
    EXPECT_GE(cpsnr(develop_reference("v_op_optional.dng"), truth), 37.0);
}

// The worst distance, in pixels, of a horizontal chart line from where it
// belongs: per column, the centroid of darkness within 6 rows of each line.
// A 48-pixel margin is left out (correcting barrel distortion fetches the
// corners from outside what the sensor recorded), and so are the columns
// where vertical lines cross.
double worst_line_bend(const Image& img) {
    double worst = 0;
    for (int line = 64; line + 48 < img.height; line += 32)
        for (int x = 48; x < img.width - 48; ++x) {
            if (std::abs((x + 16) % 32 - 16) <= 5) continue;
            double sum = 0, weighted = 0;
            for (int y = line - 6; y <= line + 6; ++y) {
                double dark = std::max(0.0, 0.8 - img.at(x, y, 1) / 65535.0);
                sum += dark, weighted += dark * y;
            }
            if (sum > 0) worst = std::max(worst, std::abs(weighted / sum - line));
        }
    return worst;
}

TEST(Optics, WarpRectilinearStraightensLines) {
    Image truth = test::load_png(dng_path("chart.png"));
    Image corrected = develop_reference("chart_warp.dng");
    Image bent = develop_reference("chart_warp.dng", false);
    double bend = worst_line_bend(corrected), bend_off = worst_line_bend(bent), straight = worst_line_bend(truth);
    double p = cpsnr(corrected, truth), p_off = cpsnr(bent, truth);
    std::printf("  chart: lines bend %.2f px corrected, %.2f px uncorrected (truth %.2f); CPSNR %.2f vs %.2f dB\n", bend,
                bend_off, straight, p, p_off);
    EXPECT_LE(bend, straight + 0.1);
    EXPECT_GE(bend_off, 3.0);  // the distortion is real
    EXPECT_GE(p, 33.0);
    LensCorrection plan = plan_lens_correction(decode(dng_path("chart_warp.dng")));
    ASSERT_EQ(plan.applied.size(), 1u);
    EXPECT_EQ(plan.applied[0], "WarpRectilinear (OpcodeList3)");
}

// Mean |red - blue| (0..1) over the middle part of a grey chart: colour
// fringes where the planes disagree.
double fringe(const Image& img) {
    double sum = 0;
    size_t n = 0;
    for (int y = 48; y < img.height - 48; ++y)
        for (int x = 48; x < img.width - 48; ++x, ++n) sum += std::abs(img.at(x, y, 0) - img.at(x, y, 2)) / 65535.0;
    return sum / double(n);
}

TEST(Optics, WarpRectilinearPerPlaneCorrectsLateralChromaticAberration) {
    Image truth = test::load_png(dng_path("chart.png"));
    Image corrected = develop_reference("chart_ca.dng");
    Image fringed = develop_reference("chart_ca.dng", false);
    double f_on = fringe(corrected), f_off = fringe(fringed), f_truth = fringe(truth);
    std::printf("  CA chart: |R-B| %.4f corrected, %.4f uncorrected (truth %.4f); CPSNR %.2f vs %.2f dB\n", f_on, f_off,
                f_truth, cpsnr(corrected, truth), cpsnr(fringed, truth));
    // Measured 0.036 vs 0.101 and 27.3 vs 11.3 dB. The red and blue samples
    // are moved on the mosaic (bicubic on their quarter-resolution planes);
    // what remains is those planes' aliasing on 3-pixel lines (edges within
    // +-0.2 px of green's), not misregistration. Warping after the demosaic
    // alone measured 0.048 and 23.6 dB.
    EXPECT_LE(f_on, 0.45 * f_off);
    EXPECT_GE(cpsnr(corrected, truth), cpsnr(fringed, truth) + 14.0);
}

TEST(Optics, LensfunProfileForAKnownCameraAndLens) {
    // No opcodes, EXIF Canon EOS 5D Mark II + Canon EF 50mm f/1.8 II at 50 mm
    // f/1.8: lensfun's distortion, TCA and vignetting, fitted to the opcode
    // forms. The fit must reproduce lensfun's own mapping.
    RawImage raw = decode(dng_path("v_lensfun.dng"));
    LensCorrection plan = plan_lens_correction(raw);
    ASSERT_EQ(plan.applied.size(), 1u);
    EXPECT_EQ(plan.applied[0], "lensfun: Canon EF 50mm f/1.8 II (distortion, TCA, vignetting)");
    ASSERT_TRUE(plan.warp && plan.vignette);

    lfDatabase db;
    ASSERT_EQ(db.Load(), LF_NO_ERROR);
    const lfCamera** cameras = db.FindCamerasExt("Canon", "Canon EOS 5D Mark II");
    ASSERT_TRUE(cameras);
    const lfLens** lenses = db.FindLenses(cameras[0], nullptr, "Canon EF 50mm f/1.8 II");
    ASSERT_TRUE(lenses);
    lfModifier mod(lenses[0], cameras[0]->CropFactor, raw.width, raw.height);
    mod.Initialize(lenses[0], LF_PF_F32, 50, 1.8f, 1000, 1, LF_RECTILINEAR,
                   LF_MODIFY_DISTORTION | LF_MODIFY_TCA | LF_MODIFY_VIGNETTING, false);
    const double cx = 0.5 * (raw.width - 1), cy = 0.5 * (raw.height - 1), radius = std::hypot(cx, cy);
    double worst_px = 0, worst_gain = 0;
    for (int y = 0; y < raw.height; y += 37)
        for (int x = 0; x < raw.width; x += 41) {
            float res[6];
            ASSERT_TRUE(mod.ApplySubpixelGeometryDistortion(float(x), float(y), 1, 1, res));
            double dx = (x - cx) / radius, dy = (y - cy) / radius, r2 = dx * dx + dy * dy;
            for (int c = 0; c < 3; ++c) {
                const auto& k = plan.warp->coef[c];
                double f = 0, r = std::sqrt(r2);
                for (int p = 6; p >= 0; --p) f = k[p] + r * f;
                worst_px = std::max(worst_px, std::hypot(cx + radius * f * dx - res[2 * c], cy + radius * f * dy - res[2 * c + 1]));
            }
            float px[3] = {1, 1, 1};
            mod.ApplyColorModification(px, float(x), float(y), 1, 1, LF_CR_3(RED, GREEN, BLUE), int(sizeof px));
            worst_gain = std::max(worst_gain, std::abs(plan.vignette->gain(x, y, raw.width, raw.height) / px[1] - 1));
        }
    lf_free(lenses);
    lf_free(cameras);
    std::printf("  lensfun fit: worst %.3f px, vignetting gain within %.2f%%\n", worst_px, worst_gain * 100);
    EXPECT_LE(worst_px, 0.1);
    EXPECT_LE(worst_gain, 0.005);

    // And develop applies it: the corners brighten by the vignetting gain.
    DevelopOptions on, off;
    on.look = off.look = "reference";
    off.lens_correction = false;
    Image a = develop(raw, on), b = develop(raw, off);
    auto linear_mean = [](const Image& im, int x0, int y0) {
        double sum = 0;
        for (int y = y0; y < y0 + 16; ++y)
            for (int x = x0; x < x0 + 16; ++x) sum += srgb_decode(im.at(x, y, 1) / 65535.0);
        return sum;
    };
    double corner = linear_mean(a, 4, 4) / linear_mean(b, 4, 4);
    double centre = linear_mean(a, a.width / 2 - 8, a.height / 2 - 8) / linear_mean(b, b.width / 2 - 8, b.height / 2 - 8);
    double expected = plan.vignette->gain(12, 12, raw.width, raw.height);
    std::printf("  corner brightened x%.3f (profile x%.3f), centre x%.3f\n", corner, expected, centre);
    EXPECT_NEAR(corner, expected, 0.1 * (expected - 1));
    EXPECT_NEAR(centre, 1.0, 0.01);
}

TEST(Optics, DamagedOpcodeListsAreErrors) {
    // count 1, then a GainMap header claiming 200 parameter bytes of 8.
    std::vector<uint8_t> list = {0, 0, 0, 1, 0, 0, 0, 9, 1, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 200, 0, 0, 0, 0, 0, 0, 0, 0};
    EXPECT_THROW(parse_opcode_list(list, "x.dng"), Error);
    list = {0, 0, 0, 1, 0, 0, 0, 9, 1, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0};  // GainMap cut short
    EXPECT_THROW(parse_opcode_list(list, "x.dng"), Error);
    list = {255, 255, 255, 255};  // absurd count
    EXPECT_THROW(parse_opcode_list(list, "x.dng"), Error);
    EXPECT_TRUE(parse_opcode_list({}, "x.dng").empty());
}

}  // namespace
}  // namespace obscura
