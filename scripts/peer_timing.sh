#!/usr/bin/env bash
# Times one develop of the same DNG by obscura and the peers, in one run
# (obscura bench develop: best of 3, MP/s, peak memory, ratios to dcraw_emu).
#   scripts/peer_timing.sh [SIZE=4000x3000] [PHOTO=tests/data/kodim05.png]
#   e.g. scripts/peer_timing.sh 8192x6144    # 50 MP
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
size="${1:-4000x3000}"
photo="${2:-$root/tests/data/kodim05.png}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
dng="$work/bench_$size.dng"
/usr/bin/python3 "$root/tests/tools/mkdng.py" "$photo" "$dng" --size "$size" --bits 14
"$root/build/bin/obscura" bench develop "$dng" --repeat 3
