#include "obscura/opcodes.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "obscura/error.h"

namespace obscura {
namespace {

// Big-endian reads with the bounds checked against one opcode's parameters.
class Reader {
public:
    Reader(const uint8_t* p, size_t n, const std::string& source, const char* what)
        : p_(p), n_(n), source_(source), what_(what) {}
    uint32_t u32() {
        need(4);
        uint32_t v = uint32_t(p_[at_]) << 24 | uint32_t(p_[at_ + 1]) << 16 | uint32_t(p_[at_ + 2]) << 8 | p_[at_ + 3];
        at_ += 4;
        return v;
    }
    double f64() {
        need(8);
        uint64_t v = 0;
        for (int i = 0; i < 8; ++i) v = v << 8 | p_[at_ + i];
        at_ += 8;
        double d;
        std::memcpy(&d, &v, 8);
        return d;
    }
    float f32() {
        uint32_t v = u32();
        float f;
        std::memcpy(&f, &v, 4);
        return f;
    }
    size_t left() const { return n_ - at_; }
    [[noreturn]] void fail(const std::string& why) const {
        throw file_error(source_, std::string("DNG opcode ") + what_ + ": " + why);
    }

private:
    void need(size_t k) const {
        if (at_ + k > n_) fail("parameters are shorter than they say");
    }
    const uint8_t* p_;
    size_t n_, at_ = 0;
    const std::string& source_;
    const char* what_;
};

double finite(Reader& r, double v) {
    if (!std::isfinite(v)) r.fail("a parameter is not a finite number");
    return v;
}

GainMap read_gain_map(Reader& r) {
    GainMap g;
    g.top = r.u32(), g.left = r.u32(), g.bottom = r.u32(), g.right = r.u32();
    g.plane = r.u32(), g.planes = r.u32(), g.row_pitch = r.u32(), g.col_pitch = r.u32();
    g.points_v = r.u32(), g.points_h = r.u32();
    g.spacing_v = finite(r, r.f64()), g.spacing_h = finite(r, r.f64());
    g.origin_v = finite(r, r.f64()), g.origin_h = finite(r, r.f64());
    g.map_planes = r.u32();
    if (g.bottom <= g.top || g.right <= g.left) r.fail("empty area");
    if (g.row_pitch == 0 || g.col_pitch == 0 || g.planes == 0 || g.map_planes == 0) r.fail("zero pitch or plane count");
    if (g.points_v == 0 || g.points_h == 0 || g.points_v > 4096 || g.points_h > 4096 || g.map_planes > 16)
        r.fail("map of " + std::to_string(g.points_v) + " x " + std::to_string(g.points_h) + " points is out of range");
    if ((g.points_v > 1 && !(g.spacing_v > 0)) || (g.points_h > 1 && !(g.spacing_h > 0))) r.fail("map spacing must be positive");
    size_t n = size_t(g.points_v) * g.points_h * g.map_planes;
    if (r.left() < n * 4) r.fail("fewer gains than the map has points");
    g.gains.resize(n);
    for (auto& v : g.gains) {
        v = r.f32();
        if (!std::isfinite(v) || v < 0 || v > 1e4) r.fail("a gain is not a finite non-negative number");
    }
    return g;
}

VignetteRadial read_vignette(Reader& r) {
    VignetteRadial v;
    for (auto& k : v.k) k = finite(r, r.f64());
    v.cx = finite(r, r.f64()), v.cy = finite(r, r.f64());
    return v;
}

WarpRectilinear read_warp(Reader& r) {
    WarpRectilinear w;
    w.planes = r.u32();
    if (w.planes != 1 && w.planes != 3) r.fail("needs 1 or 3 planes, not " + std::to_string(w.planes));
    for (uint32_t p = 0; p < w.planes; ++p)
        for (auto& c : w.coef[p]) c = finite(r, r.f64());
    for (uint32_t p = w.planes; p < 3; ++p) w.coef[p] = w.coef[0];
    w.cx = finite(r, r.f64()), w.cy = finite(r, r.f64());
    return w;
}

}  // namespace

double GainMap::at(double rv, double rh, uint32_t p) const {
    auto axis = [](double rel, double origin, double spacing, uint32_t points, uint32_t& i0, double& t) {
        double m = points > 1 ? (rel - origin) / spacing : 0;
        m = std::clamp(m, 0.0, double(points - 1));
        i0 = std::min(uint32_t(m), points > 1 ? points - 2 : 0);
        t = points > 1 ? m - i0 : 0;
    };
    uint32_t v0, h0;
    double tv, th;
    axis(rv, origin_v, spacing_v, points_v, v0, tv);
    axis(rh, origin_h, spacing_h, points_h, h0, th);
    p = std::min(p, map_planes - 1);
    auto g = [&](uint32_t v, uint32_t h) {
        v = std::min(v, points_v - 1), h = std::min(h, points_h - 1);
        return double(gains[(size_t(v) * points_h + h) * map_planes + p]);
    };
    return (1 - tv) * ((1 - th) * g(v0, h0) + th * g(v0, h0 + 1)) + tv * ((1 - th) * g(v0 + 1, h0) + th * g(v0 + 1, h0 + 1));
}

bool GainMap::covers(uint32_t x, uint32_t y) const {
    return y >= top && y < bottom && x >= left && x < right && (y - top) % row_pitch == 0 && (x - left) % col_pitch == 0;
}

double VignetteRadial::gain(double x, double y, double width, double height) const {
    double cxp = cx * (width - 1), cyp = cy * (height - 1);
    double mx = std::max(cxp, width - 1 - cxp), my = std::max(cyp, height - 1 - cyp);
    double m2 = mx * mx + my * my;
    double r2 = m2 > 0 ? ((x - cxp) * (x - cxp) + (y - cyp) * (y - cyp)) / m2 : 0;
    double g = 1, rp = r2;
    for (double k : this->k) g += k * rp, rp *= r2;
    return g;
}

const char* opcode_name(uint32_t id) {
    static const char* names[] = {"?",
                                  "WarpRectilinear",
                                  "WarpFisheye",
                                  "FixVignetteRadial",
                                  "FixBadPixelsConstant",
                                  "FixBadPixelsList",
                                  "TrimBounds",
                                  "MapTable",
                                  "MapPolynomial",
                                  "GainMap",
                                  "DeltaPerRow",
                                  "DeltaPerColumn",
                                  "ScalePerRow",
                                  "ScalePerColumn",
                                  "WarpRectilinear2"};
    return id >= 1 && id < sizeof names / sizeof *names ? names[id] : "unknown";
}

std::vector<Opcode> parse_opcode_list(const std::vector<uint8_t>& list, const std::string& source) {
    std::vector<Opcode> out;
    if (list.empty()) return out;
    Reader head(list.data(), list.size(), source, "list");
    uint32_t count = head.u32();
    if (count > 4096) head.fail(std::to_string(count) + " opcodes is not a plausible count");
    size_t at = 4;
    for (uint32_t i = 0; i < count; ++i) {
        if (list.size() - at < 16) head.fail("list ends inside an opcode header");
        Reader h(list.data() + at, 16, source, "header");
        Opcode op;
        op.id = h.u32();
        h.u32();  // the DNG version the opcode was written for
        uint32_t flags = h.u32(), bytes = h.u32();
        at += 16;
        if (bytes > list.size() - at) head.fail("parameters run past the end of the list");
        op.name = opcode_name(op.id);
        op.optional = flags & 1;
        op.preview_only = flags & 2;
        Reader r(list.data() + at, bytes, source, op.name.c_str());
        switch (op.id) {
            case 9: op.params = read_gain_map(r); break;
            case 3: op.params = read_vignette(r); break;
            case 1: op.params = read_warp(r); break;
            default: break;
        }
        op.record.assign(list.begin() + long(at) - 16, list.begin() + long(at + bytes));
        at += bytes;
        out.push_back(std::move(op));
    }
    return out;
}

namespace {

// Big-endian, as DNG stores opcodes whatever the file's byte order.
void put_u32(std::vector<uint8_t>& out, uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(uint8_t(v >> shift));
}

void put_f64(std::vector<uint8_t>& out, double v) {
    uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(uint8_t(bits >> shift));
}

}  // namespace

std::vector<uint8_t> gain_map_record(const GainMap& g, bool optional) {
    std::vector<uint8_t> params;
    for (uint32_t v : {g.top, g.left, g.bottom, g.right, g.plane, g.planes, g.row_pitch, g.col_pitch, g.points_v, g.points_h})
        put_u32(params, v);
    for (double v : {g.spacing_v, g.spacing_h, g.origin_v, g.origin_h}) put_f64(params, v);
    put_u32(params, g.map_planes);
    for (float v : g.gains) {
        uint32_t bits;
        std::memcpy(&bits, &v, sizeof bits);
        put_u32(params, bits);
    }
    std::vector<uint8_t> out;
    out.reserve(16 + params.size());
    put_u32(out, 9);
    put_u32(out, 0x01030000);  // written for DNG 1.3.0.0
    put_u32(out, optional ? 1 : 0);
    put_u32(out, uint32_t(params.size()));
    out.insert(out.end(), params.begin(), params.end());
    return out;
}

std::vector<uint8_t> opcode_list(const std::vector<std::vector<uint8_t>>& records) {
    std::vector<uint8_t> out;
    put_u32(out, uint32_t(records.size()));
    for (const auto& r : records) out.insert(out.end(), r.begin(), r.end());
    return out;
}

}  // namespace obscura
