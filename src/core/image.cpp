#include "obscura/image.h"

namespace obscura {

Image oriented(Image in, int o) {
    if (o <= 1 || o > 8) return in;
    bool swap = o >= 5;  // 5..8 turn the picture by a quarter
    Image out;
    out.width = swap ? in.height : in.width;
    out.height = swap ? in.width : in.height;
    out.color_space = in.color_space;
    out.scene_peak = in.scene_peak;
    out.pixels.resize(in.pixels.size());
    for (int y = 0; y < out.height; ++y)
        for (int x = 0; x < out.width; ++x) {
            // Where the displayed (x, y) comes from in the stored picture.
            int sx = x, sy = y;
            switch (o) {
                case 2: sx = in.width - 1 - x; break;
                case 3: sx = in.width - 1 - x; sy = in.height - 1 - y; break;
                case 4: sy = in.height - 1 - y; break;
                case 5: sx = y; sy = x; break;
                case 6: sx = y; sy = in.height - 1 - x; break;
                case 7: sx = in.width - 1 - y; sy = in.height - 1 - x; break;
                case 8: sx = in.width - 1 - y; sy = x; break;
            }
            const uint16_t* s = &in.pixels[(size_t(sy) * in.width + sx) * 3];
            uint16_t* d = &out.pixels[(size_t(y) * out.width + x) * 3];
            d[0] = s[0], d[1] = s[1], d[2] = s[2];
        }
    return out;
}

}  // namespace obscura
