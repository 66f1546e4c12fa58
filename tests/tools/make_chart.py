#!/usr/bin/python3
"""Straight-line test chart and its lens-distorted version, for the
WarpRectilinear test: dark lines every 32 pixels on light grey.

  make_chart.py IDEAL.png DISTORTED.png --kr 1,0.06,0,0 [--size 768x512]
                [--kr-red 1.004,0.06,0,0 --kr-blue 0.996,0.06,0,0]   # lateral CA

DISTORTED is what a lens whose DNG WarpRectilinear (centre 0.5, 0.5, radial
kr0..kr3) corrects would have recorded: for each recorded pixel s, the scene
point d with W(d) = s (W(d) = d * (kr0 + kr1 r^2 + kr2 r^4 + kr3 r^6), in units
of the centre-corner distance), found by fixed-point iteration.
"""
import argparse

import numpy as np
from PIL import Image


def chart(x, y):
    """Anti-aliased lines 3 px wide at multiples of 32 (x, y: float arrays)."""
    def lines(t):
        d = np.abs(((t + 16) % 32) - 16)  # distance to the nearest multiple of 32
        return np.clip(2.0 - d, 0, 1)     # 1 inside |d| <= 1, ramps off by 2
    dark = np.maximum(lines(x), lines(y))
    return 0.8 - 0.7 * dark


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ideal")
    ap.add_argument("distorted")
    ap.add_argument("--kr", default="1,0.06,0,0")
    ap.add_argument("--kr-red", default=None, help="red plane's kr (lateral chromatic aberration)")
    ap.add_argument("--kr-blue", default=None, help="blue plane's kr")
    ap.add_argument("--size", default="768x512")
    a = ap.parse_args()
    w, h = map(int, a.size.split("x"))
    kr = [float(v) for v in a.kr.split(",")]
    planes = [[float(v) for v in (p or a.kr).split(",")] for p in (a.kr_red, a.kr, a.kr_blue)]
    cx, cy = 0.5 * (w - 1), 0.5 * (h - 1)
    m = np.hypot(max(cx, w - 1 - cx), max(cy, h - 1 - cy))
    ss = 4  # supersampling
    o = (np.arange(ss) + 0.5) / ss - 0.5
    ys, xs = np.mgrid[0:h, 0:w].astype(float)
    ideal = np.zeros((h, w))
    distorted = np.zeros((h, w, 3))
    for oy in o:
        for ox in o:
            ideal += chart(xs + ox, ys + oy)
            sx, sy = (xs + ox - cx) / m, (ys + oy - cy) / m
            for c, k in enumerate(planes):
                dx, dy = sx.copy(), sy.copy()
                for _ in range(30):
                    r2 = dx * dx + dy * dy
                    f = k[0] + r2 * (k[1] + r2 * (k[2] + r2 * k[3]))
                    dx, dy = sx / f, sy / f
                distorted[..., c] += chart(dx * m + cx, dy * m + cy)
    ideal = np.stack([ideal] * 3, -1)
    for img, path in ((ideal, a.ideal), (distorted, a.distorted)):
        v = np.clip(img / (ss * ss), 0, 1)
        Image.fromarray((v * 255 + 0.5).astype(np.uint8)).save(path)


if __name__ == "__main__":
    main()
