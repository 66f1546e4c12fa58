#!/usr/bin/env bash
# Which developer opens which phone DNG flavour: makes each flavour of one
# Kodak photo with the independent mkdng, asks obscura and every peer to
# develop it, and prints a table (ok, or the peer's failure). Each output
# is checked to exist and not be empty.
#   scripts/peer_formats.sh [PHOTO=tests/data/kodim05.png]
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
photo="${1:-$root/tests/data/kodim05.png}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mk() { /usr/bin/python3 "$root/tests/tools/mkdng.py" "$photo" "$work/$1.dng" --bits 14 "${@:2}" >/dev/null; }
flavours=(cfa_plain cfa_ljpeg cfa_ljpeg_restart cfa_jxl linear_plain linear_ljpeg linear_jxl linear_jxl_lossy)
mk cfa_plain
mk cfa_ljpeg --compress ljpeg
mk cfa_ljpeg_restart --compress ljpeg --restart
mk cfa_jxl --compress jxl
mk linear_plain --linear
mk linear_ljpeg --linear --compress ljpeg
mk linear_jxl --linear --compress jxl
mk linear_jxl_lossy --linear --compress jxl --jxl-distance 1
try() {  # NAME OUTPUT COMMAND...: "ok" when the command succeeds and writes OUTPUT
    local out="$2"
    rm -f "$out"
    if timeout 300 "${@:3}" >"$work/log" 2>&1 && [ -s "$out" ]; then echo -n "ok"; else echo -n "fails"; fi
}
printf "| flavour | obscura | dcraw_emu (LibRaw %s) | darktable-cli %s | rawtherapee-cli %s |\n" \
    "$(dpkg-query -W -f='${Version}' libraw-bin 2>/dev/null | cut -d- -f1)" \
    "$(dpkg-query -W -f='${Version}' darktable 2>/dev/null | cut -d- -f1)" \
    "$(dpkg-query -W -f='${Version}' rawtherapee 2>/dev/null | cut -d- -f1)"
echo "|---|---|---|---|---|"
for f in "${flavours[@]}"; do
    dng="$work/$f.dng"
    echo -n "| $f | "
    try obscura "$work/o.jpg" "$root/build/bin/obscura" develop "$dng" -o "$work/o.jpg" --overwrite; echo -n " | "
    try dcraw "$dng.tiff" dcraw_emu -w -T "$dng"; echo -n " | "
    try darktable "$work/d.jpg" darktable-cli "$dng" "$work/d.jpg" --core --configdir "$work/dt" --library :memory:; echo -n " | "
    try rawtherapee "$work/r.jpg" rawtherapee-cli -o "$work/r.jpg" -Y -c "$dng"; echo " |"
done
