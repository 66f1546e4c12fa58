// Every raw that is not a DNG goes through LibRaw: it knows hundreds of
// cameras' containers, compressions and colour data.
#include <libraw/libraw.h>

#include <algorithm>
#include <ctime>
#include <cstring>
#include <memory>

#include "core/lazy_library.h"
#include "decoders.h"
#include "obscura/error.h"

namespace obscura {
namespace {

// LibRaw (with OpenMP's runtime), opened at the first raw it reads
// (lazy_library.h): its C interface, so no C++ symbol of it is bound when
// the program loads; a DNG develop never opens it.
OBSCURA_LAZY_LIBRARY(libraw_library, OBSCURA_SONAME_LIBRAW)
#define LIBRAW(function) OBSCURA_LAZY(libraw_library(), function)

struct LibRawClose {
    void operator()(libraw_data_t* d) const { LIBRAW(libraw_close)(d); }
};
using LibRawData = std::unique_ptr<libraw_data_t, LibRawClose>;

// LibRaw reports damaged data through a callback (its default prints
// "data corrupted at N" and carries on): the first offset is kept, and the
// file is refused once unpacked.
struct DataError {
    bool seen = false;
    int offset = 0;
};

LibRawData open_and_unpack(const std::string& path) {
    if (!libraw_library().available()) throw file_error(path, libraw_library().problem());
    LibRawData lr(LIBRAW(libraw_init)(0));
    if (!lr) throw file_error(path, "LibRaw could not start (out of memory?)");
    static thread_local DataError error;
    error = DataError{};
    LIBRAW(libraw_set_dataerror_handler)(lr.get(),
        [](void* data, const char*, const int offset) {
            auto* e = static_cast<DataError*>(data);
            if (!e->seen) e->seen = true, e->offset = offset;
        },
        &error);
    int rc = LIBRAW(libraw_open_file)(lr.get(), path.c_str());
    if (rc != LIBRAW_SUCCESS) {
        if (rc == LIBRAW_FILE_UNSUPPORTED || rc == LIBRAW_IO_ERROR)
            throw file_error(path, "not a raw file obscura or LibRaw can read");
        throw file_error(path, std::string("cannot read raw: ") + LIBRAW(libraw_strerror)(rc));
    }
    rc = LIBRAW(libraw_unpack)(lr.get());
    if (rc != LIBRAW_SUCCESS) throw file_error(path, std::string("cannot unpack raw data: ") + LIBRAW(libraw_strerror)(rc));
    if (error.seen)
        throw file_error(path, "raw data is damaged (LibRaw found corrupt data at byte " + std::to_string(error.offset) + ")");
    if (!lr->rawdata.raw_image)
        throw file_error(path, "raw is not single-plane CFA data (Foveon, sRAW or linear raws are not supported yet)");
    return lr;
}

}  // namespace

RawImage decode_with_libraw(const std::string& path) {
    auto lr = open_and_unpack(path);
    const auto& s = lr->sizes;
    const auto& c = lr->color;
    const auto& id = lr->idata;
    const auto colour_at = LIBRAW(libraw_COLOR);
    if (id.filters == 9) throw file_error(path, "X-Trans sensors are not supported yet");
    if (id.filters == 0 || id.colors != 3) throw file_error(path, "raw is not RGB Bayer data");
    if (s.width < 16 || s.height < 16 || s.left_margin + s.width > s.raw_width || s.top_margin + s.height > s.raw_height)
        throw file_error(path, "LibRaw reports an implausible image size");

    RawImage img;
    img.source = path;
    img.decoder = "libraw";
    img.width = s.width & ~1;
    img.height = s.height & ~1;
    img.data.resize(size_t(img.width) * img.height);
    const auto* base = reinterpret_cast<const uint8_t*>(lr->rawdata.raw_image);
    for (int y = 0; y < img.height; ++y)
        std::memcpy(&img.data[size_t(y) * img.width], base + size_t(y + s.top_margin) * s.raw_pitch + size_t(s.left_margin) * 2,
                    size_t(img.width) * 2);

    // COLOR() answers for visible coordinates; 3 is LibRaw's second green.
    img.cfa.width = img.cfa.height = 2;
    img.cfa.colors.clear();
    for (int y = 0; y < 2; ++y)
        for (int x = 0; x < 2; ++x) {
            int col = colour_at(lr.get(), y, x);
            img.cfa.colors.push_back(uint8_t(col == 3 ? 1 : col));
        }
    if (!img.cfa.is_bayer()) throw file_error(path, "CFA is not a 2x2 Bayer pattern");

    // Black: global + per-colour + a repeating pattern, all of LibRaw's forms.
    img.black.repeat_width = img.black.repeat_height = 2;
    img.black.pattern.assign(4, 0.0);
    for (int y = 0; y < 2; ++y)
        for (int x = 0; x < 2; ++x) {
            double b = c.black + c.cblack[colour_at(lr.get(), y, x)];
            if (c.cblack[4] && c.cblack[5]) {
                int py = (y + s.top_margin) % c.cblack[4], px = (x + s.left_margin) % c.cblack[5];
                b += c.cblack[6 + py * c.cblack[5] + px];
            }
            img.black.pattern[y * 2 + x] = b;
        }
    img.white_level = c.maximum > 0 ? c.maximum : 65535;
    img.bits = 16;
    img.crop = {0, 0, img.width, img.height};

    Mat3 cm;
    bool have_cm = false;
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) {
            cm[i * 3 + j] = c.cam_xyz[i][j];
            have_cm |= c.cam_xyz[i][j] != 0;
        }
    if (have_cm) {
        img.color.color_matrix[0] = cm;
        img.color.illuminant[0] = 21;  // LibRaw's (Adobe's) matrices are for D65
    } else {
        // DNGs of cameras LibRaw has no table entry for: the file's own matrices.
        for (int k = 0; k < 2; ++k) {
            const auto& dc = c.dng_color[k];
            Mat3 m{};
            bool any = false;
            for (int i = 0; i < 3; ++i)
                for (int j = 0; j < 3; ++j) {
                    m[i * 3 + j] = dc.colormatrix[i][j];
                    any |= dc.colormatrix[i][j] != 0;
                }
            if (!any) continue;
            img.color.color_matrix[k] = m;
            img.color.illuminant[k] = dc.illuminant;
        }
        if (!img.color.color_matrix[0] && img.color.color_matrix[1]) {
            img.color.color_matrix[0] = img.color.color_matrix[1];
            img.color.illuminant[0] = img.color.illuminant[1];
            img.color.color_matrix[1].reset();
        }
        // (No matrix: the develop takes camera RGB as sRGB, with a warning.)
    }
    const float* mul = c.cam_mul[0] > 0 && c.cam_mul[1] > 0 && c.cam_mul[2] > 0 ? c.cam_mul : c.pre_mul;
    if (mul[0] > 0 && mul[1] > 0 && mul[2] > 0) {
        Vec3 n{1.0 / mul[0], 1.0 / mul[1], 1.0 / mul[2]};
        double m = std::max({n[0], n[1], n[2]});
        img.color.as_shot_neutral = Vec3{n[0] / m, n[1] / m, n[2] / m};
    }

    const auto& o = lr->other;
    img.shot.make = id.make;
    img.shot.model = id.model;
    if (o.iso_speed > 0) img.shot.iso = o.iso_speed;
    if (o.shutter > 0) img.shot.exposure_s = o.shutter;
    if (o.aperture > 0) img.shot.f_number = o.aperture;
    if (o.focal_len > 0) img.shot.focal_mm = o.focal_len;
    img.shot.lens = lr->lens.Lens;
    if (o.timestamp > 0) {
        char buf[32];
        std::tm when{};
        time_t t = o.timestamp;
        localtime_r(&t, &when);
        std::strftime(buf, sizeof buf, "%Y:%m:%d %H:%M:%S", &when);
        img.shot.datetime = buf;
    }
    switch (s.flip) {
        case 3: img.shot.orientation = 3; break;
        case 5: img.shot.orientation = 8; break;
        case 6: img.shot.orientation = 6; break;
        default: img.shot.orientation = 1;
    }
    return img;
}

}  // namespace obscura
