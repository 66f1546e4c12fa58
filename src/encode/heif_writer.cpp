// HEIF (.heic, HEVC) and AVIF (.avif, AV1) through libheif, with the EXIF
// block and the ICC profile. The codecs want the whole picture, so rows are
// gathered into one 8-bit RGB image and encoded at finish().
#include <libheif/heif.h>

#include <memory>

#include "obscura/error.h"
#include "writers.h"

namespace obscura {
namespace {

struct ContextFree {
    void operator()(heif_context* c) const { heif_context_free(c); }
};
struct ImageFree {
    void operator()(heif_image* i) const { heif_image_release(i); }
};
struct EncoderFree {
    void operator()(heif_encoder* e) const { heif_encoder_release(e); }
};
struct HandleFree {
    void operator()(heif_image_handle* h) const { heif_image_handle_release(h); }
};

class HeifWriter : public FormatWriter {
public:
    HeifWriter(const WriterSetup& s, heif_compression_format codec, int quality)
        : path_(s.path), width_(s.width), codec_(codec), quality_(quality), exif_(s.exif), icc_(s.icc) {
        if (!heif_have_encoder_for_format(codec))
            throw file_error(path_, std::string("this libheif has no ") + (codec == heif_compression_AV1 ? "AV1" : "HEVC") + " encoder");
        heif_image* img = nullptr;
        check(heif_image_create(s.width, s.height, heif_colorspace_RGB, heif_chroma_interleaved_RGB, &img));
        image_.reset(img);
        check(heif_image_add_plane(img, heif_channel_interleaved, s.width, s.height, 8));
        pixels_ = heif_image_get_plane(img, heif_channel_interleaved, &stride_);
    }

    void write_rows(const uint16_t* rows, size_t stride, int y, int count) override {
        for (int r = 0; r < count; ++r) to_8bit(rows + size_t(r) * stride, pixels_ + size_t(y + r) * size_t(stride_), size_t(width_) * 3);
    }

    void finish() override {
        std::unique_ptr<heif_context, ContextFree> ctx(heif_context_alloc());
        heif_encoder* enc = nullptr;
        check(heif_context_get_encoder_for_format(ctx.get(), codec_, &enc));
        std::unique_ptr<heif_encoder, EncoderFree> encoder(enc);
        check(heif_encoder_set_lossy_quality(enc, quality_));
        // The encoders' defaults are tuned for size, not time: AV1 at its
        // default speed takes minutes for a large photo. (A parameter this
        // build lacks is simply left at its default.)
        if (codec_ == heif_compression_AV1) heif_encoder_set_parameter_integer(enc, "speed", 8);
        else heif_encoder_set_parameter_string(enc, "preset", "fast");
        if (!icc_.empty()) check(heif_image_set_raw_color_profile(image_.get(), "prof", icc_.data(), icc_.size()));
        heif_image_handle* h = nullptr;
        check(heif_context_encode_image(ctx.get(), image_.get(), enc, nullptr, &h));
        std::unique_ptr<heif_image_handle, HandleFree> handle(h);
        if (!exif_.empty()) check(heif_context_add_exif_metadata(ctx.get(), h, exif_.data(), int(exif_.size())));
        check(heif_context_write_to_file(ctx.get(), path_.c_str()));
    }

private:
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
};

}  // namespace

std::unique_ptr<FormatWriter> heif_writer(const WriterSetup& setup, int quality) {
    return std::make_unique<HeifWriter>(setup, heif_compression_HEVC, quality);
}
std::unique_ptr<FormatWriter> avif_writer(const WriterSetup& setup, int quality) {
    return std::make_unique<HeifWriter>(setup, heif_compression_AV1, quality);
}

}  // namespace obscura
