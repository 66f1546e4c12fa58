// highlights: rebuilding what a Bayer frame clipped, before the develop.
#pragma once
#include <optional>

#include "obscura/raw_image.h"

namespace obscura {

// True when a measurable share of the frame's 2x2 quads (1 in 10,000) has
// some colours clipped at white and others not: the case the rebuild helps.
// (Bayer frames with a black level the develop takes as it is; not a
// remosaicked frame, whose cell samples keep the old levels.)
bool has_partial_clipping(const RawImage& raw);

// The frame with its clipped colours rebuilt from the unclipped ones through
// the colour of the light nearby (never below what they read), with a stop
// of headroom for them: the white a stop up (or, where the samples have no
// room, 16 bits with white at half scale), BaselineExposure + 1, noise
// profile rescaled. Empty when the frame has no partial clipping.
std::optional<RawImage> rebuild_highlights(const RawImage& raw);

// The same on the frame itself (no copy of it): false, the frame untouched,
// when it has no partial clipping.
bool rebuild_highlights_in_place(RawImage& raw);

}  // namespace obscura
