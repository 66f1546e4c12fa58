// decode: DNGs made by independent tools read back exactly as written.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <sys/resource.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "obscura/decode.h"
#include "obscura/error.h"
#include "obscura/frame_memory.h"
#include "support/truth.h"

namespace obscura {
namespace {

using test::dng_path;

RawImage read(const std::string& name, Decoder d = Decoder::Auto) {
    DecodeOptions o;
    o.decoder = d;
    return decode(dng_path(name), o);
}

// mkdng's camera: ColorMatrix1 = diag(gains) * inverse(sRGB -> XYZ).
void expect_mkdng_color(const RawImage& raw, Vec3 gains) {
    Mat3 expected = mul(diag3(gains), kXyzToLinearSrgb);
    ASSERT_TRUE(raw.color.color_matrix[0]);
    for (int i = 0; i < 9; ++i) EXPECT_NEAR((*raw.color.color_matrix[0])[i], expected[i], 2e-5) << i;
    EXPECT_EQ(raw.color.illuminant[0], 21);
    ASSERT_TRUE(raw.color.as_shot_neutral);
    double m = std::max({gains[0], gains[1], gains[2]});
    for (int c = 0; c < 3; ++c) EXPECT_NEAR((*raw.color.as_shot_neutral)[c], gains[c] / m, 1e-5);
}

TEST(Decode, KodakLayoutsBitsAndLevels) {
    struct Case {
        const char* file;
        const char* cfa;
        double black, white;
        Vec3 gains;
    } cases[] = {
        {"kodim05_RGGB_14.dng", "RGGB", 1024, 16383, {0.55, 1.0, 0.75}},
        {"kodim13_BGGR_12.dng", "BGGR", 256, 4095, {0.45, 1.0, 0.62}},
        {"kodim19_GRBG_16.dng", "GRBG", 0, 65535, {0.7, 1.0, 0.5}},
        {"kodim23_GBRG_12.dng", "GBRG", 64, 4095, {0.5, 1.0, 0.9}},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.file);
        RawImage raw = read(c.file);
        EXPECT_EQ(raw.decoder, "dng");
        EXPECT_EQ(raw.cfa.name(), c.cfa);
        EXPECT_TRUE(raw.cfa.is_bayer());
        EXPECT_DOUBLE_EQ(raw.black.at(0, 0), c.black);
        EXPECT_DOUBLE_EQ(raw.white_level, c.white);
        EXPECT_EQ(raw.width * raw.height, 768 * 512);
        EXPECT_EQ(raw.crop.width, raw.width);
        expect_mkdng_color(raw, c.gains);
        uint16_t hi = *std::max_element(raw.data.begin(), raw.data.end());
        EXPECT_LE(hi, c.white);
        EXPECT_GT(hi, c.black + (c.white - c.black) * 0.5);  // real content, not zeros
        EXPECT_EQ(raw.shot.make, "ReferenceCam");
    }
}

TEST(Decode, LibRawReadsTheSameSamples) {
    RawImage ours = read("kodim13_BGGR_12.dng", Decoder::Dng);
    RawImage theirs = read("kodim13_BGGR_12.dng", Decoder::LibRaw);
    EXPECT_EQ(theirs.decoder, "libraw");
    ASSERT_EQ(ours.width, theirs.width);
    ASSERT_EQ(ours.height, theirs.height);
    EXPECT_EQ(ours.data, theirs.data);
    EXPECT_EQ(theirs.cfa.name(), "BGGR");
    EXPECT_DOUBLE_EQ(theirs.black.at(0, 0), 256);
    EXPECT_DOUBLE_EQ(theirs.white_level, 4095);
}

TEST(Decode, AnUncompressedFrameIsReadStraightFromTheFile) {
    // 16-bit little-endian strips, one after another: the frame is the
    // file's bytes, read on every core into frame memory.
    auto dir = std::filesystem::temp_directory_path() / ("obscura-read-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    auto path = dir / "kodim05.dng";
    std::filesystem::copy_file(dng_path("kodim05_RGGB_14.dng"), path, std::filesystem::copy_options::overwrite_existing);
    auto bytes = [&] {
        std::ifstream in(path, std::ios::binary);
        return std::vector<char>(std::istreambuf_iterator<char>(in), {});
    };
    const std::vector<char> before = bytes();
    const size_t in_use = frame_memory_in_use();
    std::vector<uint16_t> original;  // (not frame memory: the count stays exact)
    {
        RawImage raw = decode(path.string());
        original.assign(raw.data.begin(), raw.data.end());
        EXPECT_GE(frame_memory_in_use(), in_use + raw.data.size() * 2);
        // The pipeline writes frames in place (the highlight rebuild): the
        // file must not see it.
        std::fill(raw.data.begin(), raw.data.begin() + raw.width * 64, uint16_t(12345));
        EXPECT_EQ(raw.data[0], 12345);
    }
    EXPECT_EQ(frame_memory_in_use(), in_use);
    EXPECT_TRUE(bytes() == before);
    // The samples are the file's own: where the strips start (the DNG's
    // StripOffsets, read here by LibRaw), byte for byte.
    auto same = [&](const Samples16& s) { return std::equal(s.begin(), s.end(), original.begin(), original.end()); };
    DecodeOptions libraw;
    libraw.decoder = Decoder::LibRaw;
    EXPECT_TRUE(same(decode(path.string(), libraw).data));
    // read_file_samples itself: the bytes at an offset, and nothing for a
    // region past the file's end.
    const size_t count = before.size() / 4 + 3;
    const uint64_t offset = uint64_t(before.size()) - count * 2 - 6;
    Samples16 tail = read_file_samples(path.string(), offset, count);
    ASSERT_EQ(tail.size(), count);
    EXPECT_EQ(std::memcmp(tail.data(), before.data() + offset, count * 2), 0);
    EXPECT_TRUE(read_file_samples(path.string(), offset + 8, count).empty());
    EXPECT_TRUE(read_file_samples((dir / "absent.dng").string(), 0, 16).empty());
    // Over several of its 4 MB chunks (each core reads its own), from an
    // offset within a page.
    std::vector<char> big(9u << 20);
    for (size_t i = 0; i < big.size(); ++i) big[i] = char((i * 2654435761u) >> 24);
    std::ofstream((dir / "big.bin").string(), std::ios::binary).write(big.data(), std::streamsize(big.size()));
    const size_t many = (big.size() - 100) / 2;
    Samples16 spread = read_file_samples((dir / "big.bin").string(), 6, many);
    ASSERT_EQ(spread.size(), many);
    EXPECT_EQ(std::memcmp(spread.data(), big.data() + 6, many * 2), 0);
    std::filesystem::remove_all(dir);
}

TEST(Decode, StructuralVariantsGiveTheSameSamples) {
    RawImage base = read("kodim05_base12.dng");
    for (const char* name : {"v_tiles.dng", "v_pack12.dng", "v_big_tiles.dng", "v_subifd_exif.dng", "v_margin.dng"}) {
        SCOPED_TRACE(name);
        RawImage v = read(name);
        ASSERT_EQ(v.width, base.width);
        ASSERT_EQ(v.height, base.height);
        EXPECT_EQ(v.data, base.data);
        EXPECT_EQ(v.cfa.name(), "RGGB");
        EXPECT_EQ(v.bits, std::string(name) == "v_tiles.dng" || std::string(name) == "v_margin.dng" ||
                                  std::string(name) == "v_subifd_exif.dng" ? 16 : 12);
    }
    RawImage margin = read("v_margin.dng");
    EXPECT_EQ(margin.crop.x, 4);
    EXPECT_EQ(margin.crop.y, 6);
    EXPECT_EQ(margin.crop.width, base.width - 10);
    EXPECT_EQ(margin.crop.height, base.height - 12);
}

TEST(Decode, LosslessJpegTilesDecodeToTheSameSamples) {
    // Compression 7 (dng_variants' own encoder): our lossless JPEG decoder.
    RawImage base = read("kodim05_base12.dng");
    RawImage v = read("v_ljpeg.dng");
    EXPECT_EQ(v.decoder, "dng");
    ASSERT_EQ(v.width, base.width);
    ASSERT_EQ(v.height, base.height);
    EXPECT_EQ(v.data, base.data);
    EXPECT_EQ(v.cfa.name(), "RGGB");
}

TEST(Decode, BlackPatternWithRowAndColumnDeltas) {
    RawImage base = read("kodim05_base12.dng");
    RawImage v = read("v_black.dng");
    EXPECT_EQ(v.black.repeat_width, 2);
    EXPECT_EQ(v.black.repeat_height, 2);
    EXPECT_TRUE(v.black.has_deltas());
    for (int y = 0; y < v.height; y += 7)
        for (int x = 0; x < v.width; x += 5)
            ASSERT_DOUBLE_EQ(v.at(x, y) - v.black.at(x, y), base.at(x, y) - base.black.at(x, y)) << x << "," << y;
}

TEST(Decode, LinearizationTableIsApplied) {
    RawImage base = read("kodim05_base12.dng");
    RawImage v = read("v_linear.dng");
    // Square-root companding to 12-bit codes loses at most one table step
    // (about 2 units at the top of a 12-bit range).
    int worst = 0;
    for (size_t i = 0; i < base.data.size(); ++i) worst = std::max(worst, std::abs(int(v.data[i]) - int(base.data[i])));
    EXPECT_LE(worst, 3);
    EXPECT_DOUBLE_EQ(v.white_level, base.white_level);
}

TEST(Decode, ShotInfoFromExifIfd) {
    RawImage v = read("v_subifd_exif.dng");
    EXPECT_EQ(v.shot.make, "VariantCam");
    EXPECT_EQ(v.shot.model, "Model V");
    ASSERT_TRUE(v.shot.exposure_s);
    EXPECT_NEAR(*v.shot.exposure_s, 1.0 / 120, 1e-9);
    EXPECT_NEAR(v.shot.f_number.value_or(0), 1.8, 1e-9);
    EXPECT_NEAR(v.shot.iso.value_or(0), 100, 1e-9);
    EXPECT_NEAR(v.shot.focal_mm.value_or(0), 6.9, 1e-9);
    EXPECT_EQ(v.shot.lens, "Obscura Optics 6.9mm f/1.8");
    EXPECT_EQ(v.shot.datetime, "2026:11:24 12:34:56");
    EXPECT_EQ(v.shot.orientation, 6);
    EXPECT_FALSE(v.exif.empty());
}

TEST(Decode, ColourVariants) {
    RawImage fm = read("v_forward.dng");
    EXPECT_TRUE(fm.color.forward_matrix[0]);
    RawImage dual = read("v_dual.dng");
    EXPECT_TRUE(dual.color.color_matrix[1]);
    EXPECT_EQ(dual.color.illuminant[0], 17);
    EXPECT_EQ(dual.color.illuminant[1], 21);
}

// obscura's noise map (a merged burst's), from the DNGPrivateData tag that
// tests/tools/dng_variants.py writes independently of our writer; a file
// without it has none.
TEST(Decode, NoiseMapFromThePrivateData) {
    RawImage m = read("v_noise_map.dng");
    ASSERT_EQ(m.noise.map_width, 4);
    ASSERT_EQ(m.noise.map_height, 3);
    ASSERT_EQ(m.noise.map.size(), 12u);
    EXPECT_EQ(m.noise.map_step, 16.0);
    EXPECT_EQ(m.noise.map_origin, -0.5);
    EXPECT_FLOAT_EQ(m.noise.map[0], 1.0f);
    EXPECT_FLOAT_EQ(m.noise.map[11], 4.0f);
    EXPECT_TRUE(read("v_forward.dng").noise.map.empty());
}

TEST(Decode, NoiseProfile) {
    RawImage raw = read("kodim23_noise.dng");
    ASSERT_EQ(raw.noise.planes.size(), 1u);
    EXPECT_TRUE(raw.noise.from_file);
    EXPECT_NEAR(raw.noise.planes[0][0], 0.002, 1e-12);
    EXPECT_NEAR(raw.noise.planes[0][1], 0.00002, 1e-12);
    EXPECT_TRUE(read("kodim23_GBRG_12.dng").noise.planes.empty());
}

TEST(Decode, QuadBayerLayoutIsRecognised) {
    RawImage raw = read("kodim23_quad.dng");
    EXPECT_EQ(raw.cfa.width, 4);
    EXPECT_EQ(raw.cfa.cell_size(), 2);
    EXPECT_EQ(raw.cfa.name(), "quad RGGB (4x4)");
    auto parsed = CfaPattern::parse("hexadeca-GRBG");
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->cell_size(), 4);
    EXPECT_EQ(parsed->name(), "hexadeca GRBG (8x8)");
}

TEST(Decode, DamagedFilesFailWithTheirName) {
    for (const char* name : {"bad_empty.dng", "bad_text.dng", "bad_trunc_6.dng", "bad_trunc_60.dng", "bad_trunc_400.dng"}) {
        SCOPED_TRACE(name);
        try {
            read(name);
            ADD_FAILURE() << "decoded a damaged file";
        } catch (const Error& e) {
            std::string msg = e.what();
            EXPECT_NE(msg.find(name), std::string::npos) << msg;
            EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
        }
    }
    EXPECT_THROW(decode(dng_path("does_not_exist.dng")), Error);
}

TEST(Decode, AbsurdDimensionsAreRefusedBeforeAnyAllocation) {
    // kodim05_RGGB_14.dng with its IFD claiming 60000 x 16000 (960 MP): the
    // strips are far too short for that, which must be found before the
    // 1.9 GB image is allocated (so a budget-limited process still fails cleanly).
    std::ifstream in(dng_path("kodim05_RGGB_14.dng"), std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), {});
    ASSERT_GT(bytes.size(), 64u);
    auto u16 = [&](size_t o) { return uint16_t(uint8_t(bytes[o]) | uint8_t(bytes[o + 1]) << 8); };
    uint32_t ifd = uint32_t(uint8_t(bytes[4])) | uint32_t(uint8_t(bytes[5])) << 8 | uint32_t(uint8_t(bytes[6])) << 16;
    int patched = 0;
    for (int i = 0; i < u16(ifd); ++i) {
        size_t e = ifd + 2 + 12 * size_t(i);
        uint16_t tag = u16(e), type = u16(e + 2);
        if (tag != 256 && tag != 257 && tag != 278) continue;
        uint32_t v = tag == 256 ? 60000 : 16000;  // width; height and rows per strip
        for (int k = 0; k < (type == 3 ? 2 : 4); ++k) bytes[e + 8 + k] = char(v >> (8 * k));
        ++patched;
    }
    ASSERT_EQ(patched, 3);
    std::string path = (std::filesystem::temp_directory_path() / "obscura-absurd-size.dng").string();
    std::ofstream(path, std::ios::binary).write(bytes.data(), long(bytes.size()));
    struct rlimit old{};
    ::getrlimit(RLIMIT_AS, &old);
#ifndef __SANITIZE_ADDRESS__  // (AddressSanitizer's shadow memory needs far more address space)
    struct rlimit cap = old;
    cap.rlim_cur = std::min<rlim_t>(old.rlim_max, rlim_t(1) << 31);  // 2 GB of address space: no room for the image
    ::setrlimit(RLIMIT_AS, &cap);
#endif
    try {
        decode(path);
        ADD_FAILURE() << "decoded a 960 MP claim backed by 0.4 MP of data";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("shorter than its size says"), std::string::npos) << e.what();
    } catch (const std::bad_alloc&) {
        ADD_FAILURE() << "allocated before checking the data";
    }
    ::setrlimit(RLIMIT_AS, &old);
    std::filesystem::remove(path);
}

TEST(Decode, TruncatedPixelDataIsReported) {
    // mkdng writes the IFD before the pixels, so these keep a valid directory.
    std::vector<std::string> cut;
    for (const auto& e : std::filesystem::directory_iterator(OBSCURA_TEST_DNGS)) {
        std::string n = e.path().filename().string();
        if (n.rfind("bad_trunc_", 0) == 0 && n != "bad_trunc_6.dng" && n != "bad_trunc_60.dng" && n != "bad_trunc_400.dng")
            cut.push_back(e.path().string());
    }
    ASSERT_EQ(cut.size(), 2u);
    for (const auto& path : cut) {
        try {
            decode(path);
            ADD_FAILURE() << "decoded " << path;
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
        }
    }
}

}  // namespace
}  // namespace obscura
