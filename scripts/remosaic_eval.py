#!/usr/bin/python3
"""Full-resolution remosaic against binning on Kodak photos made into n x n-cell DNGs.

For each photo and layout (quad, nona, hexadeca): mkdng.py --cfa LAYOUT,
`obscura develop --look reference` (remosaic, full resolution) and
`obscura develop --binning --look reference` upscaled bicubically by n (PIL),
both scored with score.py (CPSNR, CIEDE2000, 8-pixel border) against the photo
(cropped to the layout's repeat, as mkdng does). The remosaic's filters were
fitted on the even-numbered photos: the odd-numbered ones are unseen.

With --noise S,O the DNGs carry sensor noise (mkdng's NoiseProfile model,
variance = S x + O, fixed seed): how the full-resolution path and binning
compare as the light falls (the develop has no single-frame denoise).

  scripts/remosaic_eval.py [--layouts quad,hexadeca] [--photos 1,5,13] [--noise S,O] [KODAK_DIR]
"""
import argparse, os, subprocess, tempfile
from PIL import Image

from eval_common import PYTHON as PY, ROOT, SHARED, score, tool

N = {"quad": 2, "nona": 3, "hexadeca": 4}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kodak", nargs="?", default=os.path.join(SHARED, "data", "kodak"))
    ap.add_argument("--layouts", default="quad,nona,hexadeca")
    ap.add_argument("--photos", default=",".join(str(i) for i in range(1, 25)))
    ap.add_argument("--noise", help="S,O of mkdng.py --noise (default: none)")
    ap.add_argument("--denoise", default="off", help="--denoise of both develops (default off)")
    ap.add_argument("--obscura", default=os.path.join(ROOT, "build", "bin", "obscura"))
    a = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        print("| photo | layout | full res CPSNR | ΔE00 | binned + bicubic | gain |")
        print("|---|---|---|---|---|---|")
        for layout in a.layouts.split(","):
            n = N[layout]
            for i in (int(x) for x in a.photos.split(",")):
                photo = f"{a.kodak}/kodim{i:02d}.png"
                dng, full, binned, up, truth = (f"{tmp}/{layout}{i}.{e}" for e in ("dng", "full.png", "bin.png", "up.png", "truth.png"))
                noise = ["--noise", a.noise, "--seed", str(i)] if a.noise else []
                subprocess.check_call([PY, tool("mkdng.py"), photo, dng, "--cfa", layout] + noise)
                dn = ["--denoise", a.denoise]
                subprocess.check_call([a.obscura, "develop", dng, "--look", "reference", "-o", full, "--overwrite"] + dn)
                subprocess.check_call([a.obscura, "develop", dng, "--binning", "--look", "reference", "-o", binned, "--overwrite"] + dn)
                im = Image.open(binned)
                im.resize((im.width * n, im.height * n), Image.BICUBIC).save(up)
                w, h = Image.open(full).size
                Image.open(photo).convert("RGB").crop((0, 0, w, h)).save(truth)
                f, b = score(full, truth), score(up, truth)
                rows.append((layout, i, f["cpsnr"], b["cpsnr"]))
                seen = "" if i % 2 else " (fitted on)"
                print(f"| kodim{i:02d}{seen} | {layout} | {f['cpsnr']:.2f} | {f['de2000']:.2f} | {b['cpsnr']:.2f} | "
                      f"{f['cpsnr'] - b['cpsnr']:+.2f} |", flush=True)
    for layout in a.layouts.split(","):
        sel = [r for r in rows if r[0] == layout]
        odd = [r for r in sel if r[1] % 2]
        for name, group in (("all", sel), ("unseen (odd)", odd)):
            if group:
                print(f"{layout} {name}: mean {sum(r[2] for r in group) / len(group):.2f} dB, min {min(r[2] for r in group):.2f}, "
                      f"min gain over binned {min(r[2] - r[3] for r in group):+.2f} dB")


if __name__ == "__main__":
    main()
