// burst: align and merge a handheld burst of raw frames into one raw frame
// with less noise (HDR+ class: tile alignment on a grey pyramid, merge per
// tile in the frequency domain, driven by the noise profile).
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "obscura/raw_image.h"

namespace obscura {

struct BurstOptions {
    int reference = -1;     // frame index; -1: the sharpest of the first three
    double strength = 8.0;  // how much difference is still taken for noise (higher: smoother, more risk)
    // n x n-cell frames (quad, nona, hexadeca): each is binned (true) or
    // remosaicked to full resolution (false) as it is read, then merged.
    bool binning = false;
    // The CFA layout whatever the files claim (quad data in DNGs that claim
    // 2x2 Bayer, say); empty: the files'.
    std::optional<CfaPattern> cfa;
};

// Where the merge takes its frames from: how many, and frame i as a
// RawImage (decoded from a file by the pipeline, made in memory by a test or
// a camera). Frame i may be asked for twice (the reference's candidates are
// read to pick the sharpest); each is dropped before the next is read.
struct FrameSource {
    size_t count = 0;
    std::function<RawImage(size_t index)> read;
};

struct BurstFrameReport {
    std::string file;
    double sharpness = 0;      // measured for reference candidates, else 0
    int median_dx = 0, median_dy = 0;  // median tile offset to the reference, raw pixels
    double exposure_ev = 0;    // exposure relative to the reference's (a bracket), EV
};

struct BurstReport {
    int reference = 0;
    std::vector<BurstFrameReport> frames;
    double headroom_ev = 0;  // a bracket's range kept over the reference white, EV
    double seconds_decode = 0, seconds_align = 0, seconds_merge = 0;
};

// Merges `frames` (2x2 Bayer or n x n-cell raws of one size) onto the
// reference frame. Frames are read one at a time: memory grows with one
// frame, not with the burst. The result is the reference frame's RawImage with merged,
// 16-bit samples (levels scaled) and its noise profile reduced accordingly
// (estimated from the frames when the files have none): the develop's
// noise reduction takes off what the merge left.
// An exposure bracket (frames whose exposure -- time x ISO / aperture^2,
// or measured when the files do not say -- differs from the reference's by
// a sixth of a stop or more): the frames of the reference's exposure merge as
// above, the others are fused onto them by signal-to-noise, and the result
// keeps their range (BaselineExposure raised by the headroom). Without
// exposure data the reference is the first frame's exposure; by default it
// is the sharpest of the first three frames of that exposure.
// Throws obscura::Error naming the offending file.
RawImage merge_burst(const FrameSource& frames, const BurstOptions& options = {}, BurstReport* report = nullptr);

}  // namespace obscura
