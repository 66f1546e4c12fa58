#include <tiffio.h>

#include "obscura/error.h"
#include "writers.h"

namespace obscura {

void write_tiff16(const Image& image, const std::string& path, const std::vector<uint8_t>& icc) {
    TIFFSetWarningHandler(nullptr);
    TIFF* t = TIFFOpen(path.c_str(), "w");
    if (!t) throw file_error(path, "cannot write TIFF");
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, uint32_t(image.width));
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, uint32_t(image.height));
    TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 3);
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 16);
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_RGB);
    TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_NONE);
    TIFFSetField(t, TIFFTAG_ORIENTATION, ORIENTATION_TOPLEFT);
    TIFFSetField(t, TIFFTAG_SOFTWARE, "obscura");
    TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, TIFFDefaultStripSize(t, 0));
    if (!icc.empty()) TIFFSetField(t, TIFFTAG_ICCPROFILE, uint32_t(icc.size()), icc.data());
    for (int y = 0; y < image.height; ++y) {
        auto* row = const_cast<uint16_t*>(&image.pixels[size_t(y) * image.width * 3]);
        if (TIFFWriteScanline(t, row, uint32_t(y), 0) < 0) {
            TIFFClose(t);
            throw file_error(path, "TIFF write failed (disk full?)");
        }
    }
    TIFFClose(t);
}

}  // namespace obscura
