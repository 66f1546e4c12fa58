// OpenEXR: half-float RGB, scene-linear light in the output primaries (1.0 =
// the reference white), ZIP-compressed scanlines written strip by strip
// through OpenEXR's RGBA interface. A scene-linear image's codes are the
// sRGB encoding of light over [0, peak]; a display-referred image's are
// decoded from the sRGB curve (peak 1).
#include <ImfChromaticities.h>
#include <ImfHeader.h>
#include <ImfRgbaFile.h>
#include <ImfStandardAttributes.h>
#include <ImfStringAttribute.h>

#include <cmath>
#include <exception>
#include <memory>
#include <vector>

#include "obscura/error.h"
#include "writers.h"

namespace obscura {
namespace {

class ExrWriter : public FormatWriter {
public:
    ExrWriter(const WriterSetup& setup, const std::string& color_space, double peak)
        : path_(setup.path), width_(setup.width) {
        // Light per 16-bit code: the sRGB curve's inverse, times the peak.
        for (float l : scene_light_table(peak)) light_.push_back(half(l));
        guarded([&] {
            Imf::Header header(setup.width, setup.height);
            header.compression() = Imf::ZIP_COMPRESSION;
            // Primaries and white of the output space (D65 for both).
            const bool p3 = color_space == "Display P3";
            Imf::Chromaticities chroma(p3 ? Imath::V2f(0.680f, 0.320f) : Imath::V2f(0.640f, 0.330f),
                                       p3 ? Imath::V2f(0.265f, 0.690f) : Imath::V2f(0.300f, 0.600f),
                                       Imath::V2f(0.150f, 0.060f), Imath::V2f(0.3127f, 0.3290f));
            Imf::addChromaticities(header, chroma);
            header.insert("software", Imf::StringAttribute("obscura"));
            file_ = std::make_unique<Imf::RgbaOutputFile>(path_.c_str(), header, Imf::WRITE_RGB);
        });
    }

    void write_rows(const uint16_t* rows, size_t stride, int y, int count) override {
        strip_.resize(size_t(width_) * size_t(count));
        for (int r = 0; r < count; ++r) {
            const uint16_t* src = rows + size_t(r) * stride;
            Imf::Rgba* dst = &strip_[size_t(r) * width_];
            for (int x = 0; x < width_; ++x) {
                dst[x].r = light_[src[3 * x]], dst[x].g = light_[src[3 * x + 1]], dst[x].b = light_[src[3 * x + 2]];
                dst[x].a = 1.0f;
            }
        }
        guarded([&] {
            // (The frame buffer is addressed by absolute row.)
            file_->setFrameBuffer(strip_.data() - ptrdiff_t(y) * width_, 1, size_t(width_));
            file_->writePixels(count);
        });
    }

    void finish() override {
        guarded([&] { file_.reset(); });
    }

private:
    template <typename F>
    void guarded(F&& f) {
        try {
            f();
        } catch (const Error&) {
            throw;
        } catch (const std::exception& e) {
            throw file_error(path_, std::string("OpenEXR: ") + e.what());
        }
    }

    std::string path_;
    int width_;
    std::vector<half> light_;
    std::vector<Imf::Rgba> strip_;
    std::unique_ptr<Imf::RgbaOutputFile> file_;
};

}  // namespace

std::unique_ptr<FormatWriter> exr_writer(const WriterSetup& setup, const std::string& color_space, double scene_peak) {
    return std::make_unique<ExrWriter>(setup, color_space, scene_peak > 0 ? scene_peak : 1.0);
}

}  // namespace obscura
