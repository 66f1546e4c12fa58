#include "obscura/raw_image.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>

#include "parallel.h"

namespace obscura {
namespace {
const char* kLetters = "RGB";
const char* kBayerNames[] = {"RGGB", "BGGR", "GRBG", "GBRG"};

std::vector<uint8_t> letters_to_colors(const std::string& s) {
    std::vector<uint8_t> out;
    for (char ch : s) {
        const char* p = std::strchr(kLetters, std::toupper(static_cast<unsigned char>(ch)));
        if (!p || !*p) return {};
        out.push_back(uint8_t(p - kLetters));
    }
    return out;
}
}  // namespace

bool CfaPattern::is_bayer() const {
    if (width != 2 || height != 2 || colors.size() != 4) return false;
    bool diagonal_greens = (colors[0] == kGreen && colors[3] == kGreen) || (colors[1] == kGreen && colors[2] == kGreen);
    return diagonal_greens && std::count(colors.begin(), colors.end(), kRed) == 1 &&
           std::count(colors.begin(), colors.end(), kBlue) == 1;
}

int CfaPattern::cell_size() const {
    if (width != height || width % 2 != 0 || int(colors.size()) != width * height) return 0;
    int n = width / 2;
    // Every n x n cell must be one colour, and the cells must form Bayer.
    for (int cy = 0; cy < 2; ++cy)
        for (int cx = 0; cx < 2; ++cx)
            for (int y = 0; y < n; ++y)
                for (int x = 0; x < n; ++x)
                    if (at(cx * n + x, cy * n + y) != at(cx * n, cy * n)) return 0;
    return cells().is_bayer() ? n : 0;
}

CfaPattern CfaPattern::cells() const {
    const int n = std::max(1, width / 2);
    CfaPattern out;
    out.colors = {uint8_t(at(0, 0)), uint8_t(at(n, 0)), uint8_t(at(0, n)), uint8_t(at(n, n))};
    return out;
}

std::string CfaPattern::name() const {
    std::string letters;
    int n = cell_size();
    if (n == 1) {
        for (auto c : colors) letters += kLetters[c];
        return letters;
    }
    if (n > 1) {
        for (auto c : cells().colors) letters += kLetters[c];
        static const char* kCellNames[] = {"", "", "quad", "nona", "hexadeca"};
        std::string cell = n <= 4 ? kCellNames[n] : std::to_string(n) + "x" + std::to_string(n) + "-cell";
        return cell + " " + letters + " (" + std::to_string(width) + "x" + std::to_string(height) + ")";
    }
    for (int y = 0; y < height; ++y) {
        if (y) letters += '/';
        for (int x = 0; x < width; ++x) letters += kLetters[at(x, y)];
    }
    return std::to_string(width) + "x" + std::to_string(height) + " " + letters;
}

std::optional<CfaPattern> CfaPattern::parse(const std::string& text) {
    std::string s = text, base = "RGGB";
    int n = 1;
    for (auto [name, cell] : {std::pair{"quad", 2}, {"nona", 3}, {"hexadeca", 4}}) {
        std::string prefix = name;
        if (s.rfind(prefix, 0) == 0) {
            n = cell;
            s = s.substr(prefix.size());
            if (!s.empty() && (s[0] == '-' || s[0] == ':')) s = s.substr(1);
            if (s.empty()) s = base;
        }
    }
    if (std::find(std::begin(kBayerNames), std::end(kBayerNames), s) == std::end(kBayerNames)) return std::nullopt;
    auto bayer = letters_to_colors(s);
    CfaPattern p;
    p.width = p.height = 2 * n;
    p.colors.resize(size_t(4 * n * n));
    for (int y = 0; y < 2 * n; ++y)
        for (int x = 0; x < 2 * n; ++x) p.colors[size_t(y * 2 * n + x)] = bayer[size_t((y / n) * 2 + x / n)];
    return p;
}

bool BlackLevel::is_uniform() const {
    return !has_deltas() && std::all_of(pattern.begin(), pattern.end(), [&](double b) { return b == pattern[0]; });
}

double BlackLevel::highest(int width, int height) const {
    double most = *std::max_element(pattern.begin(), pattern.end());
    if (!delta_h.empty()) most += *std::max_element(delta_h.begin(), delta_h.begin() + std::min<size_t>(delta_h.size(), size_t(width)));
    if (!delta_v.empty()) most += *std::max_element(delta_v.begin(), delta_v.begin() + std::min<size_t>(delta_v.size(), size_t(height)));
    return most;
}

bool BlackLevel::is_2x2_periodic() const {
    if (has_deltas()) return false;
    for (int y = 0; y < 2 * repeat_height; ++y)
        for (int x = 0; x < 2 * repeat_width; ++x)
            if (at(x, y) != at(x % 2, y % 2)) return false;
    return true;
}

double BlackLevel::at(int x, int y) const {
    double b = pattern[size_t((y % repeat_height) * repeat_width + (x % repeat_width))];
    if (!delta_h.empty()) b += delta_h[size_t(x)];
    if (!delta_v.empty()) b += delta_v[size_t(y)];
    return b;
}

namespace {

// sample - black(x, y) + flat for every sample of `raw`, into `out` (which
// may be raw.data itself: each sample needs only itself).
void fold_black(const RawImage& raw, double flat, uint16_t* out) {
    parallel_rows(0, raw.height, [&](int y0, int y1) {
        for (int y = y0; y < y1; ++y)
            for (int x = 0; x < raw.width; ++x) {
                double v = raw.at(x, y) - raw.black.at(x, y) + flat;
                out[size_t(y) * raw.width + x] = uint16_t(std::clamp(std::lround(v), 0L, 65535L));
            }
    });
}

}  // namespace

Samples16 black_folded(const RawImage& raw, double flat) {
    Samples16 out(raw.data.size());
    fold_black(raw, flat, out.data());
    return out;
}

void make_black_uniform(RawImage& raw) {
    if (raw.black.is_uniform()) return;
    const double flat = raw.black.highest(raw.width, raw.height);
    fold_black(raw, flat, raw.data.data());  // in place: no second frame
    raw.black = BlackLevel{};
    raw.black.pattern = {flat};
}

}  // namespace obscura
