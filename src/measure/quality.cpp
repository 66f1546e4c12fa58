// Quality measures against a ground truth, and reading reference images.
#include "obscura/quality.h"


#include <png.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "core/lazy_tiff.h"
#include "obscura/error.h"

namespace obscura {

Image load_png(const std::string& path) {
    png_image img{};
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&img, path.c_str())) throw file_error(path, "cannot read PNG");
    img.format = PNG_FORMAT_RGB;
    std::vector<uint8_t> buf(PNG_IMAGE_SIZE(img));
    if (!png_image_finish_read(&img, nullptr, buf.data(), 0, nullptr)) throw file_error(path, "cannot decode PNG");
    Image out;
    out.width = int(img.width);
    out.height = int(img.height);
    out.pixels.resize(buf.size());
    for (size_t i = 0; i < buf.size(); ++i) out.pixels[i] = uint16_t(buf[i] * 257);
    return out;
}

Image load_tiff_rgb(const std::string& path) {
    TIFF_LAZY(TIFFSetWarningHandler)(nullptr);
    TIFF* t = TIFF_LAZY(TIFFOpen)(path.c_str(), "r");
    if (!t) throw file_error(path, "cannot read TIFF");
    uint32_t w = 0, h = 0;
    uint16_t bits = 0, spp = 0, planar = PLANARCONFIG_CONTIG;
    TIFF_LAZY(TIFFGetField)(t, TIFFTAG_IMAGEWIDTH, &w);
    TIFF_LAZY(TIFFGetField)(t, TIFFTAG_IMAGELENGTH, &h);
    TIFF_LAZY(TIFFGetFieldDefaulted)(t, TIFFTAG_BITSPERSAMPLE, &bits);
    TIFF_LAZY(TIFFGetFieldDefaulted)(t, TIFFTAG_SAMPLESPERPIXEL, &spp);
    TIFF_LAZY(TIFFGetFieldDefaulted)(t, TIFFTAG_PLANARCONFIG, &planar);
    if ((bits != 8 && bits != 16) || spp < 3 || planar != PLANARCONFIG_CONTIG || w == 0 || h == 0 || w > 65535 ||
        h > 65535) {
        TIFF_LAZY(TIFFClose)(t);
        throw file_error(path, "not an 8- or 16-bit RGB TIFF");
    }
    Image out;
    out.width = int(w);
    out.height = int(h);
    out.pixels.resize(size_t(w) * h * 3);
    std::vector<uint8_t> row(size_t(TIFF_LAZY(TIFFScanlineSize)(t)));
    const auto read_scanline = TIFF_LAZY(TIFFReadScanline);  // (looked up once, not per row)
    for (uint32_t y = 0; y < h; ++y) {
        if (read_scanline(t, row.data(), y, 0) < 0) {
            TIFF_LAZY(TIFFClose)(t);
            throw file_error(path, "damaged TIFF");
        }
        for (uint32_t x = 0; x < w; ++x)
            for (int c = 0; c < 3; ++c) {
                size_t i = size_t(x) * spp + c;
                uint16_t v = bits == 8 ? uint16_t(row[i] * 257) : reinterpret_cast<const uint16_t*>(row.data())[i];
                out.pixels[(size_t(y) * w + x) * 3 + c] = v;
            }
    }
    TIFF_LAZY(TIFFClose)(t);
    return out;
}

namespace {

void check_sizes(const Image& r, const Image& t, int dx, int dy) {
    if (r.width + dx > t.width || r.height + dy > t.height) throw Error("result is larger than its ground truth");
}

std::array<double, 3> lab(const Image& im, int x, int y) {
    double rgb[3];
    for (int c = 0; c < 3; ++c) {
        double v = im.at(x, y, c) / 65535.0;
        rgb[c] = v <= 0.04045 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4);
    }
    double X = (0.4124564 * rgb[0] + 0.3575761 * rgb[1] + 0.1804375 * rgb[2]) / 0.95047;
    double Y = 0.2126729 * rgb[0] + 0.7151522 * rgb[1] + 0.0721750 * rgb[2];
    double Z = (0.0193339 * rgb[0] + 0.1191920 * rgb[1] + 0.9503041 * rgb[2]) / 1.08883;
    auto f = [](double t) { return t > 216.0 / 24389 ? std::cbrt(t) : t / (3 * 36.0 / 841) + 4.0 / 29; };
    return {116 * f(Y) - 16, 500 * (f(X) - f(Y)), 200 * (f(Y) - f(Z))};
}

// CIEDE2000 per Sharma, Wu and Dalal (2005).
double de2000(const std::array<double, 3>& p, const std::array<double, 3>& q) {
    const double pi = 3.14159265358979323846;
    double C1 = std::hypot(p[1], p[2]), C2 = std::hypot(q[1], q[2]), Cm = (C1 + C2) / 2;
    double G = 0.5 * (1 - std::sqrt(std::pow(Cm, 7) / (std::pow(Cm, 7) + std::pow(25.0, 7))));
    double a1 = (1 + G) * p[1], a2 = (1 + G) * q[1];
    double c1 = std::hypot(a1, p[2]), c2 = std::hypot(a2, q[2]);
    auto hue = [&](double b, double a) {
        if (a == 0 && b == 0) return 0.0;
        double h = std::atan2(b, a) * 180 / pi;
        return h < 0 ? h + 360 : h;
    };
    double h1 = hue(p[2], a1), h2 = hue(q[2], a2);
    double dL = q[0] - p[0], dC = c2 - c1, dh = 0;
    if (c1 * c2 != 0) {
        dh = h2 - h1;
        if (dh > 180) dh -= 360;
        else if (dh < -180) dh += 360;
    }
    double dH = 2 * std::sqrt(c1 * c2) * std::sin(dh * pi / 360);
    double Lm = (p[0] + q[0]) / 2, cm = (c1 + c2) / 2, hm = h1 + h2;
    if (c1 * c2 != 0) {
        if (std::fabs(h1 - h2) <= 180) hm = (h1 + h2) / 2;
        else hm = (h1 + h2 < 360) ? (h1 + h2 + 360) / 2 : (h1 + h2 - 360) / 2;
    }
    double T = 1 - 0.17 * std::cos((hm - 30) * pi / 180) + 0.24 * std::cos(2 * hm * pi / 180) +
               0.32 * std::cos((3 * hm + 6) * pi / 180) - 0.20 * std::cos((4 * hm - 63) * pi / 180);
    double dTheta = 30 * std::exp(-std::pow((hm - 275) / 25, 2));
    double Rc = 2 * std::sqrt(std::pow(cm, 7) / (std::pow(cm, 7) + std::pow(25.0, 7)));
    double Sl = 1 + 0.015 * std::pow(Lm - 50, 2) / std::sqrt(20 + std::pow(Lm - 50, 2));
    double Sc = 1 + 0.045 * cm, Sh = 1 + 0.015 * cm * T;
    double Rt = -std::sin(2 * dTheta * pi / 180) * Rc;
    return std::sqrt(std::pow(dL / Sl, 2) + std::pow(dC / Sc, 2) + std::pow(dH / Sh, 2) + Rt * (dC / Sc) * (dH / Sh));
}

}  // namespace

double cpsnr(const Image& r, const Image& t, int border, int dx, int dy) {
    check_sizes(r, t, dx, dy);
    double sum = 0;
    size_t n = 0;
    for (int y = border; y < r.height - border; ++y)
        for (int x = border; x < r.width - border; ++x)
            for (int c = 0; c < 3; ++c) {
                double d = (r.at(x, y, c) - t.at(x + dx, y + dy, c)) / 65535.0;
                sum += d * d;
                ++n;
            }
    return 10 * std::log10(1.0 / (sum / double(n)));
}

double ciede2000(const Image& r, const Image& t, int border, int dx, int dy) {
    check_sizes(r, t, dx, dy);
    double sum = 0;
    size_t n = 0;
    for (int y = border; y < r.height - border; ++y)
        for (int x = border; x < r.width - border; ++x) {
            sum += de2000(lab(r, x, y), lab(t, x + dx, y + dy));
            ++n;
        }
    return sum / double(n);
}

}  // namespace obscura
