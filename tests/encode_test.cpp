// encode: what is written decodes back to the same pixels, with EXIF and an
// ICC profile, and nothing half-written is ever left behind.
#include <gtest/gtest.h>
#include <lcms2.h>
#include <png.h>
#include <tiffio.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <exiv2/exiv2.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <jpeglib.h>
#include <libheif/heif.h>

#include "obscura/decode.h"
#include "obscura/develop.h"
#include "obscura/encode.h"
#include "obscura/error.h"
#include "support/truth.h"

namespace obscura {
namespace {

namespace fs = std::filesystem;

struct Developed {
    RawImage raw;
    Image image;
};

const Developed& sample() {
    static Developed d = [] {
        Developed s;
        s.raw = decode(test::dng_path("v_subifd_exif.dng"));
        s.image = develop(s.raw);
        return s;
    }();
    return d;
}

// One scratch folder per test process, removed when the process ends.
fs::path scratch() {
    struct Folder {
        fs::path path = fs::temp_directory_path() / ("obscura-encode-" + std::to_string(::getpid()));
        ~Folder() {
            std::error_code ec;
            fs::remove_all(path, ec);
        }
    };
    static Folder folder;
    fs::create_directories(folder.path);
    return folder.path;
}

std::string exif_value(const std::string& path, const char* key) {
    auto image = Exiv2::ImageFactory::open(path);
    image->readMetadata();
    auto it = image->exifData().findKey(Exiv2::ExifKey(key));
    return it == image->exifData().end() ? "" : it->toString();
}

double exif_number(const std::string& path, const char* key) {
    auto image = Exiv2::ImageFactory::open(path);
    image->readMetadata();
    auto it = image->exifData().findKey(Exiv2::ExifKey(key));
    return it == image->exifData().end() ? -1 : it->toFloat();
}

std::string icc_description(const std::vector<uint8_t>& icc) {
    cmsHPROFILE p = cmsOpenProfileFromMem(icc.data(), cmsUInt32Number(icc.size()));
    if (!p) return "";
    char buf[256] = {};
    cmsGetProfileInfoASCII(p, cmsInfoDescription, "en", "US", buf, sizeof buf);
    cmsCloseProfile(p);
    return buf;
}

// The ICC profile in a PNG's iCCP chunk (empty when there is none).
std::vector<uint8_t> png_icc(const fs::path& path) {
    std::vector<uint8_t> profile;
    FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return profile;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
    png_infop info = png_create_info_struct(png);
    png_init_io(png, f);
    png_read_info(png, info);
    png_charp name;
    int comp;
    png_bytep icc;
    png_uint_32 len = 0;
    if (png_get_iCCP(png, info, &name, &comp, &icc, &len)) profile.assign(icc, icc + len);
    png_destroy_read_struct(&png, &info, nullptr);
    std::fclose(f);
    return profile;
}

void expect_no_temporaries(const fs::path& dir) {
    for (const auto& e : fs::directory_iterator(dir))
        EXPECT_NE(e.path().filename().string()[0], '.') << "left behind: " << e.path();
}

TEST(Encode, Tiff16RoundTripsExactlyWithIccAndExif) {
    fs::path out = scratch() / "photo.tif";
    encode(sample().image, out.string(), metadata_of(sample().raw));
    TIFF* t = TIFFOpen(out.c_str(), "r");
    ASSERT_TRUE(t);
    uint32_t w = 0, h = 0, icc_size = 0;
    uint16_t bits = 0;
    void* icc = nullptr;
    TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &w);
    TIFFGetField(t, TIFFTAG_IMAGELENGTH, &h);
    TIFFGetField(t, TIFFTAG_BITSPERSAMPLE, &bits);
    ASSERT_TRUE(TIFFGetField(t, TIFFTAG_ICCPROFILE, &icc_size, &icc));
    std::vector<uint8_t> profile(static_cast<uint8_t*>(icc), static_cast<uint8_t*>(icc) + icc_size);
    EXPECT_EQ(int(w), sample().image.width);
    EXPECT_EQ(int(h), sample().image.height);
    EXPECT_EQ(bits, 16);
    std::vector<uint16_t> row(size_t(w) * 3);
    bool same = true;
    for (uint32_t y = 0; y < h; ++y) {
        TIFFReadScanline(t, row.data(), y);
        same &= std::equal(row.begin(), row.end(), sample().image.pixels.begin() + long(y) * w * 3);
    }
    TIFFClose(t);
    EXPECT_TRUE(same);
    EXPECT_NE(icc_description(profile).find("sRGB"), std::string::npos);
    EXPECT_EQ(exif_value(out.string(), "Exif.Image.Model"), "Model V");
    // libtiff stores rationals with its own denominators: compare values.
    EXPECT_NEAR(exif_number(out.string(), "Exif.Photo.FNumber"), 1.8, 1e-5);
    EXPECT_NEAR(exif_number(out.string(), "Exif.Photo.ExposureTime"), 1.0 / 120, 1e-7);
    expect_no_temporaries(out.parent_path());
}

TEST(Encode, PngRoundTripsTo8BitsWithIccAndExif) {
    fs::path out = scratch() / "photo.png";
    encode(sample().image, out.string(), metadata_of(sample().raw));
    Image back = test::load_png(out.string());
    ASSERT_EQ(back.width, sample().image.width);
    ASSERT_EQ(back.height, sample().image.height);
    int worst = 0;
    for (size_t i = 0; i < back.pixels.size(); ++i)
        worst = std::max(worst, std::abs(int(back.pixels[i]) - int(sample().image.pixels[i])));
    EXPECT_LE(worst, 129);  // half an 8-bit step, in 16-bit units
    std::vector<uint8_t> profile = png_icc(out);
    ASSERT_FALSE(profile.empty());
    EXPECT_NE(icc_description(profile).find("sRGB"), std::string::npos);
    EXPECT_EQ(exif_value(out.string(), "Exif.Image.Make"), "VariantCam");
}

// The 8-bit outputs share one conversion (a vectorised form of the
// division): every 16-bit value must land on round(x * 255 / 65535).
TEST(Encode, EightBitOutputsRoundEverySixteenBitValue) {
    Image all;
    all.width = all.height = 256;
    all.pixels.resize(size_t(all.width) * all.height * 3);
    for (size_t i = 0; i < 65536; ++i) {
        all.pixels[i * 3] = uint16_t(i);
        all.pixels[i * 3 + 1] = uint16_t(65535 - i);
        all.pixels[i * 3 + 2] = uint16_t(i * 40503u);  // every value again, scattered
    }
    fs::path out = scratch() / "every_value.png";
    encode(all, out.string(), OutputMetadata{});
    Image back = load_png(out.string());
    ASSERT_EQ(back.pixels.size(), all.pixels.size());
    size_t wrong = 0;
    for (size_t i = 0; i < all.pixels.size(); ++i)
        wrong += back.pixels[i] != uint16_t((all.pixels[i] * 255u + 32767u) / 65535u * 257u);
    EXPECT_EQ(wrong, 0u);
}

// A JPEG through libjpeg's own reader: pixels, ICC profile, what the reader
// warned about (a misnumbered restart marker is a warning), its restart
// interval and its luma sampling.
struct JpegContents {
    Image image;
    std::vector<uint8_t> icc;
    long warnings = -1;
    unsigned restart_interval = 0;
    int luma_sampling = 0;
};

JpegContents read_jpeg(const fs::path& path) {
    JpegContents out;
    FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return out;
    jpeg_decompress_struct cinfo;
    jpeg_error_mgr err;
    cinfo.err = jpeg_std_error(&err);
    jpeg_create_decompress(&cinfo);
    jpeg_stdio_src(&cinfo, f);
    jpeg_save_markers(&cinfo, JPEG_APP0 + 2, 0xFFFF);
    jpeg_read_header(&cinfo, TRUE);
    JOCTET* icc = nullptr;
    unsigned icc_len = 0;
    if (jpeg_read_icc_profile(&cinfo, &icc, &icc_len)) out.icc.assign(icc, icc + icc_len);
    free(icc);
    out.luma_sampling = cinfo.comp_info[0].h_samp_factor * 10 + cinfo.comp_info[0].v_samp_factor;
    jpeg_start_decompress(&cinfo);
    Image& back = out.image;
    back.width = int(cinfo.output_width);
    back.height = int(cinfo.output_height);
    back.pixels.resize(size_t(back.width) * back.height * 3);
    std::vector<uint8_t> row(size_t(back.width) * 3);
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW rows[1] = {row.data()};
        unsigned y = cinfo.output_scanline;
        jpeg_read_scanlines(&cinfo, rows, 1);
        for (size_t i = 0; i < row.size(); ++i) back.pixels[y * row.size() + i] = uint16_t(row[i] * 257);
    }
    jpeg_finish_decompress(&cinfo);
    out.warnings = err.num_warnings;
    out.restart_interval = cinfo.restart_interval;
    jpeg_destroy_decompress(&cinfo);
    std::fclose(f);
    return out;
}

TEST(Encode, JpegDecodesCloseWithIccAndExif) {
    fs::path out = scratch() / "photo.jpg";
    encode(sample().image, out.string(), metadata_of(sample().raw));
    JpegContents back = read_jpeg(out);
    // Encoded in parts on every core, joined at restart markers (the photo
    // is 768 rows high: two parts of six 64-row units): a wrong marker
    // would be a warning here.
    EXPECT_EQ(back.warnings, 0);
    EXPECT_GT(back.restart_interval, 0u);
    EXPECT_EQ(back.luma_sampling, 11);  // 4:4:4 at the default quality
    ASSERT_EQ(back.image.width, sample().image.width);
    EXPECT_GT(back.image.height, 512);
    EXPECT_GE(test::cpsnr(back.image, sample().image, 0), 37.0);  // quality 92, 4:4:4, textured photo: 38.8 dB measured
    EXPECT_NE(icc_description(back.icc).find("sRGB"), std::string::npos);
    EXPECT_EQ(exif_value(out.string(), "Exif.Image.Model"), "Model V");
    EXPECT_EQ(exif_value(out.string(), "Exif.Photo.ISOSpeedRatings"), "100");
    EXPECT_EQ(exif_value(out.string(), "Exif.Image.Orientation"), "1");  // pixels already upright
}

// The encoder takes Y, Cb and Cr planes padded to whole MCUs, and a last band
// shorter than the others: sizes that are no multiple of an MCU, at 4:4:4
// and at 4:2:0 (below quality 90), must decode cleanly and close, to the
// last column and row.
TEST(Encode, JpegOfAnyWidthAndHeightAtEitherSampling) {
    struct Case {
        int width, height, quality, sampling;
        double min_cpsnr, min_edge;  // whole photo; its last 3 columns and rows
    } cases[] = {{501, 555, 92, 11, 37.5, 37.0}, {501, 555, 80, 22, 32.0, 31.5}, {517, 700, 60, 22, 29.0, 28.5}};
    for (const Case& c : cases) {
        SCOPED_TRACE(std::to_string(c.width) + "x" + std::to_string(c.height) + " q" + std::to_string(c.quality));
        Image photo = test::crop(sample().image, 0, 0, c.width, c.height);
        fs::path out = scratch() / "odd.jpg";
        EncodeOptions options;
        options.jpeg_quality = c.quality;
        encode(photo, out.string(), OutputMetadata{}, options);
        JpegContents back = read_jpeg(out);
        EXPECT_EQ(back.warnings, 0);
        EXPECT_EQ(back.luma_sampling, c.sampling);
        ASSERT_EQ(back.image.width, c.width);
        ASSERT_EQ(back.image.height, c.height);
        const double whole = test::cpsnr(back.image, photo, 0);
        EXPECT_GE(whole, c.min_cpsnr);
        // The padding must not bleed in: the right and bottom edges alone.
        double se = 0;
        size_t n = 0;
        for (int y = 0; y < c.height; ++y)
            for (int x = 0; x < c.width; ++x) {
                if (x < c.width - 3 && y < c.height - 3) continue;
                for (int ch = 0; ch < 3; ++ch) {
                    const size_t i = (size_t(y) * size_t(c.width) + size_t(x)) * 3 + size_t(ch);
                    const double d = (double(back.image.pixels[i]) - double(photo.pixels[i])) / 65535.0;
                    se += d * d;
                    ++n;
                }
            }
        const double edges = 10 * std::log10(double(n) / se);
        EXPECT_GE(edges, c.min_edge);
        std::printf("%dx%d quality %d: %.2f dB, last 3 columns and rows %.2f dB\n", c.width, c.height, c.quality, whole,
                    edges);
    }
}

// Every MCU row is a restart interval of its own, so how the rows reach the
// writer (and so how they are cut into parts, encoded on several cores)
// must not change a byte: rows given a few at a time, in counts that split
// MCU rows and parts, give the file the whole photo at once gives.
TEST(Encode, JpegIsTheSameHoweverItsRowsArrive) {
    const Image photo = test::crop(sample().image, 0, 0, 517, 700);
    auto read_all = [](const fs::path& p) {
        std::ifstream in(p, std::ios::binary);
        return std::vector<char>(std::istreambuf_iterator<char>(in), {});
    };
    for (int quality : {92, 80}) {
        SCOPED_TRACE("quality " + std::to_string(quality));
        EncodeOptions options;
        options.jpeg_quality = quality;
        const fs::path whole = scratch() / "whole.jpg", pieces = scratch() / "pieces.jpg";
        encode(photo, whole.string(), OutputMetadata{}, options);
        auto out = OutputFile::open(pieces.string(), photo.width, photo.height, OutputMetadata{}, options);
        const size_t stride = size_t(photo.width) * 3;
        int y = 0;
        for (int count : {1, 37, 100, 64, 5, 300, 130, 63}) {
            count = std::min(count, photo.height - y);
            out->write_rows(photo.pixels.data() + size_t(y) * stride, stride, y, count);
            y += count;
        }
        ASSERT_EQ(y, photo.height);
        out->commit();
        const std::vector<char> a = read_all(whole), b = read_all(pieces);
        EXPECT_GT(a.size(), 10000u);
        EXPECT_TRUE(a == b) << a.size() << " bytes against " << b.size();
        EXPECT_EQ(read_jpeg(pieces).warnings, 0);
    }
}

// 16-bit RGB to the JPEG's 8-bit Y, Cb and Cr, rounded once: every grey
// level and a spread of colours within rounding of the exact JFIF formula.
TEST(Encode, JpegPlanesRoundTheExactConversion) {
    std::vector<uint16_t> rgb;
    for (uint32_t v = 0; v < 65536; ++v) rgb.insert(rgb.end(), {uint16_t(v), uint16_t(v), uint16_t(v)});
    for (uint32_t i = 0; i < 65536; ++i) rgb.insert(rgb.end(), {uint16_t(i * 40503u), uint16_t(i * 9973u), uint16_t(65535 - i)});
    const size_t n = rgb.size() / 3;
    std::vector<uint8_t> y(n), cb(n), cr(n);
    rgb16_to_ycbcr8(rgb.data(), y.data(), cb.data(), cr.data(), n);
    double worst = 0;
    size_t grey_chroma_off = 0;
    for (size_t i = 0; i < n; ++i) {
        const double r = rgb[3 * i] * 255.0 / 65535, g = rgb[3 * i + 1] * 255.0 / 65535, b = rgb[3 * i + 2] * 255.0 / 65535;
        const double exact[3] = {0.299 * r + 0.587 * g + 0.114 * b, -0.168735892 * r - 0.331264108 * g + 0.5 * b + 128,
                                 0.5 * r - 0.418687589 * g - 0.081312411 * b + 128};
        const uint8_t got[3] = {y[i], cb[i], cr[i]};
        for (int c = 0; c < 3; ++c) worst = std::max(worst, std::abs(got[c] - std::clamp(exact[c], 0.0, 255.0)));
        if (i < 65536) grey_chroma_off += cb[i] != 128 || cr[i] != 128;
    }
    EXPECT_LE(worst, 0.5 + 1e-3);  // round to nearest, up to float's error at a half
    EXPECT_EQ(grey_chroma_off, 0u);
}

// A HEIF/AVIF file through libheif's reader: pixels, ICC profile, EXIF block.
struct HeifContents {
    Image image;
    std::vector<uint8_t> icc, exif;
};

HeifContents read_heif(const std::string& path) {
    HeifContents out;
    heif_context* ctx = heif_context_alloc();
    EXPECT_EQ(heif_context_read_from_file(ctx, path.c_str(), nullptr).code, heif_error_Ok);
    heif_image_handle* h = nullptr;
    EXPECT_EQ(heif_context_get_primary_image_handle(ctx, &h).code, heif_error_Ok);
    if (!h) return heif_context_free(ctx), out;
    out.icc.resize(heif_image_handle_get_raw_color_profile_size(h));
    if (!out.icc.empty()) heif_image_handle_get_raw_color_profile(h, out.icc.data());
    heif_item_id id;
    if (heif_image_handle_get_list_of_metadata_block_IDs(h, "Exif", &id, 1) == 1) {
        out.exif.resize(heif_image_handle_get_metadata_size(h, id));
        heif_image_handle_get_metadata(h, id, out.exif.data());
    }
    heif_image* img = nullptr;
    EXPECT_EQ(heif_decode_image(h, &img, heif_colorspace_RGB, heif_chroma_interleaved_RGB, nullptr).code, heif_error_Ok);
    int stride = 0;
    const uint8_t* px = heif_image_get_plane_readonly(img, heif_channel_interleaved, &stride);
    out.image.width = heif_image_get_width(img, heif_channel_interleaved);
    out.image.height = heif_image_get_height(img, heif_channel_interleaved);
    out.image.pixels.resize(size_t(out.image.width) * out.image.height * 3);
    for (int y = 0; y < out.image.height; ++y)
        for (int x = 0; x < out.image.width * 3; ++x) out.image.pixels[size_t(y) * out.image.width * 3 + x] = uint16_t(px[y * stride + x] * 257);
    heif_image_release(img);
    heif_image_handle_release(h);
    heif_context_free(ctx);
    return out;
}

TEST(Encode, HeifAndAvifDecodeCloseWithIccAndExif) {
    for (const char* name : {"photo.heic", "photo.avif"}) {
        fs::path out = scratch() / name;
        encode(sample().image, out.string(), metadata_of(sample().raw));
        HeifContents c = read_heif(out.string());
        ASSERT_EQ(c.image.width, sample().image.width) << name;
        double p = test::cpsnr(c.image, sample().image, 0);
        std::printf("%s: %.2f dB against the developed image, %zu bytes\n", name, p, size_t(fs::file_size(out)));
        EXPECT_GE(p, 37.0) << name;  // quality 92, 4:2:0: HEVC 41.8 dB, AV1 40.2 dB measured on kodim05
        EXPECT_NE(icc_description(c.icc).find("sRGB"), std::string::npos) << name;
        // The EXIF block: a 4-byte offset to the TIFF header, then the TIFF structure.
        ASSERT_GT(c.exif.size(), 8u) << name;
        uint32_t skip = (uint32_t(c.exif[0]) << 24) | (uint32_t(c.exif[1]) << 16) | (uint32_t(c.exif[2]) << 8) | c.exif[3];
        ASSERT_LT(4 + skip, c.exif.size());
        Exiv2::ExifData exif;
        Exiv2::ExifParser::decode(exif, c.exif.data() + 4 + skip, uint32_t(c.exif.size() - 4 - skip));
        auto model = exif.findKey(Exiv2::ExifKey("Exif.Image.Model"));
        ASSERT_NE(model, exif.end()) << name;
        EXPECT_EQ(model->toString(), "Model V") << name;
        // And the libheif command-line decoder reads it.
        if (std::system("command -v heif-convert > /dev/null") != 0) {
            std::printf("heif-convert not installed (Debian: libheif-examples): not run on %s\n", name);
            continue;
        }
        fs::path png = scratch() / (std::string(name) + ".png");
        std::string cmd = "heif-convert " + out.string() + " " + png.string() + " > /dev/null 2>&1";
        ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
        EXPECT_GE(test::cpsnr(test::load_png(png.string()), sample().image, 0), 37.0) << name;
    }
}

TEST(Encode, DisplayP3IsTheSameColourInOtherPrimaries) {
    // The same photo developed to sRGB and to Display P3; the P3 pixels taken
    // back to sRGB through the two ICC profiles (lcms2) match the sRGB ones,
    // and the P3 numbers themselves are less saturated (wider primaries).
    DevelopOptions o;
    o.look = "reference";
    Image srgb = develop(sample().raw, o);
    o.color_space = "Display P3";
    Image p3 = develop(sample().raw, o);
    EXPECT_EQ(p3.color_space, "Display P3");
    std::vector<uint8_t> p3_icc = icc_profile("Display P3"), srgb_icc = icc_profile("sRGB");
    EXPECT_NE(icc_description(p3_icc).find("Display P3"), std::string::npos);
    cmsHPROFILE from = cmsOpenProfileFromMem(p3_icc.data(), cmsUInt32Number(p3_icc.size()));
    cmsHPROFILE to = cmsOpenProfileFromMem(srgb_icc.data(), cmsUInt32Number(srgb_icc.size()));
    cmsHTRANSFORM t = cmsCreateTransform(from, TYPE_RGB_16, to, TYPE_RGB_16, INTENT_RELATIVE_COLORIMETRIC, cmsFLAGS_NOCACHE);
    ASSERT_TRUE(t);
    Image back = p3;
    back.color_space = "sRGB";
    cmsDoTransform(t, p3.pixels.data(), back.pixels.data(), cmsUInt32Number(size_t(p3.width) * p3.height));
    cmsDeleteTransform(t);
    cmsCloseProfile(from);
    cmsCloseProfile(to);
    double p = test::cpsnr(back, srgb, 0);
    std::printf("Display P3 -> sRGB through the profiles: %.2f dB against the sRGB develop\n", p);
    EXPECT_GE(p, 45.0);
    auto chroma = [](const Image& im) {
        double s = 0;
        for (size_t i = 0; i < im.pixels.size(); i += 3)
            s += std::max({im.pixels[i], im.pixels[i + 1], im.pixels[i + 2]}) - std::min({im.pixels[i], im.pixels[i + 1], im.pixels[i + 2]});
        return s / (im.pixels.size() / 3);
    };
    EXPECT_LT(chroma(p3), 0.95 * chroma(srgb));
    // Written out, the file carries the P3 profile.
    fs::path out = scratch() / "p3.png";
    encode(p3, out.string(), metadata_of(sample().raw));
    std::vector<uint8_t> profile = png_icc(out);
    ASSERT_FALSE(profile.empty());
    EXPECT_NE(icc_description(profile).find("Display P3"), std::string::npos);
}

TEST(Encode, RefusalsLeaveNothingBehind) {
    fs::path dir = scratch() / "refusals";
    fs::create_directories(dir);
    EXPECT_THROW(encode(sample().image, (dir / "photo.bmp").string()), Error);
    fs::path existing = dir / "keep.png";
    encode(sample().image, existing.string());
    auto size = fs::file_size(existing);
    EncodeOptions no_overwrite;
    no_overwrite.overwrite = false;
    EXPECT_THROW(encode(sample().image, existing.string(), {}, no_overwrite), Error);
    EXPECT_EQ(fs::file_size(existing), size);
    EXPECT_THROW(encode(sample().image, (dir / "missing-dir" / "x.jpg").string()), Error);
    expect_no_temporaries(dir);
}

}  // namespace
}  // namespace obscura
