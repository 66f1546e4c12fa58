#include "obscura/decode.h"

#include <algorithm>

#include "decoders.h"
#include "mapped_file.h"
#include "obscura/error.h"

namespace obscura {

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
