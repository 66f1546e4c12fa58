// The watermark frame: what the band says comes from the shot's EXIF and
// nothing else; the band is drawn under an untouched photo, with ink where
// the lines are and nowhere else.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "obscura/decode.h"
#include "obscura/develop.h"
#include "obscura/frame.h"
#include "support/truth.h"

namespace obscura::test {
namespace {

TEST(Frame, LinesComeFromTheExif) {
    RawImage raw = decode(dng_path("v_subifd_exif.dng"));
    FrameLines l = frame_lines(raw.shot);
    EXPECT_EQ(l.camera, "VariantCam Model V");
    EXPECT_EQ(l.lens, "Obscura Optics 6.9mm f/1.8");
    EXPECT_EQ(l.exposure, "6.9 mm   f/1.8   1/120 s   ISO 100");
    EXPECT_EQ(l.date, "2026-11-24 12:34");
}

TEST(Frame, MissingValuesAreLeftOutNotInvented) {
    ShotInfo shot;
    shot.iso = 3200;
    shot.exposure_s = 2.5;
    FrameLines l = frame_lines(shot);
    EXPECT_EQ(l.camera, "");
    EXPECT_EQ(l.lens, "");
    EXPECT_EQ(l.exposure, "2.5 s   ISO 3200");
    EXPECT_EQ(l.date, "");
    shot = {};
    shot.make = "Canon";
    shot.model = "Canon EOS R5";  // the make once
    EXPECT_EQ(frame_lines(shot).camera, "Canon EOS R5");
}

// Fraction of the band's pixels in [x0, x1) that carry ink (darker than the paper).
double ink(const Image& im, int top, int x0, int x1) {
    size_t inked = 0, all = 0;
    for (int y = top; y < im.height; ++y)
        for (int x = x0; x < x1; ++x, ++all)
            if (im.at(x, y, 1) < 60000) ++inked;
    return double(inked) / double(all);
}

TEST(Frame, BandUnderTheUntouchedPhotoWithInkWhereTheLinesAre) {
    RawImage raw = decode(dng_path("v_subifd_exif.dng"));
    DevelopOptions o;
    o.look = "reference";
    Image photo = develop(raw, o);
    Image framed = add_frame(photo, raw.shot);
    ASSERT_EQ(framed.width, photo.width);
    const int band = framed.height - photo.height;
    EXPECT_EQ(band, std::max(48, int(std::lround(std::min(photo.width, photo.height) * 0.10))));
    EXPECT_TRUE(std::equal(photo.pixels.begin(), photo.pixels.end(), framed.pixels.begin()));
    const int w = framed.width;
    double left = ink(framed, photo.height, 0, w / 3), right = ink(framed, photo.height, 2 * w / 3, w);
    std::printf("ink: left third %.3f, right third %.3f of the band\n", left, right);
    EXPECT_GT(left, 0.01);   // camera and lens
    EXPECT_GT(right, 0.01);  // exposure and date
    EXPECT_LT(left + right, 0.5);  // text on paper, not a dark band
    // Nothing known, nothing written: the band stays paper.
    Image blank = add_frame(photo, ShotInfo{});
    EXPECT_EQ(ink(blank, photo.height, 0, w), 0.0);
}

}  // namespace
}  // namespace obscura::test
