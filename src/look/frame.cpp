// The watermark frame. Layout (a Leica-style band): camera in bold and the
// lens beneath it on the left; the exposure in bold and the date beneath it
// on the right, right-aligned. HarfBuzz shapes each line (kerning,
// ligatures), FreeType rasterises the glyphs, which are blended into the
// band in the output's encoding.
#include "obscura/frame.h"

#include <ft2build.h>
#include FT_FREETYPE_H
#include <hb-ft.h>
#include <hb.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "core/lazy_library.h"
#include "obscura/error.h"

namespace obscura {
namespace {

// FreeType and HarfBuzz, opened at the first frame drawn (lazy_library.h).
OBSCURA_LAZY_LIBRARY(freetype, OBSCURA_SONAME_FREETYPE)
OBSCURA_LAZY_LIBRARY(harfbuzz, OBSCURA_SONAME_HARFBUZZ)
#define FREETYPE(function) OBSCURA_LAZY(freetype(), function)
#define HARFBUZZ(function) OBSCURA_LAZY(harfbuzz(), function)

std::string number(double v, int precision) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    return buf;
}

// fonts-dejavu-core's files (Debian), or $OBSCURA_FONTS/NAME.
std::string font_path(const char* name) {
    std::vector<std::filesystem::path> dirs;
    if (const char* env = std::getenv("OBSCURA_FONTS")) dirs.emplace_back(env);
    dirs.emplace_back("/usr/share/fonts/truetype/dejavu");
    for (const auto& d : dirs)
        if (std::filesystem::exists(d / name)) return (d / name).string();
    throw Error(std::string("--frame needs the font ") + name + " (Debian: fonts-dejavu-core), or OBSCURA_FONTS naming its folder");
}

// One font at one pixel size: FreeType face plus its HarfBuzz font.
class Typeface {
public:
    Typeface(FT_Library lib, const std::string& path, int pixels) {
        if (FREETYPE(FT_New_Face)(lib, path.c_str(), 0, &face_)) throw file_error(path, "FreeType cannot read this font");
        FREETYPE(FT_Set_Pixel_Sizes)(face_, 0, FT_UInt(std::max(pixels, 4)));
        font_ = HARFBUZZ(hb_ft_font_create_referenced)(face_);
    }
    ~Typeface() {
        HARFBUZZ(hb_font_destroy)(font_);  // releases its reference to the face
        FREETYPE(FT_Done_Face)(face_);
    }
    Typeface(const Typeface&) = delete;
    Typeface& operator=(const Typeface&) = delete;

    struct Shaped {
        hb_buffer_t* buffer;
        double width;  // pixels
    };
    Shaped shape(const std::string& text) const {
        hb_buffer_t* buf = HARFBUZZ(hb_buffer_create)();
        HARFBUZZ(hb_buffer_add_utf8)(buf, text.c_str(), -1, 0, -1);
        HARFBUZZ(hb_buffer_guess_segment_properties)(buf);
        HARFBUZZ(hb_shape)(font_, buf, nullptr, 0);
        unsigned n = 0;
        hb_glyph_position_t* pos = HARFBUZZ(hb_buffer_get_glyph_positions)(buf, &n);
        double width = 0;
        for (unsigned i = 0; i < n; ++i) width += pos[i].x_advance / 64.0;
        return {buf, width};
    }

    // Draws `text` with its left end at x and its baseline at y, in `ink`
    // (an encoded grey) over the image rows.
    void draw(Image& im, const std::string& text, double x, int baseline, uint16_t ink, bool right_aligned) const {
        Shaped s = shape(text);
        if (right_aligned) x -= s.width;
        unsigned n = 0;
        hb_glyph_info_t* info = HARFBUZZ(hb_buffer_get_glyph_infos)(s.buffer, &n);
        hb_glyph_position_t* pos = HARFBUZZ(hb_buffer_get_glyph_positions)(s.buffer, &n);
        double pen = x;
        for (unsigned i = 0; i < n; ++i) {
            if (!FREETYPE(FT_Load_Glyph)(face_, info[i].codepoint, FT_LOAD_DEFAULT) &&
                !FREETYPE(FT_Render_Glyph)(face_->glyph, FT_RENDER_MODE_NORMAL)) {
                const FT_Bitmap& bm = face_->glyph->bitmap;
                const int left = int(std::lround(pen + pos[i].x_offset / 64.0)) + face_->glyph->bitmap_left;
                const int top = baseline - int(std::lround(pos[i].y_offset / 64.0)) - face_->glyph->bitmap_top;
                for (unsigned r = 0; r < bm.rows; ++r)
                    for (unsigned c = 0; c < bm.width; ++c) {
                        const int px = left + int(c), py = top + int(r);
                        if (px < 0 || py < 0 || px >= im.width || py >= im.height) continue;
                        const double a = bm.buffer[r * unsigned(bm.pitch) + c] / 255.0;
                        uint16_t* p = &im.pixels[(size_t(py) * im.width + px) * 3];
                        for (int k = 0; k < 3; ++k) p[k] = uint16_t(std::lround(p[k] * (1 - a) + ink * a));
                    }
            }
            pen += pos[i].x_advance / 64.0;
        }
        HARFBUZZ(hb_buffer_destroy)(s.buffer);
    }

    double width(const std::string& text) const {
        Shaped s = shape(text);
        HARFBUZZ(hb_buffer_destroy)(s.buffer);
        return s.width;
    }

private:
    FT_Face face_ = nullptr;
    hb_font_t* font_ = nullptr;
};

}  // namespace

FrameLines frame_lines(const ShotInfo& shot) {
    FrameLines l;
    // "Canon Canon EOS R5" reads badly: the make once.
    if (!shot.make.empty() && shot.model.rfind(shot.make, 0) != 0) l.camera = shot.make;
    if (!shot.model.empty()) l.camera += (l.camera.empty() ? "" : " ") + shot.model;
    l.lens = shot.lens;
    std::vector<std::string> parts;
    if (shot.focal_mm && *shot.focal_mm > 0) parts.push_back(number(*shot.focal_mm, 3) + " mm");
    if (shot.f_number && *shot.f_number > 0) parts.push_back("f/" + number(*shot.f_number, 2));
    if (shot.exposure_s && *shot.exposure_s > 0)
        parts.push_back(*shot.exposure_s >= 0.5 ? number(*shot.exposure_s, 3) + " s" : "1/" + number(std::round(1 / *shot.exposure_s), 6) + " s");
    if (shot.iso && *shot.iso > 0) parts.push_back("ISO " + number(*shot.iso, 6));
    for (size_t i = 0; i < parts.size(); ++i) l.exposure += (i ? "   " : "") + parts[i];
    // EXIF "YYYY:MM:DD HH:MM:SS" -> "YYYY-MM-DD HH:MM".
    const std::string& d = shot.datetime;
    if (d.size() >= 16 && d[4] == ':' && d[7] == ':') l.date = d.substr(0, 4) + "-" + d.substr(5, 2) + "-" + d.substr(8, 2) + " " + d.substr(11, 5);
    else l.date = d;
    return l;
}

Image add_frame(const Image& photo, const ShotInfo& shot) {
    const std::string bold_path = font_path("DejaVuSans-Bold.ttf"), regular_path = font_path("DejaVuSans.ttf");
    const int band = std::max(48, int(std::lround(std::min(photo.width, photo.height) * 0.10)));
    Image out;
    out.width = photo.width;
    out.height = photo.height + band;
    out.color_space = photo.color_space;
    out.pixels.resize(size_t(out.width) * out.height * 3);
    std::copy(photo.pixels.begin(), photo.pixels.end(), out.pixels.begin());
    std::fill(out.pixels.begin() + long(photo.pixels.size()), out.pixels.end(), uint16_t(65535));

    for (LazyLibrary* library : {&freetype(), &harfbuzz()})
        if (!library->available()) throw Error("--frame: " + library->problem());
    FT_Library lib = nullptr;
    if (FREETYPE(FT_Init_FreeType)(&lib)) throw Error("--frame: FreeType cannot start");
    std::unique_ptr<FT_LibraryRec_, decltype(&FT_Done_FreeType)> library(lib, FREETYPE(FT_Done_FreeType));
    const FrameLines l = frame_lines(shot);
    const double margin = band * 0.45;
    // Both columns side by side at the nominal sizes; on a narrow photo the
    // type is made smaller until they fit (never a line dropped).
    double scale = 1.0;
    for (int attempt = 0; attempt < 2; ++attempt) {
        Typeface bold(lib, bold_path, int(std::lround(band * 0.26 * scale)));
        Typeface regular(lib, regular_path, int(std::lround(band * 0.19 * scale)));
        auto w = [](const Typeface& f, const std::string& t) { return t.empty() ? 0.0 : f.width(t); };
        const double left = std::max(w(bold, l.camera), w(regular, l.lens)), right = std::max(w(bold, l.exposure), w(regular, l.date));
        const double room = out.width - 3 * margin;
        if (attempt == 0 && left + right > room) {
            scale = std::max(0.35, room / (left + right) * 0.98);
            continue;
        }
        const int title_base = photo.height + int(std::lround(band * 0.47)), sub_base = photo.height + int(std::lround(band * 0.78));
        constexpr uint16_t kTitleInk = 6500, kSubInk = 30000;  // near-black, mid grey
        if (!l.camera.empty()) bold.draw(out, l.camera, margin, title_base, kTitleInk, false);
        if (!l.lens.empty()) regular.draw(out, l.lens, margin, sub_base, kSubInk, false);
        if (!l.exposure.empty()) bold.draw(out, l.exposure, out.width - margin, title_base, kTitleInk, true);
        if (!l.date.empty()) regular.draw(out, l.date, out.width - margin, sub_base, kSubInk, true);
        break;
    }
    return out;
}

}  // namespace obscura
