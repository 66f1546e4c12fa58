#!/usr/bin/env python3
"""Exposure-bracket merges scored against the scene (issue 21's figures).

For each Kodak photo: mkdng (../shared/tools or tests/tools) writes a bracket
(EV 0/-4/+2, highlights 4 stops over white, 8 px of hand shake, noise
0.002,0.00002, seed 3NN) with the scene as truth.tiff; `obscura burst` merges
it into OpenEXR, read back by OpenEXR (exr_to_tiff). Scores:
  PSNR-mu: mu-law (mu = 5000) of both images divided by the truth's peak;
  stops over: mean |log2(ours / truth)| where the truth is over white (> 1);
  stops shadows: the same where it is below 5 % of white (and not 0).
The single EV 0 frame developed to OpenEXR is scored alongside.

  scripts/hdr_eval.py [--obscura build/bin/obscura] [--work DIR] [--photos 03,05,23]
"""
import argparse
import os
import subprocess
import sys

import numpy as np
import tifffile

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def mu_law(x, mu=5000.0):
    return np.log1p(mu * np.clip(x, 0, None)) / np.log1p(mu)


def scores(img, truth):
    peak = truth.max()
    a, b = mu_law(img / peak), mu_law(truth / peak)
    psnr = 10 * np.log10(1.0 / np.mean((a - b) ** 2))
    lum_t = truth.mean(axis=2)
    lum_i = np.clip(img.mean(axis=2), 1e-6, None)
    # (Stops are not defined where the scene is black: mkdng's truth has a
    # row of zeros at the bottom, which is left out.)
    err = np.abs(np.log2(lum_i / np.clip(lum_t, 1e-6, None)))
    over, dark = lum_t > 1, (lum_t < 0.05) & (lum_t > 0)
    over = err[over].mean() if over.any() else float("nan")
    shadows = err[dark].mean() if dark.any() else float("nan")
    return psnr, over, shadows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--obscura", default=os.path.join(root, "build/bin/obscura"))
    ap.add_argument("--exr-to-tiff", default=os.path.join(root, "build/bin/exr_to_tiff"))
    ap.add_argument("--work", default="/tmp/obscura_hdr_eval")
    ap.add_argument("--photos", default="03,05,23")
    ap.add_argument("--kodak", default=os.path.join(root, "..", "shared", "data", "kodak"))
    args = ap.parse_args()
    mkdng = os.path.join(root, "tests", "tools", "mkdng.py")
    os.makedirs(args.work, exist_ok=True)
    rows = []
    for k in args.photos.split(","):
        photo = os.path.join(args.kodak, f"kodim{k}.png")
        if not os.path.exists(photo):
            photo = os.path.join(root, "tests", "data", f"kodim{k}.png")
        d = os.path.join(args.work, f"k{k}")
        if not os.path.exists(os.path.join(d, "truth.tiff")):
            subprocess.run([sys.executable, mkdng, photo, d, "--frames", "3", "--ev=0,-4,2", "--hdr", "4", "--motion", "8",
                            "--noise", "0.002,0.00002", "--seed", f"3{k}"], check=True, stdout=subprocess.DEVNULL)
        truth = tifffile.imread(os.path.join(d, "truth.tiff")).astype(np.float64)
        frames = sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".dng"))
        result = {}
        for name, cmd in (("merge", ["burst", *frames]), ("EV 0", ["develop", frames[0]])):
            exr, tif = os.path.join(d, name.replace(" ", "") + ".exr"), os.path.join(d, name.replace(" ", "") + ".tif")
            subprocess.run([args.obscura, *cmd, "-o", exr, "--overwrite"], check=True, stdout=subprocess.DEVNULL)
            subprocess.run([args.exr_to_tiff, exr, tif], check=True)
            result[name] = scores(tifffile.imread(tif).astype(np.float64), truth)
        rows.append((k, result))
        for name, (p, o, s) in result.items():
            print(f"kodim{k} {name:6s} PSNR-mu {p:6.2f} dB   stops over white {o:5.3f}   stops in shadows {s:5.3f}")
    for name in ("merge", "EV 0"):
        m = np.mean([r[name] for _, r in rows], axis=0)
        print(f"mean   {name:6s} PSNR-mu {m[0]:6.2f} dB   stops over white {m[1]:5.3f}   stops in shadows {m[2]:5.3f}")


if __name__ == "__main__":
    main()
