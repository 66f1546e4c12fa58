#!/usr/bin/python3
"""Fits the remosaic's green filters (src/sensor/remosaic_filters.inc).

For an n x n-cell CFA (quad n=2, nona n=3, hexadeca n=4; cells in a Bayer
arrangement, RGGB of cells) green is missing under every red and blue cell.
src/sensor/remosaic.cpp estimates it per pixel from
  - the K x K neighbourhood of the mosaic (white-balanced, gamma 1/2.5), and
  - three colour-difference estimates: along the row (Gh), along the column
    (Gv) and their blend weighted by how flat each direction is (G),
as one linear filter per position in the 2n x 2n repeat, fitted here by least
squares against the true green of photos mosaicked the same way.

Training photos: the even-numbered Kodak images (kodim02, 04, ..., 24) only,
so the odd-numbered ones (and tests/data: kodim05, 13, 19, 23) stay unseen.

  scripts/train_remosaic.py [KODAK_DIR] > src/sensor/remosaic_filters.inc
  scripts/train_remosaic.py --check KODAK_DIR   # held-out green PSNR per photo

Needs Debian's python3-numpy, python3-scipy and python3-pil.
"""
import sys
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image
from scipy.ndimage import convolve1d, uniform_filter

GAMMA = 2.5
BLEND_EPS = 1e-4
SIZES = {2: 9, 3: 11, 4: 9}  # n -> K (filter support; hexadeca 9: 11 scored ~0.15 dB more at ~0.11 s more per 200 MP)


def work_domain(path):
    s = np.asarray(Image.open(path).convert("RGB")).astype(np.float64) / 255
    lin = np.where(s <= 0.04045, s / 12.92, ((s + 0.055) / 1.055) ** 2.4)
    return lin ** (1 / GAMMA)


def colours(h, w, n):
    base = np.array([[0, 1], [1, 2]])
    return base[(np.arange(h) // n % 2)[:, None], (np.arange(w) // n % 2)[None, :]]


def along_rows(v, c, n):
    """Colour-difference estimate of green along each row, and the row gradient."""
    h, w = v.shape
    x = np.arange(w)
    s = x // n * n
    left, right = s - 1, s + n
    t = (x - s + 1) / (n + 1)
    lv, rv = v[:, np.clip(left, 0, w - 1)], v[:, np.clip(right, 0, w - 1)]
    other = np.where((left >= 0) & (right < w), lv * (1 - t) + rv * t, np.where(left >= 0, lv, rv))
    green = c == 1
    delta = np.where(green, v - other, other - v)  # green minus the cell's colour
    d = convolve1d(delta, np.ones(2 * n + 1) / (2 * n + 1), axis=1, mode="mirror")
    g = np.where(green, v, v + d)
    grad = np.zeros_like(v)
    grad[:, :-1] = np.where(c[:, 1:] == c[:, :-1], np.abs(v[:, 1:] - v[:, :-1]), 0) + np.abs(delta[:, 1:] - delta[:, :-1])
    return g, grad


def features(v, c, n):
    gh, eh = along_rows(v, c, n)
    gv, ev = along_rows(v.T, c.T, n)
    gv, ev = gv.T, ev.T
    eh = uniform_filter(eh, 2 * n + 1, mode="mirror")
    ev = uniform_filter(ev, 2 * n + 1, mode="mirror")
    wh, wv = 1 / (eh ** 2 + BLEND_EPS), 1 / (ev ** 2 + BLEND_EPS)
    return np.stack([(wh * gh + wv * gv) / (wh + wv), gh, gv], -1)


def design(v, c, n, k, py, px):
    p = 2 * n
    patch = sliding_window_view(np.pad(v, k // 2, mode="reflect"), (k, k))[py::p, px::p]
    f = features(v, c, n)[py::p, px::p]
    rows = patch.shape[0] * patch.shape[1]
    return np.concatenate([patch.reshape(rows, k * k), f.reshape(rows, 3), np.ones((rows, 1))], 1)


def fit(paths, n, lam=1e-6):
    k, p = SIZES[n], 2 * n
    ata, atb = {}, {}
    for path in paths:
        t = work_domain(path)
        h, w = (t.shape[0] // p) * p, (t.shape[1] // p) * p
        t = t[:h, :w]
        c = colours(h, w, n)
        v = np.take_along_axis(t, c[..., None], 2)[..., 0]
        for py in range(p):
            for px in range(p):
                if c[py, px] == 1:
                    continue
                a = design(v, c, n, k, py, px)
                b = t[py::p, px::p, 1].ravel()
                ata[py, px] = ata.get((py, px), 0) + a.T @ a
                atb[py, px] = atb.get((py, px), 0) + a.T @ b
    taps = k * k + 4
    out = np.zeros((p, p, taps))
    for key in ata:
        out[key] = np.linalg.solve(ata[key] + lam * np.eye(taps), atb[key])
    return out


def literal(x):
    text = f"{x:.9g}"
    return text + ("f" if any(ch in text for ch in ".e") else ".0f")


def main():
    args = sys.argv[1:]
    check = "--check" in args
    args = [a for a in args if a != "--check"]
    kodak = args[0] if args else "../shared/data/kodak"
    train = [f"{kodak}/kodim{i:02d}.png" for i in range(2, 25, 2)]
    if check:
        for n in SIZES:
            coef = fit(train, n)
            for i in range(1, 25, 2):
                t = work_domain(f"{kodak}/kodim{i:02d}.png")
                p = 2 * n
                h, w = (t.shape[0] // p) * p, (t.shape[1] // p) * p
                t = t[:h, :w]
                c = colours(h, w, n)
                v = np.take_along_axis(t, c[..., None], 2)[..., 0]
                g = v.copy()
                for py in range(p):
                    for px in range(p):
                        if c[py, px] != 1:
                            g[py::p, px::p] = (design(v, c, n, SIZES[n], py, px) @ coef[py, px]).reshape(g[py::p, px::p].shape)
                err = (g - t[..., 1])[8:-8, 8:-8]
                print(f"n={n} kodim{i:02d} green {10 * np.log10(1 / np.mean(err ** 2)):.2f} dB", flush=True)
        return
    print("// Generated by scripts/train_remosaic.py (least squares on the even-numbered")
    print("// Kodak photos); do not edit. Per n: [2n][2n][K*K + 4] = K x K mosaic taps")
    print("// (row-major), then the blended, row and column colour-difference greens, then")
    print("// a constant. Rows of green sites are zero (green is kept there).")
    for n, name in ((2, "kQuad"), (3, "kNona"), (4, "kHexadeca")):
        coef = fit(train, n)
        k, p = SIZES[n], 2 * n
        print(f"constexpr int {name}Support = {k};")
        print(f"constexpr float {name}Filter[{p}][{p}][{k * k + 4}] = {{")
        for py in range(p):
            print("  {")
            for px in range(p):
                print("    {" + ", ".join(literal(x) for x in coef[py, px]) + "},")
            print("  },")
        print("};")


if __name__ == "__main__":
    main()
