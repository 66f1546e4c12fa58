// JPEG through libjpeg-turbo: 4:4:4 at quality >= 90, EXIF in APP1, ICC in APP2.
#include <cerrno>
#include <csetjmp>
#include <cstddef>
#include <cstdio>
#include <cstring>

#include <jpeglib.h>  // needs size_t and FILE first

#include "obscura/error.h"
#include "writers.h"

namespace obscura {
namespace {

struct ErrorManager {
    jpeg_error_mgr base;
    std::jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
};

void on_error(j_common_ptr cinfo) {
    auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
    (*cinfo->err->format_message)(cinfo, err->message);
    std::longjmp(err->jump, 1);
}

class JpegWriter : public FormatWriter {
public:
    JpegWriter(const WriterSetup& s, int quality) : path_(s.path), row_(size_t(s.width) * 3) {
        file_ = std::fopen(path_.c_str(), "wb");
        if (!file_) throw file_error(path_, std::string("cannot write: ") + std::strerror(errno));
        cinfo_.err = jpeg_std_error(&err_.base);
        err_.base.error_exit = on_error;
        jpeg_create_compress(&cinfo_);
        if (setjmp(err_.jump)) fail();
        jpeg_stdio_dest(&cinfo_, file_);
        cinfo_.image_width = JDIMENSION(s.width);
        cinfo_.image_height = JDIMENSION(s.height);
        cinfo_.input_components = 3;
        cinfo_.in_color_space = JCS_RGB;
        jpeg_set_defaults(&cinfo_);
        jpeg_set_quality(&cinfo_, quality, TRUE);
        cinfo_.dct_method = JDCT_ISLOW;
        if (quality >= 90) {  // no chroma subsampling for high-quality photos
            for (int i = 0; i < 3; ++i) cinfo_.comp_info[i].h_samp_factor = cinfo_.comp_info[i].v_samp_factor = 1;
        }
        jpeg_start_compress(&cinfo_, TRUE);
        if (!s.exif.empty() && s.exif.size() + 6 < 65533) {
            std::vector<uint8_t> app1 = {'E', 'x', 'i', 'f', 0, 0};
            app1.insert(app1.end(), s.exif.begin(), s.exif.end());
            jpeg_write_marker(&cinfo_, JPEG_APP0 + 1, app1.data(), unsigned(app1.size()));
        }
        if (!s.icc.empty()) jpeg_write_icc_profile(&cinfo_, s.icc.data(), unsigned(s.icc.size()));
    }
    ~JpegWriter() override { close(); }

    void write_rows(const uint16_t* rows, size_t stride, int, int count) override {
        if (setjmp(err_.jump)) fail();
        for (int r = 0; r < count; ++r) {
            to_8bit(rows + size_t(r) * stride, row_.data(), row_.size());
            JSAMPROW p[1] = {row_.data()};
            jpeg_write_scanlines(&cinfo_, p, 1);
        }
    }

    void finish() override {
        if (setjmp(err_.jump)) fail();
        jpeg_finish_compress(&cinfo_);
        jpeg_destroy_compress(&cinfo_);
        FILE* f = file_;
        file_ = nullptr;
        if (std::fclose(f) != 0) throw file_error(path_, std::string("cannot finish writing: ") + std::strerror(errno));
    }

private:
    [[noreturn]] void fail() {
        std::string message = err_.message;
        close();
        throw file_error(path_, "JPEG encoder: " + message);
    }
    void close() {
        if (!file_) return;
        jpeg_destroy_compress(&cinfo_);
        std::fclose(file_);
        file_ = nullptr;
    }

    std::string path_;
    FILE* file_ = nullptr;
    jpeg_compress_struct cinfo_{};
    ErrorManager err_{};
    std::vector<uint8_t> row_;
};

}  // namespace

std::unique_ptr<FormatWriter> jpeg_writer(const WriterSetup& setup, int quality) {
    return std::make_unique<JpegWriter>(setup, quality);
}

}  // namespace obscura
