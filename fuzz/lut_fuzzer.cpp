// libFuzzer target: the .cube LUT reader on arbitrary bytes, and the
// interpolation of every accepted LUT at its corners and centre.
#include <cstdint>
#include <string>

#include "scratch_file.h"

#include "obscura/error.h"
#include "obscura/finish.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    ScratchFile file(".cube", data, size);
    if (!file.ok) return 0;
    const std::string& path = file.path;
    try {
        obscura::Lut3D lut = obscura::Lut3D::load(path);
        for (float v : {-1.0f, 0.0f, 0.5f, 1.0f, 2.0f}) {
            float rgb[3] = {v, 1.0f - v, v * 0.5f};
            lut.apply(rgb);
        }
    } catch (const obscura::Error&) {
    }
    return 0;
}
