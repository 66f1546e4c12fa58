// ICC profiles from lcms2, built once per process.
#include <lcms2.h>

#include <mutex>

#include "obscura/encode.h"
#include "obscura/error.h"

namespace obscura {

namespace {

std::vector<uint8_t> saved(cmsHPROFILE p, const char* description) {
    cmsMLU* desc = cmsMLUalloc(nullptr, 1);
    cmsMLUsetASCII(desc, "en", "US", description);
    cmsWriteTag(p, cmsSigProfileDescriptionTag, desc);
    cmsMLUfree(desc);
    cmsUInt32Number size = 0;
    cmsSaveProfileToMem(p, nullptr, &size);
    std::vector<uint8_t> bytes(size);
    cmsSaveProfileToMem(p, bytes.data(), &size);
    cmsCloseProfile(p);
    // The header's creation date (bytes 24..35: year, month, day, hour,
    // minute, second, big-endian 16-bit) is when lcms2 made it; a fixed one
    // makes every output of the same input byte-identical, whichever run or
    // machine wrote it. (The profile ID, bytes 84..99, stays zero: "not
    // computed", as lcms2 leaves it.)
    const uint16_t date[6] = {2026, 1, 1, 0, 0, 0};
    if (bytes.size() >= 128)
        for (int i = 0; i < 6; ++i) bytes[size_t(24 + 2 * i)] = uint8_t(date[i] >> 8), bytes[size_t(25 + 2 * i)] = uint8_t(date[i]);
    return bytes;
}

// Display P3: DCI-P3 primaries, D65 white, the sRGB tone curve.
cmsHPROFILE display_p3() {
    cmsCIExyY white{0.3127, 0.3290, 1.0};
    cmsCIExyYTRIPLE primaries{{0.680, 0.320, 1.0}, {0.265, 0.690, 1.0}, {0.150, 0.060, 1.0}};
    const cmsFloat64Number srgb_curve[5] = {2.4, 1.0 / 1.055, 0.055 / 1.055, 1.0 / 12.92, 0.04045};
    cmsToneCurve* curve = cmsBuildParametricToneCurve(nullptr, 4, srgb_curve);
    cmsToneCurve* curves[3] = {curve, curve, curve};
    cmsHPROFILE p = cmsCreateRGBProfile(&white, &primaries, curves);
    cmsFreeToneCurve(curve);
    return p;
}

}  // namespace

std::vector<uint8_t> icc_profile(const std::string& color_space) {
    static std::once_flag once;
    static std::vector<uint8_t> srgb, p3;
    std::call_once(once, [] {
        srgb = saved(cmsCreate_sRGBProfile(), "sRGB (obscura, lcms2)");
        p3 = saved(display_p3(), "Display P3 (obscura, lcms2)");
    });
    if (color_space == "sRGB") return srgb;
    if (color_space == "Display P3") return p3;
    throw Error("no ICC profile for colour space '" + color_space + "'");
}

}  // namespace obscura
