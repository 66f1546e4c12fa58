// HEIF (.heic, HEVC) and AVIF (.avif, AV1) through libheif, with the EXIF
// block and the ICC profile. The codecs want the whole picture, so rows are
// gathered into one 8-bit RGB image and encoded at finish().
// HDR: scene-linear rows (Image::scene_peak) become 10-bit BT.2100 -- BT.2020
// primaries, PQ (the reference white at 203 cd/m2, BT.2408) or HLG (the
// reference white at 75% of the signal) -- signalled by an nclx colour box.
#include <libheif/heif.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "core/lazy_library.h"
#include "obscura/error.h"
#include "writers.h"

namespace obscura {
namespace {

// libheif, opened at the first HEIF or AVIF written (lazy_library.h).
OBSCURA_LAZY_LIBRARY(libheif, OBSCURA_SONAME_LIBHEIF)
#define HEIF(function) OBSCURA_LAZY(libheif(), function)

struct ContextFree {
    void operator()(heif_context* c) const { HEIF(heif_context_free)(c); }
};
struct ImageFree {
    void operator()(heif_image* i) const { HEIF(heif_image_release)(i); }
};
struct EncoderFree {
    void operator()(heif_encoder* e) const { HEIF(heif_encoder_release)(e); }
};
struct HandleFree {
    void operator()(heif_image_handle* h) const { HEIF(heif_image_handle_release)(h); }
};

// BT.2100 encodings of light in BT.2020 primaries, 1.0 = the reference white.
double pq_signal(double light) {
    const double m1 = 0.1593017578125, m2 = 78.84375, c1 = 0.8359375, c2 = 18.8515625, c3 = 18.6875;
    const double y = std::clamp(light * 203.0 / 10000.0, 0.0, 1.0), p = std::pow(y, m1);
    return std::pow((c1 + c2 * p) / (1 + c3 * p), m2);
}
double hlg_signal(double light) {
    const double a = 0.17883277, b = 0.28466892, c = 0.55991073;
    const double e = std::clamp(light * 0.2647, 0.0, 1.0);  // OETF(0.2647) = 0.75: the reference white
    return e <= 1.0 / 12 ? std::sqrt(3 * e) : a * std::log(12 * e - b) + c;
}

// Linear sRGB or Display P3 (both D65) to BT.2020.
const double kSrgbTo2020[9] = {0.627404, 0.329283, 0.043313, 0.069097, 0.919540, 0.011362, 0.016391, 0.088013, 0.895595};
const double kP3To2020[9] = {0.753833, 0.198597, 0.047570, 0.045744, 0.941777, 0.012479, -0.001210, 0.017601, 0.983608};

class HeifWriter : public FormatWriter {
public:
    HeifWriter(const WriterSetup& s, heif_compression_format codec, int quality, const HdrEncoding* hdr = nullptr)
        : path_(s.path), width_(s.width), codec_(codec), quality_(quality), exif_(s.exif), icc_(s.icc) {
        if (!libheif().available()) throw file_error(path_, "cannot be written: " + libheif().problem());
        if (!HEIF(heif_have_encoder_for_format)(codec))
            throw file_error(path_, std::string("this libheif has no ") + (codec == heif_compression_AV1 ? "AV1" : "HEVC") + " encoder");
        heif_image* img = nullptr;
        check(HEIF(heif_image_create)(s.width, s.height, heif_colorspace_RGB,
                                hdr ? heif_chroma_interleaved_RRGGBB_LE : heif_chroma_interleaved_RGB, &img));
        image_.reset(img);
        check(HEIF(heif_image_add_plane)(img, heif_channel_interleaved, s.width, s.height, hdr ? 10 : 8));
        pixels_ = HEIF(heif_image_get_plane)(img, heif_channel_interleaved, &stride_);
        if (hdr) set_hdr(*hdr);
    }

    void write_rows(const uint16_t* rows, size_t stride, int y, int count) override {
        if (!hdr_.empty()) return write_hdr_rows(rows, stride, y, count);
        for (int r = 0; r < count; ++r) to_8bit(rows + size_t(r) * stride, pixels_ + size_t(y + r) * size_t(stride_), size_t(width_) * 3);
    }

    void finish() override {
        std::unique_ptr<heif_context, ContextFree> ctx(HEIF(heif_context_alloc)());
        heif_encoder* enc = nullptr;
        check(HEIF(heif_context_get_encoder_for_format)(ctx.get(), codec_, &enc));
        std::unique_ptr<heif_encoder, EncoderFree> encoder(enc);
        check(HEIF(heif_encoder_set_lossy_quality)(enc, quality_));
        // The encoders' defaults are tuned for size, not time: AV1 at its
        // default speed takes minutes for a large photo. (A parameter this
        // build lacks is simply left at its default.)
        if (codec_ == heif_compression_AV1) HEIF(heif_encoder_set_parameter_integer)(enc, "speed", 8);
        else HEIF(heif_encoder_set_parameter_string)(enc, "preset", "fast");
        // (10-bit AV1 as libheif 1.15 configures libaom is profile 2, which
        // at 10 bits is 4:2:2 only: libaom aborts on 4:2:0 or 4:4:4.)
        if (!hdr_.empty() && codec_ == heif_compression_AV1) HEIF(heif_encoder_set_parameter_string)(enc, "chroma", "422");
        // HDR: the nclx colour box says BT.2020 / PQ or HLG (an ICC profile
        // would contradict it), on the image and as the output's, written
        // for HEVC too (libheif leaves it out by default there, for macOS).
        std::unique_ptr<heif_color_profile_nclx, void (*)(heif_color_profile_nclx*)> nclx(nullptr, HEIF(heif_nclx_color_profile_free));
        std::unique_ptr<heif_encoding_options, void (*)(heif_encoding_options*)> options(nullptr, HEIF(heif_encoding_options_free));
        if (!hdr_.empty()) {
            nclx.reset(HEIF(heif_nclx_color_profile_alloc)());
            nclx->color_primaries = heif_color_primaries_ITU_R_BT_2020_2_and_2100_0;
            nclx->transfer_characteristics = pq_ ? heif_transfer_characteristic_ITU_R_BT_2100_0_PQ
                                                 : heif_transfer_characteristic_ITU_R_BT_2100_0_HLG;
            nclx->matrix_coefficients = heif_matrix_coefficients_ITU_R_BT_2020_2_non_constant_luminance;
            nclx->full_range_flag = 1;
            check(HEIF(heif_image_set_nclx_color_profile)(image_.get(), nclx.get()));
            options.reset(HEIF(heif_encoding_options_alloc)());
            options->output_nclx_profile = nclx.get();
            options->macOS_compatibility_workaround_no_nclx_profile = 0;
        } else if (!icc_.empty()) {
            check(HEIF(heif_image_set_raw_color_profile)(image_.get(), "prof", icc_.data(), icc_.size()));
        }
        heif_image_handle* h = nullptr;
        check(HEIF(heif_context_encode_image)(ctx.get(), image_.get(), enc, options.get(), &h));
        std::unique_ptr<heif_image_handle, HandleFree> handle(h);
        if (!exif_.empty()) check(HEIF(heif_context_add_exif_metadata)(ctx.get(), h, exif_.data(), int(exif_.size())));
        check(HEIF(heif_context_write_to_file)(ctx.get(), path_.c_str()));
    }

private:
    // The 16-bit code -> 10-bit signal per channel, through light in the
    // output primaries, then BT.2020.
    void set_hdr(const HdrEncoding& hdr) {
        pq_ = hdr.pq;
        const double peak = hdr.scene_peak > 0 ? hdr.scene_peak : 1.0;
        light_ = scene_light_table(peak);
        std::copy_n(hdr.color_space == "Display P3" ? kP3To2020 : kSrgbTo2020, 9, to2020_);
        // The signal on a fine grid of light (log-spaced: PQ spans 5 decades).
        hdr_.resize(kSignalTable + 1);
        for (int i = 0; i <= kSignalTable; ++i) hdr_[size_t(i)] = float(signal(light_at(i)));
    }
    static double light_at(int i) { return std::exp2(kLogMin + (kLogMax - kLogMin) * i / double(kSignalTable)); }
    double signal(double light) const { return pq_ ? pq_signal(light) : hlg_signal(light); }
    uint16_t code10(double light) const {
        double v;
        if (light <= std::exp2(kLogMin)) {
            v = signal(std::max(light, 0.0));
        } else {
            double t = (std::log2(std::min(light, std::exp2(kLogMax))) - kLogMin) / (kLogMax - kLogMin) * kSignalTable;
            int k = std::min(int(t), kSignalTable - 1);
            v = hdr_[size_t(k)] + (hdr_[size_t(k) + 1] - hdr_[size_t(k)]) * (t - k);
        }
        return uint16_t(std::lround(std::clamp(v, 0.0, 1.0) * 1023));
    }
    void write_hdr_rows(const uint16_t* rows, size_t stride, int y, int count) {
        for (int r = 0; r < count; ++r) {
            const uint16_t* src = rows + size_t(r) * stride;
            auto* dst = reinterpret_cast<uint16_t*>(pixels_ + size_t(y + r) * size_t(stride_));
            for (int x = 0; x < width_; ++x) {
                const double l[3] = {light_[src[3 * x]], light_[src[3 * x + 1]], light_[src[3 * x + 2]]};
                for (int c = 0; c < 3; ++c)
                    dst[3 * x + c] = code10(to2020_[3 * c] * l[0] + to2020_[3 * c + 1] * l[1] + to2020_[3 * c + 2] * l[2]);
            }
        }
    }
    static constexpr int kSignalTable = 4096;
    static constexpr double kLogMin = -16, kLogMax = 6;  // light 2^-16 .. 64 x the reference white

    void check(heif_error e) const {
        if (e.code != heif_error_Ok) throw file_error(path_, std::string("HEIF encoder: ") + (e.message ? e.message : "failed"));
    }

    std::string path_;
    int width_;
    heif_compression_format codec_;
    int quality_;
    std::vector<uint8_t> exif_, icc_;
    std::unique_ptr<heif_image, ImageFree> image_;
    uint8_t* pixels_ = nullptr;
    int stride_ = 0;
    // HDR: the code -> light table, the matrix to BT.2020, the signal table.
    bool pq_ = true;
    std::vector<float> light_, hdr_;
    double to2020_[9] = {};
};

}  // namespace

std::unique_ptr<FormatWriter> heif_writer(const WriterSetup& setup, int quality, const HdrEncoding* hdr) {
    return std::make_unique<HeifWriter>(setup, heif_compression_HEVC, quality, hdr);
}
std::unique_ptr<FormatWriter> avif_writer(const WriterSetup& setup, int quality, const HdrEncoding* hdr) {
    return std::make_unique<HeifWriter>(setup, heif_compression_AV1, quality, hdr);
}

}  // namespace obscura
