// ICC profiles from lcms2, built once per process.
#include <lcms2.h>

#include <mutex>

#include "obscura/encode.h"
#include "obscura/error.h"

namespace obscura {

std::vector<uint8_t> icc_profile(const std::string& color_space) {
    if (color_space != "sRGB") throw Error("no ICC profile for colour space '" + color_space + "'");
    static std::once_flag once;
    static std::vector<uint8_t> srgb;
    std::call_once(once, [] {
        cmsHPROFILE p = cmsCreate_sRGBProfile();
        cmsMLU* desc = cmsMLUalloc(nullptr, 1);
        cmsMLUsetASCII(desc, "en", "US", "sRGB (obscura, lcms2)");
        cmsWriteTag(p, cmsSigProfileDescriptionTag, desc);
        cmsMLUfree(desc);
        cmsUInt32Number size = 0;
        cmsSaveProfileToMem(p, nullptr, &size);
        srgb.resize(size);
        cmsSaveProfileToMem(p, srgb.data(), &size);
        cmsCloseProfile(p);
    });
    return srgb;
}

}  // namespace obscura
