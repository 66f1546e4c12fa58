// optics: the file's lens corrections (DNG opcodes) are read, applied where
// they belong, and refused when required but unknown.
#include <gtest/gtest.h>

#include <cstdio>

#include "obscura/decode.h"
#include "obscura/develop.h"
#include "obscura/error.h"
#include "obscura/lens_correction.h"
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
