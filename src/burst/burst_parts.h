// The parts of the burst stage its two merges share: the padded Bayer planes
// a frame is read into, the grey pyramid and the coarse-to-fine tile
// alignment (burst.cpp), and the geometry of tiles and margins.
#pragma once
#include <HalideBuffer.h>

#include <array>
#include <chrono>
#include <vector>

#include "obscura/burst.h"
#include "obscura/raw_image.h"

namespace obscura::burst {

using Halide::Runtime::Buffer;

// Margins, so the kernels never clamp an index: in raw pixels (the merge
// reads tile groups rounded up to 16 tiles on the right and bottom, hence the
// wider end), as the Bayer planes hold them (half), and around grey levels
// 0 (raw resolution) to 3.
constexpr int kRawPad = 256, kRawPadEnd = 512;
constexpr int kPlanePad = kRawPad / 2, kPlanePadEnd = kRawPadEnd / 2;
constexpr int kLevelPad[4] = {224, 110, 48, 32};
constexpr int kLevelRadius[4] = {1, 2, 4, 4};
// A tile whose low frequencies differ from the reference's by more than
// kMotionLow times the noise starts to be refused; by kMotionHigh it is
// refused whole (measured on Kodak bursts with a moving patch: see
// scripts/burst_eval.py).
constexpr float kMotionLow = 1.5f, kMotionHigh = 3.0f;
// The largest offset (raw pixels) the merge may read at: within the planes'
// margin with a tile and the interpolation's taps to spare.
constexpr int kMergeLimit = kRawPad - 16 - 4 - 32;

// Samples of one Bayer plane across `extent` raw pixels (an odd last
// column or row still belongs to a plane).
inline int plane_extent(int extent) { return (extent + 1) / 2; }

// Tiles of 16 at stride 8 (32 at 16 on level 0) starting one stride before
// the image: this many cover `extent` samples twice. Tile t of a plane
// covers plane samples [8 t - 8, 8 t + 8).
inline int tile_count(int extent) { return (extent + 7) / 8 + 1; }

double seconds_since(std::chrono::steady_clock::time_point t);

// One level of the grey pyramid: valid over [-pad, w + pad) x [-pad, h + pad).
struct Level {
    int w = 0, h = 0, pad = 0;
    Buffer<float> img;
};

// The four Bayer planes of a raw frame as floats (plane x parity + 2 * y
// parity), padded by mirroring: (x, y, plane) from -kPlanePad.
Buffer<float> padded_planes(const RawImage& raw, Buffer<float>&& reuse = {});

// The grey pyramid of padded planes (levels 0..3, raw resolution to 1/32).
std::array<Level, 4> grey_pyramid(const Buffer<float>& planes, int width, int height, std::array<Level, 4>&& reuse = {});

// Each level-1 tile's offset (raw pixels) from `ref` to `alt`, coarse to fine.
Buffer<int16_t> align_frame(std::array<Level, 4>& ref, std::array<Level, 4>& alt);

// The median of the tiles' offsets, into the frame's report.
void report_median_offset(const Buffer<int16_t>& offsets, BurstFrameReport& frame);

// A frame as the merges take it (n x n-cell frames binned or remosaicked);
// `layout` gets the file's own CFA.
RawImage read_frame(const FrameSource& frames, size_t index, const BurstOptions& options, CfaPattern& layout);

// Throws naming `alt` when it cannot be merged onto `ref` (size, CFA, levels).
void check_compatible(const RawImage& ref, const CfaPattern& ref_layout, const RawImage& alt, const CfaPattern& alt_layout);

}  // namespace obscura::burst
