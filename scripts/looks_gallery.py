#!/usr/bin/python3
"""Develops one photo in every shipped look (and once with the frame) into
docs/looks/, the pictures the README shows, and prints how each look
changes the photo against `reference`: mean chroma (max - min of RGB), 10th
and 50th percentile of luminance, and the corner/centre luminance ratio.

  scripts/looks_gallery.py [--obscura build/bin/obscura] [--photo tests/data/kodim23.png]
                           [--out docs/looks] [--width 384]

The RAW is made by tests/tools/mkdng.py from the photo scaled to --width,
with 60% lens shading (GainMap opcodes), so the looks that keep or correct
the lens's vignetting differ visibly; frame.jpg is the default look with
--frame, on the same RAW given EXIF by tests/tools/dng_variants.py --exif.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LOOKS = ["reference", "authentic", "vibrant", "natural", "vivid", "mono", "mono-hc", "sepia", "blue"]


def measures(path):
    a = np.asarray(Image.open(path).convert("RGB")).astype(np.float64) / 255.0
    chroma = (a.max(axis=2) - a.min(axis=2)).mean()
    luma = 0.2126 * a[..., 0] + 0.7152 * a[..., 1] + 0.0722 * a[..., 2]
    h, w = luma.shape
    b = min(h, w) // 8
    corners = np.mean([luma[:b, :b].mean(), luma[:b, -b:].mean(), luma[-b:, :b].mean(), luma[-b:, -b:].mean()])
    centre = luma[(h - b) // 2:(h + b) // 2, (w - b) // 2:(w + b) // 2].mean()
    return chroma, np.percentile(luma, 10), np.percentile(luma, 50), corners / centre


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--obscura", default=os.path.join(ROOT, "build", "bin", "obscura"))
    ap.add_argument("--photo", default=os.path.join(ROOT, "tests", "data", "kodim23.png"))
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "looks"))
    ap.add_argument("--width", type=int, default=384)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        src = Image.open(a.photo).convert("RGB")
        small = src.resize((a.width, round(src.height * a.width / src.width / 2) * 2), Image.LANCZOS)
        png, dng = os.path.join(tmp, "photo.png"), os.path.join(tmp, "photo.dng")
        small.save(png)
        subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "tests", "tools", "mkdng.py"), png, dng, "--shading", "0.6",
                        "--noise", "0.0004,0.000002"], check=True)
        print("| look | mean chroma | luminance p10 | p50 | corner/centre |")
        print("|---|---|---|---|---|")
        for look in LOOKS:
            out = os.path.join(a.out, look + ".jpg")
            subprocess.run([a.obscura, "develop", dng, "-o", out, "--look", look, "--quality", "85", "--overwrite"], check=True)
            c, p10, p50, cr = measures(out)
            print("| %s | %.3f | %.3f | %.3f | %.2f |" % (look, c, p10, p50, cr))
        # The frame needs a shot to describe: the same RAW with EXIF (camera,
        # lens, exposure, date) added by the test-file tool.
        shot = os.path.join(tmp, "shot.dng")
        subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "tests", "tools", "dng_variants.py"), dng, shot, "--exif"],
                       check=True)
        subprocess.run([a.obscura, "develop", shot, "-o", os.path.join(a.out, "frame.jpg"), "--frame", "--quality", "85",
                        "--overwrite"], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
