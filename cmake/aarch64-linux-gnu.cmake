# Cross-compiles obscura for 64-bit ARM Linux (Debian's aarch64-linux-gnu
# toolchain and multiarch :arm64 libraries; scripts/install-arm64-deps.sh).
# Programs built here run under qemu-user: ctest and the test discovery go
# through CMAKE_CROSSCOMPILING_EMULATOR. `make arm64` passes this file.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64)

# The arm64 libraries live beside the host's (multiarch), so the whole system
# is the "sysroot"; programs (the generators, python, bash) are the host's.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)

# pkg-config answers for arm64 only: Debian's arm64 .pc files, and the two
# -dev packages that are not co-installable, unpacked by install-arm64-deps.sh.
set(OBSCURA_ARM64_EXTRA "/opt/obscura-arm64" CACHE PATH "arm64 link files of non-multiarch -dev packages")
set(PKG_CONFIG_EXECUTABLE aarch64-linux-gnu-pkg-config CACHE FILEPATH "")
set(ENV{PKG_CONFIG_LIBDIR}
    "${OBSCURA_ARM64_EXTRA}/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")

# Halide's CMake helpers are the build machine's (its multiarch directory).
execute_process(COMMAND gcc -print-multiarch OUTPUT_VARIABLE OBSCURA_HOST_MULTIARCH
                OUTPUT_STRIP_TRAILING_WHITESPACE)
