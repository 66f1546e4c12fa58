#!/usr/bin/python3
"""How far classical second stages would take the mosaic denoise at high
noise (issue 20's 29.4 dB bar), measured in numpy on the issue's Kodak DNGs.

Re-implements obscura's mosaic non-local means (src/develop/denoise_gen.cpp:
generalised Anscombe per site, four orthonormal quad channels, 7x7 quads
searched, 1-2-1 patches, h 1.25, chroma weight 0.4) -- it scores what the
kernel scores -- and adds, with it as the pilot:
  wiener  an empirical Wiener stage on sliding 8x8 DCT blocks (BM3D's second
          step without grouping);
  group   BM3D's second step: per reference block the 16 most alike blocks
          within +-8 quads (by the pilot), a 3-D DCT, Wiener against the
          pilot's group, aggregated by 1 / sum W^2.
The result goes back into the raw (the Python module's writable raw_image)
and is developed with --look reference and no denoise, scored against the
photo. Slow (numpy): about 15 s a photo for `group`.

  scripts/denoise_probe.py DNG_DIR [--level high] [--photos 01,03,...] [--stages nlm,wiener,group]

DNG_DIR holds kNN_LEVEL.dng as scripts/denoise_eval.py makes them.
"""
import argparse
import os
import sys

import numpy as np
from PIL import Image

from eval_common import ROOT, SHARED

sys.path.insert(0, os.path.join(ROOT, "build", "python"))
import obscura  # noqa: E402

H, CHROMA, RADIUS = 1.25, 0.4, 3


def nlm(ch):
    """obscura's non-local means over the quads' channels ch (4, h, w)."""
    _, h, w = ch.shape
    pad = RADIUS + 1
    p = np.pad(ch, ((0, 0), (pad, pad), (pad, pad)), mode="reflect")
    centre = p[:, pad - 1:pad + h + 1, pad - 1:pad + w + 1]
    num, den = np.zeros_like(ch), np.zeros((h, w))
    for oy in range(-RADIUS, RADIUS + 1):
        for ox in range(-RADIUS, RADIUS + 1):
            q = p[:, pad + oy - 1:pad + oy + h + 1, pad + ox - 1:pad + ox + w + 1]
            d = (centre - q) ** 2
            diff = d[0] + CHROMA * (d[1] + d[2] + d[3])
            rows = diff[:, :-2] + 2 * diff[:, 1:-1] + diff[:, 2:]
            d2 = (rows[:-2] + 2 * rows[1:-1] + rows[2:]) / (16 * (1 + 3 * CHROMA))
            wt = np.exp(-np.maximum(d2 - 1.5, 0) / (H * H))
            num += wt * q[:, 1:-1, 1:-1]
            den += wt
    return num / den


def dct_matrix(n):
    k = np.arange(n)
    m = np.cos(np.pi * (2 * k[None, :] + 1) * k[:, None] / (2 * n)) * np.sqrt(2 / n)
    m[0] /= np.sqrt(2)
    return m


def wiener(noisy, pilot, block=8):
    """Sliding-block DCT Wiener of one channel (noise variance 1) against the pilot."""
    from numpy.lib.stride_tricks import sliding_window_view as windows
    d = dct_matrix(block)
    nb, pb = windows(noisy, (block, block)), windows(pilot, (block, block))
    nc, pc = d @ nb @ d.T, d @ pb @ d.T
    w = pc ** 2 / (pc ** 2 + 1.0)
    est = d.T @ (w * nc) @ d
    weight = 1.0 / np.maximum((w ** 2).sum(axis=(-1, -2)), 1e-3)
    out, total = np.zeros(noisy.shape), np.zeros(noisy.shape)
    ys, xs = nb.shape[:2]
    for i in range(block):
        for j in range(block):
            out[i:i + ys, j:j + xs] += weight * est[:, :, i, j]
            total[i:i + ys, j:j + xs] += weight
    return out / total


def grouped(noisy, pilot, block=8, group=16, window=8, step=3):
    """BM3D's Wiener step over groups of alike blocks (all channels grouped by the pilot's luminance)."""
    c, h, width = noisy.shape
    ny, nx = h - block + 1, width - block + 1
    ry = np.unique(np.append(np.arange(0, ny, step), ny - 1))
    rx = np.unique(np.append(np.arange(0, nx, step), nx - 1))
    ry, rx = [a.ravel() for a in np.meshgrid(ry, rx, indexing="ij")]
    offsets = [(dy, dx) for dy in range(-window, window + 1) for dx in range(-window, window + 1)]
    dist = np.full((len(offsets), len(ry)), np.inf, dtype=np.float32)
    luma = pilot[0]
    for i, (dy, dx) in enumerate(offsets):
        sq = (luma - np.roll(np.roll(luma, -dy, 0), -dx, 1)) ** 2
        ii = np.pad(sq.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
        sums = ii[block:, block:] - ii[:-block, block:] - ii[block:, :-block] + ii[:-block, :-block]
        ty, tx = ry + dy, rx + dx
        inside = (ty >= 0) & (ty < ny) & (tx >= 0) & (tx < nx)
        dist[i] = np.where(inside, sums[ry, rx], np.inf)
    pick = np.argpartition(dist, group - 1, axis=0)[:group]
    gy = ry[None, :] + np.array([o[0] for o in offsets])[pick]
    gx = rx[None, :] + np.array([o[1] for o in offsets])[pick]
    span = np.arange(block)
    yy, xx = gy[:, :, None, None] + span[None, None, :, None], gx[:, :, None, None] + span[None, None, None, :]
    d, dg = dct_matrix(block), dct_matrix(group)
    estimates, energy = [], 0
    for ch in range(c):
        nt = np.einsum("ak,knij->anij", dg, np.einsum("ij,knjl,ml->knim", d, noisy[ch][yy, xx], d))
        pt = np.einsum("ak,knij->anij", dg, np.einsum("ij,knjl,ml->knim", d, pilot[ch][yy, xx], d))
        wt = pt ** 2 / (pt ** 2 + 1.0)
        energy = energy + (wt ** 2).sum(axis=(0, 2, 3))
        estimates.append(np.einsum("ji,knjl,lm->knim", d, np.einsum("ak,anij->knij", dg, wt * nt), d))
    weight = 1.0 / np.maximum(energy, 1e-6)
    out, total = np.zeros((c, h, width)), np.zeros((h, width))
    for ch in range(c):
        np.add.at(out[ch], (yy, xx), weight[None, :, None, None] * estimates[ch])
    np.add.at(total, (yy, xx), np.broadcast_to(weight[None, :, None, None], yy.shape))
    return out / total


def score(dng, photo, stage):
    raw = obscura.imread(dng)
    if list(raw.raw_pattern.ravel()) != [0, 1, 1, 2]:
        sys.exit("denoise_probe: RGGB files only")
    black, white = raw.black_level_per_channel[0], raw.white_level
    s, o = raw.noise_profile[0]
    c = 0.375 * s * s + o
    x = (raw.raw_image.astype(np.float64) - black) / (white - black)
    y = 2 * x / (np.sqrt(np.maximum(s * x + c, 0)) + np.sqrt(c))
    k = 1 / np.sqrt(2)
    r, gr, gb, b = y[0::2, 0::2], y[0::2, 1::2], y[1::2, 0::2], y[1::2, 1::2]
    ch = np.stack([(r + gr + gb + b) / 2, (r - b) * k, (gr - gb) * k, (r + b - gr - gb) / 2])
    est = nlm(ch)
    if stage == "wiener":
        est = np.stack([wiener(ch[i], est[i]) for i in range(4)])
    elif stage == "group":
        est = grouped(ch, est)
    a, bb, cc, dd = est
    out = np.empty_like(y)
    out[0::2, 0::2], out[0::2, 1::2] = 0.5 * a + k * bb + 0.5 * dd, 0.5 * a + k * cc - 0.5 * dd
    out[1::2, 0::2], out[1::2, 1::2] = 0.5 * a - k * cc - 0.5 * dd, 0.5 * a - k * bb + 0.5 * dd
    xo = 0.25 * s * out * out + np.sqrt(c) * out + 0.25 * s
    raw.raw_image[...] = np.clip(xo * (white - black) + black + 0.5, 0, 65535).astype(np.uint16)
    img = raw.postprocess(look="reference", denoise="off").astype(float)[8:-8, 8:-8]
    truth = np.asarray(Image.open(photo).convert("RGB")).astype(float)[8:-8, 8:-8]
    return 10 * np.log10(255 ** 2 / np.mean((img - truth) ** 2))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dngs")
    ap.add_argument("--level", default="high")
    ap.add_argument("--photos", default="01,03,05,08,13,15,19,23")
    ap.add_argument("--stages", default="nlm,wiener,group")
    a = ap.parse_args()
    for stage in a.stages.split(","):
        scores = [score(os.path.join(a.dngs, "k%s_%s.dng" % (n, a.level)),
                        os.path.join(SHARED, "data", "kodak", "kodim%s.png" % n), stage) for n in a.photos.split(",")]
        print("%-6s %s  mean %.3f dB" % (stage, " ".join("%.2f" % v for v in scores), np.mean(scores)), flush=True)


if __name__ == "__main__":
    main()
