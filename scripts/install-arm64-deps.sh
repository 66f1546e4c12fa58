#!/usr/bin/env bash
# Installs what `make arm64` and `make test-arm64` need on a Debian 12 x86-64
# machine: the aarch64 cross compiler, qemu-user, and the arm64 builds of the
# libraries obscura links (Debian multiarch). Idempotent; run as root.
#
# Two -dev packages (liblensfun-dev, libopenexr-dev) are not multiarch
# co-installable: installing their :arm64 build removes the host's. Their
# arm64 link files (.so links, .pc) are unpacked into $ARM64_EXTRA instead,
# pointing at the arm64 runtime libraries dpkg installs as usual.
set -euo pipefail
ARM64_EXTRA=${ARM64_EXTRA:-/opt/obscura-arm64}

packages=(
  crossbuild-essential-arm64 qemu-user
  libraw-dev:arm64 libtiff-dev:arm64 libpng-dev:arm64 libjpeg62-turbo-dev:arm64
  liblcms2-dev:arm64 libexiv2-dev:arm64 libheif-dev:arm64 libjxl-dev:arm64
  zlib1g-dev:arm64 libglib2.0-dev:arm64 libfreetype-dev:arm64 libharfbuzz-dev:arm64
  libtomlplusplus-dev:arm64 libgtest-dev:arm64 libgmock-dev:arm64
  liblensfun1:arm64 libopenexr-3-1-30:arm64 libimath-dev:arm64
)
unpacked=(liblensfun-dev libopenexr-dev)

if [ "$(id -u)" != 0 ]; then
  echo "install-arm64-deps: run as root" >&2
  exit 1
fi
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  dpkg --add-architecture arm64
  apt-get update -qq
fi
bash "$(dirname "$0")/install-deps.sh" "${packages[@]}"

lib=$ARM64_EXTRA/usr/lib/aarch64-linux-gnu
if [ ! -f "$ARM64_EXTRA/.done" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && chmod 777 . && apt-get download -qq "${unpacked[@]/%/:arm64}")
  rm -rf "$ARM64_EXTRA"
  mkdir -p "$ARM64_EXTRA"
  for deb in "$tmp"/*.deb; do dpkg -x "$deb" "$ARM64_EXTRA"; done
  # The .so links point beside themselves; the libraries are the runtime
  # packages' in /usr/lib/aarch64-linux-gnu.
  # (Headers are the host -dev packages', which are the same files.)
  for link in "$lib"/*.so; do
    target=$(readlink "$link")
    while [ -L "$lib/$target" ]; do target=$(readlink "$lib/$target"); done
    echo "$link -> $target"
  done > "$tmp/links"
  while read -r link _ target; do
    ln -sfn "/usr/lib/aarch64-linux-gnu/$target" "$link"
  done < "$tmp/links"
  sed -i -e "s|^prefix=.*|prefix=$ARM64_EXTRA/usr|" -e "s|^libdir=.*|libdir=$lib|" "$lib"/pkgconfig/*.pc
  touch "$ARM64_EXTRA/.done"
fi
echo "install-arm64-deps: ready (extra arm64 link files in $ARM64_EXTRA)"
