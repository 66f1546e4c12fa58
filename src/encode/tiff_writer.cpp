// 16-bit RGB TIFF through libtiff: large uncompressed strips written
// straight from the image, the ICC profile, and the shot's EXIF in an EXIF
// IFD that libtiff writes itself (no second pass over a 300 MB file).
#include <tiffio.h>

#include <exiv2/exiv2.hpp>

#include "obscura/error.h"
#include "writers.h"

namespace obscura {
namespace {

struct TiffCloser {
    void operator()(TIFF* t) const { TIFFClose(t); }
};
using TiffPtr = std::unique_ptr<TIFF, TiffCloser>;

// Copies the EXIF tags libtiff knows how to write (text, short and rational
// values of the EXIF IFD) from an exiv2 blob into the current directory.
void set_exif_fields(TIFF* t, const Exiv2::ExifData& exif) {
    for (const auto& d : exif) {
        if (d.groupName() != "Photo" || d.count() == 0) continue;
        const TIFFField* field = TIFFFindField(t, d.tag(), TIFF_ANY);
        if (!field || TIFFFieldPassCount(field)) {
            // ISO is the one counted field worth keeping.
            if (field && d.tag() == EXIFTAG_ISOSPEEDRATINGS && d.typeId() == Exiv2::unsignedShort) {
                uint16_t iso = uint16_t(d.toLong(0));
                TIFFSetField(t, d.tag(), 1, &iso);
            }
            continue;
        }
        switch (TIFFFieldDataType(field)) {
            case TIFF_ASCII:
                if (d.typeId() == Exiv2::asciiString) TIFFSetField(t, d.tag(), d.toString().c_str());
                break;
            case TIFF_SHORT:
                if (d.count() == 1) TIFFSetField(t, d.tag(), int(d.toLong(0)));
                break;
            case TIFF_RATIONAL:
            case TIFF_SRATIONAL:
                // Single rationals are passed as double (varargs promote a float anyway).
                if (d.count() == 1) TIFFSetField(t, d.tag(), double(d.toFloat(0)));
                break;
            default: break;
        }
    }
}

std::string exif_text(const Exiv2::ExifData& exif, const char* key) {
    auto it = exif.findKey(Exiv2::ExifKey(key));
    return it == exif.end() ? "" : it->toString();
}

}  // namespace

void write_tiff16(const Image& image, const std::string& path, const std::vector<uint8_t>& exif_blob,
                  const std::vector<uint8_t>& icc) {
    TIFFSetWarningHandler(nullptr);
    TiffPtr t(TIFFOpen(path.c_str(), "w"));
    if (!t) throw file_error(path, "cannot write TIFF");
    Exiv2::ExifData exif;
    if (!exif_blob.empty()) {
        try {
            Exiv2::ExifParser::decode(exif, exif_blob.data(), uint32_t(exif_blob.size()));
        } catch (const Exiv2::AnyError&) {
            exif.clear();  // metadata trouble never costs the photo
        }
    }
    const size_t row_bytes = size_t(image.width) * 3 * sizeof(uint16_t);
    const uint32_t rows_per_strip = uint32_t(std::max<size_t>(1, (4u << 20) / row_bytes));  // ~4 MB strips
    TIFF* tif = t.get();
    TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, uint32_t(image.width));
    TIFFSetField(tif, TIFFTAG_IMAGELENGTH, uint32_t(image.height));
    TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 3);
    TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 16);
    TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_RGB);
    TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_NONE);
    TIFFSetField(tif, TIFFTAG_ORIENTATION, ORIENTATION_TOPLEFT);
    TIFFSetField(tif, TIFFTAG_SOFTWARE, "obscura");
    TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, rows_per_strip);
    for (auto [key, tag] : {std::pair{"Exif.Image.Make", TIFFTAG_MAKE}, {"Exif.Image.Model", TIFFTAG_MODEL},
                            {"Exif.Image.DateTime", TIFFTAG_DATETIME}, {"Exif.Image.Artist", TIFFTAG_ARTIST},
                            {"Exif.Image.Copyright", TIFFTAG_COPYRIGHT}}) {
        std::string v = exif_text(exif, key);
        if (!v.empty()) TIFFSetField(tif, tag, v.c_str());
    }
    if (!icc.empty()) TIFFSetField(tif, TIFFTAG_ICCPROFILE, uint32_t(icc.size()), icc.data());
    if (!exif.empty()) TIFFSetField(tif, TIFFTAG_EXIFIFD, uint64_t(0));  // placeholder, set below

    // The samples are already in the file's (native) byte order, so strips
    // go to the file as they are.
    auto* bytes = reinterpret_cast<const uint8_t*>(image.pixels.data());
    for (uint32_t strip = 0, y = 0; y < uint32_t(image.height); ++strip, y += rows_per_strip) {
        uint32_t rows = std::min<uint32_t>(rows_per_strip, uint32_t(image.height) - y);
        if (TIFFWriteRawStrip(tif, strip, const_cast<uint8_t*>(bytes + y * row_bytes), tmsize_t(rows * row_bytes)) < 0)
            throw file_error(path, "TIFF write failed (disk full?)");
    }
    if (!TIFFWriteDirectory(tif)) throw file_error(path, "TIFF write failed (disk full?)");

    if (!exif.empty()) {
        // libtiff's way: write the EXIF IFD, then point IFD0 at it.
        uint64_t exif_offset = 0;
        if (TIFFCreateEXIFDirectory(tif) != 0) throw file_error(path, "cannot create the TIFF EXIF directory");
        set_exif_fields(tif, exif);
        static const char version[4] = {'0', '2', '3', '1'};
        TIFFSetField(tif, EXIFTAG_EXIFVERSION, version);
        if (!TIFFWriteCustomDirectory(tif, &exif_offset) || !TIFFSetDirectory(tif, 0) ||
            !TIFFSetField(tif, TIFFTAG_EXIFIFD, exif_offset) || !TIFFWriteDirectory(tif))
            throw file_error(path, "TIFF write failed (disk full?)");
    }
    if (TIFFFlush(tif) != 1) throw file_error(path, "TIFF write failed (disk full?)");
}

}  // namespace obscura
