#!/usr/bin/python3
"""Noise reduction, measured: the issue's 8 Kodak photos (01 03 05 08 13 15
19 23, ../shared/data/kodak) made into DNGs with phone-like noise by mkdng
(RGGB, 14-bit, --seed 1NN) at two levels, developed with --look reference,
--denoise off and auto, scored against the photo (CPSNR, SSIM, CIEDE2000);
the peers' best settings (measured by the session that filed the issue) for
comparison. Then the same photos as LinearRaw DNGs (mkdng --linear: camera
RGB at every pixel, as ProRAW and Expert RAW), denoised pixel by pixel.

  scripts/denoise_eval.py [--obscura build/bin/obscura] [--work DIR] [--photos 01,03,...]
"""
import argparse
import os
import subprocess
import tempfile

from eval_common import PYTHON, SHARED, score, tool

LEVELS = {"mid": "0.002,0.00002", "high": "0.01,0.0002"}
PEERS = {  # mean CPSNR at their best setting (the sweep)
    "darktable 4.2 profiled denoise (NLM)": (31.09, 28.38),
    "RawTherapee 5.9 noise reduction": (30.90, 27.81),
    "CBM3D (~30 s/MP)": (33.30, 28.50),
    "LibRaw wavelet (dcraw_emu -n)": (29.49, 25.32),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--obscura", default="build/bin/obscura")
    ap.add_argument("--work", help="folder for the DNGs and outputs (default: a temporary one)")
    ap.add_argument("--photos", default="01,03,05,08,13,15,19,23")
    a = ap.parse_args()
    work = a.work or tempfile.mkdtemp(prefix="denoise_eval_")
    os.makedirs(work, exist_ok=True)
    photos = a.photos.split(",")
    kinds = {"mosaic": ("k", ["--cfa", "RGGB"]), "LinearRaw": ("l", ["--linear"])}
    rows = {}
    for kind, (prefix, flags) in kinds.items():
        for level, noise in LEVELS.items():
            for mode in ("off", "auto"):
                rows[(kind, level, mode)] = []
            for n in photos:
                photo = os.path.join(SHARED, "data", "kodak", "kodim%s.png" % n)
                dng = os.path.join(work, "%s%s_%s.dng" % (prefix, n, level))
                if not os.path.exists(dng):
                    subprocess.run([PYTHON, tool("mkdng.py"), photo, dng, *flags, "--bits", "14", "--noise", noise,
                                    "--seed", "1" + n], check=True, capture_output=True)
                for mode in ("off", "auto"):
                    out = os.path.join(work, "%s%s_%s_%s.png" % (prefix, n, level, mode))
                    subprocess.run([a.obscura, "develop", dng, "-o", out, "--look", "reference", "--denoise", mode,
                                    "--overwrite"], check=True)
                    s = score(out, photo)
                    rows[(kind, level, mode)].append(s)
                    print("%s kodim%s %-4s denoise %-4s  %.2f dB  SSIM %.4f  dE %.2f" %
                          (kind, n, level, mode, s["cpsnr"], s["ssim"], s["de2000"]), flush=True)
    mean = lambda l, k: sum(s[k] for s in l) / len(l)
    print("\nmean over kodim%s (--look reference):" % ",".join(photos))
    print("%-50s %22s %22s" % ("", "mid (0.002, 2e-5)", "high (0.01, 2e-4)"))
    for kind in kinds:
        for mode in ("off", "auto"):
            cells = ["%.2f dB %.3f %.2f" % (mean(rows[(kind, lv, mode)], "cpsnr"), mean(rows[(kind, lv, mode)], "ssim"),
                                             mean(rows[(kind, lv, mode)], "de2000")) for lv in LEVELS]
            print("%-50s %22s %22s" % ("obscura %s --denoise %s (CPSNR SSIM dE)" % (kind, mode), *cells))
    print("peers (mosaic files):")
    for name, (mid, high) in PEERS.items():
        print("%-50s %22s %22s" % (name, "%.2f dB" % mid, "%.2f dB" % high))

if __name__ == "__main__":
    main()
