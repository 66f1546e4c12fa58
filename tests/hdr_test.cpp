// HDR: an exposure bracket (EV 0, -4, +2 of a scene 4 stops over white, with
// hand shake and noise, made by the independent mkdng.py with the scene as
// a float truth.tiff) merged on the raw and written as OpenEXR, read back by
// OpenEXR and scored against the scene (PSNR-mu, stops); the merged DNG
// keeps the range; the looks roll the highlights off; the scene-linear
// rendition of an ordinary frame is its photograph, linear.
#include <ImfArray.h>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <regex>
#include <jpeglib.h>
#include <libheif/heif.h>
#include <ImfRgbaFile.h>
#include <ImfStandardAttributes.h>
#include <gtest/gtest.h>
#include <tiffio.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <stdexcept>

#include "obscura/burst.h"
#include "obscura/decode.h"
#include "obscura/dng_writer.h"
#include "obscura/error.h"
#include "obscura/look.h"
#include "obscura/pipeline.h"
#include "obscura/simulate.h"
#include "support/truth.h"

namespace obscura::test {
namespace {

namespace fs = std::filesystem;

// Linear RGB, row-major, interleaved.
struct FloatImage {
    int width = 0, height = 0;
    std::vector<float> rgb;
    float at(int x, int y, int c) const { return rgb[(size_t(y) * width + x) * 3 + c]; }
};

FloatImage read_exr(const std::string& path) {
    Imf::RgbaInputFile in(path.c_str());
    const Imath::Box2i dw = in.dataWindow();
    FloatImage out{dw.max.x - dw.min.x + 1, dw.max.y - dw.min.y + 1, {}};
    Imf::Array2D<Imf::Rgba> px(out.height, out.width);
    in.setFrameBuffer(&px[0][0] - dw.min.x - dw.min.y * out.width, 1, size_t(out.width));
    in.readPixels(dw.min.y, dw.max.y);
    for (int y = 0; y < out.height; ++y)
        for (int x = 0; x < out.width; ++x)
            for (float v : {float(px[y][x].r), float(px[y][x].g), float(px[y][x].b)}) out.rgb.push_back(v);
    return out;
}

// mkdng's truth.tiff: 32-bit float RGB.
FloatImage read_float_tiff(const std::string& path) {
    TIFF* t = TIFFOpen(path.c_str(), "r");
    if (!t) throw std::runtime_error("cannot open " + path);
    uint32_t w = 0, h = 0;
    TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &w);
    TIFFGetField(t, TIFFTAG_IMAGELENGTH, &h);
    FloatImage out{int(w), int(h), std::vector<float>(size_t(w) * h * 3)};
    for (uint32_t y = 0; y < h; ++y) TIFFReadScanline(t, &out.rgb[size_t(y) * w * 3], y, 0);
    TIFFClose(t);
    return out;
}

// The HDR-merging literature's measure: mu-law (mu = 5000) of both images
// divided by the truth's peak, then PSNR.
double psnr_mu(const FloatImage& img, const FloatImage& truth) {
    float peak = 0;
    for (float v : truth.rgb) peak = std::max(peak, v);
    auto mu = [&](float v) { return std::log1p(5000.0 * std::max(v / peak, 0.0f)) / std::log1p(5000.0); };
    double se = 0;
    for (size_t i = 0; i < truth.rgb.size(); ++i) se += std::pow(mu(img.rgb[i]) - mu(truth.rgb[i]), 2);
    return 10 * std::log10(1.0 / (se / double(truth.rgb.size())));
}

// Mean |log2(ours / truth)| of the grey level where the truth's is in
// (lo, hi), in stops.
double stops_error(const FloatImage& img, const FloatImage& truth, double lo, double hi) {
    double sum = 0;
    size_t n = 0;
    for (size_t p = 0; p < truth.rgb.size() / 3; ++p) {
        double t = (truth.rgb[3 * p] + truth.rgb[3 * p + 1] + truth.rgb[3 * p + 2]) / 3;
        if (!(t > lo && t < hi)) continue;
        double v = std::max((img.rgb[3 * p] + img.rgb[3 * p + 1] + img.rgb[3 * p + 2]) / 3.0, 1e-6);
        sum += std::abs(std::log2(v / t)), ++n;
    }
    return n ? sum / double(n) : 0.0;
}

std::vector<std::string> bracket() {
    std::vector<std::string> frames;
    for (int i = 0; i < 3; ++i) frames.push_back(dng_path("bracket23/frame_0" + std::to_string(i) + ".dng"));
    return frames;
}

fs::path scratch(const std::string& name) {
    fs::path dir = fs::temp_directory_path() / ("obscura_hdr_test_" + name);
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

TEST(Hdr, BracketMergeKeepsTheSceneInOpenExr) {
    const fs::path dir = scratch("merge");
    const FloatImage truth = read_float_tiff(dng_path("bracket23/truth.tiff"));
    BurstReport report;
    develop_burst(bracket(), (dir / "merge.exr").string(), std::nullopt, {}, {}, &report);
    develop_file(bracket()[0], (dir / "ev0.exr").string(), {});
    const FloatImage merged = read_exr((dir / "merge.exr").string()), single = read_exr((dir / "ev0.exr").string());
    ASSERT_EQ(merged.width, truth.width);
    ASSERT_EQ(merged.height, truth.height);
    // Measured 33.6 dB here (one EV 0 frame, its highlights rebuilt: 21.7);
    // over white 0.15 stops, shadows 0.14 (EV 0 alone: 2.0 and 0.11).
    const double p = psnr_mu(merged, truth), p0 = psnr_mu(single, truth);
    EXPECT_GT(p, 32.0) << "EV 0 alone: " << p0;
    EXPECT_GT(p, p0 + 10.0);
    EXPECT_LT(stops_error(merged, truth, 1.0, 1e9), 0.25);
    EXPECT_GT(stops_error(single, truth, 1.0, 1e9), 1.5);
    EXPECT_LT(stops_error(merged, truth, 0.0, 0.05), 0.2);
    // What the merge reports: the reference, the exposures, the range kept.
    EXPECT_EQ(report.reference, 0);
    EXPECT_NEAR(report.frames[1].exposure_ev, -4.0, 1e-6);
    EXPECT_NEAR(report.frames[2].exposure_ev, 2.0, 1e-6);
    EXPECT_NEAR(report.headroom_ev, 4.0, 1e-6);
    // The header as OpenEXR's C++ library reads it: sRGB primaries, D65, ZIP.
    Imf::RgbaInputFile in((dir / "merge.exr").string().c_str());
    ASSERT_TRUE(Imf::hasChromaticities(in.header()));
    const Imf::Chromaticities& c = Imf::chromaticities(in.header());
    EXPECT_NEAR(c.red.x, 0.640f, 1e-6f);
    EXPECT_NEAR(c.green.y, 0.600f, 1e-6f);
    EXPECT_NEAR(c.blue.x, 0.150f, 1e-6f);
    EXPECT_NEAR(c.white.x, 0.3127f, 1e-6f);
    EXPECT_EQ(in.header().compression(), Imf::ZIP_COMPRESSION);
    EXPECT_EQ(in.channels(), Imf::WRITE_RGB);
}

TEST(Hdr, WithoutExposureTimesTheExposuresAreMeasured) {
    const fs::path dir = scratch("measured");
    std::vector<std::string> frames;
    for (const auto& f : bracket()) {
        RawImage raw = decode(f);
        raw.shot.exposure_s.reset();
        raw.exif.clear();
        frames.push_back((dir / fs::path(f).filename()).string());
        write_dng(raw, frames.back());
    }
    ASSERT_FALSE(decode(frames[1]).shot.exposure_s);
    BurstReport report;
    RawImage merged = merge_burst_files(frames, {}, &report);
    EXPECT_NEAR(report.frames[1].exposure_ev, -4.0, 0.1);
    EXPECT_NEAR(report.frames[2].exposure_ev, 2.0, 0.1);
    EXPECT_NEAR(merged.color.baseline_exposure, 4.0, 0.1);
}

TEST(Hdr, MergedDngKeepsTheRangeAndDevelopsTheSame) {
    const fs::path dir = scratch("dng");
    develop_burst(bracket(), (dir / "merge.exr").string(), (dir / "merge.dng").string(), {}, {});
    RawImage back = decode((dir / "merge.dng").string());
    EXPECT_NEAR(back.color.baseline_exposure, 4.0, 1e-6);
    EXPECT_EQ(back.white_level, 65535);
    develop_file((dir / "merge.dng").string(), (dir / "again.exr").string(), {});
    const FloatImage a = read_exr((dir / "merge.exr").string()), b = read_exr((dir / "again.exr").string());
    ASSERT_EQ(a.rgb.size(), b.rgb.size());
    EXPECT_GT(psnr_mu(b, a), 60.0);
}

TEST(Hdr, LooksRollTheMergedHighlightsOffInsteadOfClipping) {
    const FloatImage truth = read_float_tiff(dng_path("bracket23/truth.tiff"));
    PipelineOptions o;
    o.develop.look = "authentic";
    o.develop.apply_orientation = false;
    const Image merged = render(merge_burst_files(bracket()), o), single = render(decode(bracket()[0]), o);
    // Over white in the scene: the share of pixels at full scale in every
    // channel, and how much of the scene's detail is left there: the rank
    // correlation of the photo's grey with the scene's light.
    auto clipped = [&](const Image& im, double* detail) {
        size_t full = 0;
        std::vector<double> a, b;
        for (int y = 0; y < im.height; ++y)
            for (int x = 0; x < im.width; ++x) {
                const double scene = (truth.at(x, y, 0) + truth.at(x, y, 1) + truth.at(x, y, 2)) / 3;
                if (scene < 1.5) continue;
                full += im.at(x, y, 0) == 65535 && im.at(x, y, 1) == 65535 && im.at(x, y, 2) == 65535;
                a.push_back(scene), b.push_back(im.at(x, y, 0) + im.at(x, y, 1) + im.at(x, y, 2));
            }
        auto ranks = [](const std::vector<double>& v) {
            std::vector<size_t> order(v.size());
            for (size_t i = 0; i < v.size(); ++i) order[i] = i;
            std::sort(order.begin(), order.end(), [&](size_t i, size_t j) { return v[i] < v[j]; });
            std::vector<double> r(v.size());
            for (size_t i = 0; i < order.size();) {  // ties share their mean rank
                size_t j = i;
                while (j < order.size() && v[order[j]] == v[order[i]]) ++j;
                for (size_t k = i; k < j; ++k) r[order[k]] = (i + j - 1) / 2.0;
                i = j;
            }
            return r;
        };
        const std::vector<double> ra = ranks(a), rb = ranks(b);
        const double n = double(ra.size()), mean = (n - 1) / 2;
        double cov = 0, va = 0, vb = 0;
        for (size_t i = 0; i < ra.size(); ++i)
            cov += (ra[i] - mean) * (rb[i] - mean), va += (ra[i] - mean) * (ra[i] - mean), vb += (rb[i] - mean) * (rb[i] - mean);
        *detail = va > 0 && vb > 0 ? cov / std::sqrt(va * vb) : 0.0;
        return double(full) / std::max(n, 1.0);
    };
    double detail_merged = 0, detail_single = 0;
    const double cm = clipped(merged, &detail_merged), cs = clipped(single, &detail_single);
    // Measured: nothing at full scale either way (one frame's clipped
    // highlights are rebuilt and rolled off too), the scene's detail
    // correlating 0.62 merged, 0.23 from one frame.
    EXPECT_LT(cm, 0.01);
    EXPECT_LT(cs, 0.01);
    EXPECT_GT(detail_merged, 0.5);
    EXPECT_GT(detail_merged, detail_single + 0.25) << detail_single;
    // Reference stays the measurement rendering: it clips, as ever.
    o.develop.look = "reference";
    double detail = 0;
    EXPECT_GT(clipped(render(merge_burst_files(bracket()), o), &detail), 0.5);
    EXPECT_GT(clipped(render(decode(bracket()[0]), o), &detail), 0.5);
}

// A JPEG in memory decoded by libjpeg-turbo: RGB, 8 bits.
FloatImage decode_jpeg(const uint8_t* data, size_t size) {
    jpeg_decompress_struct cinfo{};
    jpeg_error_mgr err{};
    cinfo.err = jpeg_std_error(&err);
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    cinfo.out_color_space = JCS_RGB;
    jpeg_start_decompress(&cinfo);
    FloatImage out{int(cinfo.output_width), int(cinfo.output_height), {}};
    std::vector<uint8_t> row(size_t(out.width) * 3);
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW r = row.data();
        jpeg_read_scanlines(&cinfo, &r, 1);
        for (uint8_t v : row) out.rgb.push_back(v / 255.0f);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    return out;
}

uint32_t be32(const std::vector<uint8_t>& d, size_t at) {
    return uint32_t(d[at]) << 24 | uint32_t(d[at + 1]) << 16 | uint32_t(d[at + 2]) << 8 | d[at + 3];
}

double xmp_number(const std::string& xmp, const std::string& name) {
    std::smatch m;
    if (!std::regex_search(xmp, m, std::regex("hdrgm:" + name + "=\"([-0-9.e]+)\""))) return NAN;
    return std::stod(m[1]);
}

TEST(Hdr, UltraHdrOpensAsAJpegAndItsGainMapRebuildsTheScene) {
    // Read as the Ultra HDR v1 format says (not by our writer's code): the
    // MPF index in the primary gives the gain map's offset and size; its
    // XMP the boost range; HDR = (SDR + k_sdr) * 2^(gain) - k_hdr, gain =
    // min + (max - min) * map. (libultrahdr's own decoder rebuilt this
    // bracket within 0.1 dB of the OpenEXR: see the note.)
    const fs::path dir = scratch("ultrahdr");
    const FloatImage truth = read_float_tiff(dng_path("bracket23/truth.tiff"));
    PipelineOptions o;
    o.develop.look = "reference";
    o.hdr_output = PipelineOptions::HdrOutput::UltraHdr;
    develop_burst(bracket(), (dir / "u.jpg").string(), std::nullopt, {}, o);
    o.hdr_output = PipelineOptions::HdrOutput::None;
    develop_burst(bracket(), (dir / "m.exr").string(), std::nullopt, {}, o);
    std::ifstream in(dir / "u.jpg", std::ios::binary);
    const std::vector<uint8_t> file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // The primary is a JPEG any decoder opens, the size of the photo.
    const FloatImage sdr = decode_jpeg(file.data(), file.size());
    ASSERT_EQ(sdr.width, truth.width);
    const std::string text(file.begin(), file.end());
    const size_t mpf = text.find(std::string("MPF\0", 4));
    ASSERT_NE(mpf, std::string::npos);
    const size_t tiff = mpf + 4;
    ASSERT_EQ(text.substr(tiff, 4), std::string("MM\0*", 4));
    const size_t entries = tiff + be32(file, tiff + 8 + 2 + 2 * 12 + 8);  // MPEntry's value offset
    EXPECT_EQ(be32(file, entries + 4), 0u + uint32_t(be32(file, entries + 16 + 8) + tiff));  // primary size = where the map starts
    const size_t map_at = tiff + be32(file, entries + 16 + 8), map_size = be32(file, entries + 16 + 4);
    ASSERT_EQ(map_at + map_size, file.size());
    ASSERT_EQ(file[map_at], 0xff);
    ASSERT_EQ(file[map_at + 1], 0xd8);
    EXPECT_NE(text.find("hdrgm:Version=\"1.0\""), std::string::npos);
    EXPECT_NE(text.find("Item:Length=\"" + std::to_string(map_size) + "\""), std::string::npos);
    const std::string map_xmp = text.substr(map_at, 4096);
    const double gmin = xmp_number(map_xmp, "GainMapMin"), gmax = xmp_number(map_xmp, "GainMapMax");
    const double gamma = xmp_number(map_xmp, "Gamma"), osdr = xmp_number(map_xmp, "OffsetSDR"), ohdr = xmp_number(map_xmp, "OffsetHDR");
    ASSERT_FALSE(std::isnan(gmax));
    EXPECT_GT(gmax, 3.0);  // the scene reaches 4 stops over white
    const FloatImage map = decode_jpeg(file.data() + map_at, map_size);
    FloatImage rebuilt = sdr;
    for (int y = 0; y < sdr.height; ++y)
        for (int x = 0; x < sdr.width; ++x)
            for (int c = 0; c < 3; ++c) {
                const int mx = std::min(x * map.width / sdr.width, map.width - 1), my = std::min(y * map.height / sdr.height, map.height - 1);
                const double g = gmin + (gmax - gmin) * std::pow(map.at(mx, my, c), 1.0 / gamma);
                rebuilt.rgb[(size_t(y) * sdr.width + x) * 3 + c] =
                    float((srgb_decode(sdr.at(x, y, c)) + osdr) * std::pow(2.0, g) - ohdr);
            }
    const double p_exr = psnr_mu(read_exr((dir / "m.exr").string()), truth), p_uhdr = psnr_mu(rebuilt, truth);
    EXPECT_GT(p_uhdr, p_exr - 2.0) << "OpenEXR " << p_exr;
    EXPECT_LT(psnr_mu(sdr, truth), p_uhdr - 5.0);  // the gain map is what brings the range back
}

// An HDR HEIF/AVIF decoded by libheif: its nclx box, and its light (the
// BT.2100 signal undone, BT.2020 back to linear sRGB, 1.0 = the reference
// white: PQ's 203 cd/m2, HLG's 75% signal).
FloatImage decode_bt2100(const std::string& path, int* transfer, int* primaries, int* bits) {
    heif_context* ctx = heif_context_alloc();
    heif_image_handle* handle = nullptr;
    heif_image* img = nullptr;
    FloatImage out;
    if (heif_context_read_from_file(ctx, path.c_str(), nullptr).code == heif_error_Ok &&
        heif_context_get_primary_image_handle(ctx, &handle).code == heif_error_Ok) {
        heif_color_profile_nclx* nclx = nullptr;
        if (heif_image_handle_get_nclx_color_profile(handle, &nclx).code == heif_error_Ok) {
            *transfer = nclx->transfer_characteristics, *primaries = nclx->color_primaries;
            heif_nclx_color_profile_free(nclx);
        }
        *bits = heif_image_handle_get_luma_bits_per_pixel(handle);
        if (heif_decode_image(handle, &img, heif_colorspace_RGB, heif_chroma_interleaved_RRGGBB_LE, nullptr).code == heif_error_Ok) {
            int stride = 0;
            const uint8_t* px = heif_image_get_plane_readonly(img, heif_channel_interleaved, &stride);
            out.width = heif_image_get_width(img, heif_channel_interleaved);
            out.height = heif_image_get_height(img, heif_channel_interleaved);
            const bool pq = *transfer == 16;
            auto light = [&](double n) {
                if (pq) {
                    const double m1 = 0.1593017578125, m2 = 78.84375, c1 = 0.8359375, c2 = 18.8515625, c3 = 18.6875;
                    const double p = std::pow(n, 1 / m2);
                    return std::pow(std::max(p - c1, 0.0) / (c2 - c3 * p), 1 / m1) * 10000.0 / 203.0;
                }
                const double a = 0.17883277, b = 0.28466892, c = 0.55991073;
                return (n <= 0.5 ? n * n / 3 : (std::exp((n - c) / a) + b) / 12) / 0.2647;
            };
            const double to_srgb[9] = {1.660491, -0.587641, -0.072850, -0.124550, 1.132900, -0.008349, -0.018151, -0.100579, 1.118730};
            for (int y = 0; y < out.height; ++y) {
                auto* row = reinterpret_cast<const uint16_t*>(px + size_t(y) * stride);
                for (int x = 0; x < out.width; ++x) {
                    double l[3];
                    for (int c = 0; c < 3; ++c) l[c] = light(row[3 * x + c] / 1023.0);
                    for (int c = 0; c < 3; ++c) out.rgb.push_back(float(to_srgb[3 * c] * l[0] + to_srgb[3 * c + 1] * l[1] + to_srgb[3 * c + 2] * l[2]));
                }
            }
            heif_image_release(img);
        }
        heif_image_handle_release(handle);
    }
    heif_context_free(ctx);
    return out;
}

TEST(Hdr, TenBitBt2100HeifAndAvifCarryTheScene) {
    const fs::path dir = scratch("bt2100");
    const FloatImage truth = read_float_tiff(dng_path("bracket23/truth.tiff"));
    PipelineOptions o;
    develop_burst(bracket(), (dir / "m.exr").string(), std::nullopt, {}, o);
    const double p_exr = psnr_mu(read_exr((dir / "m.exr").string()), truth);
    for (auto [name, hdr] : {std::pair{"pq.heic", PipelineOptions::HdrOutput::Pq}, {"pq.avif", PipelineOptions::HdrOutput::Pq},
                             {"hlg.heic", PipelineOptions::HdrOutput::Hlg}}) {
        SCOPED_TRACE(name);
        o.hdr_output = hdr;
        develop_burst(bracket(), (dir / name).string(), std::nullopt, {}, o);
        int transfer = 0, primaries = 0, bits = 0;
        const FloatImage img = decode_bt2100((dir / name).string(), &transfer, &primaries, &bits);
        ASSERT_EQ(img.width, truth.width);
        EXPECT_EQ(primaries, 9);  // BT.2020
        EXPECT_EQ(bits, 10);
        if (hdr == PipelineOptions::HdrOutput::Pq) {
            EXPECT_EQ(transfer, 16);
            // (Lossy codecs at quality 92, 10 bits, AV1 at 4:2:2: measured
            // HEVC 0.3 dB and AV1 1.7 dB under the half floats.)
            EXPECT_GT(psnr_mu(img, truth), p_exr - 2.0) << "OpenEXR " << p_exr;
        } else {
            EXPECT_EQ(transfer, 18);
            // HLG holds 1 / 0.2647 = 3.8 x the reference white: the scene below that.
            EXPECT_LT(stops_error(img, truth, 0.05, 3.0), 0.2);
        }
    }
}

TEST(Hdr, SimulatedBracketsCarryTheirExposuresAndScene) {
    // Our own simulator's brackets (obscura simulate --ev --hdr): the
    // frames say their exposures, truth.tiff is the scene, and the merge
    // finds it.
    const fs::path dir = scratch("simulated");
    BurstSimulation sim;
    sim.frames = 3, sim.ev = {0, -4, 2}, sim.hdr_stops = 3, sim.motion = 6, sim.seed = 5;
    auto frames = simulate_burst(data_path("kodim05.png"), (dir / "b").string(), sim);
    ASSERT_EQ(frames.size(), 3u);
    EXPECT_NEAR(*decode(frames[1].file).shot.exposure_s / *decode(frames[0].file).shot.exposure_s, 1.0 / 16, 1e-4);
    const FloatImage truth = read_float_tiff((dir / "b" / "truth.tiff").string());
    float peak = 0;
    for (float v : truth.rgb) peak = std::max(peak, v);
    EXPECT_NEAR(peak, 8.0, 0.5);
    std::vector<std::string> paths;
    for (const auto& f : frames) paths.push_back(f.file);
    develop_burst(paths, (dir / "m.exr").string(), std::nullopt, {}, {});
    develop_file(paths[0], (dir / "s.exr").string(), {});
    const FloatImage m = read_exr((dir / "m.exr").string()), one = read_exr((dir / "s.exr").string());
    // Measured: stops over white 0.48 merged, 1.18 from the EV 0 frame
    // alone (its highlights rebuilt); PSNR-mu 27.2 and 27.7 dB. (This
    // scene has far more of its light between 40% of white and the lifted
    // highlights than mkdng's, and the merge leaves a tail of highlight
    // pixels too dark, which costs it the PSNR-mu lead: see the issue.)
    EXPECT_GT(psnr_mu(m, truth), 26.5);
    EXPECT_LT(stops_error(m, truth, 1.0, 1e9), 0.6);
    EXPECT_LT(stops_error(m, truth, 1.0, 1e9), stops_error(one, truth, 1.0, 1e9) - 0.5);
}

TEST(Hdr, SceneLinearIsThePhotographLinear) {
    // An ordinary frame: the OpenEXR is the reference look's 16-bit TIFF
    // with the sRGB curve undone, 1.0 = white.
    const fs::path dir = scratch("linear");
    const std::string dng = dng_path("kodim05_RGGB_14.dng");
    PipelineOptions o;
    o.develop.look = "reference";
    develop_file(dng, (dir / "a.exr").string(), o);
    const Image photo = render(decode(dng), o);
    const FloatImage exr = read_exr((dir / "a.exr").string());
    ASSERT_EQ(exr.width, photo.width);
    // (Not where the photo clips at white: there the scene-linear rendition
    // rebuilds what the frame clipped, which the reference look leaves.)
    size_t n = 0, off = 0;
    for (int y = 0; y < photo.height; y += 3)
        for (int x = 0; x < photo.width; x += 3)
            for (int c = 0; c < 3; ++c) {
                const double code = photo.at(x, y, c) / 65535.0;
                if (photo.at(x, y, 0) > 64000 || photo.at(x, y, 1) > 64000 || photo.at(x, y, 2) > 64000) continue;
                const double lin = srgb_decode(code);
                ++n, off += std::abs(exr.at(x, y, c) - lin) / (lin + 0.01) > 0.01;
            }
    EXPECT_LT(double(off) / double(n), 0.02) << off << " of " << n;  // (measured 0.7%: the neighbours of rebuilt samples)
}

TEST(Hdr, BadBracketsAreRefusedByName) {
    const fs::path dir = scratch("bad");
    // A frame of another size.
    RawImage small = decode(bracket()[1]);
    small.width /= 2, small.height /= 2;
    small.data.resize(size_t(small.width) * small.height);
    small.crop = {0, 0, small.width, small.height};
    const std::string odd = (dir / "small.dng").string();
    write_dng(small, odd);
    try {
        merge_burst_files({bracket()[0], odd});
        FAIL() << "merged frames of two sizes";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("small.dng"), std::string::npos) << e.what();
    }
    // Ultra HDR is a JPEG.
    PipelineOptions o;
    o.hdr_output = PipelineOptions::HdrOutput::UltraHdr;
    try {
        develop_file(bracket()[0], (dir / "u.png").string(), o);
        FAIL() << "wrote Ultra HDR as PNG";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("u.png"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(fs::exists(dir / "u.png"));
    // Scene-linear light into a format that cannot hold it.
    try {
        Image im;
        im.width = im.height = 8;
        im.pixels.assign(8 * 8 * 3, 0);
        im.scene_peak = 32;
        encode(im, (dir / "x.jpg").string());
        FAIL() << "wrote scene-linear light as JPEG";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(".exr"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(fs::exists(dir / "x.jpg"));
}

}  // namespace
}  // namespace obscura::test
