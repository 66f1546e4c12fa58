// libtiff, opened at its first use (lazy_library.h): only the TIFF and DNG
// writers and the scorers' TIFF files need it, and loading it with the
// codecs it links (WebP, LERC, zstd, LZMA, JBIG, libdeflate) cost every run
// ~2 ms before main. Calls go through TIFF_LAZY(TIFFSetField)(...).
#pragma once
#include <tiffio.h>

#include "core/lazy_library.h"

namespace obscura {
LazyLibrary& libtiff();
}  // namespace obscura

#define TIFF_LAZY(function) OBSCURA_LAZY(::obscura::libtiff(), function)
