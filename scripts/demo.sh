#!/usr/bin/env bash
# The main job on a built-in sample: a real photo (tests/data/kodim23.png) is
# turned into a camera RAW (DNG, GRBG Bayer, 12-bit, sensor noise) by the
# independent maker, then developed by obscura with its default look and with
# the measurement look, which is scored against the photo.
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
echo
echo "wrote $out/demo.jpg (default look) and $out/demo-reference.tif (16-bit, reference look)"
