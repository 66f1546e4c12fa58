// Phone DNG flavours (made by the independent mkdng and dng_variants):
// lossless JPEG with and without restart markers, JPEG XL with interleaved
// fields, Deflate with its predictors, float samples, LinearRaw, a camera
// with no colour matrix, and damaged compressed data.
#include <gtest/gtest.h>

#include "obscura/decode.h"
#include "obscura/develop.h"
#include "obscura/error.h"
#include "support/truth.h"

namespace obscura {
namespace {

using test::cpsnr;
using test::data_path;
using test::dng_path;
using test::load_png;

RawImage read(const std::string& name, Decoder d = Decoder::Auto) {
    DecodeOptions o;
    o.decoder = d;
    return decode(dng_path(name), o);
}

double reference_cpsnr(const std::string& dng, const std::string& photo) {
    DevelopOptions o;
    o.look = "reference";
    return cpsnr(develop(read(dng), o), load_png(data_path(photo)));
}

TEST(PhoneDng, CompressedCfaFilesGiveTheUncompressedSamples) {
    RawImage base = read("kodim05_RGGB_14.dng");
    struct Case {
        const char* file;
        const char* compression;
    } cases[] = {{"p_ljpeg.dng", "lossless JPEG"}, {"p_ljpeg_restart.dng", "lossless JPEG"}, {"p_jxl.dng", "JPEG XL"}};
    for (const auto& c : cases) {
        SCOPED_TRACE(c.file);
        RawImage v = read(c.file);
        EXPECT_EQ(v.storage.compression, c.compression);
        ASSERT_EQ(v.width, base.width);
        ASSERT_EQ(v.height, base.height);
        EXPECT_EQ(v.data, base.data);
        EXPECT_EQ(v.cfa.name(), "RGGB");
    }
    RawImage jxl = read("p_jxl.dng");
    EXPECT_EQ(jxl.storage.row_interleave, 2);
    EXPECT_EQ(jxl.storage.column_interleave, 2);
}

TEST(PhoneDng, LibRawReadsTheSameRestartMarkerSamples) {
    // Our reader against LibRaw's lossless JPEG decoder, on a file neither wrote.
    RawImage ours = read("p_ljpeg_restart.dng", Decoder::Dng);
    RawImage theirs = read("p_ljpeg_restart.dng", Decoder::LibRaw);
    ASSERT_EQ(ours.width, theirs.width);
    ASSERT_EQ(ours.height, theirs.height);
    EXPECT_EQ(ours.data, theirs.data);
}

TEST(PhoneDng, DeflateAndFloatSamples) {
    RawImage base = read("kodim05_base12.dng");
    for (const char* name : {"v_deflate.dng", "v_deflate_big.dng"}) {
        SCOPED_TRACE(name);
        RawImage v = read(name);
        EXPECT_EQ(v.storage.compression, "Deflate");
        EXPECT_EQ(v.data, base.data);
    }
    // Floats (white 1.0) become 16-bit codes with white at 65535: the same
    // photo at a finer scale.
    RawImage f = read("v_float.dng");
    EXPECT_TRUE(f.storage.floating);
    EXPECT_DOUBLE_EQ(f.white_level, 65535);
    const double scale = 65535.0 / base.white_level;
    EXPECT_NEAR(f.black.at(0, 0), base.black.at(0, 0) * scale, 0.01);
    size_t off = 0;
    for (size_t i = 0; i < base.data.size(); ++i) off += std::abs(f.data[i] - base.data[i] * scale) > 0.51;
    EXPECT_EQ(off, 0u);
    EXPECT_NEAR(reference_cpsnr("v_float.dng", "kodim05.png"), reference_cpsnr("kodim05_base12.dng", "kodim05.png"), 0.05);
}

TEST(PhoneDng, LinearRawDevelopsToThePhoto) {
    struct Case {
        const char* file;
        const char* compression;
        double min_cpsnr;
    } cases[] = {{"p_linear.dng", "uncompressed", 60},
                 {"p_linear_ljpeg.dng", "lossless JPEG", 60},
                 {"p_linear_jxl.dng", "JPEG XL", 60},
                 // distance 1; an exact decode of this file scores 33.4 dB
                 {"p_linear_jxl_lossy.dng", "JPEG XL", 32.5}};
    for (const auto& c : cases) {
        SCOPED_TRACE(c.file);
        RawImage raw = read(c.file);
        EXPECT_TRUE(raw.is_linear());
        EXPECT_EQ(raw.samples_per_pixel, 3);
        EXPECT_EQ(raw.data.size(), size_t(raw.width) * raw.height * 3);
        EXPECT_EQ(raw.storage.compression, c.compression);
        double p = reference_cpsnr(c.file, "kodim23.png");
        RecordProperty(std::string("cpsnr_") + c.file, std::to_string(p));
        EXPECT_GE(p, c.min_cpsnr);
    }
    EXPECT_DOUBLE_EQ(*read("p_linear_jxl_lossy.dng").storage.jxl_distance, 1.0);
}

TEST(PhoneDng, EveryLookDevelopsLinearRaw) {
    RawImage raw = read("p_linear.dng");
    Image reference = develop(raw, DevelopOptions{.look = "reference"});
    for (const char* look : {"authentic", "vibrant", "mono"}) {
        SCOPED_TRACE(look);
        DevelopOptions o;
        o.look = look;
        Image im = develop(raw, o);
        ASSERT_EQ(im.width, reference.width);
        // A look changes the rendering, yet it is the same photo.
        double p = cpsnr(im, reference);
        EXPECT_GT(p, 8.0);
        EXPECT_LT(p, 40.0);
    }
}

TEST(PhoneDng, ACameraWithoutAColourMatrixIsTakenAsSrgb) {
    RawImage raw = read("v_no_matrix.dng");
    EXPECT_FALSE(raw.color.color_matrix[0]);
    EXPECT_TRUE(solve_color(raw.color, raw.source).camera_assumed_srgb);
    // mkdng's camera is diag(gains) x sRGB: white balanced, it is sRGB.
    EXPECT_GE(reference_cpsnr("v_no_matrix.dng", "kodim05.png"), 33.0);
}

TEST(PhoneDng, DefaultUserCropAndProfileTagsAreRead) {
    RawImage raw = read("v_user_crop.dng");  // 768 x 512, user crop T 0.1 L 0.2 B 0.9 R 0.7
    EXPECT_TRUE(raw.storage.user_crop);
    EXPECT_EQ(raw.crop.x, 154);
    EXPECT_EQ(raw.crop.y, 51);
    EXPECT_EQ(raw.crop.width, 538 - 154);
    EXPECT_EQ(raw.crop.height, 461 - 51);
    ASSERT_EQ(raw.storage.profile.size(), 1u);
    EXPECT_EQ(raw.storage.profile[0], "ProfileToneCurve");
    EXPECT_FALSE(read("kodim05_base12.dng").storage.user_crop);
}

TEST(PhoneDng, CameraProfileTablesAreRead) {
    // Values as tools/dng_variants.py --profile writes them (big-endian for
    // the gain table map's binary header in the dual file).
    for (const char* name : {"v_profile.dng", "v_profile_dual.dng"}) {
        SCOPED_TRACE(name);
        const CameraProfile& p = read(name).color.profile;
        const HsvTable& hsm = p.hue_sat_map[std::string(name) == "v_profile.dng" ? 0 : 1];
        EXPECT_EQ(hsm.hues, 6);
        EXPECT_EQ(hsm.sats, 3);
        EXPECT_EQ(hsm.vals, 1);
        ASSERT_EQ(hsm.data.size(), 6u * 3 * 3);
        EXPECT_FLOAT_EQ(hsm.data[3 * 2 + 1], 1.25f);  // hue 0, full saturation: sat scale 1 + 0.25
        EXPECT_EQ(p.look_table.vals, 3);
        EXPECT_TRUE(p.look_table.srgb_encoded);
        ASSERT_EQ(p.tone_curve.size(), 5u);
        EXPECT_FLOAT_EQ(p.tone_curve[3][1], 0.72f);
        EXPECT_DOUBLE_EQ(p.exposure_offset, 0.25);
        const GainTableMap& g = p.gain_table_map;
        EXPECT_EQ(g.points_v, 3);
        EXPECT_EQ(g.points_h, 4);
        EXPECT_EQ(g.points_n, 8);
        EXPECT_DOUBLE_EQ(g.spacing_h, 1.0 / 3);
        EXPECT_FLOAT_EQ(g.weights[4], 1.0f);
        ASSERT_EQ(g.gains.size(), 3u * 4 * 8);
        EXPECT_FLOAT_EQ(g.gains[size_t(3) * 8], 1.3f);  // row 0, column 3, input 0: 1 + 0.6 x 0.5
    }
    RawImage broken = read("v_profile_broken.dng");
    EXPECT_TRUE(broken.color.profile.hue_sat_map[0].empty());
    EXPECT_TRUE(broken.color.profile.gain_table_map.empty());
    EXPECT_EQ(broken.color.profile.tone_curve.size(), 5u);
}

TEST(PhoneDng, ReferenceIgnoresTheProfileAuthenticRendersIt) {
    DevelopOptions o;
    o.look = "reference";
    Image plain = develop(read("kodim05_base12.dng"), o), with = develop(read("v_profile.dng"), o);
    EXPECT_EQ(plain.pixels, with.pixels);  // the measurement rendering: matrices only
    o.look = "authentic";
    Image a = develop(read("kodim05_base12.dng"), o), b = develop(read("v_profile.dng"), o);
    EXPECT_LT(cpsnr(a, b), 30.0);  // the profile's tone curve and tables replace the look's tone
}

TEST(PhoneDng, DamagedLosslessJpegNamesFileAndTile) {
    try {
        read("bad_ljpeg_bits.dng");
        FAIL() << "damaged Huffman data was accepted";
    } catch (const Error& e) {
        std::string what = e.what();
        EXPECT_NE(what.find("bad_ljpeg_bits.dng: tile "), std::string::npos) << what;
        EXPECT_NE(what.find("lossless JPEG"), std::string::npos) << what;
    }
}

}  // namespace
}  // namespace obscura
