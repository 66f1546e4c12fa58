// finish: the look's finishing on the encoded photo (saturation, vibrance,
// hue, monochrome mix, split toning, vignette, grain, 3D LUT), in place,
// strip by strip; every pixel depends only on itself and its position, so
// strips give exactly what the whole image would.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "obscura/look.h"

namespace obscura {

// A 3D colour lookup table (.cube): size^3 RGB entries, red fastest.
struct Lut3D {
    std::string source, title;
    int size = 0;
    float domain_min[3] = {0, 0, 0}, domain_max[3] = {1, 1, 1};
    std::vector<float> table;  // size^3 x 3

    // Throws obscura::Error naming the file and line for anything wrong.
    static Lut3D load(const std::string& path);
    // Tetrahedral interpolation of one colour (inputs outside the domain
    // are clamped to it).
    void apply(float rgb[3]) const;
};

class Finisher {
public:
    // width, height: the whole photo, for the vignette's geometry.
    // `lut`, already loaded, replaces the look's own LUT when given.
    Finisher(const Look& look, int width, int height, std::shared_ptr<const Lut3D> lut = nullptr);
    bool active() const { return active_; }
    // Finishes `count` rows of encoded RGB (`stride` samples apart), the
    // first being row y of the photo.
    void apply(uint16_t* rows, size_t stride, int y, int count) const;

private:
    void apply_row(uint16_t* row, int y) const;
    Look look_;
    int width_, height_;
    bool active_ = false, colour_ = false;
    std::shared_ptr<const Lut3D> lut_;
    bool lut_linear_ = false;      // the LUT takes linear values, not encoded
    float hue_[9];                 // rotation about the grey axis
    float shadow_tint_[3], highlight_tint_[3];
};

}  // namespace obscura
