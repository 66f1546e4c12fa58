#!/usr/bin/env bash
# The CLI as a user meets it: develop, info, help, and one-line errors that
# name the file, a non-zero exit and no output for damaged input. The quality
# of a develop is scored by the independent scorer (tools/score.py).
set -u
obscura="$1"
dngs="$2"
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failures=0
passes=0
check() {  # check NAME CONDITION...
    local name="$1"
    shift
    if "$@"; then passes=$((passes + 1)); else echo "FAIL: $name"; failures=$((failures + 1)); fi
}

# develop to each format, reference look scored against the photo
"$obscura" develop "$dngs/kodim19_GRBG_16.dng" -o "$work/k19.tif" --look reference
check "develop exit 0" test $? -eq 0
score=$(/usr/bin/python3 "$here/tools/score.py" "$work/k19.tif" "$here/data/kodim19.png" --json)
echo "kodim19 reference: $score"
check "kodim19 CPSNR >= 40 dB" /usr/bin/python3 -c "import json,sys; s=json.loads(sys.argv[1]); sys.exit(0 if s['cpsnr']>=40.0 and s['de2000']<=1.3 else 1)" "$score"
for ext in jpg png; do
    "$obscura" develop "$dngs/kodim05_RGGB_14.dng" -o "$work/k05.$ext"
    check "develop to .$ext" test -s "$work/k05.$ext"
done

# Start-up loads only what every run needs: libheif, libjxl, HarfBuzz,
# FreeType and libtiff are opened when a HEIF/AVIF is written, a JPEG XL
# block read, a frame drawn or a TIFF written (src/core/lazy_library.h), and
# those work (above and below).
if deps=$(ldd "$obscura" 2>/dev/null); then
    check "libheif, libjxl, HarfBuzz, FreeType and libtiff are not loaded at start-up" \
        bash -c "! grep -qE 'libheif|libjxl|libharfbuzz|libfreetype|libtiff' <<<\"\$1\"" _ "$deps"
fi

# Outputs are deterministic: the same input and options give the same bytes
# whenever and however they are made (the ICC header's date is fixed).
for ext in jpg tif heic; do
    "$obscura" develop "$dngs/kodim05_RGGB_14.dng" -o "$work/det1.$ext"
    sleep 1.1
    "$obscura" develop "$dngs/kodim05_RGGB_14.dng" -o "$work/det2.$ext"
    check "two develops to .$ext a second apart are byte-identical" cmp -s "$work/det1.$ext" "$work/det2.$ext"
done
"$obscura" develop "$dngs/kodim05_RGGB_14.dng" "$dngs/kodim19_GRBG_16.dng" "$dngs/kodim23_GBRG_12.dng" -o "$work/det_j1/" --jobs 1 2>/dev/null
"$obscura" develop "$dngs/kodim05_RGGB_14.dng" "$dngs/kodim19_GRBG_16.dng" "$dngs/kodim23_GBRG_12.dng" -o "$work/det_j2/" --jobs 2 2>/dev/null
check "a batch on 1 or 2 jobs writes the same bytes" diff -r "$work/det_j1" "$work/det_j2"

# Denoise: bad strengths are usage errors (one line, exit 2, nothing written);
# a noisy file gains from it, scored against the photo.
for bad in -1 x 17 0; do
    msg=$("$obscura" develop "$dngs/kodim23_noise.dng" -o "$work/dn_bad.jpg" --denoise "$bad" 2>&1)
    check "--denoise $bad exits 2" test $? -eq 2
    check "--denoise $bad is one line naming the flag" bash -c "[ \$(wc -l <<<\"\$1\") -eq 1 ] && grep -q -- '--denoise must be auto, off or a strength' <<<\"\$1\"" _ "$msg"
done
check "a bad --denoise writes nothing" test ! -e "$work/dn_bad.jpg"
"$obscura" develop "$dngs/kodim23_noise.dng" -o "$work/dn_off.png" --look reference
"$obscura" develop "$dngs/kodim23_noise.dng" -o "$work/dn_on.png" --look reference --denoise auto
off=$(/usr/bin/python3 "$here/tools/score.py" "$work/dn_off.png" "$here/data/kodim23.png" --json)
on=$(/usr/bin/python3 "$here/tools/score.py" "$work/dn_on.png" "$here/data/kodim23.png" --json)
echo "kodim23 noise S 0.002: reference $off, --denoise auto $on"
check "--denoise auto gains >= 3 dB and SSIM on a noisy file" /usr/bin/python3 -c "import json,sys; a=json.loads(sys.argv[1]); b=json.loads(sys.argv[2]); sys.exit(0 if b['cpsnr']>=a['cpsnr']+3 and b['ssim']>a['ssim']+0.1 and b['de2000']<a['de2000'] else 1)" "$off" "$on"

# --binning auto (the default): full resolution unless the noise profile says
# the light was so low that binning wins; bad values one line, exit 2.
t=$("$obscura" develop "$dngs/kodim05_hexadeca.dng" -o "$work/bin_auto.jpg" --timings 2>&1)
check "binning auto remosaics a hexadeca file at S 0.002" grep -q "remosaic" <<<"$t"
t=$("$obscura" develop "$dngs/kodim23_quad_dark.dng" -o "$work/bin_dark.jpg" --timings 2>&1)
check "binning auto bins a quad file at S 0.05" grep -q "binning" <<<"$t"
t=$("$obscura" develop "$dngs/kodim23_quad_dark.dng" -o "$work/bin_off.jpg" --binning off --timings 2>&1)
check "--binning off keeps full resolution" grep -q "remosaic" <<<"$t"
t=$("$obscura" develop --binning "$dngs/kodim05_hexadeca.dng" -o "$work/bin_on.jpg" --timings 2>&1)
check "a bare --binning still bins" grep -q "binning" <<<"$t"
check "info says a dark quad file is binned" grep -q "cells: binned to 384 x 256 (the noise profile says low light)" <<<"$("$obscura" info "$dngs/kodim23_quad_dark.dng")"
msg=$("$obscura" develop "$dngs/kodim05_hexadeca.dng" -o "$work/bin_bad.jpg" --binning maybe 2>&1)
check "--binning maybe exits 2" test $? -eq 2
check "--binning maybe is one line" bash -c "[ \$(wc -l <<<\"\$1\") -eq 1 ] && grep -q -- \"--binning must be one of auto, on, off, not 'maybe'\" <<<\"\$1\"" _ "$msg"

# info says what the file says
info=$("$obscura" info "$dngs/kodim19_GRBG_16.dng")
check "info shows layout" grep -q "cfa: *GRBG" <<<"$info"
check "info shows white" grep -q "white level: *65535" <<<"$info"
# Phone flavours: info says LinearRaw and JPEG XL; a damaged lossless JPEG
# tile is one line naming the file and tile, exit 1, nothing written.
linjxl=$("$obscura" info "$dngs/p_linear_jxl_lossy.dng")
check "info says LinearRaw" grep -q "image: *LinearRaw" <<<"$linjxl"
check "info says JPEG XL and its tiles" grep -q "storage: *JPEG XL, tiles 256 x 256" <<<"$linjxl"
check "info gives the JPEG XL distance" grep -q "JPEG XL: *distance 1 (lossy)" <<<"$linjxl"
jxlcfa=$("$obscura" info "$dngs/p_jxl.dng")
check "info gives the interleave factors" grep -q "fields interleaved 2 x 2" <<<"$jxlcfa"
"$obscura" develop "$dngs/p_linear.dng" -o "$work/linear.jpg" --frame
check "LinearRaw develops with --frame" test -s "$work/linear.jpg"
msg=$("$obscura" develop "$dngs/bad_ljpeg_bits.dng" -o "$work/bad_lj.jpg" 2>&1)
check "damaged lossless JPEG exits 1" test $? -eq 1
check "damaged lossless JPEG named with its tile in one line" bash -c "[ \$(wc -l <<<\"\$1\") -eq 1 ] && grep -q 'bad_ljpeg_bits.dng: tile [0-9]*: lossless JPEG' <<<\"\$1\"" _ "$msg"
check "damaged lossless JPEG leaves no output" test ! -e "$work/bad_lj.jpg"
msg=$("$obscura" burst "$dngs/p_linear.dng" "$dngs/p_linear.dng" -o "$work/linburst.jpg" 2>&1)
check "burst refuses LinearRaw in one line" bash -c "[ \$(wc -l <<<\"\$1\") -eq 1 ] && grep -q 'LinearRaw frame' <<<\"\$1\"" _ "$msg"
# The DNG's own camera profile: rendered by a look that asks for it, to the
# rendering profile_render.py makes from the DNG specification alone (on top
# of the matrices-only develop): CFA, LinearRaw, two calibrations.
for f in v_profile v_profile_dual p_linear_profile; do
    "$obscura" develop "$dngs/$f.dng" -o "$work/${f}_ref.tif" --look reference
    "$obscura" develop "$dngs/$f.dng" -o "$work/${f}_cp.tif" --look "$here/data/camera-profile.toml"
    /usr/bin/python3 "$here/tools/profile_render.py" "$dngs/$f.dng" "$work/${f}_ref.tif" "$work/${f}_spec.tif"
    ours=$(/usr/bin/python3 "$here/tools/score.py" "$work/${f}_cp.tif" "$work/${f}_spec.tif" --json)
    plain=$(/usr/bin/python3 "$here/tools/score.py" "$work/${f}_ref.tif" "$work/${f}_spec.tif" --json)
    echo "$f camera profile against the specification: $ours (matrices only: $plain)"
    check "$f: the camera profile renders as the DNG specification says (>= 50 dB)" /usr/bin/python3 -c "import json,sys; s=json.loads(sys.argv[1]); sys.exit(0 if s['cpsnr']>=50.0 and s['de2000']<=0.3 else 1)" "$ours"
    check "$f: the profile changes the photo (matrices alone < 30 dB)" /usr/bin/python3 -c "import json,sys; s=json.loads(sys.argv[1]); sys.exit(0 if s['cpsnr']<30.0 else 1)" "$plain"
done
prof=$("$obscura" info "$dngs/v_profile.dng")
check "info lists the profile's parts" grep -q "camera profile: *ProfileHueSatMap 1, ProfileLookTable, ProfileToneCurve, BaselineExposureOffset, ProfileGainTableMap$" <<<"$prof"
check "info says which looks render the profile" grep -q "rendered by looks with camera_profile (authentic)" <<<"$prof"
broken=$("$obscura" info "$dngs/v_profile_broken.dng")
check "info names a malformed hue/sat map as ignored" grep -q "ProfileHueSatMap 1 (ignored: 51 values for 6 x 3 x 1 divisions)" <<<"$broken"
check "info names a cut gain table map as ignored" grep -q "ProfileGainTableMap (ignored: [0-9]* bytes where its grid needs 448)" <<<"$broken"
"$obscura" develop "$dngs/v_profile_broken.dng" -o "$work/broken_profile.jpg" --look authentic
check "a file with damaged profile tables still develops" test -s "$work/broken_profile.jpg"
quad=$("$obscura" info "$dngs/kodim23_quad.dng")
check "info shows quad layout" grep -q "quad RGGB (4x4)" <<<"$quad"
check "info says what the develop does with cells" grep -q "sensor: *2x2 cells: developed at full size, remosaicked to RGGB; --binning: 384 x 256" <<<"$quad"
# 64 GainMaps, one per position of the 8x8 repeat: one entry, and applied
shaded=$("$obscura" info "$dngs/kodim05_hexadeca_shading.dng")
check "info sums up a gain map per cell position" grep -q "opcode list 2: *GainMap x64 (17x13, pitch 8x8)$" <<<"$shaded"
check "info plans the cell layout's gain maps" grep -q "lens correction: *GainMap (OpcodeList2) x64" <<<"$shaded"

# looks: the shipped ones listed; a look file of one's own; bad look and LUT
# files refused in one line naming the file, before any output
looks=$("$obscura" looks)
check "looks lists nine" test "$(grep -cE '^(reference|authentic|vibrant|natural|vivid|mono|mono-hc|sepia|blue) ' <<<"$looks")" -eq 9
printf 'name = "mine"\n[color]\nsaturation = 0\n' >"$work/mine.toml"
"$obscura" develop "$dngs/kodim05_RGGB_14.dng" -o "$work/mine.png" --look "$work/mine.toml"
check "develop --look FILE.toml" test -s "$work/mine.png"
printf '[tone]\ncontrast = 7\n' >"$work/bad.toml"
msg=$("$obscura" develop "$dngs/kodim05_RGGB_14.dng" -o "$work/bad.png" --look "$work/bad.toml" 2>&1)
check "bad look file is a usage error" test $? -eq 2
check "bad look file named in one line" bash -c "[ \$(wc -l <<<\"\$1\") -eq 1 ] && grep -q 'bad.toml: tone.contrast' <<<\"\$1\"" _ "$msg"
check "bad look file leaves no output" test ! -e "$work/bad.png"
printf 'LUT_3D_SIZE 2\n0 0 0\n' >"$work/bad.cube"
msg=$("$obscura" develop "$dngs/kodim05_RGGB_14.dng" -o "$work/bad.png" --lut "$work/bad.cube" 2>&1)
check "bad LUT is a usage error" test $? -eq 2
check "bad LUT named" grep -q "bad.cube: has 1 entries" <<<"$msg"

# help lists the looks; every command has --help
check "develop --help lists looks" bash -c "'$obscura' develop --help | grep -q reference"
check "develop --help lists demosaic methods" bash -c "'$obscura' develop --help | grep -q 'fast '"
"$obscura" develop "$dngs/kodim05_RGGB_14.dng" -o "$work/x.jpg" --demosaic amaze 2>/dev/null
check "unknown demosaic method is a usage error" test $? -eq 2
"$obscura" develop "$dngs/kodim19_GRBG_16.dng" -o "$work/k19fast.png" --demosaic fast
check "develop --demosaic fast" test -s "$work/k19fast.png"
check "bench --help" bash -c "'$obscura' bench --help | grep -q demosaic"
# bench develop on an n x n-cell file: full size and binned rows, with timings
bench=$("$obscura" bench develop "$dngs/kodim23_quad.dng" --repeat 1 --no-peers)
check "bench develop times the binned develop of a quad file" grep -qE "obscura -> JPEG \(--binning\) +[0-9.]+ +[0-9.]+ +[0-9]+" <<<"$bench"
check "bench develop times the full-size develop" grep -qE "obscura -> JPEG \(default look\) +[0-9.]+" <<<"$bench"
check "info --help" bash -c "'$obscura' info --help | grep -q usage"
check "--help" bash -c "'$obscura' --help | grep -q develop"

# damaged inputs: one line naming the file, exit 1, no output, no temporaries
for bad in bad_empty bad_text bad_trunc_6 bad_trunc_60 bad_trunc_400; do
    err=$("$obscura" develop "$dngs/$bad.dng" -o "$work/$bad.jpg" 2>&1 >/dev/null)
    rc=$?
    check "$bad exit 1" test $rc -eq 1
    check "$bad one line naming the file" bash -c "[ \$(printf '%s\n' \"\$1\" | wc -l) -eq 1 ] && grep -q '$bad.dng' <<<\"\$1\"" _ "$err"
    check "$bad no output" test ! -e "$work/$bad.jpg"
    echo "  $bad: $err"
done
for f in "$dngs"/bad_trunc_*.dng; do
    "$obscura" develop "$f" -o "$work/t.tif" 2>/dev/null
    rc=$?
    name=$(basename "$f")
    check "$name fails" test $rc -eq 1
    check "$name leaves no output" test ! -e "$work/t.tif"
done
check "no temporaries" bash -c "[ -z \"\$(ls -A '$work' | grep '^\\.')\" ]"

# damaged copies (byte flips, absurd values, counts and types in the IFD):
# each either develops or fails with one line; never a crash, a hang or a
# temporary left behind
for good in kodim05_RGGB_14 v_ljpeg v_subifd_exif p_ljpeg_restart p_jxl p_linear_jxl v_deflate; do
    /usr/bin/python3 "$here/tools/damage.py" "$dngs/$good.dng" "$work/damaged_$good" 40
    mkdir -p "$work/damaged_out"
    bad_rc=0
    for f in "$work/damaged_$good"/*.dng; do
        timeout 30 "$obscura" develop "$f" -o "$work/damaged_out/$(basename "$f" .dng).jpg" >/dev/null 2>"$work/err.txt"
        rc=$?
        if [ $rc -gt 1 ] || { [ $rc -eq 1 ] && [ "$(wc -l <"$work/err.txt")" -ne 1 ]; }; then
            echo "  damaged $good $(basename "$f"): rc $rc: $(head -c 200 "$work/err.txt")"
            bad_rc=$((bad_rc + 1))
        fi
    done
    check "40 damaged copies of $good: no crash, one line each" test $bad_rc -eq 0
done
check "damaged: no temporaries" test -z "$(ls -A "$work/damaged_out" | grep '^\.')"

# a memory budget refuses a photo that needs more, in one line, writing nothing
err=$("$obscura" develop "$dngs/kodim05_RGGB_14.dng" -o "$work/budget.jpg" --memory 2 2>&1 >/dev/null)
rc=$?
echo "  budget: $err"
check "over the memory budget: exit 1" test $rc -eq 1
check "over the memory budget: says so, names the file" grep -q "kodim05_RGGB_14.dng: .*memory budget of 2 MB" <<<"$err"
check "over the memory budget: no output" test ! -e "$work/budget.jpg"

# usage errors exit 2
"$obscura" develop "$dngs/kodim05_RGGB_14.dng" -o "$work/x.bmp" 2>/dev/null
check "unknown extension exit 2" test $? -eq 2
"$obscura" develop "$dngs/kodim05_RGGB_14.dng" -o "$work/x.jpg" --look nope 2>/dev/null
check "unknown look exit 2" test $? -eq 2
"$obscura" develop 2>/dev/null
check "missing input exit 2" test $? -eq 2
"$obscura" frobnicate 2>/dev/null
check "unknown command exit 2" test $? -eq 2
cp "$dngs/kodim05_RGGB_14.dng" "$work/in.dng"
before=$(sha256sum "$work/in.dng")
"$obscura" develop "$work/in.dng" -o "$work/in.dng" 2>/dev/null
check "output equal to input refused" test $? -ne 0
check "input untouched" test "$(sha256sum "$work/in.dng")" = "$before"

# HEIF/AVIF outputs decode with heif-convert; Display P3 is a flag away
for ext in heic avif; do
    "$obscura" develop "$dngs/kodim05_RGGB_14.dng" -o "$work/k05.$ext"
    check "develop to .$ext" test -s "$work/k05.$ext"
    if command -v heif-convert > /dev/null; then
        heif-convert "$work/k05.$ext" "$work/k05_$ext.png" > /dev/null 2>&1
        check "heif-convert decodes .$ext" test -s "$work/k05_$ext.png"
    else
        echo "heif-convert not installed (Debian: libheif-examples): .$ext not decoded"
    fi
done
"$obscura" develop "$dngs/v_subifd_exif.dng" -o "$work/framed.jpg" --frame
check "--frame adds the band" /usr/bin/python3 -c "import sys; from PIL import Image; a=Image.open(sys.argv[1]); sys.exit(0 if a.size==(512,768+51) else 1)" "$work/framed.jpg"
"$obscura" develop "$dngs/kodim05_RGGB_14.dng" -o "$work/p3.jpg" --colorspace display-p3
check "develop --colorspace display-p3" test -s "$work/p3.jpg"
"$obscura" develop "$dngs/kodim05_RGGB_14.dng" -o "$work/x.jpg" --colorspace adobe 2>/dev/null
check "unknown --colorspace is a usage error" test $? -eq 2

# n x n-cell CFAs: remosaicked to full resolution by default, binned with --binning
"$obscura" develop "$dngs/kodim23_quad.dng" -o "$work/quad_full.png" --look reference
score=$(/usr/bin/python3 "$here/tools/score.py" "$work/quad_full.png" "$here/data/kodim23.png" --json)
check "a quad DNG develops at full resolution, close to the photo" /usr/bin/python3 -c "import json,sys; sys.exit(0 if json.loads(sys.argv[1])['cpsnr']>=35.5 else 1)" "$score"
timings=$("$obscura" develop "$dngs/kodim23_quad.dng" -o "$work/quad.png" --binning --look reference --timings 2>&1)
check "--timings names the binning apart from the decode" grep -qE "decode [0-9.]+ s, binning [0-9.]+ s, develop" <<<"$timings"
check "--binning develops a quad DNG at half size" /usr/bin/python3 -c "import sys; from PIL import Image; sys.exit(0 if Image.open(sys.argv[1]).size==(384,256) else 1)" "$work/quad.png"

"$obscura" develop "$dngs/kodim23_quad.dng" -o "$work/quad2.png" --cfa bogus 2>/dev/null
check "--cfa bogus is a usage error" test $? -eq 2
check "info --cfa overrides the file's layout" grep -q "cfa: *RGGB (given by --cfa)" <<<"$("$obscura" info "$dngs/kodim23_quad.dng" --cfa RGGB)"

# an existing output is replaced only with --overwrite
"$obscura" develop "$dngs/kodim05_RGGB_14.dng" -o "$work/k05.jpg" 2>/dev/null
check "existing output refused" test $? -eq 1
"$obscura" develop "$dngs/kodim05_RGGB_14.dng" -o "$work/k05.jpg" --overwrite
check "--overwrite replaces" test $? -eq 0

# batch: 3 good and 2 bad files into a folder, in parallel; the good ones
# are written, the bad ones reported one line each, exit 1, inputs untouched
mkdir -p "$work/batch_in"
for f in kodim05_RGGB_14 kodim19_GRBG_16 kodim23_GBRG_12 bad_text bad_trunc_400; do cp "$dngs/$f.dng" "$work/batch_in/"; done
sums=$(cd "$work/batch_in" && sha256sum *.dng)
log=$("$obscura" develop "$work"/batch_in/*.dng -o "$work/batch_out" --jobs 2 --format tif --look reference 2>&1)
rc=$?
echo "$log" | sed 's/^/  batch: /'
check "batch exit 1 when some failed" test $rc -eq 1
check "batch wrote the 3 good ones" test "$(ls "$work/batch_out" | grep -c '\.tif$')" -eq 3
check "batch reports each bad one" test "$(grep -c '^obscura: .*bad_' <<<"$log")" -ge 2
check "batch summary" grep -q "3 of 5 developed" <<<"$log"
check "batch leaves no temporaries" test -z "$(ls -A "$work/batch_out" | grep '^\.')"
check "batch inputs untouched" test "$(cd "$work/batch_in" && sha256sum *.dng)" = "$sums"
score=$(/usr/bin/python3 "$here/tools/score.py" "$work/batch_out/kodim19_GRBG_16.tif" "$here/data/kodim19.png" --json)
check "batch output is the photo" /usr/bin/python3 -c "import json,sys; sys.exit(0 if json.loads(sys.argv[1])['cpsnr']>=41.0 else 1)" "$score"
"$obscura" develop "$work"/batch_in/kodim05_RGGB_14.dng -o "$work/batch_out" --format tif 2>/dev/null
check "batch refuses to overwrite" test $? -eq 1
"$obscura" develop "$work"/batch_in/*.dng -o "$work/batch_out" --jobs 0 2>/dev/null
check "--jobs 0 is a usage error" test $? -eq 2

# burst: merged and developed, the merge written as DNG and read back; our
# simulator's frames merge; wrong frames and flags are one-line errors
b="$dngs/burst05_mid"
"$obscura" burst "$b"/frame_0*.dng -o "$work/burst.png" --look reference --reference 0 --dng "$work/merged.dng" 2>/dev/null
check "burst exit 0" test $? -eq 0
score=$(/usr/bin/python3 "$here/tools/score.py" "$work/burst.png" "$b/truth.png" --json)
echo "burst05_mid merged: $score"
check "burst CPSNR >= 32 dB (one frame: 28.6)" /usr/bin/python3 -c "import json,sys; sys.exit(0 if json.loads(sys.argv[1])['cpsnr']>=32.0 else 1)" "$score"
check "merged DNG is 16-bit" grep -q "bits: *16" <<<"$("$obscura" info "$work/merged.dng")"
"$obscura" burst "$dngs"/burst05_quad/frame_0*.dng -o "$work/quad_burst.png" --binning --reference 0
check "a quad burst merges binned" test $? -eq 0
check "binned burst is half size" /usr/bin/python3 -c "from PIL import Image; import sys; sys.exit(0 if Image.open('$work/quad_burst.png').size == (384, 256) else 1)"
err=$("$obscura" burst "$dngs"/burst05_quad/frame_0*.dng -o "$work/x.png" --cfa quad-XYZ 2>&1)
check "burst --cfa refuses an unknown layout in one line" test $? -eq 2 -a "$(wc -l <<<"$err")" -eq 1
"$obscura" develop "$work/merged.dng" -o "$work/merged_dev.png" --look reference
score=$(/usr/bin/python3 "$here/tools/score.py" "$work/merged_dev.png" "$work/burst.png" --json)
check "merged DNG develops to the burst's photo" /usr/bin/python3 -c "import json,sys; sys.exit(0 if json.loads(sys.argv[1])['cpsnr']>=50.0 else 1)" "$score"
"$obscura" burst "$b"/frame_0*.dng -o "$work/burst.png" 2>/dev/null
check "burst refuses to overwrite" test $? -eq 1
"$obscura" burst "$b"/frame_0*.dng -o "$b/frame_00.dng" --overwrite 2>/dev/null
check "burst refuses -o naming a frame" test $? -eq 2
err=$("$obscura" burst "$b/frame_00.dng" "$dngs/kodim23_small.dng" -o "$work/x.jpg" 2>&1)
check "burst names the odd frame" test $? -eq 1 -a "$(wc -l <<<"$err")" -eq 1
check "burst error names it" grep -q "kodim23_small.dng" <<<"$err"
check "no output after a failed burst" test ! -e "$work/x.jpg"
"$obscura" burst "$b"/frame_0*.dng -o "$work/y.jpg" --reference 9 2>/dev/null
check "--reference out of range is a usage error" test $? -eq 2
"$obscura" burst "$b"/frame_0*.dng -o "$work/y.jpg" --strength -1 2>/dev/null
check "--strength -1 is a usage error" test $? -eq 2
# burst --denoise is the develop's, on the merge by its noise profile
for bad in -1 x 17 ""; do
    msg=$("$obscura" burst "$b"/frame_0[0-2].dng -o "$work/bdn_bad.png" --denoise "$bad" 2>&1)
    check "burst --denoise '$bad' exits 2" test $? -eq 2
    check "burst --denoise '$bad' is one line naming the flag" bash -c "[ \$(wc -l <<<\"\$1\") -eq 1 ] && grep -q -- '--denoise' <<<\"\$1\"" _ "$msg"
done
check "a bad burst --denoise writes nothing" test ! -e "$work/bdn_bad.png"
h="$dngs/burst23_high"
"$obscura" burst "$h"/frame_0*.dng -o "$work/bdn_off.png" --look reference --reference 0
"$obscura" burst "$h"/frame_0*.dng -o "$work/bdn_on.png" --look reference --reference 0 --denoise auto
off=$(/usr/bin/python3 "$here/tools/score.py" "$work/bdn_off.png" "$h/truth.png" --json)
on=$(/usr/bin/python3 "$here/tools/score.py" "$work/bdn_on.png" "$h/truth.png" --json)
echo "burst23_high merged: reference $off, --denoise auto $on"
check "burst --denoise auto gains >= 1 dB on the merge" /usr/bin/python3 -c "import json,sys; a=json.loads(sys.argv[1]); b=json.loads(sys.argv[2]); sys.exit(0 if b['cpsnr']>=a['cpsnr']+1 and b['de2000']<a['de2000'] else 1)" "$off" "$on"
# burst batch: folders are bursts; the good ones are written, the bad ones
# (a damaged frame, no frames at all) reported one line each, exit 1
mkdir -p "$work/bursts/good_a" "$work/bursts/good_b" "$work/bursts/damaged" "$work/bursts/empty"
cp "$b"/frame_0[0-3].dng "$work/bursts/good_a/"
cp "$dngs"/burst23_high/frame_0[0-2].dng "$work/bursts/good_b/"
cp "$b"/frame_0[0-2].dng "$work/bursts/damaged/" && cp "$dngs/bad_trunc_400.dng" "$work/bursts/damaged/frame_03.dng"
sums=$(cd "$work/bursts" && find . -type f | sort | xargs sha256sum)
log=$("$obscura" burst "$work"/bursts/* -o "$work/merged_out" --jobs 2 --look reference 2>&1)
rc=$?
echo "$log" | sed 's/^/  burst batch: /'
check "burst batch exit 1 when some failed" test $rc -eq 1
check "burst batch wrote the 2 good ones" test -s "$work/merged_out/good_a.jpg" -a -s "$work/merged_out/good_b.jpg"
check "burst batch wrote nothing else" test "$(ls -A "$work/merged_out" | wc -l)" -eq 2
check "burst batch names the damaged frame" grep -q "frame_03.dng" <<<"$log"
check "burst batch names the empty folder" grep -q "empty: no raw frames" <<<"$log"
check "burst batch summary" grep -q "2 of 4 merged" <<<"$log"
check "burst batch inputs untouched" test "$(cd "$work/bursts" && find . -type f | sort | xargs sha256sum)" = "$sums"
"$obscura" burst "$work/bursts/good_a" "$b/frame_00.dng" -o "$work/merged_out2" 2>/dev/null
check "frames and folders mixed is a usage error" test $? -eq 2
"$obscura" simulate "$here/data/kodim19.png" -o "$work/sim" --frames 3 --noise 0.004,0.00004 --motion 5 --mover
check "simulate writes frames and truth" test -s "$work/sim/frame_02.dng" -a -s "$work/sim/truth.png" -a -s "$work/sim/truth.json"
"$obscura" burst "$work"/sim/frame_*.dng -o "$work/sim.png" --look reference 2>/dev/null
score=$(/usr/bin/python3 "$here/tools/score.py" "$work/sim.png" "$work/sim/truth.png" --json)
echo "simulated kodim19 merged: $score"
check "simulated burst merges" /usr/bin/python3 -c "import json,sys; sys.exit(0 if json.loads(sys.argv[1])['cpsnr']>=30.0 else 1)" "$score"
"$obscura" simulate "$here/data/kodim19.png" -o "$work/sim2" --noise 2 2>/dev/null
check "simulate --noise 2 is a usage error" test $? -eq 2
"$obscura" simulate "$work/none.png" -o "$work/sim3" 2>/dev/null
check "simulate of a missing photo fails" test $? -eq 1

# HDR: a bracket to OpenEXR and Ultra HDR; bad --hdr-output values and
# pairings are one line, a non-zero exit, nothing written.
br="$dngs/bracket23"
"$obscura" burst "$br"/frame_0*.dng -o "$work/hdr.exr" 2>/dev/null
check "bracket to OpenEXR" test -s "$work/hdr.exr"
"$obscura" burst "$br"/frame_0*.dng -o "$work/hdr.jpg" --hdr-output ultrahdr 2>/dev/null
check "bracket to Ultra HDR" grep -q "hdrgm:GainMapMax" "$work/hdr.jpg"
out=$("$obscura" develop "$br/frame_00.dng" -o "$work/hdr_bad.jpg" --hdr-output hdr10 2>&1)
check "--hdr-output hdr10 is a usage error" test $? -eq 2
check "--hdr-output hdr10 says so in one line" test "$(wc -l <<<"$out")" -eq 1
out=$("$obscura" develop "$br/frame_00.dng" -o "$work/hdr_bad.png" --hdr-output ultrahdr 2>&1)
check "Ultra HDR into a PNG fails" test $? -eq 1
check "Ultra HDR into a PNG names the file" grep -q "hdr_bad.png" <<<"$out"
"$obscura" develop "$br/frame_00.dng" -o "$work/hdr_bad.jpg" --hdr-output pq 2>/dev/null
check "PQ into a JPEG fails" test $? -eq 1
check "bad HDR outputs wrote nothing" test ! -e "$work/hdr_bad.jpg" -a ! -e "$work/hdr_bad.png"
"$obscura" simulate "$here/data/kodim19.png" -o "$work/simhdr" --ev=0,-4,2 --hdr 3 --motion 4 2>/dev/null
check "simulate --ev --hdr writes the scene" test -s "$work/simhdr/truth.tiff" -a -s "$work/simhdr/frame_02.dng"
"$obscura" simulate "$here/data/kodim19.png" -o "$work/simhdr2" --frames 2 --ev=0,-4,2 2>/dev/null
check "simulate --ev with the wrong count is a usage error" test $? -eq 2

echo "$passes passed, $failures failed"
[ "$failures" -eq 0 ]
