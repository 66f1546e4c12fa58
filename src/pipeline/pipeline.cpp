// pipeline: the stages run in order for a file, a burst or a batch, with the
// checks and reports every face shares.
#include "obscura/pipeline.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "obscura/binning.h"
#include "obscura/dng_writer.h"
#include "obscura/error.h"
#include "obscura/frame.h"
#include "obscura/highlights.h"
#include "obscura/look.h"
#include "obscura/lens_correction.h"
#include "obscura/remosaic.h"
#include "obscura/stopwatch.h"

namespace obscura {
namespace {

namespace fs = std::filesystem;

// An output may not be an input, nor replace a file unless asked to.
void check_output(const std::string& output, const std::vector<std::string>& inputs, bool overwrite) {
    std::error_code ec;
    const bool exists = fs::exists(output, ec);
    for (const auto& in : inputs)
        if (exists && fs::equivalent(in, output, ec)) throw file_error(output, "output would overwrite the input");
    if (exists && !overwrite) throw file_error(output, "exists (use --overwrite to replace it)");
}

// Runs `work`; an error that names neither file gets the input's name (a
// memory refusal, say, comes from deep down).
template <typename F>
void naming(const std::string& input, const std::string& output, F work) {
    try {
        work();
    } catch (const Error& e) {
        std::string what = e.what();
        if (what.find(input) == std::string::npos && what.find(output) == std::string::npos) throw file_error(input, what);
        throw;
    }
}

}  // namespace

RawImage read_raw(const std::string& path, const PipelineOptions& options, RunReport* report) {
    Stopwatch clock;
    RawImage raw = decode(path, options.decode);
    if (raw.is_linear() && (options.cfa || options.binning == PipelineOptions::Binning::On))
        throw file_error(path, std::string("LinearRaw file (demosaiced in the camera) has no CFA for ") +
                                   (options.cfa ? "--cfa" : "--binning"));
    if (options.cfa) raw.cfa = *options.cfa;
    if (report) report->decode_s += clock.lap();
    return raw;
}

RawImage to_bayer(RawImage raw, const PipelineOptions& options, RunReport* report) {
    using B = PipelineOptions::Binning;
    const bool bin = options.binning == B::On || (options.binning == B::Auto && binning_pays(raw));
    if (raw.is_linear() || (!bin && raw.cfa.cell_size() <= 1)) return raw;
    Stopwatch clock;
    const char* step = bin ? "binning" : "remosaic";
    raw = bin ? bin_cells(std::move(raw)) : remosaic(std::move(raw));
    if (report) report->sensor_s += clock.lap(), report->sensor_step = step;
    return raw;
}

namespace {

// The warnings a develop of `raw` gives, and the lens corrections it
// applies (for the output's processing note). A required opcode we lack
// fails here, before any output.
std::vector<std::string> develop_notes(const RawImage& raw, const PipelineOptions& options, OutputMetadata& meta) {
    std::vector<std::string> warnings;
    if (!raw.color.color_matrix[0] && !raw.color.color_matrix[1])
        warnings.push_back(raw.source + ": warning: no colour matrix for this camera; its RGB is taken as sRGB");
    if (options.develop.lens_correction) {
        LensCorrection plan = plan_lens_correction(raw);
        for (const auto& s : plan.skipped) warnings.push_back(raw.source + ": skipped optional " + s);
        for (const auto& a : plan.applied) meta.processing += (meta.processing.empty() ? "lens correction: " : ", ") + a;
    }
    return warnings;
}

void add_warnings(RunReport* report, std::vector<std::string> warnings) {
    if (report) report->warnings.insert(report->warnings.end(), warnings.begin(), warnings.end());
}

}  // namespace

std::optional<PipelineOptions::HdrOutput> hdr_output_named(const std::string& name) {
    using Hdr = PipelineOptions::HdrOutput;
    if (name == "ultrahdr") return Hdr::UltraHdr;
    if (name == "pq") return Hdr::Pq;
    if (name == "hlg") return Hdr::Hlg;
    if (name == "none") return Hdr::None;
    return std::nullopt;
}

namespace {

// The frame the develop takes: its clipped highlights rebuilt (highlights.h),
// for every look but the reference (the measurement rendering) and for the
// scene-linear rendition; not when the look renders the file's own camera
// profile (its tone curve and exposure are the phone's, for its range).
// `owned` (the caller's frame, when it is ours to change) is rebuilt in
// place -- or, given `deferred` (a develop that streams strips), only
// relevelled, with the rebuild left in `deferred` for each strip to do on
// its own rows; else a copy is made into `rebuilt` when there is anything
// to do.
const RawImage& with_highlights(const RawImage& raw, RawImage* owned, const PipelineOptions& options, bool scene_linear,
                                RawImage& rebuilt, std::optional<HighlightRebuild>* deferred = nullptr) {
    if (options.develop.look == "reference" && !scene_linear) return raw;
    if (!scene_linear && !raw.color.profile.empty() && find_look(options.develop.look).camera_profile) return raw;
    if (owned && deferred) {
        if ((*deferred = HighlightRebuild::plan(*owned))) (*deferred)->relevel(*owned);
        return *owned;
    }
    if (owned) {
        rebuild_highlights_in_place(*owned);
        return *owned;
    }
    auto done = rebuild_highlights(raw);
    if (!done) return raw;
    rebuilt = std::move(*done);
    return rebuilt;
}

Image render_frame(const RawImage& input, RawImage* owned, const PipelineOptions& options, RunReport* report) {
    Stopwatch clock;
    RawImage rebuilt;
    const RawImage& raw = with_highlights(input, owned, options, options.develop.scene_linear, rebuilt);
    OutputMetadata meta = metadata_of(raw);
    add_warnings(report, develop_notes(raw, options, meta));
    Image image = develop(raw, options.develop);
    if (options.frame) image = add_frame(image, raw.shot);
    if (report) report->develop_s += clock.lap();
    return image;
}

void write_frame(const RawImage& input, RawImage* owned, const std::string& output, const PipelineOptions& input_options,
                 RunReport* report) {
    Stopwatch clock;
    // OpenEXR takes the scene-linear rendition.
    PipelineOptions options = input_options;
    using Hdr = PipelineOptions::HdrOutput;
    const Format format = format_for_path(output);
    const bool bt2100 = options.hdr_output == Hdr::Pq || options.hdr_output == Hdr::Hlg;
    if (bt2100 && format != Format::Heif && format != Format::Avif)
        throw file_error(output, "--hdr-output pq and hlg write HEIF or AVIF (.heic, .avif)");
    const bool scene_linear = format == Format::Exr || bt2100;
    if (scene_linear && options.frame) throw file_error(output, "--frame is for photographs, not HDR renditions");
    if (options.hdr_output == Hdr::UltraHdr) {
        if (format != Format::Jpeg)
            throw file_error(output, "--hdr-output ultrahdr writes a JPEG (.jpg); OpenEXR (.exr) is HDR already");
        if (options.frame) throw file_error(output, "--frame and --hdr-output ultrahdr do not go together");
    }
    options.encode.hdr_pq = options.hdr_output != Hdr::Hlg;
    // Streamed: each strip is encoded while the next one develops (and
    // rebuilds its own highlights).
    const bool streamed = input.shot.orientation <= 1 && !options.frame && options.hdr_output != Hdr::UltraHdr;
    RawImage rebuilt;
    std::optional<HighlightRebuild> deferred;
    const RawImage& raw = with_highlights(input, owned, options, scene_linear || options.hdr_output != Hdr::None, rebuilt,
                                          streamed ? &deferred : nullptr);
    if (options.hdr_output == Hdr::UltraHdr) {
        // The photograph and its scene-linear rendition, whole, turned alike.
        OutputMetadata meta = metadata_of(raw);
        add_warnings(report, develop_notes(raw, options, meta));
        Image sdr = develop(raw, options.develop);
        options.develop.scene_linear = true;
        Image hdr = develop(raw, options.develop);
        encode_ultrahdr(sdr, hdr, output, meta, options.encode);
        if (report) report->develop_s += clock.lap();
        return;
    }
    options.develop.scene_linear = scene_linear;
    OutputMetadata meta = metadata_of(raw);
    add_warnings(report, develop_notes(raw, options, meta));
    if (streamed) {
        auto file = OutputFile::open(output, raw.crop.width, raw.crop.height, meta, options.encode,
                                     color_space_named(options.develop.color_space),
                                     scene_linear ? scene_linear_peak(raw) : 0.0);
        develop_rows(raw, options.develop, *file, deferred ? &*deferred : nullptr);
        file->commit();
    } else {
        // Turned or framed photos are developed whole, turned, framed, then encoded.
        Image image = develop(raw, options.develop);
        if (options.frame) image = add_frame(image, raw.shot);
        encode(image, output, meta, options.encode);
    }
    if (report) report->develop_s += clock.lap();
}

}  // namespace

Image render(const RawImage& raw, const PipelineOptions& options, RunReport* report) {
    return render_frame(raw, nullptr, options, report);
}

Image render(RawImage&& raw, const PipelineOptions& options, RunReport* report) {
    return render_frame(raw, &raw, options, report);
}

void write_developed(const RawImage& raw, const std::string& output, const PipelineOptions& options, RunReport* report) {
    write_frame(raw, nullptr, output, options, report);
}

void write_developed(RawImage&& raw, const std::string& output, const PipelineOptions& options, RunReport* report) {
    write_frame(raw, &raw, output, options, report);
}

void develop_file(const std::string& input, const std::string& output, const PipelineOptions& options, RunReport* report) {
    check_output(output, {input}, options.encode.overwrite);
    naming(input, output, [&] { write_developed(to_bayer(read_raw(input, options, report), options, report), output, options, report); });
}

RawImage merge_burst_files(const std::vector<std::string>& paths, const BurstOptions& burst, BurstReport* report,
                           const DecodeOptions& decode_options) {
    FrameSource source{paths.size(), [&](size_t i) { return decode(paths[i], decode_options); }};
    return merge_burst(source, burst, report);
}

void develop_burst(const std::vector<std::string>& frames, const std::string& output, const std::optional<std::string>& dng,
                   const BurstOptions& burst, const PipelineOptions& options, BurstReport* burst_report, RunReport* report) {
    for (const std::string* target : {&output, dng ? &*dng : nullptr})
        if (target) check_output(*target, frames, options.encode.overwrite);
    Stopwatch clock;
    BurstReport local;
    BurstReport& merge = burst_report ? *burst_report : local;
    RawImage merged = merge_burst_files(frames, burst, &merge, options.decode);
    if (report) report->decode_s += clock.lap();
    if (dng) write_dng(merged, *dng, {options.encode.overwrite});
    write_developed(std::move(merged), output, options, report);
}

std::vector<std::string> burst_frames(const std::string& folder) {
    static const std::vector<std::string> raw_extensions = {".dng", ".cr2", ".cr3", ".nef", ".arw", ".raf", ".orf",
                                                            ".rw2", ".pef", ".srw", ".3fr", ".iiq", ".x3f", ".nrw"};
    std::vector<std::string> frames;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(folder, ec)) {
        if (!entry.is_regular_file() || entry.path().filename().string()[0] == '.') continue;
        std::string ext = entry.path().extension().string();
        std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
        if (std::find(raw_extensions.begin(), raw_extensions.end(), ext) != raw_extensions.end())
            frames.push_back(entry.path().string());
    }
    if (ec) throw file_error(folder, "cannot read this folder (" + ec.message() + ")");
    std::sort(frames.begin(), frames.end());
    if (frames.empty()) throw file_error(folder, "no raw frames in this folder");
    return frames;
}

BatchResult run_batch(const std::vector<std::string>& inputs, const std::string& dir, const std::string& extension,
                      const BatchOptions& batch, const BatchJob& job) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (!fs::is_directory(dir)) throw file_error(dir, "cannot create the output folder");
    if (batch.memory_budget) set_frame_memory_budget(batch.memory_budget);
    BatchResult result;
    std::map<std::string, std::string> taken;  // output -> the input that claimed it
    std::vector<bool> clash(inputs.size(), false);
    for (size_t i = 0; i < inputs.size(); ++i) {
        fs::path p(inputs[i]);
        if (!p.has_filename()) p = p.parent_path();  // "burst/" names its folder
        result.outputs.push_back((fs::path(dir) / (p.stem().string() + extension)).string());
        // Two inputs with one name would write one output: the later is refused.
        if (!taken.emplace(result.outputs[i], inputs[i]).second) clash[i] = true;
    }
    result.errors.assign(inputs.size(), "");

    std::mutex lock;
    std::atomic<size_t> next{0};
    size_t done = 0;
    std::exception_ptr callback_error;  // the progress callback's, rethrown once the workers stop
    Stopwatch clock;
    auto worker = [&] {
        for (size_t i; (i = next++) < inputs.size();) {
            Stopwatch t;
            BatchProgress progress;
            try {
                if (clash[i])
                    throw file_error(inputs[i], "has the same name as " + taken[result.outputs[i]] + " (both would write " +
                                                    result.outputs[i] + ")");
                progress.warnings = job(inputs[i], result.outputs[i]);
            } catch (const std::exception& e) {
                progress.error = e.what();
                if (progress.error.empty()) progress.error = inputs[i] + ": failed";
            }
            progress.seconds = t.lap();
            std::lock_guard<std::mutex> hold(lock);
            result.errors[i] = progress.error;
            if (!progress.error.empty()) ++result.failed;
            progress.index = i, progress.done = ++done, progress.failed = result.failed, progress.total = inputs.size();
            progress.input = inputs[i], progress.output = result.outputs[i];
            if (batch.progress && !callback_error) {
                try {
                    batch.progress(progress);
                } catch (...) {
                    callback_error = std::current_exception();
                    next = inputs.size();  // (no new inputs started)
                }
            }
        }
    };
    std::vector<std::thread> pool;
    for (int j = 1; j < batch.jobs; ++j) pool.emplace_back(worker);
    worker();
    for (auto& t : pool) t.join();
    if (callback_error) std::rethrow_exception(callback_error);
    result.seconds = clock.lap();
    return result;
}

BatchResult develop_batch(const std::vector<std::string>& inputs, const std::string& dir, const std::string& extension,
                          const PipelineOptions& options, const BatchOptions& batch) {
    return run_batch(inputs, dir, extension, batch, [&](const std::string& in, const std::string& out) {
        RunReport report;
        develop_file(in, out, options, &report);
        return report.warnings;
    });
}

}  // namespace obscura
