// Exposure brackets in the burst stage: how a frame's exposure compares with
// the reference's, and the fusion of frames of other exposures onto the
// merged reference (after the same-exposure frames went through the
// frequency-domain merge).
#pragma once
#include <optional>
#include <vector>

#include "burst/burst_parts.h"

namespace obscura::burst {

// alt's exposure over ref's from what the files say: exposure time, and ISO,
// aperture and BaselineExposure where both frames give them. Empty when
// either has no exposure time.
std::optional<double> stated_exposure_ratio(const RawImage& ref, const RawImage& alt);

// A frame's exposure as measured on its pixels: the grey level (a fraction
// of white) of its 8 x 8-pixel blocks at the quantiles 5%, 6%, ... 95%.
std::vector<float> exposure_levels(const RawImage& raw);

// The same ratio measured, for files that do not say: the median ratio of
// the frames' levels where both are well exposed. `ref_levels`: the
// reference's exposure_levels, measured into it when empty (a burst
// measures its reference once). Throws naming `alt` when too few blocks are.
double measured_exposure_ratio(const RawImage& ref, const RawImage& alt, std::vector<float>& ref_levels);

// stated, else measured.
double exposure_ratio(const RawImage& ref, const RawImage& alt, std::vector<float>& ref_levels);

// Within a sixth of a stop: one exposure (the frequency-domain merge).
bool same_exposure(double ratio);

// Fuses the frames `others` (other exposures) onto the reference: `merged`
// is the same-exposure merge of `merged_frames` frames (burst.cpp's
// finish_merge: reference levels, planes from 0), `ref_planes` the
// reference's own padded planes (for where it clips and for alignment).
// Each frame is aligned on exposure-normalised grey, and every sample
// weighted by its signal-to-noise ratio (noise profile x exposure), clipped
// samples dropped, tiles that moved refused. The result keeps the range: 16
// bits with the reference white at 2^-headroom of full scale and
// BaselineExposure raised by the headroom.
RawImage fuse_exposures(RawImage ref, const Buffer<float>& ref_planes, const Buffer<float>& merged, int merged_frames,
                        const std::vector<size_t>& others, const FrameSource& files, const BurstOptions& options,
                        const CfaPattern& ref_layout, BurstReport& report);

}  // namespace obscura::burst
