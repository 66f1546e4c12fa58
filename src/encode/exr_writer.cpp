// OpenEXR: half-float RGB, scene-linear light in the output primaries (1.0 =
// the reference white), ZIP-compressed scanlines written chunk by chunk
// through OpenEXR's C core (libOpenEXRCore, opened at the first .exr
// written: lazy_library.h; the C++ library and Imath's runtime are not
// loaded by other runs). A scene-linear image's codes are the sRGB encoding
// of light over [0, peak]; a display-referred image's are decoded from the
// sRGB curve (peak 1).
#include <Imath/half.h>
#include <openexr.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "core/lazy_library.h"
#include "obscura/error.h"
#include "writers.h"

namespace obscura {
namespace {

OBSCURA_LAZY_LIBRARY(exr_library, OBSCURA_SONAME_OPENEXRCORE)
#define EXR(function) OBSCURA_LAZY(exr_library(), function)

// OpenEXR's words for its last failure on this thread (its default handler
// prints them instead).
thread_local std::string exr_message;
void keep_message(exr_const_context_t, exr_result_t, const char* message) { exr_message = message ? message : ""; }

class ExrWriter : public FormatWriter {
public:
    ExrWriter(const WriterSetup& setup, const std::string& color_space, double peak)
        : path_(setup.path), width_(setup.width), height_(setup.height) {
        // Light per 16-bit code: the sRGB curve's inverse, times the peak.
        for (float l : scene_light_table(peak)) light_.push_back(half(l).bits());
        if (!exr_library().available()) throw file_error(path_, exr_library().problem());
        try {
            start(color_space);
        } catch (...) {
            if (ctx_) EXR(exr_finish)(&ctx_);
            throw;
        }
    }

    ~ExrWriter() override {
        // (A write that failed: the caller removes the file.)
        try {
            if (started_) EXR(exr_encoding_destroy)(ctx_, &encoder_);
            if (ctx_) EXR(exr_finish)(&ctx_);
        } catch (...) {
        }
    }

    void write_rows(const uint16_t* rows, size_t stride, int, int count) override {
        const size_t row = size_t(width_) * 3;
        for (int r = 0; r < count; ++r) {
            const uint16_t* src = rows + size_t(r) * stride;
            const size_t at = pending_.size();
            pending_.resize(at + row);
            for (size_t x = 0; x < row; ++x) pending_[at + x] = light_[src[x]];
            if (pending_.size() == row * size_t(chunk_rows_)) write_chunk();
        }
    }

    void finish() override {
        if (!pending_.empty()) write_chunk();
        if (next_y_ != height_) throw file_error(path_, "OpenEXR: the image ended early");
        if (started_) {
            started_ = false;
            check(EXR(exr_encoding_destroy)(ctx_, &encoder_));
        }
        exr_context_t ctx = ctx_;
        ctx_ = nullptr;
        check(EXR(exr_finish)(&ctx));
    }

private:
    // The file's header: one scanline part, R, G and B in halves, ZIP.
    void start(const std::string& color_space) {
        exr_context_initializer_t init = EXR_DEFAULT_CONTEXT_INITIALIZER;
        init.error_handler_fn = keep_message;
        check(EXR(exr_start_write)(&ctx_, path_.c_str(), EXR_WRITE_FILE_DIRECTLY, &init));
        check(EXR(exr_add_part)(ctx_, nullptr, EXR_STORAGE_SCANLINE, &part_));
        check(EXR(exr_initialize_required_attr_simple)(ctx_, part_, width_, height_, EXR_COMPRESSION_ZIP));
        for (const char* name : {"R", "G", "B"})
            check(EXR(exr_add_channel)(ctx_, part_, name, EXR_PIXEL_HALF, EXR_PERCEPTUALLY_LOGARITHMIC, 1, 1));
        // Primaries and white of the output space (D65 for both).
        const bool p3 = color_space == "Display P3";
        const exr_attr_chromaticities_t chroma = {p3 ? 0.680f : 0.640f, p3 ? 0.320f : 0.330f, p3 ? 0.265f : 0.300f,
                                                  p3 ? 0.690f : 0.600f, 0.150f, 0.060f, 0.3127f, 0.3290f};
        check(EXR(exr_attr_set_chromaticities)(ctx_, part_, "chromaticities", &chroma));
        check(EXR(exr_attr_set_string)(ctx_, part_, "software", "obscura"));
        check(EXR(exr_write_header)(ctx_));
        check(EXR(exr_get_scanlines_per_chunk)(ctx_, part_, &chunk_rows_));
        pending_.reserve(size_t(width_) * 3 * size_t(chunk_rows_));
    }

    // The rows held (a whole chunk, or the last one) encoded and written.
    void write_chunk() {
        exr_chunk_info_t chunk;
        check(EXR(exr_write_scanline_chunk_info)(ctx_, part_, next_y_, &chunk));
        check(started_ ? EXR(exr_encoding_update)(ctx_, part_, &chunk, &encoder_)
                       : EXR(exr_encoding_initialize)(ctx_, part_, &chunk, &encoder_));
        // The channels in the file's (alphabetical) order, each read from
        // the interleaved rows at its own offset.
        for (int c = 0; c < encoder_.channel_count; ++c) {
            exr_coding_channel_info_t& ch = encoder_.channels[c];
            const int offset = !std::strcmp(ch.channel_name, "R") ? 0 : !std::strcmp(ch.channel_name, "G") ? 1 : 2;
            ch.encode_from_ptr = reinterpret_cast<const uint8_t*>(pending_.data() + offset);
            ch.user_pixel_stride = 3 * sizeof(uint16_t);
            ch.user_line_stride = int32_t(3 * sizeof(uint16_t) * size_t(width_));
        }
        if (!started_) check(EXR(exr_encoding_choose_default_routines)(ctx_, part_, &encoder_));
        started_ = true;
        check(EXR(exr_encoding_run)(ctx_, part_, &encoder_));
        next_y_ += chunk.height;
        pending_.clear();
    }

    void check(exr_result_t rc) {
        if (rc == EXR_ERR_SUCCESS) return;
        std::string why = exr_message.empty() ? EXR(exr_get_default_error_message)(rc) : exr_message;
        exr_message.clear();
        throw file_error(path_, "OpenEXR: " + why);
    }

    std::string path_;
    int width_, height_;
    std::vector<uint16_t> light_;    // half bits per 16-bit code
    std::vector<uint16_t> pending_;  // interleaved RGB halves of the rows not yet written
    exr_context_t ctx_ = nullptr;
    int part_ = 0;
    int32_t chunk_rows_ = 16;
    int next_y_ = 0;
    exr_encode_pipeline_t encoder_{};
    bool started_ = false;
};

}  // namespace

std::unique_ptr<FormatWriter> exr_writer(const WriterSetup& setup, const std::string& color_space, double scene_peak) {
    return std::make_unique<ExrWriter>(setup, color_space, scene_peak > 0 ? scene_peak : 1.0);
}

}  // namespace obscura
