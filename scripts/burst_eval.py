#!/usr/bin/python3
"""Merges 8-frame handheld bursts of Kodak photos and scores them against the
truth: the merged burst (--look reference --denoise auto: the noise the
merge left taken off by its noise profile) and the reference frame developed
alone (--look reference), over the whole photo and over the band the moving object
crosses (the ghost test).

  scripts/burst_eval.py [--obscura build/bin/obscura] [--only 05,13,23]
                        [--strength S] [--denoise auto|off|S] [--work DIR] [--keep]

The bursts are made by mkdng.py (tests/tools or ../shared/tools; independent
of obscura's code): --frames 8 --motion 12 --mover, at noise S,O =
0.002,0.00002 ("mid") and 0.01,0.0002 ("high"). The bars are the issue's:
at least the fixed HDR+ peer's gain, never less than 3 dB, and >= 1 dB in
the mover's band. Exits 1 when a bar is missed.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

from eval_common import ROOT, SHARED, score, tool

NOISE = {"mid": "0.002,0.00002", "high": "0.01,0.0002"}
PEER_GAIN = {("05", "mid"): 1.74, ("05", "high"): 4.08, ("13", "mid"): 1.50, ("13", "high"): 3.95,
             ("23", "mid"): 4.86, ("23", "high"): 6.91}


def photo(k):
    for d in (os.path.join(ROOT, "tests", "data"), os.path.join(SHARED, "data", "kodak")):
        p = os.path.join(d, "kodim%s.png" % k)
        if os.path.exists(p):
            return p
    sys.exit("burst_eval: kodim%s.png not found" % k)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--obscura", default=os.path.join(ROOT, "build", "bin", "obscura"))
    ap.add_argument("--only", default="05,13,23")
    ap.add_argument("--strength", default=None)
    ap.add_argument("--denoise", default="auto", help="the merge's --denoise (default auto: what shipping does)")
    ap.add_argument("--work", default=None)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    work = a.work or tempfile.mkdtemp(prefix="burst_eval.")
    failed = 0
    print("| burst | single dB | merged dB | gain | bar | mover band single / merged | merge s |")
    print("|---|---|---|---|---|---|---|")
    for k in a.only.split(","):
        for level in ("mid", "high"):
            d = os.path.join(work, "k%s_%s" % (k, level))
            if not os.path.exists(os.path.join(d, "truth.json")):
                subprocess.run(["/usr/bin/python3", tool("mkdng.py"), photo(k), d, "--frames", "8", "--noise",
                                NOISE[level], "--motion", "12", "--mover"], check=True, capture_output=True)
            frames = sorted(os.path.join(d, f) for f in os.listdir(d) if f.startswith("frame_"))
            truth = os.path.join(d, "truth.png")
            single, merged = os.path.join(d, "single.png"), os.path.join(d, "merged.png")
            subprocess.run([a.obscura, "develop", frames[0], "-o", single, "--look", "reference", "--overwrite"], check=True)
            cmd = [a.obscura, "burst", *frames, "-o", merged, "--look", "reference", "--denoise", a.denoise, "--reference", "0",
                   "--overwrite"]
            if a.strength:
                cmd += ["--strength", a.strength]
            t = time.time()
            subprocess.run(cmd, check=True, capture_output=True)
            seconds = time.time() - t
            from PIL import Image
            w, h = Image.open(truth).size
            # mkdng's mover: a (h/6 x w/6) patch starting at (h/3, w/3), sliding right.
            band = (h // 3, w // 3, h // 3 + h // 6, w)
            s, m = score(single, truth)["cpsnr"], score(merged, truth)["cpsnr"]
            bs, bm = score(single, truth, band)["cpsnr"], score(merged, truth, band)["cpsnr"]
            bar = max(3.0, PEER_GAIN.get((k, level), 3.0))
            ok = m - s >= bar and bm - bs >= 1.0
            failed += not ok
            print("| kodim%s %s | %.2f | %.2f | %+.2f | %+.2f | %.2f / %.2f (%+.2f) | %.2f |%s" %
                  (k, level, s, m, m - s, bar, bs, bm, bm - bs, seconds, "" if ok else " MISSED"))
            sys.stdout.flush()
    if not a.keep and not a.work:
        shutil.rmtree(work)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
