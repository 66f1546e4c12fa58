// highlights: rebuilding what a Bayer frame clipped, before the develop.
#pragma once
#include "obscura/raw_image.h"

namespace obscura {

// True when a measurable share of the frame's 2x2 quads (1 in 10,000) has
// some colours clipped at white and others not: the case the rebuild helps.
// (Bayer frames with a black level the develop takes as it is; not a
// remosaicked frame, whose cell samples keep the old levels.)
bool has_partial_clipping(const RawImage& raw);

// The frame with its clipped colours rebuilt from the unclipped ones through
// the colour of the light nearby (never below what they read), with a stop
// of headroom for them: 16-bit samples, white at half of full scale,
// BaselineExposure + 1, noise profile rescaled. The frame itself when it has
// no partial clipping.
RawImage rebuild_highlights(const RawImage& raw);

}  // namespace obscura
