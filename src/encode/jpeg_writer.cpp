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

}  // namespace

void write_jpeg(const Image& image, const std::string& path, const std::vector<uint8_t>& exif,
                const std::vector<uint8_t>& icc, int quality) {
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) throw file_error(path, std::string("cannot write: ") + std::strerror(errno));
    jpeg_compress_struct cinfo;
    ErrorManager err;
    cinfo.err = jpeg_std_error(&err.base);
    err.base.error_exit = on_error;
    std::vector<uint8_t> row(size_t(image.width) * 3);
    if (setjmp(err.jump)) {
        jpeg_destroy_compress(&cinfo);
        std::fclose(f);
        throw file_error(path, std::string("JPEG encoder: ") + err.message);
    }
    jpeg_create_compress(&cinfo);
    jpeg_stdio_dest(&cinfo, f);
    cinfo.image_width = JDIMENSION(image.width);
    cinfo.image_height = JDIMENSION(image.height);
    cinfo.input_components = 3;
    cinfo.in_color_space = JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    cinfo.dct_method = JDCT_ISLOW;
    if (quality >= 90) {  // no chroma subsampling for high-quality photos
        for (int i = 0; i < 3; ++i) cinfo.comp_info[i].h_samp_factor = cinfo.comp_info[i].v_samp_factor = 1;
    }
    jpeg_start_compress(&cinfo, TRUE);
    if (!exif.empty() && exif.size() + 6 < 65533) {
        std::vector<uint8_t> app1 = {'E', 'x', 'i', 'f', 0, 0};
        app1.insert(app1.end(), exif.begin(), exif.end());
        jpeg_write_marker(&cinfo, JPEG_APP0 + 1, app1.data(), unsigned(app1.size()));
    }
    if (!icc.empty()) jpeg_write_icc_profile(&cinfo, icc.data(), unsigned(icc.size()));
    while (cinfo.next_scanline < cinfo.image_height) {
        const uint16_t* src = &image.pixels[size_t(cinfo.next_scanline) * image.width * 3];
        for (size_t i = 0; i < row.size(); ++i) row[i] = uint8_t((src[i] * 255u + 32767u) / 65535u);
        JSAMPROW rows[1] = {row.data()};
        jpeg_write_scanlines(&cinfo, rows, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    if (std::fclose(f) != 0) throw file_error(path, std::string("cannot finish writing: ") + std::strerror(errno));
}

}  // namespace obscura
