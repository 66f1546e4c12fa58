#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "obscura/error.h"
#include "writers.h"

namespace obscura {

Format format_for_path(const std::string& path) {
    std::string ext = std::filesystem::path(path).extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char ch) { return std::tolower(ch); });
    if (ext == ".jpg" || ext == ".jpeg") return Format::Jpeg;
    if (ext == ".png") return Format::Png;
    if (ext == ".tif" || ext == ".tiff") return Format::Tiff;
    throw file_error(path, "unknown output format '" + ext + "' (use .jpg, .png or .tif)");
}

const char* format_name(Format f) {
    switch (f) {
        case Format::Jpeg: return "JPEG";
        case Format::Png: return "PNG";
        case Format::Tiff: return "TIFF (16-bit)";
    }
    return "?";
}

void encode(const Image& image, const std::string& path, const OutputMetadata& metadata, const EncodeOptions& options) {
    Format format = format_for_path(path);
    if (image.width <= 0 || image.height <= 0) throw file_error(path, "nothing to write (empty image)");
    namespace fs = std::filesystem;
    if (!options.overwrite && fs::exists(path)) throw file_error(path, "exists (use --overwrite to replace it)");

    // Written beside the target, then renamed: a reader never sees half a
    // file, and a failure leaves the old one (or nothing) in place.
    fs::path target(path);
    fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
    std::string templ = (dir / ("." + target.filename().string() + ".XXXXXX")).string();
    std::vector<char> name(templ.begin(), templ.end());
    name.push_back('\0');
    int fd = ::mkstemp(name.data());
    if (fd < 0) throw file_error(path, std::string("cannot create output: ") + std::strerror(errno));
    ::close(fd);
    std::string temp(name.data());
    try {
        std::vector<uint8_t> icc = icc_profile(image.color_space);
        std::vector<uint8_t> exif = output_exif(metadata, image.width, image.height);
        switch (format) {
            case Format::Jpeg: write_jpeg(image, temp, exif, icc, options.jpeg_quality); break;
            case Format::Png: write_png(image, temp, exif, icc); break;
            case Format::Tiff: write_tiff16(image, temp, exif, icc); break;
        }
        ::chmod(temp.c_str(), 0644);
        if (std::rename(temp.c_str(), path.c_str()) != 0)
            throw file_error(path, std::string("cannot move output into place: ") + std::strerror(errno));
    } catch (const Error& e) {
        std::remove(temp.c_str());
        std::string what = e.what();
        // Messages about the temporary file name the real target instead.
        auto at = what.find(temp);
        if (at != std::string::npos) what.replace(at, temp.size(), path);
        throw Error(what);
    } catch (...) {
        std::remove(temp.c_str());
        throw;
    }
}

}  // namespace obscura
