// 16-bit RGB TIFF through libtiff: large uncompressed strips written
// straight from the image, the ICC profile, and the shot's EXIF in an EXIF
// IFD that libtiff writes itself (no second pass over a 300 MB file).

#include <exiv2/exiv2.hpp>

#include "core/lazy_tiff.h"
#include "obscura/error.h"
#include "writers.h"

namespace obscura {
namespace {

struct TiffCloser {
    void operator()(TIFF* t) const { TIFF_LAZY(TIFFClose)(t); }
};
using TiffPtr = std::unique_ptr<TIFF, TiffCloser>;

// Copies the EXIF tags libtiff knows how to write (text, short and rational
// values of the EXIF IFD) from an exiv2 blob into the current directory.
void set_exif_fields(TIFF* t, const Exiv2::ExifData& exif) {
    for (const auto& d : exif) {
        if (d.groupName() != "Photo" || d.count() == 0) continue;
        const TIFFField* field = TIFF_LAZY(TIFFFindField)(t, d.tag(), TIFF_ANY);
        if (!field || TIFF_LAZY(TIFFFieldPassCount)(field)) {
            // ISO is the one counted field worth keeping.
            if (field && d.tag() == EXIFTAG_ISOSPEEDRATINGS && d.typeId() == Exiv2::unsignedShort) {
                uint16_t iso = uint16_t(d.toLong(0));
                TIFF_LAZY(TIFFSetField)(t, d.tag(), 1, &iso);
            }
            continue;
        }
        switch (TIFF_LAZY(TIFFFieldDataType)(field)) {
            case TIFF_ASCII:
                if (d.typeId() == Exiv2::asciiString) TIFF_LAZY(TIFFSetField)(t, d.tag(), d.toString().c_str());
                break;
            case TIFF_SHORT:
                if (d.count() == 1) TIFF_LAZY(TIFFSetField)(t, d.tag(), int(d.toLong(0)));
                break;
            case TIFF_RATIONAL:
            case TIFF_SRATIONAL:
                // Single rationals are passed as double (varargs promote a float anyway).
                if (d.count() == 1) TIFF_LAZY(TIFFSetField)(t, d.tag(), double(d.toFloat(0)));
                break;
            default: break;
        }
    }
}

std::string exif_text(const Exiv2::ExifData& exif, const char* key) {
    auto it = exif.findKey(Exiv2::ExifKey(key));
    return it == exif.end() ? "" : it->toString();
}

class Tiff16Writer : public FormatWriter {
public:
    explicit Tiff16Writer(const WriterSetup& s)
        : path_(s.path), width_(s.width), height_(s.height), row_samples_(size_t(s.width) * 3) {
        TIFF_LAZY(TIFFSetWarningHandler)(nullptr);
        tif_.reset(TIFF_LAZY(TIFFOpen)(path_.c_str(), "w"));
        if (!tif_) throw file_error(path_, "cannot write TIFF");
        if (!s.exif.empty()) {
            try {
                Exiv2::ExifParser::decode(exif_, s.exif.data(), uint32_t(s.exif.size()));
            } catch (const Exiv2::AnyError&) {
                exif_.clear();  // metadata trouble never costs the photo
            }
        }
        TIFF* tif = tif_.get();
        TIFF_LAZY(TIFFSetField)(tif, TIFFTAG_IMAGEWIDTH, uint32_t(width_));
        TIFF_LAZY(TIFFSetField)(tif, TIFFTAG_IMAGELENGTH, uint32_t(height_));
        TIFF_LAZY(TIFFSetField)(tif, TIFFTAG_SAMPLESPERPIXEL, 3);
        TIFF_LAZY(TIFFSetField)(tif, TIFFTAG_BITSPERSAMPLE, 16);
        TIFF_LAZY(TIFFSetField)(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_RGB);
        TIFF_LAZY(TIFFSetField)(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
        TIFF_LAZY(TIFFSetField)(tif, TIFFTAG_COMPRESSION, COMPRESSION_NONE);
        TIFF_LAZY(TIFFSetField)(tif, TIFFTAG_ORIENTATION, ORIENTATION_TOPLEFT);
        TIFF_LAZY(TIFFSetField)(tif, TIFFTAG_SOFTWARE, "obscura");
        TIFF_LAZY(TIFFSetField)(tif, TIFFTAG_ROWSPERSTRIP, uint32_t(kRowsPerStrip));
        for (auto [key, tag] : {std::pair{"Exif.Image.Make", TIFFTAG_MAKE}, {"Exif.Image.Model", TIFFTAG_MODEL},
                                {"Exif.Image.DateTime", TIFFTAG_DATETIME}, {"Exif.Image.Artist", TIFFTAG_ARTIST},
                                {"Exif.Image.Copyright", TIFFTAG_COPYRIGHT}}) {
            std::string v = exif_text(exif_, key);
            if (!v.empty()) TIFF_LAZY(TIFFSetField)(tif, tag, v.c_str());
        }
        if (!s.icc.empty()) TIFF_LAZY(TIFFSetField)(tif, TIFFTAG_ICCPROFILE, uint32_t(s.icc.size()), s.icc.data());
        if (!exif_.empty()) TIFF_LAZY(TIFFSetField)(tif, TIFFTAG_EXIFIFD, uint64_t(0));  // placeholder, set in finish()
    }

    // The samples are already in the file's (native) byte order, so whole
    // strips go to the file as they are; only partial strips are gathered.
    void write_rows(const uint16_t* rows, size_t stride, int, int count) override {
        while (count > 0) {
            if (pending_ == 0 && count >= kRowsPerStrip && stride == row_samples_) {
                put_strip(rows, kRowsPerStrip);
                rows += kRowsPerStrip * stride;
                count -= kRowsPerStrip;
                continue;
            }
            if (buffer_.empty()) buffer_.resize(row_samples_ * kRowsPerStrip);
            std::copy_n(rows, row_samples_, &buffer_[pending_ * row_samples_]);
            rows += stride;
            --count;
            if (++pending_ == kRowsPerStrip) flush();
        }
    }

    void finish() override {
        flush();
        TIFF* tif = tif_.get();
        if (!TIFF_LAZY(TIFFWriteDirectory)(tif)) fail();
        if (!exif_.empty()) {
            // libtiff's way: write the EXIF IFD, then point IFD0 at it.
            uint64_t exif_offset = 0;
            if (TIFF_LAZY(TIFFCreateEXIFDirectory)(tif) != 0) throw file_error(path_, "cannot create the TIFF EXIF directory");
            set_exif_fields(tif, exif_);
            static const char version[4] = {'0', '2', '3', '1'};
            TIFF_LAZY(TIFFSetField)(tif, EXIFTAG_EXIFVERSION, version);
            if (!TIFF_LAZY(TIFFWriteCustomDirectory)(tif, &exif_offset) || !TIFF_LAZY(TIFFSetDirectory)(tif, 0) ||
                !TIFF_LAZY(TIFFSetField)(tif, TIFFTAG_EXIFIFD, exif_offset) || !TIFF_LAZY(TIFFWriteDirectory)(tif))
                fail();
        }
        if (TIFF_LAZY(TIFFFlush)(tif) != 1) fail();
        tif_.reset();
    }

private:
    static constexpr int kRowsPerStrip = 64;

    void put_strip(const uint16_t* rows, int count) {
        auto* bytes = reinterpret_cast<uint8_t*>(const_cast<uint16_t*>(rows));
        if (TIFF_LAZY(TIFFWriteRawStrip)(tif_.get(), strip_++, bytes, tmsize_t(size_t(count) * row_samples_ * 2)) < 0) fail();
    }
    void flush() {
        if (pending_ > 0) put_strip(buffer_.data(), int(pending_));
        pending_ = 0;
    }
    [[noreturn]] void fail() { throw file_error(path_, "TIFF write failed (disk full?)"); }

    std::string path_;
    int width_, height_;
    size_t row_samples_;
    TiffPtr tif_;
    Exiv2::ExifData exif_;
    std::vector<uint16_t> buffer_;
    size_t pending_ = 0;
    uint32_t strip_ = 0;
};

}  // namespace

std::unique_ptr<FormatWriter> tiff16_writer(const WriterSetup& setup) { return std::make_unique<Tiff16Writer>(setup); }

}  // namespace obscura
