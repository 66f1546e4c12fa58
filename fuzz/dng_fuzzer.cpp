// libFuzzer target: our TIFF/DNG reader and opcode parser on arbitrary bytes.
// Every input must either decode or throw obscura::Error: no crash, no
// sanitizer report, no runaway allocation.
#include <cstdint>
#include <string>

#include "scratch_file.h"

#include "obscura/decode.h"
#include "obscura/error.h"
#include "obscura/opcodes.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    ScratchFile file(".dng", data, size);
    if (!file.ok) return 0;
    const std::string& path = file.path;
    try {
        obscura::DecodeOptions options;
        options.decoder = obscura::Decoder::Dng;
        obscura::RawImage raw = obscura::decode(path, options);
        for (const auto& list : raw.opcodes) obscura::parse_opcode_list(list, path);
    } catch (const obscura::Error&) {
    }
    return 0;
}
