// libFuzzer target: our TIFF/DNG reader and opcode parser on arbitrary bytes.
// Every input must either decode or throw obscura::Error: no crash, no
// sanitizer report, no runaway allocation.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "obscura/decode.h"
#include "obscura/error.h"
#include "obscura/opcodes.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    // The reader maps files, so each input goes through one in memory-backed /dev/shm.
    static const std::string path = "/dev/shm/obscura-fuzz-" + std::to_string(::getpid()) + ".dng";
    if (FILE* f = std::fopen(path.c_str(), "wb")) {
        std::fwrite(data, 1, size, f);
        std::fclose(f);
    } else {
        return 0;
    }
    struct Remove {  // the file goes once the input is done, however it ends
        ~Remove() { ::unlink(path.c_str()); }
    } remove;
    try {
        obscura::DecodeOptions options;
        options.decoder = obscura::Decoder::Dng;
        obscura::RawImage raw = obscura::decode(path, options);
        for (const auto& list : raw.opcodes) obscura::parse_opcode_list(list, path);
    } catch (const obscura::Error&) {
    }
    return 0;
}
