// EXIF for outputs through exiv2: the source's tags, with the fields that
// describe the new file (size, orientation, software, colour space) set anew.
#include <exiv2/exiv2.hpp>

#include <cmath>

#include "obscura/error.h"
#include "writers.h"

namespace obscura {
namespace {

Exiv2::URational to_rational(double v) {
    if (v >= 1) return {int32_t(std::lround(v * 10)), 10};
    return {1, int32_t(std::lround(1.0 / v))};  // exposure times read as 1/N
}

}  // namespace

std::vector<uint8_t> output_exif(const OutputMetadata& metadata, int width, int height) {
    try {
        Exiv2::ExifData exif;
        if (!metadata.exif.empty())
            Exiv2::ExifParser::decode(exif, metadata.exif.data(), uint32_t(metadata.exif.size()));
        const ShotInfo& s = metadata.shot;
        auto fill = [&](const char* key, const std::string& value) {
            if (!value.empty() && exif.findKey(Exiv2::ExifKey(key)) == exif.end()) exif[key] = value;
        };
        fill("Exif.Image.Make", s.make);
        fill("Exif.Image.Model", s.model);
        fill("Exif.Photo.LensModel", s.lens);
        fill("Exif.Photo.DateTimeOriginal", s.datetime);
        auto has = [&](const char* key) { return exif.findKey(Exiv2::ExifKey(key)) != exif.end(); };
        if (s.exposure_s && !has("Exif.Photo.ExposureTime")) exif["Exif.Photo.ExposureTime"] = to_rational(*s.exposure_s);
        if (s.f_number && !has("Exif.Photo.FNumber"))
            exif["Exif.Photo.FNumber"] = Exiv2::URational(int32_t(std::lround(*s.f_number * 10)), 10);
        if (s.focal_mm && !has("Exif.Photo.FocalLength"))
            exif["Exif.Photo.FocalLength"] = Exiv2::URational(int32_t(std::lround(*s.focal_mm * 10)), 10);
        if (s.iso && !has("Exif.Photo.ISOSpeedRatings")) exif["Exif.Photo.ISOSpeedRatings"] = uint16_t(std::min(*s.iso, 65535.0));
        exif["Exif.Image.Orientation"] = uint16_t(1);
        exif["Exif.Image.Software"] = "obscura";
        if (!metadata.processing.empty()) exif["Exif.Image.ImageHistory"] = metadata.processing;
        exif["Exif.Photo.ColorSpace"] = uint16_t(1);
        exif["Exif.Photo.PixelXDimension"] = uint32_t(width);
        exif["Exif.Photo.PixelYDimension"] = uint32_t(height);
        Exiv2::Blob blob;
        Exiv2::ExifParser::encode(blob, Exiv2::littleEndian, exif);
        return {blob.begin(), blob.end()};
    } catch (const Exiv2::AnyError&) {
        return {};  // metadata trouble never costs the photo
    }
}

}  // namespace obscura
