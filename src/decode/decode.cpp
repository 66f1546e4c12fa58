#include "obscura/decode.h"

#include <algorithm>
#include <fstream>

#include "decoders.h"
#include "mapped_file.h"
#include "obscura/error.h"

namespace obscura {

bool looks_like_tiff(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    char h[4] = {};
    if (!f.read(h, 4)) return false;
    return (h[0] == 'I' && h[1] == 'I' && h[2] == 42 && h[3] == 0) || (h[0] == 'M' && h[1] == 'M' && h[2] == 0 && h[3] == 42);
}

RawImage decode(const std::string& path, const DecodeOptions& options) {
    RawImage img;
    if (options.decoder == Decoder::LibRaw) {
        img = decode_with_libraw(path);
    } else {
        MappedFile file(path);
        bool tiff = file.size() >= 4 && (std::equal(file.data(), file.data() + 4, "II*") ||
                                         std::equal(file.data(), file.data() + 4, "MM\0*"));
        // A TIFF without DNGVersion is a camera raw (CR2, NEF, ARW...) for LibRaw;
        // a damaged TIFF structure is reported as such.
        if (tiff && is_dng(file)) img = decode_dng(file);
        else if (options.decoder == Decoder::Dng) throw file_error(path, "not a DNG file");
        else img = decode_with_libraw(path);
    }
    if (options.read_exif) img.exif = read_exif_blob(path);
    return img;
}

}  // namespace obscura
