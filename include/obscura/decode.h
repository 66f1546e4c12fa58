// decode: a RawImage from a DNG (our own reader) or any raw LibRaw reads.
#pragma once
#include <string>

#include "obscura/raw_image.h"

namespace obscura {

enum class Decoder { Auto, Dng, LibRaw };

struct DecodeOptions {
    Decoder decoder = Decoder::Auto;  // Auto: DNG by our reader, else LibRaw
    bool read_exif = true;            // keep the EXIF blob for the encoders
};

// Throws obscura::Error ("file: reason") for anything unreadable.
RawImage decode(const std::string& path, const DecodeOptions& options = {});

}  // namespace obscura
