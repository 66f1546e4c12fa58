#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/cpu_clones.h"
#include "obscura/error.h"
#include "obscura/look.h"
#include "writers.h"

namespace obscura {

Format format_for_path(const std::string& path) {
    std::string ext = std::filesystem::path(path).extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char ch) { return std::tolower(ch); });
    if (ext == ".jpg" || ext == ".jpeg") return Format::Jpeg;
    if (ext == ".png") return Format::Png;
    if (ext == ".tif" || ext == ".tiff") return Format::Tiff;
    if (ext == ".heic" || ext == ".heif") return Format::Heif;
    if (ext == ".avif") return Format::Avif;
    if (ext == ".exr") return Format::Exr;
    throw file_error(path, "unknown output format '" + ext + "' (use .jpg, .png, .tif, .heic, .avif or .exr)");
}

const char* format_name(Format f) {
    switch (f) {
        case Format::Jpeg: return "JPEG";
        case Format::Png: return "PNG";
        case Format::Tiff: return "TIFF (16-bit)";
        case Format::Heif: return "HEIF (HEVC)";
        case Format::Avif: return "AVIF (AV1)";
        case Format::Exr: return "OpenEXR (half float, scene-linear)";
    }
    return "?";
}

namespace fs = std::filesystem;

std::string create_temporary_beside(const std::string& path) {
    fs::path target(path);
    fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
    std::string hidden = ".";  // (built stepwise: GCC 12 warns falsely on "." + string)
    hidden += target.filename().string();
    hidden += ".XXXXXX";
    std::string templ = (dir / hidden).string();
    std::vector<char> name(templ.begin(), templ.end());
    name.push_back('\0');
    int fd = ::mkstemp(name.data());
    if (fd < 0) throw file_error(path, std::string("cannot create output: ") + std::strerror(errno));
    ::close(fd);
    return name.data();
}

void move_into_place(const std::string& temp, const std::string& path) {
    ::chmod(temp.c_str(), 0644);
    if (std::rename(temp.c_str(), path.c_str()) != 0)
        throw file_error(path, std::string("cannot move output into place: ") + std::strerror(errno));
}

// The division by 65535 as (v + 1 + v / 65536) / 65536, exact for every
// 16-bit x (the encode tests compare with the plain formula); it vectorises,
// and with AVX-512 a 200 MP JPEG's conversion is several times cheaper.
OBSCURA_CPU_CLONES
void to_8bit(const uint16_t* src, uint8_t* dst, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        const uint32_t v = src[i] * 255u + 32767u;
        dst[i] = uint8_t((v + 1u + (v >> 16)) >> 16);
    }
}

// In float: with AVX-512 the three planes cost about what to_8bit did.
OBSCURA_CPU_CLONES
void rgb16_to_ycbcr8(const uint16_t* rgb, uint8_t* y, uint8_t* cb, uint8_t* cr, size_t n) {
    constexpr float k = 255.0f / 65535.0f;
    for (size_t i = 0; i < n; ++i) {
        const float r = float(rgb[3 * i]) * k, g = float(rgb[3 * i + 1]) * k, b = float(rgb[3 * i + 2]) * k;
        const float luma = 0.299f * r + 0.587f * g + 0.114f * b + 0.5f;
        const float blue = -0.168735892f * r - 0.331264108f * g + 0.5f * b + 128.5f;
        const float red = 0.5f * r - 0.418687589f * g - 0.081312411f * b + 128.5f;
        // (All three are >= 0.5 for samples in range, so truncation rounds;
        // in integers the clamp vectorises to a saturating pack.)
        y[i] = uint8_t(std::min(int32_t(luma), 255));
        cb[i] = uint8_t(std::min(int32_t(blue), 255));
        cr[i] = uint8_t(std::min(int32_t(red), 255));
    }
}

std::vector<float> scene_light_table(double peak) {
    std::vector<float> light(65536);
    for (int c = 0; c < 65536; ++c) light[size_t(c)] = float(peak * srgb_decode(c / 65535.0));
    return light;
}

namespace {

// The temporary file beside the target, removed unless committed: a reader
// never sees half a file, and a failure leaves the old one (or nothing).
class TemporaryOutput : public OutputFile {
public:
    TemporaryOutput(const std::string& path, int width, int height, const OutputMetadata& metadata,
                    const EncodeOptions& options, const std::string& color_space, double scene_peak)
        : path_(path), height_(height) {
        Format format = format_for_path(path);
        if (width <= 0 || height <= 0) throw file_error(path, "nothing to write (empty image)");
        if (scene_peak > 0 && format != Format::Exr && format != Format::Heif && format != Format::Avif)
            throw file_error(path, "scene-linear (HDR) pixels are written as OpenEXR (.exr), HEIF (.heic) or AVIF (.avif) only");
        const HdrEncoding hdr{scene_peak, color_space, options.hdr_pq};
        if (!options.overwrite && fs::exists(path)) throw file_error(path, "exists (use --overwrite to replace it)");
        temp_ = create_temporary_beside(path);
        guarded([&] {
            WriterSetup setup{temp_, width, height, output_exif(metadata, width, height), icc_profile(color_space)};
            switch (format) {
                case Format::Jpeg: writer_ = jpeg_writer(setup, options.jpeg_quality); break;
                case Format::Png: writer_ = png_writer(setup); break;
                case Format::Tiff: writer_ = tiff16_writer(setup); break;
                case Format::Heif: writer_ = heif_writer(setup, options.jpeg_quality, scene_peak > 0 ? &hdr : nullptr); break;
                case Format::Avif: writer_ = avif_writer(setup, options.jpeg_quality, scene_peak > 0 ? &hdr : nullptr); break;
                case Format::Exr: writer_ = exr_writer(setup, color_space, scene_peak); break;
            }
        });
    }
    ~TemporaryOutput() override {
        writer_.reset();
        if (!committed_) std::remove(temp_.c_str());
    }

    void write_rows(const uint16_t* rows, size_t stride, int y, int count) override {
        if (y != next_row_ || y + count > height_) throw Error("rows written out of order to " + path_);
        guarded([&] { writer_->write_rows(rows, stride, y, count); });
        next_row_ += count;
    }

    void commit() override {
        if (next_row_ != height_) throw file_error(path_, "not all rows were written");
        guarded([&] { writer_->finish(); });
        writer_.reset();
        move_into_place(temp_, path_);  // (the destructor removes temp_ if this throws)
        committed_ = true;
    }

private:
    // Messages about the temporary file name the real target instead.
    template <typename F>
    void guarded(F&& f) {
        try {
            f();
        } catch (const Error& e) {
            std::string what = e.what();
            auto at = what.find(temp_);
            if (at != std::string::npos) what.replace(at, temp_.size(), path_);
            throw Error(what);
        }
    }

    std::string path_, temp_;
    int height_, next_row_ = 0;
    std::unique_ptr<FormatWriter> writer_;
    bool committed_ = false;
};

}  // namespace

std::unique_ptr<OutputFile> OutputFile::open(const std::string& path, int width, int height,
                                             const OutputMetadata& metadata, const EncodeOptions& options,
                                             const std::string& color_space, double scene_peak) {
    return std::make_unique<TemporaryOutput>(path, width, height, metadata, options, color_space, scene_peak);
}

void encode(const Image& image, const std::string& path, const OutputMetadata& metadata, const EncodeOptions& options) {
    format_for_path(path);
    if (image.width <= 0 || image.height <= 0) throw file_error(path, "nothing to write (empty image)");
    auto out = OutputFile::open(path, image.width, image.height, metadata, options, image.color_space, image.scene_peak);
    out->write_rows(image.pixels.data(), size_t(image.width) * 3, 0, image.height);
    out->commit();
}

}  // namespace obscura
