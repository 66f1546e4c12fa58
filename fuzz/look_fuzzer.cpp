// libFuzzer target: the look file reader (TOML) on arbitrary bytes. Every
// input must either give a look or throw obscura::Error.
#include <cstdint>
#include <string>

#include "scratch_file.h"

#include "obscura/error.h"
#include "obscura/look.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    ScratchFile file(".toml", data, size);
    if (!file.ok) return 0;
    const std::string& path = file.path;
    try {
        obscura::Look look = obscura::load_look(path);
        look.encoding_curve(257);  // every accepted look must give a curve
    } catch (const obscura::Error&) {
    }
    return 0;
}
