#!/usr/bin/env bash
# Times one develop of the same 12 MP DNG by obscura and the peers, in one run.
#   scripts/peer_timing.sh [SIZE=4000x3000] [PHOTO=tests/data/kodim05.png]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
size="${1:-4000x3000}"
photo="${2:-$root/tests/data/kodim05.png}"
obscura="$root/build/bin/obscura"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
dng="$work/bench.dng"
/usr/bin/python3 "$root/tests/tools/mkdng.py" "$photo" "$dng" --size "$size" --bits 14
echo "file: $size 14-bit RGGB DNG ($(du -h "$dng" | cut -f1))"
run() {  # run LABEL COMMAND...: best of 3 wall-clock seconds
    local label="$1" best=999
    shift
    for _ in 1 2 3; do
        local t0 t1
        t0=$(date +%s.%N)
        "$@" >/dev/null 2>&1 || { echo "$label: failed"; return; }
        t1=$(date +%s.%N)
        best=$(echo "$t1 $t0 $best" | awk '{d=$1-$2; print (d<$3)?d:$3}')
    done
    printf '%-40s %7.3f s\n' "$label" "$best"
    echo "$label $best" >> "$work/times"
}
run "obscura develop (default look, JPEG)" "$obscura" develop "$dng" -o "$work/o.jpg"
run "obscura develop (reference, TIFF16)" "$obscura" develop "$dng" -o "$work/o.tif" --look reference
command -v dcraw_emu >/dev/null && run "dcraw_emu -q 3 (AHD, PPM)" dcraw_emu -q 3 -w "$dng"
command -v dcraw_emu >/dev/null && run "dcraw_emu -w -q 3 -T (AHD, TIFF)" dcraw_emu -w -q 3 -T "$dng"
command -v darktable-cli >/dev/null && run "darktable-cli (defaults, JPEG)" \
    darktable-cli "$dng" "$work/dt.jpg" --core --configdir "$work/dtconf" --library :memory:
base=$(awk '/^obscura develop \(default/{print $NF}' "$work/times")
echo "ratios to obscura's default JPEG develop:"
awk -v b="$base" '{t=$NF; $NF=""; printf "  %-40s %6.2fx\n", $0, t/b}' "$work/times"
