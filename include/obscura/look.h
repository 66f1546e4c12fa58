// Look: the photographic rendering applied after the colour transform.
#pragma once
#include <string>
#include <vector>

namespace obscura {

struct Look {
    std::string name, description;
    double exposure_ev = 0.0;    // added to the camera's BaselineExposure
    double shoulder = 0.0;       // highlight roll-off strength; 0 = none
    double contrast = 0.0;       // S-curve around mid-grey in the encoded domain; 0 = none

    // The look's tone curve composed with the sRGB encoding, sampled
    // uniformly over linear 0..1 (`samples` points), values 0..1.
    std::vector<float> encoding_curve(int samples = 16385) const;
};

// The built-in looks, by name.
const std::vector<Look>& builtin_looks();
// Throws obscura::Error naming the look and the known ones when unknown.
const Look& find_look(const std::string& name);
// The look used when none is asked for.
const std::string& default_look_name();

// sRGB encoding of a linear value in 0..1.
double srgb_encode(double linear);
double srgb_decode(double encoded);

}  // namespace obscura
