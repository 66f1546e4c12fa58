// camera_profile: renders a DNG's own camera profile (DNG 1.7.1 chapter 6
// and ProfileGainTableMap), so a phone DNG looks as the phone and Lightroom
// show it. Per pixel, in linear ProPhoto RGB (RIMM):
//   ProfileHueSatMap (interpolated between the two calibrations as the
//   matrices are) -> BaselineExposure + BaselineExposureOffset (+ the look's
//   exposure) -> ProfileGainTableMap -> clip -> ProfileLookTable ->
//   ProfileToneCurve (hue-preserving, on the largest and smallest channel)
//   -> the output primaries and the look's encoding.
// The develop kernel hands it linear ProPhoto in the sRGB encoding (16-bit);
// it runs after any warp (the gain table map is placed on the warped image)
// and before local tone mapping and the look's finishing.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "obscura/color_math.h"
#include "obscura/develop.h"
#include "obscura/look.h"
#include "obscura/raw_image.h"

namespace obscura {

class ProfileRendering {
public:
    // True when `look` asks for the camera profile and `raw` carries one.
    static bool applies(const RawImage& raw, const Look& look);

    ProfileRendering(const RawImage& raw, const ColorSolution& color, const Look& look, const std::string& color_space);

    // White-balanced camera RGB -> linear ProPhoto RGB: the kernel's matrix.
    const Mat3& camera_to_prophoto() const { return camera_to_prophoto_; }

    // Renders `rows` rows of `width` pixels in place (RGB 16-bit, rows
    // `stride` samples apart), the top one at row y0 of the default crop.
    void apply(uint16_t* pixels, size_t stride, int width, int y0, int rows) const;

private:
    // The steps: the hue/saturation map and exposure; the gain table map's
    // gain at a pixel; the clip, look table, tone curve, output primaries
    // and encoding.
    void before_gain_map(float c[3]) const;
    float gain_at(const float c[3], int x, float row_pos) const;
    void after_gain_map(float c[3]) const;

    Mat3 camera_to_prophoto_;
    float to_output_[9];
    float exposure_ = 1;
    HsvTable hue_sat_map_, look_table_;
    GainTableMap gain_map_;
    std::vector<float> column_pos_;  // per column of the crop: position in the gain map's columns
    int crop_y_ = 0, image_height_ = 1;
    std::vector<float> tone_;       // the tone curve sampled over 0..1
    std::vector<float> decode_;     // 16-bit sRGB code -> linear
    std::vector<float> encode_;     // the look's encoding sampled over linear 0..1
};

}  // namespace obscura
