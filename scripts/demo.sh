#!/usr/bin/env bash
# The main job on a built-in sample: a real photo (tests/data/kodim23.png) is
# turned into a camera RAW (DNG, GRBG Bayer, 12-bit, sensor noise) by the
# independent maker, then developed by obscura with its default look and with
# the measurement look, which is scored against the photo. Then a handheld
# burst of the same photo (8 noisy, shaken frames with a moving patch, made by
# obscura simulate) is merged and developed, and scored against the single
# frame developed alone.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
obscura="$build/bin/obscura"
out="$root/out"
mkdir -p "$out"
py=/usr/bin/python3

echo "== making a RAW file from tests/data/kodim23.png"
"$py" "$root/tests/tools/mkdng.py" "$root/tests/data/kodim23.png" "$out/demo.dng" \
    --cfa GRBG --bits 12 --black 64 --gains 0.52,1.0,0.71 --noise 0.0004,0.000002
"$obscura" info "$out/demo.dng"

echo "== developing"
"$obscura" develop "$out/demo.dng" -o "$out/demo.jpg" --overwrite
"$obscura" develop "$out/demo.dng" -o "$out/demo-reference.tif" --look reference --overwrite
echo "reference look against the original photo: $("$py" "$root/tests/tools/score.py" "$out/demo-reference.tif" "$root/tests/data/kodim23.png")"

echo "== a handheld burst: 8 frames, high noise, up to 12 px of shake, a moving patch"
"$obscura" simulate "$root/tests/data/kodim23.png" -o "$out/burst" --frames 8 --noise 0.01,0.0002 --motion 12 --mover
"$obscura" develop "$out/burst/frame_00.dng" -o "$out/burst-single.png" --look reference --overwrite
# Scored against the truth, which is frame 0's view: frame 0 is the reference.
"$obscura" burst "$out"/burst/frame_*.dng -o "$out/burst-merged.png" --look reference --denoise auto --reference 0 \
    --dng "$out/burst-merged.dng" --overwrite --timings
"$obscura" burst "$out"/burst/frame_*.dng -o "$out/burst.jpg" --overwrite
echo "one frame alone against the photo:  $("$py" "$root/tests/tools/score.py" "$out/burst-single.png" "$out/burst/truth.png")"
echo "the 8-frame merge against the photo: $("$py" "$root/tests/tools/score.py" "$out/burst-merged.png" "$out/burst/truth.png")"
echo
echo "wrote $out/demo.jpg (default look), $out/demo-reference.tif (16-bit, reference look),"
echo "      $out/burst.jpg (the merged burst, default look) and $out/burst-merged.dng (the merge as a 16-bit DNG)"
