// 8-bit PNG through libpng, with eXIf and iCCP chunks.
#include <png.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "obscura/error.h"
#include "writers.h"

namespace obscura {
namespace {

class PngWriter : public FormatWriter {
public:
    explicit PngWriter(const WriterSetup& s) : path_(s.path), row_(size_t(s.width) * 3), exif_(s.exif) {
        file_ = std::fopen(path_.c_str(), "wb");
        if (!file_) throw file_error(path_, std::string("cannot write: ") + std::strerror(errno));
        png_ = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
        info_ = png_ ? png_create_info_struct(png_) : nullptr;
        if (!png_ || !info_ || setjmp(png_jmpbuf(png_))) fail();
        png_init_io(png_, file_);
        png_set_compression_level(png_, 3);  // speed over the last few percent of size
        png_set_IHDR(png_, info_, png_uint_32(s.width), png_uint_32(s.height), 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
        if (!s.icc.empty()) png_set_iCCP(png_, info_, "ICC profile", 0, s.icc.data(), png_uint_32(s.icc.size()));
        if (!exif_.empty()) png_set_eXIf_1(png_, info_, png_uint_32(exif_.size()), exif_.data());
        png_write_info(png_, info_);
    }
    ~PngWriter() override { close(); }

    void write_rows(const uint16_t* rows, size_t stride, int, int count) override {
        if (setjmp(png_jmpbuf(png_))) fail();
        for (int r = 0; r < count; ++r) {
            to_8bit(rows + size_t(r) * stride, row_.data(), row_.size());
            png_write_row(png_, row_.data());
        }
    }

    void finish() override {
        if (setjmp(png_jmpbuf(png_))) fail();
        png_write_end(png_, info_);
        png_destroy_write_struct(&png_, &info_);
        FILE* f = file_;
        file_ = nullptr;
        if (std::fclose(f) != 0) throw file_error(path_, std::string("cannot finish writing: ") + std::strerror(errno));
    }

private:
    [[noreturn]] void fail() {
        close();
        throw file_error(path_, "PNG encoder failed");
    }
    void close() {
        if (png_ || info_) png_destroy_write_struct(&png_, &info_);
        if (file_) std::fclose(file_);
        file_ = nullptr;
    }

    std::string path_;
    FILE* file_ = nullptr;
    png_structp png_ = nullptr;
    png_infop info_ = nullptr;
    std::vector<uint8_t> row_, exif_;
};

}  // namespace

std::unique_ptr<FormatWriter> png_writer(const WriterSetup& setup) { return std::make_unique<PngWriter>(setup); }

}  // namespace obscura
