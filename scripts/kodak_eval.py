#!/usr/bin/python3
"""Develops the Kodak suite made into DNGs with mixed Bayer layouts, bit
depths, black levels and camera gains, and scores each result against the
original photo (CPSNR, CIEDE2000; 8-pixel border dropped).

  scripts/kodak_eval.py [--obscura build/bin/obscura] [--kodak DIR] [--work DIR]
                        [--only 01,05] [--look reference] [--peers]
  scripts/kodak_eval.py --bench [--only ...]   # the same DNGs through
                        `obscura bench demosaic`: every method and the peers

The DNGs are made by shared/tools/mkdng.py (independent of obscura's code).
With --peers, dcraw_emu (-q 3 and -q 11) and darktable-cli develop the same files.
"""
import argparse
import os
import subprocess
import sys
import time

from eval_common import ROOT, SHARED, score, tool

LAYOUTS = ["RGGB", "BGGR", "GRBG", "GBRG"]
BITS = [12, 14, 16]
GAINS = ["0.55,1.0,0.75", "0.45,1.0,0.62", "0.7,1.0,0.5", "0.5,1.0,0.9"]


def kodak_dir(arg):
    for d in ([arg] if arg else []) + [os.path.join(SHARED, "data", "kodak")]:
        if d and os.path.isdir(d):
            return d
    sys.exit("kodak_eval: Kodak photos not found (pass --kodak DIR)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--obscura", default=os.path.join(ROOT, "build", "bin", "obscura"))
    ap.add_argument("--kodak", default=None)
    ap.add_argument("--work", default="/tmp/obscura-kodak")
    ap.add_argument("--only", default=None)
    ap.add_argument("--look", default="reference")
    ap.add_argument("--peers", action="store_true")
    ap.add_argument("--bench", action="store_true", help="run obscura bench demosaic on the DNGs")
    ap.add_argument("--shading", type=float, default=0.0, help="lens shading K with GainMap opcodes (mkdng --shading)")
    a = ap.parse_args()
    kodak = kodak_dir(a.kodak)
    os.makedirs(a.work, exist_ok=True)
    ids = a.only.split(",") if a.only else ["%02d" % i for i in range(1, 25)]
    rows = []
    for n, i in enumerate(ids):
        idx = int(i) - 1
        cfa, bits, gains = LAYOUTS[idx % 4], BITS[idx % 3], GAINS[idx % 4]
        black = [64, 256, 1024, 0][idx % 4] * (1 << (bits - 12)) // 4
        truth = os.path.join(kodak, "kodim%s.png" % i)
        shade = "_shading%g" % a.shading if a.shading else ""
        dng = os.path.join(a.work, "kodim%s_%s_%d%s.dng" % (i, cfa, bits, shade))
        if not os.path.exists(dng):
            subprocess.run(["/usr/bin/python3", tool("mkdng.py"), truth, dng, "--cfa", cfa, "--bits", str(bits),
                            "--black", str(black), "--gains", gains] +
                           (["--shading", str(a.shading)] if a.shading else []), check=True)
        if a.bench:
            pair = os.path.join(a.work, "bench")
            os.makedirs(pair, exist_ok=True)
            for src, name in ((truth, "kodim%s.png" % i), (dng, "kodim%s.dng" % i)):
                link = os.path.join(pair, name)
                if os.path.lexists(link):
                    os.remove(link)
                os.symlink(src, link)
            continue
        out = dng[:-4] + ".obscura.tif"
        t0 = time.time()
        subprocess.run([a.obscura, "develop", dng, "-o", out, "--look", a.look, "--overwrite"], check=True)
        dt = time.time() - t0
        figures = score(out, truth)
        c, e = figures["cpsnr"], figures["de2000"]
        rows.append((i, cfa, bits, c, e, dt))
        print("kodim%s %s %2d-bit  CPSNR %6.2f dB  CIEDE2000 %5.2f  %.3f s" % (i, cfa, bits, c, e, dt), flush=True)
    if a.bench:
        sys.exit(subprocess.run([a.obscura, "bench", "demosaic", "--truth", os.path.join(a.work, "bench")]).returncode)
    mc = sum(r[3] for r in rows) / len(rows)
    me = sum(r[4] for r in rows) / len(rows)
    print("mean over %d photos: CPSNR %.2f dB  CIEDE2000 %.2f" % (len(rows), mc, me))


if __name__ == "__main__":
    main()
