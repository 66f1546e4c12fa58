// highlights: rebuilding what a Bayer frame clipped, before the develop.
#pragma once
#include <algorithm>
#include <optional>
#include <vector>

#include "obscura/frame_memory.h"
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

// The rebuild in two steps, for a develop that streams strips: the colour
// of the light nearby is read from the whole frame once (plan), then any
// rows are rebuilt on their own (each quad's rebuild reads only its own
// samples and its block's colour). The frame is then never copied whole:
// each strip rebuilds a copy of its own rows.
class HighlightRebuild {
public:
    // Empty when the frame has no partial clipping (has_partial_clipping).
    static std::optional<HighlightRebuild> plan(const RawImage& raw);

    // Rows [y0, y0 + count) of the frame as read, at `from`, rebuilt into
    // `to` (the same place, or rows as wide as the frame's). y0 is even;
    // count is even unless the rows end at the frame's last row.
    void rebuild_rows(const uint16_t* from, uint16_t* to, int y0, int count) const;

    // Whether rebuilding rows [y0, y0 + count) would change any sample
    // (false where none of them clipped and the samples keep their values:
    // a develop then reads those rows as they are).
    bool changes_rows(int y0, int count) const;

    // The rebuilt frame's levels, exposure and noise profile, set on `raw`
    // (the frame planned): its samples are left as they are.
    void relevel(RawImage& raw) const;

private:
    explicit HighlightRebuild(const RawImage& raw);  // (a frame has_partial_clipping accepted)
    // Block (bx, by)'s place in the bordered block grid (ratio_ holds two
    // values a place).
    size_t block_at(int bx, int by) const { return (size_t(by) + 1) * (size_t(blocks_wide_) + 2) + size_t(bx) + 1; }
    uint16_t lowest_clip() const { return std::min({clip_[0], clip_[1], clip_[2], clip_[3]}); }
    friend bool rebuild_highlights_in_place(RawImage& raw);

    int width_ = 0, height_ = 0, blocks_wide_ = 0;
    double black_[4] = {}, range_[4] = {}, per_code_[4] = {}, neutral_[3] = {};
    int colour_[4] = {};
    uint16_t clip_[4] = {};
    // Per block, with a border of blocks all round (rows blocks_wide_ + 2
    // apart): log(red / green), log(blue / green).
    std::vector<double, UninitialisedAllocator<double>> ratio_;
    std::vector<uint8_t> clipped_rows_;  // per quad row: 1 where a sample reaches the lowest clip
    bool room_ = false;          // the samples keep their values; the white moves up a stop
    double scale_ = 0, base_ = 0, to_new_[4] = {};
};

}  // namespace obscura
