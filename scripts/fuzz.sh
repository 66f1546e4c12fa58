#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (AddressSanitizer + UBSan) and runs
# each for a bounded time: the DNG reader on a seed corpus of small real DNGs,
# the look reader on the shipped looks, the LUT reader on small .cube files.
#   scripts/fuzz.sh [SECONDS_PER_TARGET=60]   # exploring: a new seed each run
#   scripts/fuzz.sh --runs N                  # CI: N inputs from a fixed seed,
#                                             # so a run that passed here passes there
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ "${1:-}" = "--runs" ]; then
    budget=(-runs="$2" -seed=1)
    # The DNG and block readers run whole decoders per input (~300 inputs a
    # second under ASan, the look and LUT readers ~8000): a quarter and a
    # tenth of the runs keep CI's fuzzing to a few minutes.
    dng_budget=(-runs="$(($2 / 4))" -seed=1)
    block_budget=(-runs="$(($2 / 10))" -seed=1)
else
    budget=(-max_total_time="${1:-60}")
    dng_budget=("${budget[@]}")
    block_budget=("${budget[@]}")
fi
out="$root/build-fuzz"
mkdir -p "$out/corpus" "$out/seeds"
py=/usr/bin/python3
t="$root/tests/tools"
# Seeds: tiny DNGs of every structure the reader knows.
if [ ! -e "$out/seeds/done" ]; then
    "$py" "$t/mkdng.py" "$root/tests/data/kodim23.png" "$out/seeds/base.dng" --size 48x32 --bits 12 >/dev/null
    "$py" "$t/mkdng.py" "$root/tests/data/kodim23.png" "$out/seeds/shading.dng" --size 48x32 --shading 0.5 >/dev/null
    "$py" "$t/mkdng.py" "$root/tests/data/kodim23.png" "$out/seeds/quad.dng" --size 48x32 --cfa quad >/dev/null
    for v in "--tiles 16" "--pack 12" "--big-endian --pack 12 --tiles 16" "--subifd --exif --orientation 6" \
             "--margin 4" "--black-pattern" "--linearize --pack 12" "--forward-matrix" "--dual-illuminant" "--noise-map" \
             "--ljpeg --tiles 16 --pack 12" "--opcode3 warp:1,0.02,0,0,0,0 --opcode3 raw:14:1" \
             "--deflate --tiles 16" "--float --tiles 16" "--no-matrix" "--profile" \
             "--profile --dual-illuminant --big-endian"; do
        name=$(echo "$v" | tr -cd 'a-z0-9')
        # shellcheck disable=SC2086
        "$py" "$t/dng_variants.py" "$out/seeds/base.dng" "$out/seeds/v_$name.dng" $v
    done
    # Phone flavours: lossless JPEG with restart markers, JPEG XL, LinearRaw.
    for v in "--compress ljpeg --restart" "--compress jxl" "--linear" "--linear --compress ljpeg" \
             "--linear --compress jxl --jxl-distance 1"; do
        name=$(echo "$v" | tr -cd 'a-z0-9')
        # shellcheck disable=SC2086
        "$py" "$t/mkdng.py" "$root/tests/data/kodim23.png" "$out/seeds/p_$name.dng" --size 48x32 $v >/dev/null
    done
    # The block fuzzer's seeds: the blocks of those files, behind the byte
    # that picks their reader (0: lossless JPEG, 1/3: JPEG XL 1 or 3 samples).
    mkdir -p "$out/block-seeds"
    "$py" - "$out/seeds" "$out/block-seeds" "$root/tests/data/kodim23.png" <<'PY'
import os, subprocess, sys, tempfile
import numpy as np
import tifffile
from PIL import Image
seeds, out, photo = sys.argv[1:4]
for name in ("p_compressljpegrestart.dng", "p_linearcompressljpeg.dng"):
    page = tifffile.TiffFile(os.path.join(seeds, name)).pages[0]
    key = "TileOffsets" if "TileOffsets" in page.tags else "StripOffsets"
    off, cnt = page.tags[key].value[0], page.tags[key.replace("Offsets", "ByteCounts")].value[0]
    data = open(os.path.join(seeds, name), "rb").read()[off:off + cnt]
    open(os.path.join(out, name + ".blk"), "wb").write(b"\x00" + data)
im = np.asarray(Image.open(photo).convert("RGB"))[:64, :64]
with tempfile.TemporaryDirectory() as d:
    for pick, arr, ext in ((1, im[:, :, 1], "pgm"), (3, im, "ppm")):
        src = os.path.join(d, "t." + ext)
        Image.fromarray(arr).save(src)
        for dist in ("0", "1"):
            dst = os.path.join(d, "t.jxl")
            subprocess.run(["cjxl", src, dst, "-d", dist, "-e", "3"], check=True, capture_output=True)
            open(os.path.join(out, f"jxl{pick}_{dist}.blk"), "wb").write(bytes([pick]) + open(dst, "rb").read())
PY
    touch "$out/seeds/done"
fi
flags="-std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
srcs=("$root"/src/core/*.cpp "$root"/src/decode/*.cpp "$root/src/optics/opcodes.cpp")
# libjxl, LibRaw and libtiff are opened at their first use (src/core/lazy_library.h),
# by the SONAME of the installed library, as src/CMakeLists.txt reads it.
soname() { readelf -d "$(pkg-config --variable=libdir "$1")/lib$2.so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p'; }
lazy=(-DOBSCURA_SONAME_LIBJXL="\"$(soname libjxl jxl)\"" -DOBSCURA_SONAME_LIBJXL_THREADS="\"$(soname libjxl_threads jxl_threads)\""
      -DOBSCURA_SONAME_LIBRAW="\"$(soname libraw_r raw_r)\"" -DOBSCURA_SONAME_LIBTIFF="\"$(soname libtiff-4 tiff)\""
      $(pkg-config --cflags libjxl libjxl_threads libraw_r libtiff-4) -ldl)
for fuzzer in dng_fuzzer block_fuzzer; do
    # shellcheck disable=SC2046
    clang++ $flags -I"$root/include" -I"$root/src" "${lazy[@]}" "$root/fuzz/$fuzzer.cpp" "${srcs[@]}" \
        $(pkg-config --cflags --libs exiv2 zlib libjpeg) -lpthread -o "$out/$fuzzer"
done
# Every input that once crashed a fuzzer must pass first.
"$out/dng_fuzzer" "$root"/fuzz/regressions/*.dng
"$out/dng_fuzzer" "$out/corpus" "$out/seeds" "${dng_budget[@]}" -rss_limit_mb=2048 -max_len=65536 \
    -timeout=10 -print_final_stats=1 2>&1 | tail -25

mkdir -p "$out/block-corpus"
"$out/block_fuzzer" "$out/block-corpus" "$out/block-seeds" "${block_budget[@]}" -rss_limit_mb=2048 -max_len=65536 \
    -timeout=10 -print_final_stats=1 2>&1 | tail -12

# Looks and LUTs: seeds are the shipped looks and a few small cubes.
mkdir -p "$out/look-corpus" "$out/lut-corpus" "$out/lut-seeds"
clang++ $flags -I"$root/include" -I"$root/src" "$root/fuzz/look_fuzzer.cpp" "$root/src/look/look.cpp" "$root/src/core/parallel.cpp" \
    $(pkg-config --cflags --libs tomlplusplus) -o "$out/look_fuzzer"
clang++ $flags -I"$root/include" -I"$root/src" "$root/fuzz/lut_fuzzer.cpp" "$root/src/look/lut.cpp" -o "$out/lut_fuzzer"
"$py" - "$out/lut-seeds" <<'PY'
import sys
d = sys.argv[1]
for n in (2, 3, 5):
    with open(f"{d}/identity{n}.cube", "w") as f:
        f.write(f'TITLE "identity"\nLUT_3D_SIZE {n}\nDOMAIN_MIN 0 0 0\nDOMAIN_MAX 1 1 1\n')
        for b in range(n):
            for g in range(n):
                for r in range(n):
                    f.write(f"{r/(n-1):.4f} {g/(n-1):.4f} {b/(n-1):.4f}\n")
with open(f"{d}/range.cube", "w") as f:
    f.write("# comment\nLUT_3D_INPUT_RANGE -0.1 1.2\nLUT_3D_SIZE 2\n" + "0.5 0.5 0.5\n" * 8)
PY
"$out/look_fuzzer" "$out/look-corpus" "$root/styles" "${budget[@]}" -rss_limit_mb=2048 -max_len=4096 \
    -timeout=10 -print_final_stats=1 2>&1 | tail -12
"$out/lut_fuzzer" "$out/lut-corpus" "$out/lut-seeds" "${budget[@]}" -rss_limit_mb=2048 -max_len=16384 \
    -timeout=10 -print_final_stats=1 2>&1 | tail -12
