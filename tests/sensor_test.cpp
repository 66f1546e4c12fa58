// Sensor: binning n x n-cell CFAs (quad, hexadeca Bayer from mkdng.py) gives
// the photo at 1/n the size, with the noise averaged down.
#include <gtest/gtest.h>

#include "obscura/binning.h"
#include "obscura/decode.h"
#include "obscura/develop.h"
#include "obscura/error.h"
#include "support/truth.h"

namespace obscura::test {
namespace {

// The truth photo averaged over n x n blocks (what a binned sensor sees).
Image box_down(const Image& im, int n) {
    Image out;
    out.width = im.width / n;
    out.height = im.height / n;
    out.pixels.resize(size_t(out.width) * out.height * 3);
    for (int y = 0; y < out.height; ++y)
        for (int x = 0; x < out.width; ++x)
            for (int c = 0; c < 3; ++c) {
                double s = 0;
                for (int j = 0; j < n; ++j)
                    for (int i = 0; i < n; ++i) s += im.at(x * n + i, y * n + j, c);
                out.pixels[(size_t(y) * out.width + x) * 3 + c] = uint16_t(s / (n * n) + 0.5);
            }
    return out;
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

TEST(Binning, ABayerFrameIsNotBinnedAndSaysWhy) {
    RawImage bayer = decode(dng_path("kodim05_RGGB_14.dng"));
    try {
        bin_cells(bayer);
        FAIL() << "a Bayer frame was binned";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("kodim05_RGGB_14.dng"), std::string::npos) << e.what();
    }
}

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
