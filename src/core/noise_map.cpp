#include "core/noise_map.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

namespace obscura {
namespace {

constexpr char kMagic[16] = {'o', 'b', 's', 'c', 'u', 'r', 'a', 0, 'N', 'o', 'i', 's', 'e', 'M', 'a', 'p'};
constexpr size_t kHeader = 16 + 4 * 3 + 8 * 2;
constexpr size_t kTagLimit = 65535;  // libtiff's count for DNGPrivateData is 16 bits
constexpr double kCodesPerStop = 32;
constexpr double kLargestStep = 1e6, kFarthestOrigin = 1e6;  // (raw pixels: sane ones only)

void put_u32(std::vector<uint8_t>& out, uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(uint8_t(v >> (8 * i)));
}
void put_f64(std::vector<uint8_t>& out, double v) {
    const uint64_t bits = std::bit_cast<uint64_t>(v);
    for (int i = 0; i < 8; ++i) out.push_back(uint8_t(bits >> (8 * i)));
}
uint32_t get_u32(const uint8_t* p) { return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24; }
double get_f64(const uint8_t* p) {
    uint64_t bits = 0;
    for (int i = 0; i < 8; ++i) bits |= uint64_t(p[i]) << (8 * i);
    return std::bit_cast<double>(bits);
}

bool usable_grid(double step, double origin) { return step >= 1 && step < kLargestStep && std::abs(origin) < kFarthestOrigin; }

}  // namespace

bool has_noise_map(const NoiseProfile& noise) {
    return !noise.map.empty() && noise.map_width > 0 && noise.map_height > 0 &&
           noise.map.size() == size_t(noise.map_width) * size_t(noise.map_height) && usable_grid(noise.map_step, noise.map_origin);
}

std::vector<uint8_t> noise_map_private_data(const NoiseProfile& noise) {
    if (!has_noise_map(noise)) return {};
    const int w = noise.map_width, h = noise.map_height;
    int k = 1;
    while (size_t((w + k - 1) / k) * size_t((h + k - 1) / k) + kHeader > kTagLimit) ++k;
    const int cw = (w + k - 1) / k, ch = (h + k - 1) / k;
    std::vector<uint8_t> out(kMagic, kMagic + 16);
    put_u32(out, 1), put_u32(out, uint32_t(cw)), put_u32(out, uint32_t(ch));
    put_f64(out, noise.map_step * k), put_f64(out, noise.map_origin);
    for (int gy = 0; gy < ch; ++gy)
        for (int gx = 0; gx < cw; ++gx) {
            // (The largest of the points this one stands for, centred on it.)
            float v = 1;
            for (int y = std::max(0, gy * k - k / 2); y <= std::min(h - 1, gy * k + k / 2); ++y)
                for (int x = std::max(0, gx * k - k / 2); x <= std::min(w - 1, gx * k + k / 2); ++x)
                    v = std::max(v, noise.map[size_t(y) * w + x]);
            out.push_back(uint8_t(std::clamp(std::lround(std::log2(double(v)) * kCodesPerStop), 0L, 255L)));
        }
    return out;
}

bool read_noise_map_private_data(const uint8_t* data, size_t size, NoiseProfile& noise) {
    if (!data || size < kHeader || std::memcmp(data, kMagic, 16) != 0 || get_u32(data + 16) != 1) return false;
    const uint32_t w = get_u32(data + 20), h = get_u32(data + 24);
    const double step = get_f64(data + 28), origin = get_f64(data + 36);
    if (w < 1 || h < 1 || w > kTagLimit || h > kTagLimit || size - kHeader != size_t(w) * size_t(h)) return false;
    if (!usable_grid(step, origin)) return false;
    noise.map.resize(size_t(w) * h);
    for (size_t i = 0; i < noise.map.size(); ++i) noise.map[i] = float(std::exp2(data[kHeader + i] / kCodesPerStop));
    noise.map_width = int(w), noise.map_height = int(h), noise.map_step = step, noise.map_origin = origin;
    return true;
}

}  // namespace obscura
