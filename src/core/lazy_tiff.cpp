#include "core/lazy_tiff.h"

namespace obscura {

OBSCURA_LAZY_LIBRARY(libtiff, OBSCURA_SONAME_LIBTIFF)

}  // namespace obscura
