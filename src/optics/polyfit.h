// Small least-squares polynomial fits for lens models.
#pragma once
#include <array>
#include <cmath>
#include <vector>

namespace obscura {

// Least squares for y = sum_k a_k * x^(first + step k), k < N (normal equations).
template <int N>
inline std::array<double, N> fit_powers(const std::vector<double>& x, const std::vector<double>& y, int step, int first) {
    double m[N][N + 1] = {};
    for (size_t s = 0; s < x.size(); ++s) {
        double basis[N];
        for (int k = 0; k < N; ++k) basis[k] = std::pow(x[s], first + step * k);
        for (int r = 0; r < N; ++r) {
            for (int c = 0; c < N; ++c) m[r][c] += basis[r] * basis[c];
            m[r][N] += basis[r] * y[s];
        }
    }
    for (int c = 0; c < N; ++c) {  // Gauss-Jordan with partial pivoting
        int p = c;
        for (int r = c + 1; r < N; ++r)
            if (std::abs(m[r][c]) > std::abs(m[p][c])) p = r;
        for (int k = 0; k <= N; ++k) std::swap(m[c][k], m[p][k]);
        for (int r = 0; r < N; ++r) {
            if (r == c || m[c][c] == 0) continue;
            double f = m[r][c] / m[c][c];
            for (int k = 0; k <= N; ++k) m[r][k] -= f * m[c][k];
        }
    }
    std::array<double, N> a{};
    for (int k = 0; k < N; ++k) a[k] = m[k][k] != 0 ? m[k][N] / m[k][k] : 0;
    return a;
}


}  // namespace obscura
