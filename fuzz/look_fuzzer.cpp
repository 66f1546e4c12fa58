// libFuzzer target: the look file reader (TOML) on arbitrary bytes. Every
// input must either give a look or throw obscura::Error.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "obscura/error.h"
#include "obscura/look.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const std::string path = "/dev/shm/obscura-fuzz-" + std::to_string(::getpid()) + ".toml";
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
        obscura::Look look = obscura::load_look(path);
        look.encoding_curve(257);  // every accepted look must give a curve
    } catch (const obscura::Error&) {
    }
    return 0;
}
