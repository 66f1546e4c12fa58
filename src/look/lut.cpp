// .cube 3D LUTs (the Adobe/Resolve format): LUT_3D_SIZE, DOMAIN_MIN/MAX,
// TITLE, comments, then size^3 lines of three numbers, red fastest.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "obscura/error.h"
#include "obscura/finish.h"

namespace obscura {

Lut3D Lut3D::load(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw file_error(path, "cannot open the LUT");
    Lut3D lut;
    lut.source = path;
    std::string line;
    int line_no = 0;
    size_t expected = 0;
    auto fail = [&](const std::string& why) -> Error {
        return file_error(path, "line " + std::to_string(line_no) + ": " + why);
    };
    while (std::getline(in, line)) {
        ++line_no;
        if (line.size() > 4096) throw fail("line too long for a .cube file");
        if (!line.empty() && line.back() == '\r') line.pop_back();
        size_t start = line.find_first_not_of(" \t");
        if (start == std::string::npos || line[start] == '#') continue;
        std::istringstream words(line.substr(start));
        std::string key;
        words >> key;
        if (std::isalpha(static_cast<unsigned char>(key[0]))) {
            if (key == "TITLE") {
                lut.title = line.substr(start + 5);
            } else if (key == "LUT_3D_SIZE") {
                if (lut.size) throw fail("LUT_3D_SIZE given twice");
                if (!(words >> lut.size) || lut.size < 2 || lut.size > 65)
                    throw fail("LUT_3D_SIZE must be 2..65");
                expected = size_t(lut.size) * lut.size * lut.size;
                lut.table.reserve(expected * 3);
            } else if (key == "LUT_1D_SIZE") {
                throw fail("1D LUTs are not supported (only LUT_3D_SIZE)");
            } else if (key == "DOMAIN_MIN" || key == "DOMAIN_MAX") {
                float* d = key == "DOMAIN_MIN" ? lut.domain_min : lut.domain_max;
                for (int c = 0; c < 3; ++c)
                    if (!(words >> d[c]) || !std::isfinite(d[c])) throw fail(key + " needs three numbers");
            } else if (key == "LUT_3D_INPUT_RANGE") {
                float lo, hi;
                if (!(words >> lo >> hi)) throw fail("LUT_3D_INPUT_RANGE needs two numbers");
                for (int c = 0; c < 3; ++c) lut.domain_min[c] = lo, lut.domain_max[c] = hi;
            } else {
                throw fail("unknown keyword " + key);
            }
            continue;
        }
        if (!lut.size) throw fail("table data before LUT_3D_SIZE");
        if (lut.table.size() >= expected * 3) throw fail("more than LUT_3D_SIZE^3 entries");
        std::istringstream values(line.substr(start));
        float v[3];
        for (float& x : v)
            if (!(values >> x) || !std::isfinite(x)) throw fail("expected three numbers");
        lut.table.insert(lut.table.end(), v, v + 3);
    }
    if (!lut.size) throw file_error(path, "no LUT_3D_SIZE: not a 3D .cube LUT");
    if (lut.table.size() != expected * 3)
        throw file_error(path, "has " + std::to_string(lut.table.size() / 3) + " entries, LUT_3D_SIZE " +
                                   std::to_string(lut.size) + " needs " + std::to_string(expected));
    for (int c = 0; c < 3; ++c)
        if (!(lut.domain_max[c] > lut.domain_min[c])) throw file_error(path, "DOMAIN_MAX must exceed DOMAIN_MIN");
    return lut;
}

void Lut3D::apply(float rgb[3]) const {
    const int n = size - 1;
    float f[3];
    int i[3];
    for (int c = 0; c < 3; ++c) {
        float t = (rgb[c] - domain_min[c]) / (domain_max[c] - domain_min[c]) * float(n);
        t = std::clamp(t, 0.0f, float(n));
        i[c] = std::min(int(t), n - 1);
        f[c] = t - float(i[c]);
    }
    auto at = [&](int dr, int dg, int db) {
        return &table[((size_t(i[2] + db) * size + (i[1] + dg)) * size + (i[0] + dr)) * 3];
    };
    // Tetrahedral: the cube is cut into six tetrahedra along its grey
    // diagonal; the one holding the point is chosen by the order of the
    // fractions, and the result is exact for any LUT that is linear in it.
    const float* c000 = at(0, 0, 0);
    const float* c111 = at(1, 1, 1);
    const float *a, *b;
    float w0, w1, w2, w3;
    float fr = f[0], fg = f[1], fb = f[2];
    if (fr >= fg) {
        if (fg >= fb) { a = at(1, 0, 0), b = at(1, 1, 0), w0 = 1 - fr, w1 = fr - fg, w2 = fg - fb, w3 = fb; }
        else if (fr >= fb) { a = at(1, 0, 0), b = at(1, 0, 1), w0 = 1 - fr, w1 = fr - fb, w2 = fb - fg, w3 = fg; }
        else { a = at(0, 0, 1), b = at(1, 0, 1), w0 = 1 - fb, w1 = fb - fr, w2 = fr - fg, w3 = fg; }
    } else {
        if (fb >= fg) { a = at(0, 0, 1), b = at(0, 1, 1), w0 = 1 - fb, w1 = fb - fg, w2 = fg - fr, w3 = fr; }
        else if (fb >= fr) { a = at(0, 1, 0), b = at(0, 1, 1), w0 = 1 - fg, w1 = fg - fb, w2 = fb - fr, w3 = fr; }
        else { a = at(0, 1, 0), b = at(1, 1, 0), w0 = 1 - fg, w1 = fg - fr, w2 = fr - fb, w3 = fb; }
    }
    for (int c = 0; c < 3; ++c) rgb[c] = w0 * c000[c] + w1 * a[c] + w2 * b[c] + w3 * c111[c];
}

}  // namespace obscura
