#!/usr/bin/env bash
# The arm64 CLI against the host's, on the same files (issue 23):
#   arm64_check.sh HOST_OBSCURA ARM64_OBSCURA [WORK]
# Makes a Kodak DNG and an 8-frame handheld burst with the independent maker
# (tests/tools/mkdng.py), develops both with each binary (the arm64 one under
# qemu-aarch64), and requires the two photos to agree: CPSNR >= 60 dB for the
# develop, >= 50 dB for the burst (floating-point sums in another order, and
# fused multiply-adds, may move a value by a code; nothing more).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
host="$1"
arm="$2"
work="${3:-$(mktemp -d)}"
mkdir -p "$work"
py=/usr/bin/python3
qemu="${QEMU:-qemu-aarch64}"

"$py" "$here/tests/tools/mkdng.py" "$here/tests/data/kodim05.png" "$work/kodim05.dng" --bits 14 --noise 0.002,0.00002
"$py" "$here/tests/tools/mkdng.py" "$here/tests/data/kodim23.png" "$work/burst" --frames 8 \
    --noise 0.002,0.00002 --motion 12 --mover --seed 5

fail=0
compare() {  # NAME BAR HOST_OUT ARM_OUT
    local json db
    json=$("$py" "$here/tests/tools/score.py" "$3" "$4" --border 0 --json)
    db=$("$py" -c "import json,sys; print(json.loads(sys.argv[1])['cpsnr'])" "$json")
    if "$py" -c "import sys; sys.exit(0 if float(sys.argv[1]) >= float(sys.argv[2]) else 1)" "$db" "$2"; then
        echo "arm64_check: PASS $1: arm64 vs x86-64 $json (bar $2 dB)"
    else
        echo "arm64_check: FAIL $1: arm64 vs x86-64 $json (bar $2 dB)"
        fail=1
    fi
}

# The default command (authentic look, the noise reduction on), 16-bit TIFF so
# that the comparison sees more than 8-bit rounding.
"$host" develop "$work/kodim05.dng" -o "$work/develop_x86.tif" --overwrite
"$qemu" "$arm" develop "$work/kodim05.dng" -o "$work/develop_arm64.tif" --overwrite
compare "develop kodim05" 60 "$work/develop_x86.tif" "$work/develop_arm64.tif"
# An ARMv8.0 core (no dot product, no fp16 arithmetic: Cortex-A72, as in a
# Raspberry Pi 4) runs the kernels' baseline variant, not the ARMv8.2 one.
"$qemu" -cpu cortex-a72 "$arm" develop "$work/kodim05.dng" -o "$work/develop_a72.tif" --overwrite
compare "develop kodim05 on an ARMv8.0 core" 60 "$work/develop_x86.tif" "$work/develop_a72.tif"

"$host" burst "$work"/burst/frame_0*.dng -o "$work/burst_x86.tif" --overwrite
"$qemu" "$arm" burst "$work"/burst/frame_0*.dng -o "$work/burst_arm64.tif" --overwrite
compare "burst 8 x kodim23" 50 "$work/burst_x86.tif" "$work/burst_arm64.tif"
exit $fail
