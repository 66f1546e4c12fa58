// Index mirroring for padding past an image's edge.
#pragma once

namespace obscura {

// i mirrored into [0, n) without repeating the edge sample (numpy's
// "reflect": -1 -> 1, n -> n - 2), periodic for any distance. It keeps the
// parity of i, so a mirrored CFA sample keeps its colour.
inline int mirror_index(int i, int n) {
    if (n == 1) return 0;
    const int period = 2 * (n - 1);
    i %= period;
    if (i < 0) i += period;
    return i < n ? i : period - i;
}

}  // namespace obscura
