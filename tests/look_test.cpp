// Looks: every shipped look develops; the measurable promises of each
// (mono is neutral, vibrant is more colourful with brighter shadows and less
// corner darkening than authentic); LUTs; look and LUT files that are wrong.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "obscura/decode.h"
#include "obscura/develop.h"
#include "obscura/error.h"
#include "obscura/finish.h"
#include "obscura/local_tone.h"
#include "support/truth.h"

namespace obscura::test {
namespace {

namespace fs = std::filesystem;

Image develop_with(const RawImage& raw, const std::string& look, const std::string& lut = "") {
    DevelopOptions o;
    o.look = look;
    if (!lut.empty()) o.lut = std::make_shared<const Lut3D>(Lut3D::load(lut));
    return develop(raw, o);
}

double luma(const Image& im, size_t i) {
    return (0.2126 * im.pixels[i * 3] + 0.7152 * im.pixels[i * 3 + 1] + 0.0722 * im.pixels[i * 3 + 2]) / 65535.0;
}

double mean_chroma(const Image& im) {
    double sum = 0;
    for (size_t i = 0; i < size_t(im.width) * im.height; ++i) {
        const uint16_t* p = &im.pixels[i * 3];
        sum += (std::max({p[0], p[1], p[2]}) - std::min({p[0], p[1], p[2]})) / 65535.0;
    }
    return sum / (double(im.width) * im.height);
}

double percentile_luma(const Image& im, double q) {
    std::vector<double> l(size_t(im.width) * im.height);
    for (size_t i = 0; i < l.size(); ++i) l[i] = luma(im, i);
    std::nth_element(l.begin(), l.begin() + size_t(q * (l.size() - 1)), l.end());
    return l[size_t(q * (l.size() - 1))];
}

// Mean luma of the four corner blocks over that of the centre block.
double corner_ratio(const Image& im) {
    int b = std::min(im.width, im.height) / 8;
    auto block = [&](int x0, int y0) {
        double s = 0;
        for (int y = y0; y < y0 + b; ++y)
            for (int x = x0; x < x0 + b; ++x) s += luma(im, size_t(y) * im.width + x);
        return s / (b * b);
    };
    double corners = block(0, 0) + block(im.width - b, 0) + block(0, im.height - b) + block(im.width - b, im.height - b);
    return corners / 4 / block((im.width - b) / 2, (im.height - b) / 2);
}

TEST(Looks, AllShippedLooksAreFoundInOrder) {
    std::vector<std::string> names;
    for (const auto& l : builtin_looks()) names.push_back(l.name);
    std::vector<std::string> expected = {"reference", "authentic", "vibrant", "natural", "vivid",
                                         "mono", "mono-hc", "sepia", "blue"};
    ASSERT_GE(names.size(), expected.size()) << "styles folder: " << styles_directory();
    EXPECT_TRUE(std::equal(expected.begin(), expected.end(), names.begin()));
    for (const auto& l : builtin_looks()) EXPECT_FALSE(l.description.empty()) << l.name;
    EXPECT_EQ(default_look_name(), "authentic");
    // By name, a look is read from its own file alone: the same look.
    for (const auto& l : builtin_looks()) {
        const Look found = find_look(l.name);
        EXPECT_EQ(found.name, l.name);
        EXPECT_EQ(found.description, l.description);
        EXPECT_EQ(found.encoding_curve(257, 1, 1), l.encoding_curve(257, 1, 1)) << l.name;
        EXPECT_EQ(found.saturation, l.saturation) << l.name;
    }
}

TEST(Looks, EveryShippedLookDevelopsAndMonoIsNeutral) {
    RawImage raw = decode(dng_path("kodim23_GBRG_12.dng"));
    Image reference = develop_with(raw, "reference");
    for (const auto& look : builtin_looks()) {
        Image im = develop_with(raw, look.name);
        ASSERT_EQ(im.width, reference.width) << look.name;
        if (look.name == "mono" || look.name == "mono-hc") {
            int worst = 0;
            for (size_t i = 0; i < size_t(im.width) * im.height; ++i)
                worst = std::max(worst, std::abs(int(im.pixels[i * 3]) - int(im.pixels[i * 3 + 2])));
            EXPECT_LE(worst, 655) << look.name << ": R and B differ by more than 1%";
            EXPECT_LT(mean_chroma(im), 0.002) << look.name;
        } else if (look.name == "sepia") {
            EXPECT_GT(mean_chroma(im), 0.01) << "sepia must be toned";
            EXPECT_LT(mean_chroma(im), mean_chroma(reference) * 0.8) << "sepia is a toned monochrome";
        } else if (look.name != "reference") {
            EXPECT_GT(mean_chroma(im), mean_chroma(reference) * 0.5) << look.name;
        }
    }
}

TEST(Looks, VibrantIsMoreColourfulWithBrighterShadowsAndLessVignetteThanAuthentic) {
    // A lens with 60% corner fall-off, corrected by a GainMap: authentic keeps
    // part of it, vibrant corrects it.
    RawImage raw = decode(dng_path("kodim05_RGGB_14_shading.dng"));
    Image authentic = develop_with(raw, "authentic"), vibrant = develop_with(raw, "vibrant");
    Image reference = develop_with(raw, "reference");
    EXPECT_GT(mean_chroma(vibrant), mean_chroma(authentic) * 1.3);
    EXPECT_GT(percentile_luma(vibrant, 0.1), percentile_luma(authentic, 0.1) + 0.04);
    double ref = corner_ratio(reference), a = corner_ratio(authentic) / ref, v = corner_ratio(vibrant) / ref;
    std::printf("chroma authentic %.4f vibrant %.4f; 10th percentile luma %.4f vs %.4f; corners/centre vs reference %.3f vs %.3f\n",
                mean_chroma(authentic), mean_chroma(vibrant), percentile_luma(authentic, 0.1), percentile_luma(vibrant, 0.1), a, v);
    EXPECT_LT(a, 0.9) << "authentic keeps the lens's vignette";
    EXPECT_GT(v, a + 0.15) << "vibrant has less corner darkening";
}

fs::path scratch(const std::string& name) {
    fs::path dir = fs::temp_directory_path() / ("obscura-look-test-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    return dir / name;
}

void write_identity_cube(const fs::path& path, int n) {
    std::ofstream f(path);
    f << "# identity\nTITLE \"identity\"\nLUT_3D_SIZE " << n << "\nDOMAIN_MIN 0 0 0\nDOMAIN_MAX 1 1 1\n";
    for (int b = 0; b < n; ++b)
        for (int g = 0; g < n; ++g)
            for (int r = 0; r < n; ++r) f << double(r) / (n - 1) << " " << double(g) / (n - 1) << " " << double(b) / (n - 1) << "\n";
}

TEST(Looks, IdentityCubeChangesNoPixelByMoreThanOneIn255) {
    RawImage raw = decode(dng_path("kodim23_GBRG_12.dng"));
    for (int n : {2, 17, 33, 65}) {
        fs::path cube = scratch("identity" + std::to_string(n) + ".cube");
        write_identity_cube(cube, n);
        Image plain = develop_with(raw, "authentic"), with_lut = develop_with(raw, "authentic", cube.string());
        int worst = 0;
        for (size_t i = 0; i < plain.pixels.size(); ++i) worst = std::max(worst, std::abs(int(plain.pixels[i]) - int(with_lut.pixels[i])));
        EXPECT_LE(worst, 257) << "size " << n;
    }
}

TEST(Looks, CubeIsInterpolatedTetrahedrally) {
    // A LUT that swaps red and blue and halves green is linear, so
    // tetrahedral interpolation reproduces it exactly between the nodes.
    fs::path cube = scratch("swap.cube");
    {
        std::ofstream f(cube);
        f << "LUT_3D_SIZE 5\n";
        for (int b = 0; b < 5; ++b)
            for (int g = 0; g < 5; ++g)
                for (int r = 0; r < 5; ++r) f << b / 4.0 << " " << g / 8.0 << " " << r / 4.0 << "\n";
    }
    Lut3D lut = Lut3D::load(cube.string());
    float v[3] = {0.1f, 0.7f, 0.33f};
    lut.apply(v);
    EXPECT_NEAR(v[0], 0.33f, 1e-5);
    EXPECT_NEAR(v[1], 0.35f, 1e-5);
    EXPECT_NEAR(v[2], 0.1f, 1e-5);
}

void expect_error(const std::function<void()>& f, const std::string& fragment) {
    try {
        f();
        ADD_FAILURE() << "no error; expected one mentioning '" << fragment << "'";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
}

TEST(Looks, BadLookFilesAreRefusedNamingFileAndKey) {
    auto write = [](const std::string& name, const std::string& text) {
        fs::path p = scratch(name);
        std::ofstream(p) << text;
        return p.string();
    };
    std::string typo = write("typo.toml", "name = \"x\"\n[tone]\ncontrst = 0.2\n");
    expect_error([&] { load_look(typo); }, "typo.toml: unknown key tone.contrst");
    std::string range = write("range.toml", "[color]\nsaturation = 9\n");
    expect_error([&] { load_look(range); }, "range.toml: color.saturation is 9, must be within 0..3");
    std::string broken = write("broken.toml", "[tone\nexposure = 1\n");
    expect_error([&] { load_look(broken); }, "broken.toml: line 1");
    std::string type = write("type.toml", "[grain]\namount = \"lots\"\n");
    expect_error([&] { load_look(type); }, "grain.amount must be a number");
    std::string table = write("table.toml", "tone = 3\n");
    expect_error([&] { load_look(table); }, "tone must be a table");
    expect_error([&] { find_look("no-such-look"); }, "unknown look 'no-such-look'");
    expect_error([&] { find_look(scratch("missing.toml").string()); }, "no such look file");
    // A good one of the user's own, with a mono mix normalised to one.
    std::string mine = write("mine.toml", "name = \"mine\"\ndescription = \"d\"\n[mono]\nmix = [1, 1, 2]\n");
    Look l = find_look(mine);
    ASSERT_TRUE(l.mono_mix);
    EXPECT_NEAR((*l.mono_mix)[2], 0.5, 1e-12);
}

TEST(Looks, BadCubesAreRefusedNamingFileAndLine) {
    auto write = [](const std::string& name, const std::string& text) {
        fs::path p = scratch(name);
        std::ofstream(p) << text;
        return p.string();
    };
    expect_error([&] { Lut3D::load(write("short.cube", "LUT_3D_SIZE 2\n0 0 0\n1 1 1\n")); }, "has 2 entries, LUT_3D_SIZE 2 needs 8");
    expect_error([&] { Lut3D::load(write("big.cube", "LUT_3D_SIZE 300\n")); }, "big.cube: line 1: LUT_3D_SIZE must be 2..65");
    expect_error([&] { Lut3D::load(write("oned.cube", "LUT_1D_SIZE 16\n")); }, "1D LUTs are not supported");
    expect_error([&] { Lut3D::load(write("nan.cube", "LUT_3D_SIZE 2\n0 0 nan\n")); }, "line 2: expected three numbers");
    expect_error([&] { Lut3D::load(write("empty.cube", "")); }, "no LUT_3D_SIZE");
    expect_error([&] { Lut3D::load(scratch("none.cube").string()); }, "cannot open the LUT");
}

TEST(LocalTone, LiftsShadowsAndKeepsHighlights) {
    DevelopOptions o;
    o.look = "reference";
    Image plain = develop(decode(dng_path("kodim05_RGGB_14.dng")), o);
    Image mapped = plain;
    local_tone_map(mapped, 0.6);
    double p10 = percentile_luma(plain, 0.10), q10 = percentile_luma(mapped, 0.10);
    double p98 = percentile_luma(plain, 0.98), q98 = percentile_luma(mapped, 0.98);
    std::printf("local tone 0.6: luma p10 %.3f -> %.3f, p98 %.3f -> %.3f\n", p10, q10, p98, q98);
    EXPECT_GE(q10 - p10, 0.04);
    EXPECT_LE(std::abs(q98 - p98), 0.03);
    Image same = plain;
    local_tone_map(same, 0.0);
    EXPECT_TRUE(std::equal(same.pixels.begin(), same.pixels.end(), plain.pixels.begin()));
}

TEST(LocalTone, ADarkSpeckIsLiftedWithItsSurroundingsNotMultipliedIntoColour) {
    // A mid-dark grey field with specks of dark red noise a few codes above
    // black. The lift its surroundings get must not multiply the speck's
    // colour (it did, 500-fold, into bright red dots): its chroma stays
    // under 1.5 % of full scale (four 8-bit codes), and it stays as much
    // darker than the field as it was.
    Image im;
    im.width = 512;
    im.height = 512;
    im.pixels.assign(size_t(im.width) * im.height * 3, uint16_t(0.15 * 65535));
    const uint16_t speck[3] = {60, 8, 0};
    std::vector<size_t> at;
    for (int y = 32; y < im.height; y += 64)
        for (int x = 32; x < im.width; x += 64) {
            at.push_back(size_t(y) * im.width + x);
            std::copy(speck, speck + 3, &im.pixels[at.back() * 3]);
        }
    Image mapped = im;
    local_tone_map(mapped, 0.8);
    const double field_before = 0.15, field_after = luma(mapped, 0);  // (a corner, far from every speck)
    const double field_gain = field_after / field_before;
    double worst_chroma = 0, worst_gap = 0;
    for (size_t i : at) {
        const uint16_t* p = &mapped.pixels[i * 3];
        worst_chroma = std::max(worst_chroma, double(*std::max_element(p, p + 3) - *std::min_element(p, p + 3)));
        // The speck's distance below the field, before and after.
        const double gap_before = field_before - luma(im, i), gap_after = field_after - luma(mapped, i);
        worst_gap = std::max(worst_gap, std::abs(gap_after - gap_before));
    }
    std::printf("field %.4f -> %.4f (gain %.2f); specks' chroma at most %.0f codes (was 60), gap to the field off by %.4f\n",
                field_before, field_after, field_gain, worst_chroma, worst_gap);
    EXPECT_GE(field_gain, 1.2);  // the field is lifted
    EXPECT_LE(worst_chroma, 1000);
    EXPECT_LE(worst_gap, 0.002);
}

TEST(LocalTone, NoHaloAtAStrongEdge) {
    // A dark field beside a bright one, each with fine texture. A base layer
    // that blurred across the edge would lift the dark side near the edge
    // more than far from it (and darken the bright side): a halo band.
    Image im;
    im.width = 1024;
    im.height = 512;
    im.pixels.resize(size_t(im.width) * im.height * 3);
    for (int y = 0; y < im.height; ++y)
        for (int x = 0; x < im.width; ++x) {
            double v = (x < im.width / 2 ? 0.12 : 0.80) + 0.02 * (((x * 7 + y * 13) % 5) - 2) / 2.0;
            for (int c = 0; c < 3; ++c) im.pixels[(size_t(y) * im.width + x) * 3 + c] = uint16_t(v * 65535);
        }
    Image mapped = im;
    local_tone_map(mapped, 0.8);
    // Mean luma of columns [x0, x1) over the middle rows.
    auto column_mean = [&](int x0, int x1) {
        double s = 0;
        int n = 0;
        for (int y = 128; y < 384; ++y)
            for (int x = x0; x < x1; ++x, ++n) s += luma(mapped, size_t(y) * mapped.width + x);
        return s / n;
    };
    const int e = im.width / 2;
    double dark_far = column_mean(64, 192), dark_near = column_mean(e - 24, e - 4);
    double bright_far = column_mean(im.width - 192, im.width - 64), bright_near = column_mean(e + 4, e + 24);
    std::printf("dark side: far %.4f near the edge %.4f; bright side: far %.4f near %.4f (before: 0.12, 0.80)\n", dark_far,
                dark_near, bright_far, bright_near);
    EXPECT_GE(dark_far - 0.12, 0.05);                   // the dark field is lifted
    EXPECT_LE(std::abs(dark_near - dark_far), 0.01);     // ... the same right up to the edge
    EXPECT_LE(std::abs(bright_near - bright_far), 0.01);
}

}  // namespace
}  // namespace obscura::test
