#!/usr/bin/env bash
# Makes the DNGs the tests read, from the Kodak photos in tests/data, with the
# independent maker (tools/mkdng.py) and structural variants (tools/dng_variants.py).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$1"
py=/usr/bin/python3
mkdir -p "$out"
mk() { "$py" "$here/tools/mkdng.py" "$@"; }
var() { "$py" "$here/tools/dng_variants.py" "$@"; }
d="$here/data"
mk "$d/kodim05.png" "$out/kodim05_RGGB_14.dng" --cfa RGGB --bits 14
mk "$d/kodim13.png" "$out/kodim13_BGGR_12.dng" --cfa BGGR --bits 12 --black 256 --gains 0.45,1.0,0.62
mk "$d/kodim19.png" "$out/kodim19_GRBG_16.dng" --cfa GRBG --bits 16 --black 0 --gains 0.7,1.0,0.5
mk "$d/kodim23.png" "$out/kodim23_GBRG_12.dng" --cfa GBRG --bits 12 --black 64 --gains 0.5,1.0,0.9
mk "$d/kodim23.png" "$out/kodim23_noise.dng" --noise 0.002,0.00002
mk "$d/kodim23.png" "$out/kodim23_quad.dng" --cfa quad
mk "$d/kodim05.png" "$out/kodim05_hexadeca.dng" --cfa hexadeca --noise 0.002,0.00002
mk "$d/kodim05.png" "$out/kodim05_hexadeca_clean.dng" --cfa hexadeca
mk "$d/kodim13.png" "$out/kodim13_nona.dng" --cfa nona
mk "$d/kodim23.png" "$out/kodim23_small.dng" --size 200x120 --cfa BGGR
mk "$d/kodim05.png" "$out/kodim05_RGGB_14_shading.dng" --cfa RGGB --bits 14 --shading 0.6
# Lens shading on an n x n-cell sensor, undone by one GainMap per position of
# its 8x8 repeat (64 maps), which the remosaic and binning must carry.
var "$out/kodim05_hexadeca_clean.dng" "$out/kodim05_hexadeca_shading.dng" --shade 0.6
# Its black level varying by site, row and column, which the sensor steps fold in.
var "$out/kodim05_hexadeca_clean.dng" "$out/kodim05_hexadeca_black.dng" --black-pattern
base="$out/kodim05_base12.dng"
mk "$d/kodim05.png" "$base" --bits 12 --black 200
var "$base" "$out/v_tiles.dng" --tiles 64
var "$base" "$out/v_pack12.dng" --pack 12
var "$base" "$out/v_big_tiles.dng" --big-endian --pack 12 --tiles 48
var "$base" "$out/v_subifd_exif.dng" --subifd --exif --orientation 6
var "$base" "$out/v_margin.dng" --margin 8
var "$base" "$out/v_black.dng" --black-pattern
var "$base" "$out/v_linear.dng" --linearize --pack 12
var "$base" "$out/v_forward.dng" --forward-matrix
var "$base" "$out/v_noise_map.dng" --noise-map
var "$base" "$out/v_dual.dng" --dual-illuminant
var "$base" "$out/v_ljpeg.dng" --ljpeg --tiles 256 --pack 12
var "$base" "$out/v_op_optional.dng" --opcode3 raw:14:1
var "$base" "$out/v_op_required.dng" --opcode3 raw:2:0
# A straight-line chart as a barrel-distorting lens records it, with the
# WarpRectilinear that undoes it; chart.png is the truth.
"$py" "$here/tools/make_chart.py" "$out/chart.png" "$out/chart_distorted.png" --kr 1,0.06,0,0
mk "$out/chart_distorted.png" "$out/chart_distorted.dng" --bits 14 --cfa GRBG
var "$out/chart_distorted.dng" "$out/chart_warp.dng" --opcode3 warp:1,0.06,0,0,0,0
# The same with lateral chromatic aberration: red and blue magnified
# differently, undone by a three-plane WarpRectilinear.
"$py" "$here/tools/make_chart.py" "$out/chart.png" "$out/chart_ca.png" --kr 1,0.06,0,0 \
    --kr-red 1.006,0.06,0,0 --kr-blue 0.994,0.06,0,0
mk "$out/chart_ca.png" "$out/chart_ca_raw.dng" --bits 14 --cfa BGGR
var "$out/chart_ca_raw.dng" "$out/chart_ca.dng" \
    --opcode3 warp3:1.006,0.06,0,0,0,0,1,0.06,0,0,0,0,0.994,0.06,0,0,0,0
# A camera and lens lensfun knows, and no opcodes: its profile applies.
var "$base" "$out/v_lensfun.dng" --exif --camera "Canon/Canon EOS 5D Mark II" --lens "Canon EF 50mm f/1.8 II" --focal 50
# Phone DNG flavours (issue 19): compressed CFA files whose samples must equal
# the uncompressed file's, and LinearRaw (demosaiced in the phone) files.
mk "$d/kodim05.png" "$out/p_ljpeg.dng" --bits 14 --compress ljpeg
mk "$d/kodim05.png" "$out/p_ljpeg_restart.dng" --bits 14 --compress ljpeg --restart
mk "$d/kodim05.png" "$out/p_jxl.dng" --bits 14 --compress jxl
mk "$d/kodim23.png" "$out/p_linear.dng" --linear
mk "$d/kodim23.png" "$out/p_linear_ljpeg.dng" --linear --compress ljpeg
mk "$d/kodim23.png" "$out/p_linear_jxl.dng" --linear --compress jxl
mk "$d/kodim23.png" "$out/p_linear_jxl_lossy.dng" --linear --compress jxl --jxl-distance 1
# A noisy LinearRaw frame (phone noise at high ISO, with its NoiseProfile).
mk "$d/kodim23.png" "$out/p_linear_noise.dng" --linear --noise 0.01,0.0002 --seed 23
var "$base" "$out/v_deflate.dng" --deflate --tiles 64 --pack 16
var "$base" "$out/v_deflate_big.dng" --deflate --big-endian --pack 16
var "$base" "$out/v_float.dng" --float --tiles 128 --pack 16
var "$base" "$out/v_no_matrix.dng" --no-matrix
var "$base" "$out/v_user_crop.dng" --user-crop 0.1,0.2,0.9,0.7
# A camera profile's rendering tags (hue/sat map, look table, tone curve,
# exposure offset, gain table map), on CFA and LinearRaw files; two
# calibrations (the scene picks the second); damaged tables.
var "$base" "$out/v_profile.dng" --profile
var "$base" "$out/v_profile_dual.dng" --profile --dual-illuminant --big-endian
var "$base" "$out/v_profile_broken.dng" --profile --profile-broken
var "$out/p_linear.dng" "$out/p_linear_profile.dng" --profile
# A restart-marker file with flipped bits in its Huffman data.
"$py" - "$out/p_ljpeg_restart.dng" "$out/bad_ljpeg_bits.dng" <<'PY'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
for k in range(16):
    data[len(data) // 2 + 997 * k] ^= 0x5A
open(sys.argv[2], "wb").write(data)
PY
# Damaged files: empty, text, and truncated at several points.
: > "$out/bad_empty.dng"
echo "this is not a raw file" > "$out/bad_text.dng"
size=$(stat -c %s "$base")
for cut in 6 60 400 $((size / 2)) $((size - 100)); do head -c "$cut" "$base" > "$out/bad_trunc_$cut.dng"; done
# Handheld bursts (8 frames, up to 12 px of shake, a patch moving on its own):
# medium noise on RGGB, high noise on GBRG. Each folder has truth.png.
mk "$d/kodim05.png" "$out/burst05_mid" --frames 8 --noise 0.002,0.00002 --motion 12 --mover
mk "$d/kodim23.png" "$out/burst23_high" --frames 8 --noise 0.01,0.0002 --motion 12 --mover --cfa GBRG --seed 7
# An exposure bracket (EV 0, -4, +2) of a scene 4 stops over white, with
# hand shake; truth.tiff is the scene, linear, 1.0 = white at EV 0.
mk "$d/kodim23.png" "$out/bracket23" --frames 3 --ev=0,-4,2 --hdr 4 --motion 8 --noise 0.002,0.00002 --seed 323
# A quad-Bayer burst (4 frames): each frame remosaicked or binned, then merged.
mk "$d/kodim05.png" "$out/burst05_quad" --frames 4 --noise 0.002,0.00002 --motion 8 --cfa quad --seed 3
# The noisy file less its NoiseProfile (dng_variants writes none): the
# denoise measures the noise.
var "$out/kodim23_noise.dng" "$out/v_noise_no_profile.dng"
# Quad-Bayer in very low light (noise S 0.05): --binning auto bins it.
mk "$d/kodim23.png" "$out/kodim23_quad_dark.dng" --cfa quad --noise 0.05,0.001 --seed 7
echo "test DNGs in $out"
