// The burst simulator: photo -> linear camera RGB -> shaken, mosaicked,
// noisy raw frames. The camera is a "linear sRGB camera": camera RGB =
// diag(gains) * linear sRGB, so a correct develop gives the photo back.
#include "obscura/simulate.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "obscura/dng_writer.h"
#include "obscura/encode.h"
#include "core/lazy_tiff.h"
#include "core/mirror.h"
#include "obscura/error.h"
#include "obscura/quality.h"
#include "obscura/raw_image.h"


namespace obscura {
namespace {

constexpr double kGains[3] = {0.55, 1.0, 0.75};  // camera R, G, B sensitivity to D65 white

struct LinearPhoto {
    int width, height;
    std::vector<float> rgb;  // interleaved linear sRGB
    const float* at(int x, int y) const { return &rgb[(size_t(y) * width + x) * 3]; }
};

double srgb_to_linear(double v) { return v <= 0.04045 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4); }

// An HDR scene from a photo: light whose luminance is over 40% of white
// lifted by up to `stops` (a smoothstep in luminance), colour kept.
void lift_highlights(LinearPhoto& photo, double stops) {
    for (size_t p = 0; p < photo.rgb.size(); p += 3) {
        float* px = &photo.rgb[p];
        const double y = 0.2126 * px[0] + 0.7152 * px[1] + 0.0722 * px[2];
        const double t = std::clamp((y - 0.4) / 0.6, 0.0, 1.0);
        const double gain = std::exp2(stops * t * t * (3 - 2 * t));
        for (int c = 0; c < 3; ++c) px[c] = float(px[c] * gain);
    }
}

// 32-bit float RGB TIFF (the scene), for the scorers.
void write_float_tiff(const LinearPhoto& photo, const std::string& path) {
    TIFF* t = TIFF_LAZY(TIFFOpen)(path.c_str(), "w");
    if (!t) throw file_error(path, "cannot create");
    TIFF_LAZY(TIFFSetField)(t, TIFFTAG_IMAGEWIDTH, uint32_t(photo.width));
    TIFF_LAZY(TIFFSetField)(t, TIFFTAG_IMAGELENGTH, uint32_t(photo.height));
    TIFF_LAZY(TIFFSetField)(t, TIFFTAG_SAMPLESPERPIXEL, 3);
    TIFF_LAZY(TIFFSetField)(t, TIFFTAG_BITSPERSAMPLE, 32);
    TIFF_LAZY(TIFFSetField)(t, TIFFTAG_SAMPLEFORMAT, SAMPLEFORMAT_IEEEFP);
    TIFF_LAZY(TIFFSetField)(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_RGB);
    TIFF_LAZY(TIFFSetField)(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    bool ok = true;
    const auto write_scanline = TIFF_LAZY(TIFFWriteScanline);  // (looked up once, not per row)
    for (int y = 0; y < photo.height && ok; ++y)
        ok = write_scanline(t, const_cast<float*>(photo.at(0, y)), uint32_t(y), 0) >= 0;
    TIFF_LAZY(TIFFClose)(t);
    if (!ok) throw file_error(path, "cannot write");
}

RawImage camera_frame(const SimulatedFrame& f, const LinearPhoto& photo, const BurstSimulation& sim, int index,
                      std::mt19937_64& rng) {
    RawImage raw;
    raw.width = photo.width;
    raw.height = photo.height;
    raw.bits = sim.bits;
    raw.cfa = *CfaPattern::parse("RGGB");
    const double white = double((1 << sim.bits) - 1), black = double(1 << (sim.bits - 4));
    raw.black.pattern = {black};
    raw.white_level = white;
    raw.crop = {0, 0, raw.width, raw.height};
    raw.color.color_matrix[0] = mul(diag3({kGains[0], kGains[1], kGains[2]}), kXyzToLinearSrgb);
    raw.color.illuminant[0] = 21;  // D65
    raw.color.as_shot_neutral = Vec3{kGains[0], kGains[1], kGains[2]};
    raw.noise.planes.assign(3, {sim.noise_scale, sim.noise_offset});
    raw.noise.from_file = true;
    raw.shot.make = "obscura";
    raw.shot.model = "simulated burst";
    raw.shot.software = "obscura simulate";
    const double exposure = sim.ev.empty() ? 1.0 : std::exp2(sim.ev[size_t(index)]);
    raw.shot.exposure_s = 0.01 * exposure;
    raw.shot.iso = 100;
    raw.data.resize(size_t(raw.width) * raw.height);

    // The mover: a patch of frame 0, mirrored, sliding right frame by frame.
    const int box_y = photo.height / 3, box_x = photo.width / 3, box_h = photo.height / 6, box_w = photo.width / 6;
    const int step = index * std::max(4, sim.motion);
    const int mover_x = std::min(box_x + step, photo.width - box_w);
    const bool moves = sim.mover && index > 0;

    std::normal_distribution<double> gauss(0.0, 1.0);
    for (int y = 0; y < raw.height; ++y) {
        for (int x = 0; x < raw.width; ++x) {
            const float* p;
            if (moves && y >= box_y && y < box_y + box_h && x >= mover_x && x < mover_x + box_w)
                p = photo.at(box_x + (box_w - 1 - (x - mover_x)), y);
            else
                p = photo.at(mirror_index(x + f.dx, photo.width), mirror_index(y + f.dy, photo.height));
            const int c = raw.cfa.at(x, y);
            double v = p[c] * kGains[c] * exposure;
            double var = std::max(sim.noise_scale * std::max(v, 0.0) + sim.noise_offset, 0.0);
            v += gauss(rng) * std::sqrt(var);
            // (Below black too, as sensors read: the noise is not clipped
            // there, which would lift the shadows' mean.)
            double dn = std::min(black + v * (white - black), white);
            raw.data[size_t(y) * raw.width + x] = uint16_t(std::lround(std::clamp(dn, 0.0, 65535.0)));
        }
    }
    return raw;
}

}  // namespace

std::vector<SimulatedFrame> simulate_burst(const std::string& photo_path, const std::string& dir, const BurstSimulation& sim) {
    if (sim.frames < 1 || sim.frames > 64) throw Error("simulate: --frames must be 1..64");
    if (sim.motion < 0 || sim.motion > 256) throw Error("simulate: --motion must be 0..256 pixels");
    if (sim.bits < 8 || sim.bits > 16) throw Error("simulate: bits must be 8..16");
    if (!(sim.noise_scale >= 0 && sim.noise_offset >= 0 && sim.noise_scale < 1 && sim.noise_offset < 1))
        throw Error("simulate: --noise S,O must be two numbers in 0..1");
    if (!sim.ev.empty() && int(sim.ev.size()) != sim.frames)
        throw Error("simulate: --ev needs one exposure per frame (" + std::to_string(sim.frames) + ")");
    for (double e : sim.ev)
        if (!(e >= -10 && e <= 10)) throw Error("simulate: --ev values must be in -10..10 EV");
    if (!(sim.hdr_stops >= 0 && sim.hdr_stops <= 10)) throw Error("simulate: --hdr must be 0..10 stops");
    Image srgb = load_png(photo_path);
    LinearPhoto photo{srgb.width & ~1, srgb.height & ~1, {}};
    if (photo.width < 16 || photo.height < 16) throw file_error(photo_path, "too small to simulate a burst from (16 x 16 at least)");
    photo.rgb.resize(size_t(photo.width) * photo.height * 3);
    Image truth;
    truth.width = photo.width;
    truth.height = photo.height;
    truth.pixels.resize(photo.rgb.size());
    for (int y = 0; y < photo.height; ++y)
        for (int x = 0; x < photo.width; ++x)
            for (int c = 0; c < 3; ++c) {
                uint16_t v = srgb.at(x, y, c);
                truth.pixels[(size_t(y) * photo.width + x) * 3 + c] = v;
                photo.rgb[(size_t(y) * photo.width + x) * 3 + c] = float(srgb_to_linear(v / 65535.0));
            }

    if (sim.hdr_stops > 0) lift_highlights(photo, sim.hdr_stops);

    namespace fs = std::filesystem;
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (!fs::is_directory(dir)) throw file_error(dir, "cannot create the folder");
    std::mt19937_64 rng(sim.seed);
    std::uniform_int_distribution<int> shake(-sim.motion, sim.motion);
    std::vector<SimulatedFrame> frames;
    for (int i = 0; i < sim.frames; ++i) {
        SimulatedFrame f{(fs::path(dir) / ("frame_" + std::string(i < 10 ? "0" : "") + std::to_string(i) + ".dng")).string(), 0, 0};
        if (i > 0) f.dx = shake(rng), f.dy = shake(rng);
        write_dng(camera_frame(f, photo, sim, i, rng), f.file);
        frames.push_back(f);
    }
    encode(truth, (fs::path(dir) / "truth.png").string());
    if (!sim.ev.empty() || sim.hdr_stops > 0) write_float_tiff(photo, (fs::path(dir) / "truth.tiff").string());
    std::string json = "{\n \"noise\": [" + std::to_string(sim.noise_scale) + ", " + std::to_string(sim.noise_offset) +
                       "],\n \"cfa\": \"RGGB\",\n \"frames\": [\n";
    for (size_t i = 0; i < frames.size(); ++i)
        json += "  {\"file\": \"" + fs::path(frames[i].file).filename().string() + "\", \"dx\": " + std::to_string(frames[i].dx) +
                ", \"dy\": " + std::to_string(frames[i].dy) + ", \"ev\": " + std::to_string(sim.ev.empty() ? 0.0 : sim.ev[i]) + "}" +
                (i + 1 < frames.size() ? ",\n" : "\n");
    json += " ]\n}\n";
    std::ofstream((fs::path(dir) / "truth.json").string()) << json;
    return frames;
}

}  // namespace obscura
