// The shot's EXIF, kept as a blob so it can travel with the pixels to the
// encoders without them reopening the raw file.
#include <exiv2/exiv2.hpp>

#include "decoders.h"

namespace obscura {

std::vector<uint8_t> read_exif_blob(const std::string& path) {
    try {
        auto image = Exiv2::ImageFactory::open(path);
        image->readMetadata();
        const Exiv2::ExifData& in = image->exifData();
        // Keep what describes the shot; drop the raw container's structure
        // (strips, tiles, sub-IFDs, DNG tags, maker notes, thumbnails).
        Exiv2::ExifData keep;
        for (const auto& d : in) {
            const std::string group = d.groupName();
            if (group == "Photo" || group == "GPSInfo") {
                if (d.key() == "Exif.Photo.MakerNote") continue;
                keep.add(d);
            } else if (group == "Image") {
                static const char* kShotTags[] = {"Make", "Model", "DateTime", "Artist", "Copyright",
                                                  "ImageDescription", "ExposureTime", "FNumber",
                                                  "ISOSpeedRatings", "FocalLength", "DateTimeOriginal"};
                for (const char* t : kShotTags)
                    if (d.tagName() == t) keep.add(d);
            }
        }
        if (keep.empty()) return {};
        Exiv2::Blob blob;
        Exiv2::ExifParser::encode(blob, Exiv2::littleEndian, keep);
        return {blob.begin(), blob.end()};
    } catch (const std::exception&) {
        return {};  // damaged or absent EXIF costs the metadata, never the photo
    }
}

}  // namespace obscura
