// The built-in looks. `reference` is the measurement rendering: the sRGB
// encoding alone, so a correct pipeline returns the scene as the camera saw it.
#include "obscura/look.h"

#include <algorithm>
#include <cmath>

#include "obscura/error.h"

namespace obscura {

double srgb_encode(double v) {
    v = std::clamp(v, 0.0, 1.0);
    return v <= 0.0031308 ? v * 12.92 : 1.055 * std::pow(v, 1.0 / 2.4) - 0.055;
}

double srgb_decode(double v) {
    v = std::clamp(v, 0.0, 1.0);
    return v <= 0.04045 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4);
}

std::vector<float> Look::encoding_curve(int samples) const {
    std::vector<float> out(size_t(std::max(samples, 2)));
    const double gain = std::pow(2.0, exposure_ev);
    for (size_t i = 0; i < out.size(); ++i) {
        double x = double(i) / double(out.size() - 1) * gain;
        if (shoulder > 0) {
            // Extended Reinhard with its white at the brightest input: a soft
            // shoulder that still reaches white, so highlights roll off.
            double w = gain, k = shoulder;
            auto f = [&](double t) { return t * (1 + k * t / (w * w)) / (1 + k * t); };
            x = f(x) / f(w);
            x = std::min(x, 1.0);
        } else {
            x = std::min(x, 1.0);
        }
        double y = srgb_encode(x);
        if (contrast != 0) {
            // S-curve around mid-grey: darker shadows, brighter mid-highs,
            // with both ends pinned.
            const double pivot = 0.46;
            double t = y < pivot ? y / pivot : (y - pivot) / (1 - pivot);
            double s = y < pivot ? std::pow(t, 1 + contrast) * pivot : pivot + (1 - std::pow(1 - t, 1 + contrast)) * (1 - pivot);
            y = s;
        }
        out[i] = float(std::clamp(y, 0.0, 1.0));
    }
    return out;
}

const std::vector<Look>& builtin_looks() {
    static const std::vector<Look> looks = {
        {"reference", "measurement rendering: sRGB encoding only, no tone curve", 0.0, 0.0, 0.0},
        {"authentic", "natural colour, stronger contrast, soft highlight roll-off", 0.3, 1.5, 0.25},
    };
    return looks;
}

const std::string& default_look_name() {
    static const std::string name = "authentic";
    return name;
}

const Look& find_look(const std::string& name) {
    for (const auto& l : builtin_looks())
        if (l.name == name) return l;
    std::string known;
    for (const auto& l : builtin_looks()) known += (known.empty() ? "" : ", ") + l.name;
    throw Error("unknown look '" + name + "' (known: " + known + ")");
}

}  // namespace obscura
