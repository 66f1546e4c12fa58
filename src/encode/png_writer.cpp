#include <png.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "obscura/error.h"
#include "writers.h"

namespace obscura {

void write_png(const Image& image, const std::string& path, const std::vector<uint8_t>& exif,
               const std::vector<uint8_t>& icc) {
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) throw file_error(path, std::string("cannot write: ") + std::strerror(errno));
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
    png_infop info = png ? png_create_info_struct(png) : nullptr;
    std::vector<uint8_t> row(size_t(image.width) * 3);
    if (!png || !info || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        std::fclose(f);
        throw file_error(path, "PNG encoder failed");
    }
    png_init_io(png, f);
    png_set_compression_level(png, 3);  // speed over the last few percent of size
    png_set_IHDR(png, info, png_uint_32(image.width), png_uint_32(image.height), 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (!icc.empty()) png_set_iCCP(png, info, "ICC profile", 0, icc.data(), png_uint_32(icc.size()));
    if (!exif.empty()) png_set_eXIf_1(png, info, png_uint_32(exif.size()), const_cast<uint8_t*>(exif.data()));
    png_write_info(png, info);
    for (int y = 0; y < image.height; ++y) {
        const uint16_t* src = &image.pixels[size_t(y) * image.width * 3];
        for (size_t i = 0; i < row.size(); ++i) row[i] = uint8_t((src[i] * 255u + 32767u) / 65535u);
        png_write_row(png, row.data());
    }
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    if (std::fclose(f) != 0) throw file_error(path, std::string("cannot finish writing: ") + std::strerror(errno));
}

}  // namespace obscura
