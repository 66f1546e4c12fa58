// libFuzzer target: the .cube LUT reader on arbitrary bytes, and the
// interpolation of every accepted LUT at its corners and centre.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "obscura/error.h"
#include "obscura/finish.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const std::string path = "/dev/shm/obscura-fuzz-" + std::to_string(::getpid()) + ".cube";
    if (FILE* f = std::fopen(path.c_str(), "wb")) {
        std::fwrite(data, 1, size, f);
        std::fclose(f);
    } else {
        return 0;
    }
    struct Remove {
        ~Remove() { ::unlink(path.c_str()); }
    } remove;
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
