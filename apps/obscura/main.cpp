// obscura: the command line. Parsing and printing only; every image
// operation lives in the library.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <sstream>
#include <string>
#include <vector>

#include "obscura/binning.h"
#include "obscura/remosaic.h"
#include "obscura/burst.h"
#include "obscura/decode.h"
#include "obscura/dng_writer.h"
#include "obscura/simulate.h"
#include "obscura/develop.h"
#include "obscura/encode.h"
#include "obscura/error.h"
#include "obscura/look.h"
#include "obscura/opcodes.h"
#include "obscura/lens_correction.h"
#include "obscura/finish.h"
#include "obscura/frame.h"
#include "cli.h"

namespace {

using namespace obscura;
using namespace obscura::cli;

std::string looks_list() {
    std::string s;
    for (const auto& l : builtin_looks()) s += "  " + l.name + std::string(12 - std::min<size_t>(l.name.size(), 11), ' ') + l.description + "\n";
    return s;
}

const char* kMainHelp =
    "obscura — a computational camera: RAW in, a finished photograph out.\n"
    "\n"
    "usage: obscura COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  develop   develop a raw file (DNG or any camera raw) into JPEG, PNG or TIFF\n"
    "  burst     align and merge a handheld burst of raw frames, then develop it\n"
    "  simulate  make a realistic raw burst (with its ground truth) from a photo\n"
    "  info      print what a raw file says: size, CFA, levels, colour, noise, shot\n"
    "  looks     list the looks (renderings) and where their files are\n"
    "  bench     measure quality and speed against ground truth and the open peers\n"
    "\n"
    "obscura COMMAND --help shows a command's options. obscura --version prints the version.\n";

std::string demosaic_list() {
    std::string s;
    for (const auto& m : demosaic_methods())
        s += "  " + m.name + std::string(12 - std::min<size_t>(m.name.size(), 11), ' ') + m.description + "\n";
    return s;
}

std::string develop_help() {
    return "usage: obscura develop IN -o OUT [options]\n"
           "       obscura develop IN... -o DIR [--format jpg|png|tif] [--jobs N] [options]\n"
           "\n"
           "Develops the raw file IN into OUT; the format follows OUT's extension:\n"
           "  .jpg/.jpeg  8-bit JPEG     .png  8-bit PNG     .tif/.tiff  16-bit TIFF\n"
           "  .heic/.heif 8-bit HEIF (HEVC)                  .avif  8-bit AVIF (AV1)\n"
           "Every output carries the shot's EXIF and an ICC profile, and is written\n"
           "to a temporary file that is renamed into place when complete.\n"
           "With several inputs (or -o naming a folder) each IN becomes DIR/NAME.EXT; bad\n"
           "files are reported one line each, the good ones written, and the exit status\n"
           "is 1 when any failed. An existing output is replaced only with --overwrite.\n"
           "\n"
           "options:\n"
           "  -o, --output OUT   the file to write (required)\n"
           "  --look NAME|FILE   rendering (default: " + default_look_name() + "), or a look file (.toml):\n" + looks_list() +
           "  --lut FILE.cube    a 3D LUT applied after the look (replacing the look's own)\n"
           "  --demosaic METHOD  demosaicing method (default: best):\n" + demosaic_list() +
           "  --lens-correction auto|off\n"
           "                     apply the file's lens corrections (DNG opcodes: shading gain\n"
           "                     maps, vignetting, distortion; default auto)\n"
           "  --cfa LAYOUT       the CFA layout whatever the file claims: RGGB, BGGR, GRBG, GBRG,\n"
           "                     or quad|nona|hexadeca[-LAYOUT] (obscura info says when the\n"
           "                     data disagrees with the file)\n"
           "  --binning          for quad, nona and hexadeca-Bayer sensors: average each\n"
           "                     n x n cell into one pixel (1/n^2 the pixels, far less noise);\n"
           "                     without it such sensors are remosaicked to full-resolution Bayer\n"
           "  --frame            add a band under the photo with the camera, lens, focal\n"
           "                     length, f-number, shutter time, ISO and date from its EXIF\n"
           "                     (what the file lacks is left out)\n"
           "  --colorspace CS    srgb (default) or display-p3: the output's primaries and\n"
           "                     ICC profile (both use the sRGB tone curve)\n"
           "  --quality Q        JPEG, HEIF and AVIF quality 1..100 (default 92)\n"
           "  --overwrite        replace existing outputs (default: refuse, and say so)\n"
           "  --format EXT       with several inputs or -o DIR: jpg (default), png, tif, heic or avif\n"
           "  --jobs N           with several inputs: develop N files at once (default 1)\n"
           "  --memory MB        refuse photos whose frames would need more (default: 80% of RAM)\n"
           "  --timings          print the time of each stage to stderr\n"
           "  --decoder NAME     auto (default), dng (ours) or libraw\n";
}

const char* kInfoHelp =
    "usage: obscura info IN [--cfa LAYOUT] [--decoder NAME]\n"
    "\n"
    "Prints what the raw file IN says about itself: image size and crop, CFA layout,\n"
    "black and white levels, colour matrices and illuminants, as-shot white,\n"
    "noise profile, DNG opcodes, and the shot's camera, lens and exposure.\n";

Decoder parse_decoder(const std::optional<std::string>& name) {
    if (!name || *name == "auto") return Decoder::Auto;
    if (*name == "dng") return Decoder::Dng;
    if (*name == "libraw") return Decoder::LibRaw;
    throw UsageError("--decoder must be auto, dng or libraw, not '" + *name + "'");
}

CfaPattern parse_cfa(const std::string& text) {
    auto cfa = CfaPattern::parse(text);
    if (!cfa) throw UsageError("--cfa must be RGGB, BGGR, GRBG, GBRG, or quad|nona|hexadeca[-LAYOUT], not '" + text + "'");
    return *cfa;
}

// A whole number in [lo, hi] for `flag`, else a usage error.
long parse_int(const std::string& flag, const std::string& text, long lo, long hi) {
    char* end = nullptr;
    long v = std::strtol(text.c_str(), &end, 10);
    if (text.empty() || *end || v < lo || v > hi)
        throw UsageError(flag + " must be a whole number in " + std::to_string(lo) + ".." + std::to_string(hi) + ", not '" + text + "'");
    return v;
}

// A number in (lo, hi], or [lo, hi] with `lo_included`.
double parse_real(const std::string& flag, const std::string& text, double lo, double hi, bool lo_included) {
    char* end = nullptr;
    double v = std::strtod(text.c_str(), &end);
    if (text.empty() || *end || !((lo_included ? v >= lo : v > lo) && v <= hi)) {
        std::ostringstream range;
        range << (lo_included ? "" : "(") << lo << (lo_included ? ".." : ", ") << hi << (lo_included ? "" : "]");
        throw UsageError(flag + " must be a number in " + range.str() + ", not '" + text + "'");
    }
    return v;
}

// Everything a develop needs besides the files, read once from the command line.
struct DevelopSettings {
    bool frame = false;    // the watermark band under the photo
    bool binning = false;  // n x n-cell CFAs: each cell becomes one Bayer pixel
    std::optional<CfaPattern> cfa;  // --cfa: the layout, whatever the file claims
    DevelopOptions develop;
    EncodeOptions encode;
    DecodeOptions decode;
    bool timings = false;
};

// The rendering options develop and burst share (look, LUT, demosaic, colour
// space, frame, quality, overwrite, timings), read and checked before any
// work: an unknown look, method or colour space, or a bad look or LUT file,
// is a usage error. The LUT is loaded here, once for every file.
void read_rendering(Args& args, DevelopSettings& settings) {
    std::string look = args.value("--look").value_or(default_look_name());
    std::string lut = args.value("--lut").value_or("");
    std::string demosaic = args.value("--demosaic").value_or("best");
    std::string colorspace = args.value("--colorspace").value_or("srgb");
    auto quality = args.value("--quality");
    settings.encode.overwrite = args.flag("--overwrite");
    settings.timings = args.flag("--timings");
    settings.frame = args.flag("--frame");
    try {
        find_look(look);
        if (!lut.empty()) settings.develop.lut = std::make_shared<const Lut3D>(Lut3D::load(lut));
        find_demosaic(demosaic);
        settings.develop.color_space = color_space_named(colorspace);
    } catch (const Error& e) {
        throw UsageError(e.what());
    }
    if (quality) settings.encode.jpeg_quality = int(parse_int("--quality", *quality, 1, 100));
    settings.develop.look = look;
    settings.develop.demosaic = demosaic;
}

// Develops one file; throws obscura::Error naming the file on any failure
// (nothing is left behind: outputs are written to a temporary and renamed).
void develop_file_checked(const std::string& input, const std::string& output, const DevelopSettings& settings);

void develop_file(const std::string& input, const std::string& output, const DevelopSettings& settings) {
    std::error_code ec;
    if (std::filesystem::exists(output) && std::filesystem::equivalent(input, output, ec))
        throw file_error(output, "output would overwrite the input");
    if (!settings.encode.overwrite && std::filesystem::exists(output))
        throw file_error(output, "exists (use --overwrite to replace it)");
    try {
        develop_file_checked(input, output, settings);
    } catch (const Error& e) {
        // Every failure names its file (a memory refusal, say, comes from deep down).
        if (std::string(e.what()).find(input) == std::string::npos && std::string(e.what()).find(output) == std::string::npos)
            throw file_error(input, e.what());
        throw;
    }
}

// Develops a decoded raw into `output` (streamed strip by strip unless the
// photo must be turned); returns the seconds it took.
double develop_raw(const RawImage& raw, const std::string& output, const DevelopSettings& settings) {
    Stopwatch clock;
    const DevelopOptions& opt = settings.develop;
    OutputMetadata meta = metadata_of(raw);
    if (!raw.color.color_matrix[0] && !raw.color.color_matrix[1])
        std::fprintf(stderr, "obscura: %s: warning: no colour matrix for this camera; its RGB is taken as sRGB\n", raw.source.c_str());
    if (opt.lens_correction) {
        LensCorrection plan = plan_lens_correction(raw);  // a required opcode we lack fails here, before any output
        for (const auto& s : plan.skipped) std::fprintf(stderr, "obscura: %s: skipped optional %s\n", raw.source.c_str(), s.c_str());
        for (const auto& a : plan.applied) meta.processing += (meta.processing.empty() ? "lens correction: " : ", ") + a;
    }
    if (raw.shot.orientation <= 1 && !settings.frame) {
        // Streamed: each strip is encoded while the next one develops.
        auto file = OutputFile::open(output, raw.crop.width, raw.crop.height, meta, settings.encode,
                                     color_space_named(opt.color_space));
        develop_rows(raw, opt, *file);
        file->commit();
        return clock.lap();
    }
    // Turned or framed photos are developed whole, turned, framed, then encoded.
    Image image = develop(raw, opt);
    if (settings.frame) image = add_frame(image, raw.shot);
    encode(image, output, meta, settings.encode);
    return clock.lap();
}

void develop_file_checked(const std::string& input, const std::string& output, const DevelopSettings& settings) {
    Stopwatch clock;
    RawImage raw = decode(input, settings.decode);
    if (raw.is_linear() && (settings.cfa || settings.binning))
        throw file_error(input, std::string("LinearRaw file (demosaiced in the camera) has no CFA for ") + (settings.cfa ? "--cfa" : "--binning"));
    if (settings.cfa) raw.cfa = *settings.cfa;
    double t_decode = clock.lap();
    const char* sensor_step = nullptr;  // what made an n x n-cell frame Bayer
    if (settings.binning) {
        raw = bin_cells(std::move(raw));
        sensor_step = "binning";
    } else if (raw.cfa.cell_size() > 1) {
        raw = remosaic(std::move(raw));
        sensor_step = "remosaic";
    }
    double t_sensor = clock.lap();
    double t_develop = develop_raw(raw, output, settings);
    if (settings.timings) {
        char sensor[40] = "";
        if (sensor_step) std::snprintf(sensor, sizeof sensor, ", %s %.3f s", sensor_step, t_sensor);
        std::fprintf(stderr, "%s: decode %.3f s%s, develop + encode %.3f s, total %.3f s\n", input.c_str(), t_decode, sensor,
                     t_develop, t_decode + t_sensor + t_develop);
    }
}

// Many files into a folder: every good one is written, every bad one is
// reported in one line, a summary ends the run; exit 1 when any failed.
// One input of a batch into one output; throws on failure.
using BatchJob = std::function<void(const std::string& input, const std::string& output)>;

int run_batch(const std::vector<std::string>& inputs, const std::string& dir, const std::string& extension, int jobs,
              const char* verb, const BatchJob& job);

int develop_batch(const std::vector<std::string>& inputs, const std::string& dir, const std::string& extension,
                  const DevelopSettings& settings, int jobs) {
    return run_batch(inputs, dir, extension, jobs, "developed",
                     [&](const std::string& in, const std::string& out) { develop_file(in, out, settings); });
}

// Many inputs into a folder (DIR/NAME.EXT): every good one is written, every
// bad one is reported in one line, a summary ends the run; exit 1 when any
// failed. A progress bar on a terminal, plain lines otherwise.
int run_batch(const std::vector<std::string>& inputs, const std::string& dir, const std::string& extension, int jobs,
              const char* verb, const BatchJob& job) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (!fs::is_directory(dir)) throw file_error(dir, "cannot create the output folder");
    std::vector<std::string> outputs;
    std::map<std::string, std::string> taken;  // output -> the input that claimed it
    for (const auto& in : inputs) {
        fs::path p(in);
        if (!p.has_filename()) p = p.parent_path();  // "burst/" names its folder
        outputs.push_back((fs::path(dir) / (p.stem().string() + extension)).string());
    }

    const bool tty = ::isatty(2);
    std::mutex lock;
    std::atomic<size_t> next{0};
    size_t done = 0, failed = 0;
    std::vector<std::string> failures;
    Stopwatch clock;
    auto report = [&](size_t i, const std::string* error, double seconds) {
        std::lock_guard<std::mutex> hold(lock);
        ++done;
        if (error) ++failed, failures.push_back(*error);
        if (tty) {
            const int width = 30;
            int filled = int(width * done / inputs.size());
            std::fprintf(stderr, "\r\033[K");
            if (error) std::fprintf(stderr, "obscura: %s\n", error->c_str());
            std::fprintf(stderr, "[%s%s] %zu/%zu  %s", std::string(size_t(filled), '#').c_str(),
                         std::string(size_t(width - filled), '.').c_str(), done, inputs.size(),
                         fs::path(inputs[i]).filename().c_str());
        } else if (error) {
            std::fprintf(stderr, "obscura: %s\n", error->c_str());
        } else {
            std::fprintf(stderr, "[%zu/%zu] %s -> %s (%.2f s)\n", done, inputs.size(), inputs[i].c_str(), outputs[i].c_str(),
                         seconds);
        }
        std::fflush(stderr);
    };
    // Two inputs with one name would write one output: the later is refused.
    std::vector<bool> clash(inputs.size(), false);
    for (size_t i = 0; i < inputs.size(); ++i)
        if (!taken.emplace(outputs[i], inputs[i]).second) clash[i] = true;
    auto worker = [&] {
        for (size_t i; (i = next++) < inputs.size();) {
            Stopwatch t;
            try {
                if (clash[i])
                    throw file_error(inputs[i], "has the same name as " + taken[outputs[i]] + " (both would write " + outputs[i] + ")");
                job(inputs[i], outputs[i]);
                report(i, nullptr, t.lap());
            } catch (const std::exception& e) {
                std::string message = e.what();
                report(i, &message, 0);
            }
        }
    };
    std::vector<std::thread> pool;
    for (int j = 1; j < jobs; ++j) pool.emplace_back(worker);
    worker();
    for (auto& t : pool) t.join();
    if (tty) std::fprintf(stderr, "\n");
    std::fprintf(stderr, "obscura: %zu of %zu %s into %s in %.1f s", done - failed, inputs.size(), verb, dir.c_str(),
                 clock.lap());
    if (failed) {
        std::fprintf(stderr, "; %zu failed:\n", failed);
        for (const auto& f : failures) std::fprintf(stderr, "  %s\n", f.c_str());
    } else {
        std::fprintf(stderr, "\n");
    }
    return failed ? kExitFailed : 0;
}

int cmd_develop(Args args) {
    if (args.flag("--help") || args.flag("-h")) {
        std::fputs(develop_help().c_str(), stdout);
        return 0;
    }
    auto out = args.value("--output", "-o");
    std::string lens = args.value("--lens-correction").value_or("auto");
    if (lens != "auto" && lens != "off") throw UsageError("--lens-correction must be auto or off, not '" + lens + "'");
    auto format = args.value("--format");
    auto jobs_arg = args.value("--jobs");
    auto memory_arg = args.value("--memory");
    args.flag("--no-overwrite");  // the default; still accepted
    DevelopSettings settings;
    read_rendering(args, settings);
    settings.binning = args.flag("--binning");
    if (auto cfa = args.value("--cfa")) settings.cfa = parse_cfa(*cfa);
    settings.decode.decoder = parse_decoder(args.value("--decoder"));
    auto inputs = args.positional();
    if (inputs.empty()) throw UsageError("develop needs an input file (see obscura develop --help)");
    if (!out) throw UsageError("develop needs -o OUT (see obscura develop --help)");
    namespace fs = std::filesystem;
    bool batch = inputs.size() > 1 || fs::is_directory(*out) || out->back() == '/';
    std::string extension = "." + format.value_or("jpg");
    try {
        format_for_path(batch ? "x" + extension : *out);
    } catch (const Error& e) {
        throw UsageError(e.what());
    }
    if (format && !batch) throw UsageError("--format is for a folder of outputs; a single OUT's extension sets its format");
    const int jobs = jobs_arg ? int(parse_int("--jobs", *jobs_arg, 1, 64)) : 1;
    if (memory_arg) set_frame_memory_budget(size_t(parse_int("--memory", *memory_arg, 1, 1L << 24)) << 20);
    settings.develop.lens_correction = lens == "auto";
    if (batch) return develop_batch(inputs, *out, extension, settings, jobs);
    develop_file(inputs[0], *out, settings);
    return 0;
}

std::string fmt(double v, int precision = 4) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    return buf;
}

const char* kBurstHelp =
    "usage: obscura burst FRAME... -o OUT [--dng MERGED.dng] [--reference N] [options]\n"
    "       obscura burst FOLDER... -o DIR [--format jpg|png|tif] [--jobs N] [options]\n"
    "\n"
    "Aligns the frames of a handheld burst (same camera, same exposure) to a\n"
    "reference frame and merges them on the raw data: tiles are aligned coarse to\n"
    "fine on a grey pyramid, then merged in the frequency domain, taking from each\n"
    "frame only what differs from the reference like noise does; what moved falls\n"
    "back to the reference. The merge is developed into OUT like obscura develop.\n"
    "Folders are bursts of their own (their raw files in name order): each becomes\n"
    "DIR/FOLDER.EXT; a bad burst is reported in one line and the others are written,\n"
    "and the exit status is 1 when any failed.\n"
    "\n"
    "options:\n"
    "  -o, --output OUT   the developed photo (.jpg, .png, .tif)\n"
    "  --dng FILE.dng     also write the merged raw as a 16-bit DNG\n"
    "  --reference N      reference frame, counted from 0 (default: the sharpest of\n"
    "                     the first three)\n"
    "  --strength S       how much difference is still taken for noise (default 8;\n"
    "                     higher merges more, lower keeps detail safer)\n"
    "  --denoise D        spatial denoise after the merge, in units of the noise the\n"
    "                     merge left (default 0.5; 0 turns it off)\n"
    "  --binning          quad, nona and hexadeca-Bayer frames are binned (each n x n\n"
    "                     cell one pixel) before the merge; without it each frame is\n"
    "                     remosaicked to full-resolution Bayer\n"
    "  --cfa LAYOUT       the frames' CFA layout whatever the files claim (as for\n"
    "                     obscura develop)\n"
    "  --look NAME|FILE, --lut FILE.cube, --demosaic METHOD, --colorspace CS,\n"
    "  --frame, --quality Q, --overwrite\n"
    "                     as for obscura develop\n"
    "  --format EXT       with folders: jpg (default), png, tif, heic or avif\n"
    "  --jobs N           with folders: merge N bursts at once (default 1)\n"
    "  --timings          print the offsets found and the time of each step to stderr\n";

const char* kSimulateHelp =
    "usage: obscura simulate PHOTO.png -o DIR [--frames N] [--noise S,O] [--motion PX]\n"
    "                        [--mover] [--seed N]\n"
    "\n"
    "Makes a raw burst from an 8-bit sRGB PNG with its ground truth known: the photo\n"
    "is unprocessed (inverse sRGB, camera gains), shaken by hand (whole pixels),\n"
    "mosaicked (RGGB, 14 bits) and given Poisson-Gaussian noise of variance S*x + O.\n"
    "Writes DIR/frame_00.dng ... (with that NoiseProfile), DIR/truth.png (the clean\n"
    "frame 0) and DIR/truth.json (each frame's true offset).\n"
    "\n"
    "options:\n"
    "  --frames N         frames (default 8)\n"
    "  --noise S,O        noise profile (default 0.002,0.00002)\n"
    "  --motion PX        largest hand-shake offset in pixels (default 12)\n"
    "  --mover            a patch of the scene moves on its own (the ghost test)\n"
    "  --seed N           random seed (default 1)\n";

// The raw frames of a burst folder, in name order (what a camera app writes).
std::vector<std::string> burst_frames(const std::string& folder) {
    static const std::vector<std::string> raw_extensions = {".dng", ".cr2", ".cr3", ".nef", ".arw", ".raf", ".orf",
                                                            ".rw2", ".pef", ".srw", ".3fr", ".iiq", ".x3f", ".nrw"};
    std::vector<std::string> frames;
    for (const auto& entry : std::filesystem::directory_iterator(folder)) {
        if (!entry.is_regular_file() || entry.path().filename().string()[0] == '.') continue;
        std::string ext = entry.path().extension().string();
        std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
        if (std::find(raw_extensions.begin(), raw_extensions.end(), ext) != raw_extensions.end())
            frames.push_back(entry.path().string());
    }
    std::sort(frames.begin(), frames.end());
    if (frames.empty()) throw file_error(folder, "no raw frames in this folder");
    return frames;
}

// One burst: outputs checked before the work (never an input, never silently
// replaced), merged, optionally written as DNG, developed.
void merge_and_develop(const std::vector<std::string>& frames, const std::string& out, const std::optional<std::string>& dng,
                       const BurstOptions& burst, const DevelopSettings& settings) {
    std::error_code ec;
    for (const std::string* target : {&out, dng ? &*dng : nullptr}) {
        if (!target) continue;
        for (const auto& f : frames)
            if (std::filesystem::exists(*target) && std::filesystem::equivalent(f, *target, ec))
                throw UsageError(*target + ": output would overwrite an input frame");
        if (!settings.encode.overwrite && std::filesystem::exists(*target))
            throw Error(*target + ": exists (use --overwrite to replace it)");
    }
    BurstReport report;
    Stopwatch clock;
    RawImage merged = merge_burst(frames, burst, &report);
    double t_merge = clock.lap();
    if (dng) write_dng(merged, *dng, {settings.encode.overwrite});
    double t_dng = clock.lap();
    double t_develop = develop_raw(merged, out, settings);
    if (!settings.timings) return;
    std::fprintf(stderr, "obscura: merged %zu frames onto %s -> %s\n", frames.size(), frames[size_t(report.reference)].c_str(),
                 out.c_str());
    for (size_t i = 0; i < report.frames.size(); ++i)
        std::fprintf(stderr, "  %s: %s offset %+d,%+d%s\n", report.frames[i].file.c_str(),
                     int(i) == report.reference ? "reference" : "median", report.frames[i].median_dx, report.frames[i].median_dy,
                     report.frames[i].sharpness > 0 ? (", sharpness " + fmt(report.frames[i].sharpness)).c_str() : "");
    std::fprintf(stderr, "decode %.3f s, align %.3f s, merge %.3f s, dng %.3f s, develop + encode %.3f s, total %.3f s\n",
                 report.seconds_decode, report.seconds_align, report.seconds_merge, t_dng, t_develop, t_merge + t_dng + t_develop);
}

int cmd_burst(Args args) {
    if (args.flag("--help") || args.flag("-h")) {
        std::fputs(kBurstHelp, stdout);
        return 0;
    }
    auto out = args.value("--output", "-o");
    auto dng = args.value("--dng");
    auto reference = args.value("--reference");
    auto strength = args.value("--strength");
    auto denoise = args.value("--denoise");
    auto format = args.value("--format");
    auto jobs_arg = args.value("--jobs");
    const bool binning = args.flag("--binning");
    auto cfa = args.value("--cfa");
    DevelopSettings settings;
    read_rendering(args, settings);
    auto inputs = args.positional();
    if (inputs.empty()) throw UsageError("burst needs frames (see obscura burst --help)");
    if (!out) throw UsageError("burst needs -o OUT (see obscura burst --help)");
    namespace fs = std::filesystem;
    // Folders are bursts of their own: many bursts into -o DIR.
    const bool batch = std::any_of(inputs.begin(), inputs.end(), [](const std::string& i) { return fs::is_directory(i); });
    if (batch && !std::all_of(inputs.begin(), inputs.end(), [](const std::string& i) { return fs::is_directory(i); }))
        throw UsageError("burst takes either frames (one burst) or folders (one burst each), not both");
    if (batch && dng) throw UsageError("--dng is for one burst; with folders, develop each merged DNG from its own run");
    if (!batch && (format || jobs_arg)) throw UsageError("--format and --jobs are for folders of bursts");
    std::string extension = "." + format.value_or("jpg");
    try {
        format_for_path(batch ? "x" + extension : *out);
    } catch (const Error& e) {
        throw UsageError(e.what());
    }
    if (dng && fs::path(*dng).extension() != ".dng") throw UsageError("--dng needs a .dng file name, not '" + *dng + "'");
    BurstOptions burst;
    if (reference) burst.reference = int(parse_int("--reference", *reference, 0, batch ? 63 : long(inputs.size()) - 1));
    if (strength) burst.strength = parse_real("--strength", *strength, 0, 1000, false);
    if (denoise) burst.denoise = parse_real("--denoise", *denoise, 0, 100, true);
    burst.binning = binning;
    if (cfa) burst.cfa = parse_cfa(*cfa);
    const int jobs = jobs_arg ? int(parse_int("--jobs", *jobs_arg, 1, 64)) : 1;
    if (batch)
        return run_batch(inputs, *out, extension, jobs, "merged", [&](const std::string& folder, const std::string& output) {
            merge_and_develop(burst_frames(folder), output, std::nullopt, burst, settings);
        });
    merge_and_develop(inputs, *out, dng, burst, settings);
    return 0;
}

int cmd_simulate(Args args) {
    if (args.flag("--help") || args.flag("-h")) {
        std::fputs(kSimulateHelp, stdout);
        return 0;
    }
    auto out = args.value("--output", "-o");
    BurstSimulation sim;
    if (auto f = args.value("--frames")) sim.frames = int(parse_int("--frames", *f, 1, 64));
    if (auto m = args.value("--motion")) sim.motion = int(parse_int("--motion", *m, 0, 256));
    if (auto s = args.value("--seed")) sim.seed = uint64_t(parse_int("--seed", *s, 0, 1L << 40));
    if (auto n = args.value("--noise")) {
        char* end = nullptr;
        sim.noise_scale = std::strtod(n->c_str(), &end);
        bool ok = *end == ',';
        if (ok) sim.noise_offset = std::strtod(end + 1, &end), ok = !*end;
        if (!ok || !(sim.noise_scale >= 0 && sim.noise_scale < 1 && sim.noise_offset >= 0 && sim.noise_offset < 1))
            throw UsageError("--noise must be S,O (two numbers in 0..1), not '" + *n + "'");
    }
    sim.mover = args.flag("--mover");
    auto inputs = args.positional();
    if (inputs.size() != 1) throw UsageError("simulate needs one photo (see obscura simulate --help)");
    if (!out) throw UsageError("simulate needs -o DIR (see obscura simulate --help)");
    auto frames = simulate_burst(inputs[0], *out, sim);
    std::fprintf(stderr, "obscura: %zu frames of %s in %s (truth.png, truth.json)\n", frames.size(), inputs[0].c_str(), out->c_str());
    return 0;
}

int cmd_looks(Args args) {
    if (args.flag("--help") || args.flag("-h")) {
        std::fputs("usage: obscura looks\n\nLists the shipped looks with a line on each, and the folder they are read\n"
                   "from (set OBSCURA_STYLES to use another). obscura develop --look FILE.toml\n"
                   "takes a look file of your own; see styles/ for the keys.\n", stdout);
        return 0;
    }
    if (!args.positional().empty()) throw UsageError("looks takes no arguments");
    for (const auto& l : builtin_looks())
        std::printf("%-12s%s%s\n", l.name.c_str(), l.description.c_str(), l.name == default_look_name() ? " (default)" : "");
    std::string dir = styles_directory();
    std::printf("\nlook files: %s\n", dir.empty() ? "not found (only reference is built in)" : dir.c_str());
    return 0;
}

int cmd_info(Args args) {
    if (args.flag("--help") || args.flag("-h")) {
        std::fputs(kInfoHelp, stdout);
        return 0;
    }
    DecodeOptions dopt;
    dopt.decoder = parse_decoder(args.value("--decoder"));
    auto cfa_arg = args.value("--cfa");
    std::optional<CfaPattern> cfa;
    if (cfa_arg) cfa = parse_cfa(*cfa_arg);
    auto inputs = args.positional();
    if (inputs.size() != 1) throw UsageError("info needs one input file (see obscura info --help)");
    RawImage raw = decode(inputs[0], dopt);
    const bool claimed_bayer = raw.cfa.is_bayer();
    if (cfa) raw.cfa = *cfa;
    std::ostringstream o;
    o << "file:            " << raw.source << "\n";
    o << "decoder:         " << raw.decoder << "\n";
    o << "size:            " << raw.width << " x " << raw.height << " (" << fmt(raw.width * double(raw.height) / 1e6, 3) << " MP)\n";
    o << "crop:            " << raw.crop.width << " x " << raw.crop.height << " at " << raw.crop.x << "," << raw.crop.y
      << (raw.storage.user_crop ? " (DefaultUserCrop)" : "") << "\n";
    o << "image:           " << (raw.is_linear() ? "LinearRaw (camera RGB, 3 samples a pixel, demosaiced in the camera)" : "CFA") << "\n";
    o << "storage:         " << raw.storage.compression;
    if (raw.storage.tile_width > 0) o << ", tiles " << raw.storage.tile_width << " x " << raw.storage.tile_height;
    else o << ", strips";
    if (raw.storage.row_interleave > 1 || raw.storage.column_interleave > 1)
        o << ", fields interleaved " << raw.storage.column_interleave << " x " << raw.storage.row_interleave << " (columns x rows)";
    if (raw.storage.floating) o << ", floating-point samples";
    o << "\n";
    if (raw.storage.jxl_distance || raw.storage.jxl_effort || raw.storage.jxl_decode_speed) {
        o << "JPEG XL:        ";
        if (raw.storage.jxl_distance) o << " distance " << fmt(*raw.storage.jxl_distance) << (*raw.storage.jxl_distance > 0 ? " (lossy)" : " (lossless)");
        if (raw.storage.jxl_effort) o << " effort " << fmt(*raw.storage.jxl_effort);
        if (raw.storage.jxl_decode_speed) o << " decode speed " << fmt(*raw.storage.jxl_decode_speed);
        o << "\n";
    }
    if (raw.is_linear()) o << "cfa:             none (LinearRaw)";
    else o << "cfa:             " << raw.cfa.name() << (cfa ? " (given by --cfa)" : "");
    if (claimed_bayer && !cfa && !raw.is_linear()) {
        static const char* names[] = {"", "", "quad", "nona", "hexadeca"};
        if (int n = detect_cell_size(raw); n > 1)
            o << "; the data has " << n << "x" << n << "-pixel cells of one colour: develop with --cfa " << names[n] << " (remosaicked, or --binning)";
    }
    o << "\n";
    if (int n = raw.cfa.cell_size(); n > 1)
        o << "sensor:          " << n << "x" << n << " cells: developed at full size, remosaicked to " << raw.cfa.cells().name()
          << "; --binning: " << raw.crop.width / n << " x " << raw.crop.height / n << "\n";
    o << "bits:            " << raw.bits << "\n";
    o << "black level:     ";
    for (size_t i = 0; i < raw.black.pattern.size(); ++i) o << (i ? " " : "") << fmt(raw.black.pattern[i], 6);
    o << " (repeat " << raw.black.repeat_width << "x" << raw.black.repeat_height << ")";
    if (raw.black.has_deltas()) o << " + per-row/column deltas";
    o << "\nwhite level:     " << fmt(raw.white_level, 6) << "\n";
    auto joined = [](const std::vector<std::string>& v) {
        std::string s;
        for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
        return s;
    };
    if (!raw.storage.profile.empty()) {
        o << "camera profile:  " << (raw.color.profile.name.empty() ? "" : "\"" + raw.color.profile.name + "\": ")
          << joined(raw.storage.profile) << "\n";
        o << "                 " << (raw.color.profile.empty() ? "nothing usable: every look renders with the matrices"
                                                             : "rendered by looks with camera_profile (authentic); reference uses the matrices only")
          << "\n";
    }
    if (!raw.storage.semantic_masks.empty()) o << "semantic masks:  " << joined(raw.storage.semantic_masks) << "\n";
    if (raw.storage.depth_map) o << "depth map:       yes\n";
    const auto& c = raw.color;
    if (!c.color_matrix[0] && !c.color_matrix[1]) o << "color matrix:    none in the file: camera RGB is taken as sRGB\n";
    for (int i = 0; i < 2; ++i) {
        if (c.color_matrix[i])
            o << "color matrix " << i + 1 << ":  " << format_matrix(*c.color_matrix[i]) << " (" << illuminant_name(c.illuminant[i]) << ")\n";
        if (c.forward_matrix[i]) o << "forward matrix " << i + 1 << ": " << format_matrix(*c.forward_matrix[i]) << "\n";
    }
    if (c.as_shot_neutral) o << "as-shot neutral: " << fmt((*c.as_shot_neutral)[0]) << " " << fmt((*c.as_shot_neutral)[1]) << " " << fmt((*c.as_shot_neutral)[2]) << "\n";
    if (c.as_shot_white_xy) o << "as-shot white:   x " << fmt((*c.as_shot_white_xy)[0]) << " y " << fmt((*c.as_shot_white_xy)[1]) << "\n";
    if (c.baseline_exposure != 0) o << "baseline exp.:   " << fmt(c.baseline_exposure) << " EV\n";
    try {
        ColorSolution s = solve_color(c, raw.source);
        o << "scene white:     " << fmt(s.temperature_k, 5) << " K (x " << fmt(s.white_xy[0]) << " y " << fmt(s.white_xy[1]) << ")"
          << (s.used_forward_matrix ? ", forward matrix" : ", colour matrix") << "\n";
    } catch (const Error& e) {
        o << "scene white:     cannot solve (" << e.what() << ")\n";
    }
    o << "noise profile:   ";
    if (raw.noise.planes.empty()) o << "none\n";
    else {
        for (size_t i = 0; i < raw.noise.planes.size(); ++i)
            o << (i ? ", " : "") << "S " << fmt(raw.noise.planes[i][0]) << " O " << fmt(raw.noise.planes[i][1]);
        o << "\n";
    }
    for (int i = 0; i < 3; ++i) {
        if (raw.opcodes[i].empty()) continue;
        o << "opcode list " << i + 1 << ":   ";
        try {
            auto ops = parse_opcode_list(raw.opcodes[i], raw.source);
            auto same_grid = [](const Opcode& a, const Opcode& b) {
                const auto *g = std::get_if<GainMap>(&a.params), *h = std::get_if<GainMap>(&b.params);
                return g && h && a.optional == b.optional && g->points_h == h->points_h && g->points_v == h->points_v &&
                       g->row_pitch == h->row_pitch && g->col_pitch == h->col_pitch;
            };
            for (size_t k = 0, next; k < ops.size(); k = next) {
                o << (k ? ", " : "") << ops[k].name;
                // A run of more than four like GainMaps (one per position of
                // an n x n-cell repeat, say) as one entry.
                for (next = k + 1; next < ops.size() && same_grid(ops[k], ops[next]);) ++next;
                if (next - k <= 4) next = k + 1;
                if (const auto* g = std::get_if<GainMap>(&ops[k].params)) {
                    if (next - k > 1)
                        o << " x" << next - k << " (" << g->points_h << "x" << g->points_v << ", pitch " << g->col_pitch << "x"
                          << g->row_pitch << ")";
                    else
                        o << " (" << g->points_h << "x" << g->points_v << ", rows " << g->top << "+" << g->row_pitch << "n, cols "
                          << g->left << "+" << g->col_pitch << "n)";
                }
                if (ops[k].optional) o << " [optional]";
            }
            o << "\n";
        } catch (const Error& e) {
            o << "unreadable (" << e.what() << ")\n";
        }
    }
    try {
        LensCorrection lens = plan_lens_correction(raw);
        std::string applied, skipped;
        for (const auto& a : lens.applied) applied += (applied.empty() ? "" : ", ") + a;
        for (const auto& a : lens.skipped) skipped += (skipped.empty() ? "" : ", ") + a;
        o << "lens correction: " << (applied.empty() ? "none in the file" : applied);
        if (!skipped.empty()) o << "; skipped (optional): " << skipped;
        o << "\n";
    } catch (const Error& e) {
        o << "lens correction: cannot develop: " << e.what() << "\n";
    }
    const auto& s = raw.shot;
    auto line = [&](const char* k, const std::string& v) {
        if (!v.empty()) o << k << v << "\n";
    };
    line("camera:          ", s.make + (s.make.empty() ? "" : " ") + s.model);
    line("lens:            ", s.lens);
    if (s.exposure_s) line("exposure:        ", *s.exposure_s >= 1 ? fmt(*s.exposure_s) + " s" : "1/" + fmt(1.0 / *s.exposure_s, 4) + " s");
    if (s.f_number) line("aperture:        ", "f/" + fmt(*s.f_number, 3));
    if (s.iso) line("iso:             ", fmt(*s.iso, 6));
    if (s.focal_mm) line("focal length:    ", fmt(*s.focal_mm, 4) + " mm");
    line("date:            ", s.datetime);
    o << "orientation:     " << s.orientation << "\n";
    o << "exif:            " << (raw.exif.empty() ? "none" : std::to_string(raw.exif.size()) + " bytes") << "\n";
    std::fputs(o.str().c_str(), stdout);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
        std::fputs(kMainHelp, argc < 2 ? stderr : stdout);
        return argc < 2 ? kExitUsage : 0;
    }
    if (!std::strcmp(argv[1], "--version")) {
        std::puts("obscura 0.1.0");
        return 0;
    }
    static const std::map<std::string, std::function<int(Args)>> commands = {
        {"develop", cmd_develop},
        {"info", cmd_info},
        {"burst", cmd_burst},
        {"simulate", cmd_simulate},
        {"looks", cmd_looks},
        {"bench", cmd_bench},
    };
    auto it = commands.find(argv[1]);
    try {
        if (it == commands.end()) throw UsageError(std::string("unknown command '") + argv[1] + "' (see obscura --help)");
        return it->second(Args(argc, argv, 2));
    } catch (const UsageError& e) {
        std::fprintf(stderr, "obscura: %s\n", e.what());
        return kExitUsage;
    } catch (const Error& e) {
        std::fprintf(stderr, "obscura: %s\n", e.what());
        return kExitFailed;
    } catch (const std::bad_alloc&) {
        std::fprintf(stderr, "obscura: out of memory\n");
        return kExitFailed;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "obscura: %s\n", e.what());
        return kExitFailed;
    }
}
