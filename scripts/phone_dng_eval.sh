#!/usr/bin/env bash
# Every phone DNG flavour of Kodak 03, 05, 13, 19, 23 (made by the
# independent mkdng, 14-bit), developed with --look reference and scored
# against the photo: compressed CFA files must score as the uncompressed
# one; LinearRaw files (lossless) reproduce the photo.
#   scripts/phone_dng_eval.sh [KODAK_DIR=../shared/data/kodak]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
kodak="${1:-$root/../shared/data/kodak}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
obscura="$root/build/bin/obscura"
for k in 03 05 13 19 23; do
    for v in "uncompressed:" "ljpeg:--compress ljpeg" "ljpeg-restart:--compress ljpeg --restart" "jxl:--compress jxl" \
             "linear:--linear" "linear-ljpeg:--linear --compress ljpeg" "linear-jxl:--linear --compress jxl" \
             "linear-jxl-d1:--linear --compress jxl --jxl-distance 1"; do
        name=${v%%:*}
        # shellcheck disable=SC2086
        /usr/bin/python3 "$root/tests/tools/mkdng.py" "$kodak/kodim$k.png" "$work/$name.dng" --bits 14 ${v#*:} >/dev/null
        "$obscura" develop "$work/$name.dng" -o "$work/$name.png" --look reference --overwrite
        echo "kodim$k $name $(/usr/bin/python3 "$root/tests/tools/score.py" "$kodak/kodim$k.png" "$work/$name.png" | tail -1)"
    done
done
