// pipeline: the runner every face uses (the CLI, the Python module, Dask
// workers): a raw file or a RawImage developed into an image or an output
// file, a burst merged and developed, and a batch of them with jobs, a
// progress callback and per-file errors. Outputs are written to a temporary
// and renamed, never over an input, never half-written.
//
// Data flows one way: decode -> sensor (binning, remosaic) -> [burst] ->
// develop -> frame -> encode. The stages know nothing of files but decode
// and encode; this runner is where paths, outputs and reports live.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "obscura/burst.h"
#include "obscura/decode.h"
#include "obscura/develop.h"
#include "obscura/encode.h"
#include "obscura/frame_memory.h"
#include "obscura/image.h"
#include "obscura/raw_image.h"

namespace obscura {

// Everything a develop is asked to do, as the CLI's flags and Python's
// keyword arguments give it.
struct PipelineOptions {
    DecodeOptions decode;
    std::optional<CfaPattern> cfa;  // the CFA layout whatever the file claims (--cfa)
    // n x n-cell CFAs: each cell one Bayer pixel (On), remosaicked to full
    // resolution (Off), or whichever the noise level favours (Auto:
    // binning_pays).
    enum class Binning { Auto, On, Off } binning = Binning::Auto;
    DevelopOptions develop;
    bool frame = false;             // the watermark band under the photo (--frame)
    // An HDR photo (--hdr-output): Ultra HDR (a .jpg with a gain map), or a
    // 10-bit BT.2100 HEIF/AVIF with PQ or HLG (the scene-linear rendition).
    enum class HdrOutput { None, UltraHdr, Pq, Hlg } hdr_output = HdrOutput::None;
    EncodeOptions encode;
};

// "ultrahdr", "pq", "hlg" or "none" as an HdrOutput (the CLI's
// --hdr-output, Python's hdr_output); empty for any other name.
std::optional<PipelineOptions::HdrOutput> hdr_output_named(const std::string& name);

// What a run did, for a face to print: stage times, the sensor step taken
// ("binning", "remosaic" or ""), and warnings (one line each, the file named).
struct RunReport {
    double decode_s = 0, sensor_s = 0, develop_s = 0;
    std::string sensor_step;
    std::vector<std::string> warnings;
};

// Decodes `path` with the options' decoder and CFA override. Throws
// obscura::Error naming the file.
RawImage read_raw(const std::string& path, const PipelineOptions& options, RunReport* report = nullptr);

// An n x n-cell frame made Bayer (binned or remosaicked, as the options
// say); a Bayer or LinearRaw frame as it is.
RawImage to_bayer(RawImage raw, const PipelineOptions& options, RunReport* report = nullptr);

// A decoded (Bayer or LinearRaw) frame developed whole: turned upright,
// framed when asked. For a caller that wants the pixels (Python's
// postprocess).
Image render(const RawImage& raw, const PipelineOptions& options, RunReport* report = nullptr);
// (Given the frame to keep, the steps before the develop work on it in place
// instead of on a copy.)
Image render(RawImage&& raw, const PipelineOptions& options, RunReport* report = nullptr);

// A decoded frame developed into `output` (its extension picks the format),
// streamed strip by strip unless it must be turned or framed.
void write_developed(const RawImage& raw, const std::string& output, const PipelineOptions& options,
                     RunReport* report = nullptr);
void write_developed(RawImage&& raw, const std::string& output, const PipelineOptions& options,
                     RunReport* report = nullptr);

// One raw file developed into `output`: refused before any work when the
// output is the input or exists (unless overwrite). Every error names a file.
void develop_file(const std::string& input, const std::string& output, const PipelineOptions& options,
                  RunReport* report = nullptr);

// A burst of raw files merged (frames decoded one at a time as the merge
// asks for them).
RawImage merge_burst_files(const std::vector<std::string>& paths, const BurstOptions& burst = {}, BurstReport* report = nullptr,
                           const DecodeOptions& decode = {});

// A burst merged and developed into `output`, the merge also written as a
// DNG when `dng` is given; outputs checked before any work (never an input
// frame, never replaced unless overwrite).
void develop_burst(const std::vector<std::string>& frames, const std::string& output, const std::optional<std::string>& dng,
                   const BurstOptions& burst, const PipelineOptions& options, BurstReport* burst_report = nullptr,
                   RunReport* report = nullptr);

// The raw frames of a burst folder, in name order (what a camera app writes).
std::vector<std::string> burst_frames(const std::string& folder);

// One input of a batch finished (or failed).
struct BatchProgress {
    size_t index = 0, done = 0, failed = 0, total = 0;
    std::string input, output;
    std::string error;  // empty when it worked
    double seconds = 0;
    std::vector<std::string> warnings;
};

struct BatchOptions {
    int jobs = 1;  // inputs processed at once
    // Frame memory for the whole process, in bytes (set_frame_memory_budget):
    // a job that would pass it fails, naming its file, and the others go on.
    // 0: leave the budget as it is.
    size_t memory_budget = 0;
    // Called after each input, from the worker that did it, one call at a
    // time. If it throws, no further input is started and run_batch
    // rethrows once the running ones end.
    std::function<void(const BatchProgress&)> progress;
};

struct BatchResult {
    std::vector<std::string> outputs;  // per input: DIR/STEM.EXT
    std::vector<std::string> errors;   // per input: "" when written
    size_t failed = 0;
    double seconds = 0;
};

// One input into one output; throws obscura::Error on failure. Returns the
// warnings it gave.
using BatchJob = std::function<std::vector<std::string>(const std::string& input, const std::string& output)>;

// Many inputs into `dir` (created if need be) as DIR/STEM.EXT: every good
// one written, every bad one's error kept; two inputs with one stem are
// refused (the later one), not overwritten.
BatchResult run_batch(const std::vector<std::string>& inputs, const std::string& dir, const std::string& extension,
                      const BatchOptions& batch, const BatchJob& job);

// A batch of develop_file.
BatchResult develop_batch(const std::vector<std::string>& inputs, const std::string& dir, const std::string& extension,
                          const PipelineOptions& options, const BatchOptions& batch = {});

}  // namespace obscura
