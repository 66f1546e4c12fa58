#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (AddressSanitizer + UBSan) and runs
# each for a bounded time on a seed corpus of small real DNGs.
#   scripts/fuzz.sh [SECONDS_PER_TARGET=60]   # exploring: a new seed each run
#   scripts/fuzz.sh --runs N                  # CI: N inputs from a fixed seed,
#                                             # so a run that passed here passes there
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ "${1:-}" = "--runs" ]; then
    budget=(-runs="$2" -seed=1)
else
    budget=(-max_total_time="${1:-60}")
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
             "--margin 4" "--black-pattern" "--linearize --pack 12" "--forward-matrix" "--dual-illuminant" \
             "--ljpeg --tiles 16 --pack 12" "--opcode3 warp:1,0.02,0,0,0,0 --opcode3 raw:14:1"; do
        name=$(echo "$v" | tr -cd 'a-z0-9')
        # shellcheck disable=SC2086
        "$py" "$t/dng_variants.py" "$out/seeds/base.dng" "$out/seeds/v_$name.dng" $v
    done
    touch "$out/seeds/done"
fi
flags="-std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
srcs=("$root"/src/core/*.cpp "$root"/src/decode/*.cpp "$root/src/optics/opcodes.cpp")
# shellcheck disable=SC2046
clang++ $flags -I"$root/include" -I"$root/src" "$root/fuzz/dng_fuzzer.cpp" "${srcs[@]}" \
    $(pkg-config --cflags --libs libraw_r exiv2) -lpthread -o "$out/dng_fuzzer"
# Every input that once crashed a fuzzer must pass first.
"$out/dng_fuzzer" "$root"/fuzz/regressions/*.dng
"$out/dng_fuzzer" "$out/corpus" "$out/seeds" "${budget[@]}" -rss_limit_mb=2048 -max_len=65536 \
    -timeout=10 -print_final_stats=1 2>&1 | tail -25
