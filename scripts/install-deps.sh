#!/usr/bin/env bash
# Installs every Debian 12 package obscura's build, tests and benchmarks use,
# or the packages given as arguments (install-arm64-deps.sh's).
# Idempotent; run as root. Skips apt entirely when everything is present.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libhalide14-0-dev                       # kernels (ahead-of-time generators)
  libraw-dev                              # camera raws other than DNG
  liblensfun-dev liblensfun-data-v1 libglib2.0-dev   # lens profiles (lensfun.pc needs glib)
  libtomlplusplus-dev                     # look files (styles/*.toml)
  libtiff-dev libpng-dev libjpeg62-turbo-dev liblcms2-dev libexiv2-dev
  libheif-dev libheif-examples            # HEIF/AVIF output; heif-convert decodes it in the tests
  libopenexr-dev                          # OpenEXR output (scene-linear HDR)
  libjxl-dev libjxl-tools zlib1g-dev      # JPEG XL and Deflate DNG tiles; cjxl makes JPEG XL test DNGs
  libfreetype-dev libharfbuzz-dev fonts-dejavu-core   # the watermark frame (--frame)
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev                # libFuzzer targets (make fuzz)
  python3 python3-numpy python3-pil python3-tifffile   # test-file maker and scorer
  python3-dev python3-pybind11 pybind11-dev python3-pytest python3-distributed   # the Python module, its tests, Dask
  libraw-bin darktable rawtherapee        # the peers, for benchmarks
)
if [ $# -gt 0 ]; then packages=("$@"); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-deps: need root to install: ${missing[*]}" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
