// Sensor: binning n x n-cell CFAs (quad, hexadeca Bayer from mkdng.py) gives
// the photo at 1/n the size, with the noise averaged down.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>

#include "obscura/binning.h"
#include "obscura/decode.h"
#include "obscura/develop.h"
#include "obscura/dng_writer.h"
#include "obscura/error.h"
#include "obscura/lens_correction.h"
#include "obscura/remosaic.h"
#include "support/truth.h"

namespace obscura::test {
namespace {

// A sensor step given a Bayer frame must refuse it, naming the file.
void expect_bayer_refused_by_name(const std::function<RawImage(const RawImage&)>& step, const char* step_name) {
    RawImage bayer = decode(dng_path("kodim05_RGGB_14.dng"));
    try {
        step(bayer);
        FAIL() << "a Bayer frame went through " << step_name;
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("kodim05_RGGB_14.dng"), std::string::npos) << e.what();
    }
}

Image develop_reference(const RawImage& raw) {
    DevelopOptions o;
    o.look = "reference";
    return develop(raw, o);
}

TEST(Binning, QuadBinsToBayerCloseToTheHalfSizePhoto) {
    RawImage quad = decode(dng_path("kodim23_quad.dng"));
    ASSERT_EQ(quad.cfa.cell_size(), 2);
    RawImage binned = bin_cells(quad);
    EXPECT_EQ(binned.width, quad.width / 2);
    EXPECT_TRUE(binned.cfa.is_bayer());
    EXPECT_EQ(binned.cfa.name(), "RGGB");
    EXPECT_GT(binned.white_level, quad.white_level);  // the mean keeps its extra bit
    double p = cpsnr(develop_reference(binned), box_down(load_png(data_path("kodim23.png")), 2), 4);
    std::printf("quad kodim23 binned: %.2f dB against the photo box-averaged 2x\n", p);
    EXPECT_GE(p, 36.0);  // 37.9 dB measured
}

TEST(Binning, HexadecaBinsSixteenSamplesAndTheirNoise) {
    RawImage hex = decode(dng_path("kodim05_hexadeca.dng"));
    ASSERT_EQ(hex.cfa.cell_size(), 4);
    RawImage binned = bin_cells(hex);
    EXPECT_EQ(binned.width, hex.width / 4);
    ASSERT_FALSE(binned.noise.planes.empty());
    EXPECT_NEAR(binned.noise.planes[0][0], hex.noise.planes[0][0] / 16, 1e-12);
    double p = cpsnr(develop_reference(binned), box_down(load_png(data_path("kodim05.png")), 4), 4);
    std::printf("hexadeca kodim05 (noise S 0.002) binned: %.2f dB against the photo box-averaged 4x\n", p);
    // 27.5 dB measured: kodim05 at 192 x 128 is dense detail for any demosaic;
    // a cell read as the wrong colour scores near 10 dB.
    EXPECT_GE(p, 26.0);
}

TEST(Binning, ABayerFrameIsNotBinnedAndSaysWhy) { expect_bayer_refused_by_name(bin_cells, "binning"); }

}  // namespace
}  // namespace obscura::test

namespace obscura::test {
namespace {

TEST(CellDetection, FindsCellsInDataThatClaimsBayer) {
    RawImage quad = decode(dng_path("kodim23_quad.dng"));
    quad.cfa = *CfaPattern::parse("RGGB");  // what some phone apps claim
    EXPECT_EQ(detect_cell_size(quad), 2);
    EXPECT_EQ(detect_cell_size(decode(dng_path("kodim05_hexadeca.dng"))), 4);
    EXPECT_EQ(detect_cell_size(decode(dng_path("kodim05_RGGB_14.dng"))), 1);
    EXPECT_EQ(detect_cell_size(decode(dng_path("kodim19_GRBG_16.dng"))), 1);
}

}  // namespace
}  // namespace obscura::test

#include <algorithm>
#include <cmath>

namespace obscura::test {
namespace {

// Catmull-Rom (PIL's bicubic) upscale by n of a display-encoded image, the
// baseline a full-resolution remosaic has to beat.
Image bicubic_up(const Image& im, int n) {
    auto weight = [](double t) {
        t = std::abs(t);
        return t < 1 ? 1.5 * t * t * t - 2.5 * t * t + 1 : t < 2 ? -0.5 * t * t * t + 2.5 * t * t - 4 * t + 2 : 0.0;
    };
    Image out;
    out.width = im.width * n;
    out.height = im.height * n;
    out.pixels.resize(size_t(out.width) * out.height * 3);
    for (int y = 0; y < out.height; ++y)
        for (int x = 0; x < out.width; ++x) {
            double sx = (x + 0.5) / n - 0.5, sy = (y + 0.5) / n - 0.5;
            int x0 = int(std::floor(sx)), y0 = int(std::floor(sy));
            for (int c = 0; c < 3; ++c) {
                double sum = 0, wsum = 0;
                for (int j = -1; j <= 2; ++j)
                    for (int i = -1; i <= 2; ++i) {
                        double w = weight(sx - (x0 + i)) * weight(sy - (y0 + j));
                        sum += w * im.at(std::clamp(x0 + i, 0, im.width - 1), std::clamp(y0 + j, 0, im.height - 1), c);
                        wsum += w;
                    }
                out.pixels[(size_t(y) * out.width + x) * 3 + c] = uint16_t(std::clamp(sum / wsum + 0.5, 0.0, 65535.0));
            }
        }
    return out;
}

struct Scores {
    double full, binned;
};

// Full-resolution remosaic against binning upscaled, both against the photo.
Scores remosaic_and_binned(const std::string& dng, const std::string& photo) {
    RawImage raw = decode(dng_path(dng));
    const int n = raw.cfa.cell_size();
    RawImage bayer = remosaic(raw);
    EXPECT_TRUE(bayer.cfa.is_bayer());
    EXPECT_EQ(bayer.width, raw.width);
    Image truth = load_png(data_path(photo));
    Scores s{cpsnr(develop_reference(bayer), truth, 8), cpsnr(bicubic_up(develop_reference(bin_cells(raw)), n), truth, 8)};
    std::printf("%s: remosaic %.2f dB, binned + bicubic %.2f dB (%+.2f)\n", dng.c_str(), s.full, s.binned, s.full - s.binned);
    return s;
}

// kodim05, 13 and 23 were not among the photos the filters were fitted on.
TEST(Remosaic, QuadAtFullResolutionBeatsBinning) {
    Scores s = remosaic_and_binned("kodim23_quad.dng", "kodim23.png");
    // 37.36 vs 33.04 dB measured; a plain copy of each cell scores ~30.
    EXPECT_GE(s.full, 36.8);
    EXPECT_GE(s.full - s.binned, 1.0);
}

TEST(Remosaic, NonaAtFullResolutionBeatsBinning) {
    Scores s = remosaic_and_binned("kodim13_nona.dng", "kodim13.png");
    EXPECT_GE(s.full, 31.8);  // 32.29 measured on the river's dense detail
    EXPECT_GE(s.full - s.binned, 1.0);
}

TEST(Remosaic, HexadecaAtFullResolutionBeatsBinning) {
    Scores s = remosaic_and_binned("kodim05_hexadeca_clean.dng", "kodim05.png");
    // 31.11 measured, binned + bicubic 20.97; without the cell samples put
    // back 30.85, and red and blue from plainly tent-weighted colour
    // differences (no green likeness) scored 30.49 before that.
    EXPECT_GE(s.full, 30.9);
    EXPECT_GE(s.full - s.binned, 1.0);
}

// The develop puts each pixel's own cell sample back after the demosaic
// (the Bayer frame carries 6 of a hexadeca sensor's 16 per repeat): with
// them dropped the same Bayer frame scores less.
TEST(Remosaic, TheCellSamplesPutBackRaiseTheScore) {
    RawImage raw = decode(dng_path("kodim05_hexadeca_clean.dng"));
    RawImage bayer = remosaic(raw);
    ASSERT_EQ(bayer.cell_samples.size(), raw.data.size());
    EXPECT_TRUE(std::equal(raw.data.begin(), raw.data.end(), bayer.cell_samples.begin()));  // the file's, untouched
    EXPECT_EQ(bayer.cell_cfa.name(), raw.cfa.name());
    Image truth = load_png(data_path("kodim05.png"));
    const double with = cpsnr(develop_reference(bayer), truth, 8);
    bayer.cell_samples.clear();
    const double without = cpsnr(develop_reference(bayer), truth, 8);
    std::printf("hexadeca kodim05: %.2f dB with the cell samples put back, %.2f without\n", with, without);
    EXPECT_GE(with - without, 0.15);  // 0.29 measured (every Kodak photo and layout gained 0.13 dB or more)
}

TEST(Remosaic, KeepsTheSamplesThatAlreadyHaveTheBayerColour) {
    RawImage quad = decode(dng_path("kodim23_quad.dng"));
    RawImage bayer = remosaic(quad);
    EXPECT_EQ(bayer.cfa.name(), "RGGB");
    size_t kept = 0, same = 0;
    for (int y = 0; y < quad.height; ++y)
        for (int x = 0; x < quad.width; ++x)
            if (quad.cfa.at(x, y) == bayer.cfa.at(x, y)) ++kept, same += quad.at(x, y) == bayer.at(x, y);
    EXPECT_EQ(kept, size_t(quad.width) * quad.height * 6 / 16);  // 2 of 4 in green cells, 1 of 4 in red and blue
    EXPECT_EQ(same, kept);
}

// The same data seen from two columns further on is a quad GRBG file: its
// remosaic (a GRBG Bayer frame) must develop to the first one's photo,
// shifted (the filters follow the cells).
TEST(Remosaic, OtherCellLayoutsGiveTheSameResult) {
    RawImage quad = decode(dng_path("kodim23_quad.dng"));
    RawImage shifted = quad;
    shifted.width = quad.width - 4;
    shifted.data.resize(size_t(shifted.width) * quad.height);
    for (int y = 0; y < quad.height; ++y)
        for (int x = 0; x < shifted.width; ++x) shifted.data[size_t(y) * shifted.width + x] = quad.at(x + 2, y);
    shifted.cfa = *CfaPattern::parse("quad-GRBG");
    shifted.crop = {0, 0, shifted.width, shifted.height};
    ASSERT_EQ(shifted.cfa.at(0, 0), quad.cfa.at(2, 0));
    RawImage b = remosaic(shifted);
    EXPECT_EQ(b.cfa.name(), "GRBG");
    Image truth = load_png(data_path("kodim23.png")), moved = truth;
    moved.width = shifted.width;
    moved.pixels.resize(size_t(moved.width) * moved.height * 3);
    for (int y = 0; y < moved.height; ++y)
        for (int x = 0; x < moved.width; ++x)
            for (int c = 0; c < 3; ++c) moved.pixels[(size_t(y) * moved.width + x) * 3 + c] = truth.at(x + 2, y, c);
    double p = cpsnr(develop_reference(b), moved, 8);
    std::printf("the same data as quad GRBG: %.2f dB against the photo moved 2 columns\n", p);
    EXPECT_GE(p, 35.5);  // as the RGGB reading; cells taken for the wrong colour score far lower
}

// Lens shading on the n x n-cell sensor, with one GainMap per position of
// the 8x8 repeat (dng_variants.py --shade 0.6): the remosaic and binning keep
// the maps and the develop applies them, to the Bayer frame and to the cell
// samples it puts back alike.
TEST(Remosaic, ShadingGainMapsOfTheCellLayoutAreApplied) {
    const RawImage clean = decode(dng_path("kodim05_hexadeca_clean.dng"));
    const RawImage shaded = decode(dng_path("kodim05_hexadeca_shading.dng"));
    Image truth = load_png(data_path("kodim05.png"));
    DevelopOptions ignore;
    ignore.look = "reference";
    ignore.lens_correction = false;
    RawImage bayer = remosaic(shaded);
    ASSERT_EQ(bayer.opcode_frame.width, shaded.width);
    EXPECT_EQ(bayer.opcode_frame.cfa.name(), "hexadeca RGGB (8x8)");
    const double plain = cpsnr(develop_reference(remosaic(clean)), truth, 8);
    const Image corrected = develop_reference(bayer);
    const double full = cpsnr(corrected, truth, 8), de = ciede2000(corrected, truth);
    const double ignored = cpsnr(develop(bayer, ignore), truth, 8);
    RawImage without_cells = bayer;
    without_cells.cell_samples.clear();
    const double bayer_only = cpsnr(develop_reference(without_cells), truth, 8);
    // Binned: against the clean file binned (the corners' gains are the same
    // for the 16 samples of a cell).
    const double binned = cpsnr(develop_reference(bin_cells(shaded)), develop_reference(bin_cells(clean)), 4);
    std::printf("hexadeca kodim05 shaded 0.6: %.2f dB corrected (clean %.2f; CIEDE2000 %.2f), %.2f ignored, "
                "%.2f without the cell samples; binned %.2f dB against the clean file binned\n",
                full, plain, de, ignored, bayer_only, binned);
    EXPECT_GE(full, plain - 0.15);      // 31.06 vs 31.10 measured
    EXPECT_LE(ignored, plain - 2.5);    // 27.53: the shading is real
    EXPECT_GE(full, bayer_only + 0.1);  // the cell samples get the gains too (else the corners darken)
    EXPECT_GE(binned, 50.0);            // 63.8 measured; 27.6 against the truth either way
    LensCorrection plan = plan_lens_correction(bayer);
    ASSERT_EQ(plan.applied.size(), 1u);
    EXPECT_EQ(plan.applied[0], "GainMap (OpcodeList2) x64");

    // Written as a Bayer DNG (what `burst --dng` does with such frames): the
    // shading goes with it as one GainMap per Bayer site, and the file
    // develops as the frame does (both without the cell samples).
    const std::string written = (std::filesystem::temp_directory_path() / "obscura_remosaicked_shading.dng").string();
    write_dng(without_cells, written);
    RawImage back = decode(written);
    std::filesystem::remove(written);
    EXPECT_EQ(back.opcode_frame.width, 0);
    LensCorrection back_plan = plan_lens_correction(back);
    ASSERT_EQ(back_plan.applied.size(), 1u);
    EXPECT_EQ(back_plan.applied[0], "GainMap (OpcodeList2) x4");
    const double same = cpsnr(develop_reference(back), develop_reference(without_cells), 8);
    std::printf("  written as Bayer DNG and read back: %.2f dB against the frame developed\n", same);
    EXPECT_GE(same, 50.0);
}

// The develop kernel's tiles overlap at the right and bottom (Halide's
// ShiftInwards), two threads writing the same pixels: a pixel must come out
// the same wherever the tile grid falls, or output differs run to run. Crops
// at many offsets, compared where they overlap; the number of values that
// differ. (Fast-math code in the kernel with the cell samples once differed
// at ~1 in 250,000 values, +-1, near the tiles' right edges, when each row's
// last vector of the raw-reading stages was shifted inwards and computed
// apart; those stages now compute whole vectors. The best kernel and the
// one with the cell samples are checked here, each with and without lens
// shading.)
size_t values_that_move_with_the_tile_grid(RawImage at) {
    at.crop = {0, 0, 512, 256};
    const Image base = develop_reference(at);
    size_t compared = 0, differ = 0;
    for (int dy = 0; dy <= 256; dy += 64)
        for (int dx = 0; dx <= 256; dx += 16) {
            if (dx == 0 && dy == 0) continue;
            at.crop = {dx, dy, 512, 256};
            const Image moved = develop_reference(at);
            for (int y = dy; y < 256; ++y)
                for (int x = dx; x < 512; ++x)
                    for (int c = 0; c < 3; ++c) ++compared, differ += base.at(x, y, c) != moved.at(x - dx, y - dy, c);
        }
    std::printf("  %zu of %zu values differ between tile grids\n", differ, compared);
    return differ;
}

TEST(Remosaic, TheDevelopDoesNotDependOnWhereTheTilesFall) {
    for (const char* name : {"kodim05_hexadeca_clean.dng", "kodim05_hexadeca_shading.dng"}) {
        std::printf("%s, remosaicked:\n", name);
        RawImage bayer = remosaic(decode(dng_path(name)));
        ASSERT_FALSE(bayer.cell_samples.empty());
        EXPECT_EQ(values_that_move_with_the_tile_grid(bayer), 0u) << name;
    }
    for (const char* name : {"kodim05_RGGB_14.dng", "kodim05_RGGB_14_shading.dng"}) {
        std::printf("%s:\n", name);
        EXPECT_EQ(values_that_move_with_the_tile_grid(decode(dng_path(name))), 0u) << name;
    }
}

// A black level that varies by site, row and column (dng_variants.py
// --black-pattern: a 2x2 pattern of 0..40 plus row and column deltas) is
// folded into the samples before the remosaic and binning, which once
// refused such files.
TEST(Remosaic, AVaryingBlackLevelIsFoldedIn) {
    const RawImage clean = decode(dng_path("kodim05_hexadeca_clean.dng"));
    const RawImage varying = decode(dng_path("kodim05_hexadeca_black.dng"));
    ASSERT_FALSE(varying.black.is_uniform());
    Image truth = load_png(data_path("kodim05.png"));
    RawImage bayer = remosaic(varying);
    EXPECT_TRUE(bayer.black.is_uniform());
    const double plain = cpsnr(develop_reference(remosaic(clean)), truth, 8);
    const double full = cpsnr(develop_reference(bayer), truth, 8);
    const double binned = cpsnr(develop_reference(bin_cells(varying)), develop_reference(bin_cells(clean)), 4);
    std::printf("hexadeca kodim05, black varying by 0..60 codes: %.2f dB (uniform black %.2f); binned %.2f dB against "
                "the uniform file binned\n", full, plain, binned);
    EXPECT_GE(full, plain - 0.1);
    EXPECT_GE(binned, 50.0);
}

TEST(Remosaic, ABayerFrameIsRefusedByName) {
    expect_bayer_refused_by_name([](const RawImage& raw) { return remosaic(raw); }, "remosaicing");
}

// The cut into bands and tiles must not show: small tiles (six bands of
// twelve) give the very same samples as two tiles of one band.
TEST(Remosaic, TheTilingDoesNotChangeTheResult) {
    for (const char* name : {"kodim23_quad.dng", "kodim13_nona.dng", "kodim05_hexadeca_clean.dng"}) {
        RawImage raw = decode(dng_path(name));
        RawImage whole = remosaic(raw, {4096, 4096}), tiled = remosaic(raw, {64, 80});
        ASSERT_EQ(whole.data.size(), tiled.data.size());
        size_t differ = 0;
        for (size_t i = 0; i < whole.data.size(); ++i) differ += whole.data[i] != tiled.data[i];
        EXPECT_EQ(differ, 0u) << name;
    }
}

}  // namespace
}  // namespace obscura::test
