// obscura bench: our methods and the open peers on the same files, in one
// run, so anyone can reproduce the figures in the README and the issues.
//
//   bench demosaic --truth DIR   quality (CPSNR, CIEDE2000) and speed of every
//                                demosaic method against ground truth
//   bench develop FILE...        develop time, megapixels per second and peak
//                                memory against dcraw_emu and darktable-cli
//   bench burst FRAME...         burst merge + develop against dcraw_emu on
//                                one of the frames
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "cli.h"
#include "obscura/decode.h"
#include "obscura/develop.h"
#include "obscura/encode.h"
#include "obscura/error.h"
#include "obscura/look.h"
#include "obscura/quality.h"

extern char** environ;

namespace obscura::cli {
namespace {

namespace fs = std::filesystem;

const char* kBenchHelp =
    "usage: obscura bench demosaic --truth DIR [--dngs DIR] [--repeat N] [--no-peers]\n"
    "       obscura bench develop FILE... [--repeat N] [--no-peers | --peers LIST]\n"
    "       obscura bench burst FRAME... [--repeat N]\n"
    "\n"
    "demosaic: for every NAME.png in the --truth folder, develops NAME.dng (from\n"
    "  --dngs, default the same folder) with each of our demosaic methods and the\n"
    "  --look reference rendering, and, when installed, with LibRaw (dcraw_emu: AHD,\n"
    "  DHT, bilinear) and RawTherapee (LMMSE, AMaZE, RCD) with everything else\n"
    "  neutral; prints mean CPSNR and CIEDE2000 against the truth (8-pixel border\n"
    "  dropped) and megapixels per second. Our speed is the develop step alone;\n"
    "  the peers' is their whole run (decode, develop, write).\n"
    "  scripts/kodak_eval.py --bench makes the DNGs from the Kodak photos and runs this.\n"
    "develop: develops each FILE to a 16-bit TIFF (--look reference) and to a JPEG\n"
    "  (default look; a quad, nona or hexadeca file also binned to a JPEG), and runs\n"
    "  dcraw_emu -w -q 3 -T and darktable-cli on it; prints\n"
    "  the best wall time of N runs, megapixels per second, peak memory, and each\n"
    "  time as a ratio to dcraw_emu's.\n"
    "burst: merges the frames and develops the merge to a JPEG (default look, the\n"
    "  reference frame chosen as usual), and runs dcraw_emu -w -q 3 -T on the first\n"
    "  frame alone; prints the best wall time of N runs of each, peak memory, and\n"
    "  the burst's time as a ratio to dcraw_emu's on one frame.\n"
    "\n"
    "options:\n"
    "  --repeat N   runs per measurement, the best is kept (default 3)\n"
    "  --no-peers   measure obscura only\n"
    "  --peers LIST bench develop: the peers to run, of dcraw_emu,darktable (default\n"
    "               both; darktable takes minutes a run at 200 MP)\n";

bool installed(const std::string& tool) {
    const char* path = std::getenv("PATH");
    std::string dirs = path ? path : "/usr/bin:/bin";
    size_t start = 0;
    while (start <= dirs.size()) {
        size_t end = dirs.find(':', start);
        if (end == std::string::npos) end = dirs.size();
        fs::path p = fs::path(dirs.substr(start, end - start)) / tool;
        if (::access(p.c_str(), X_OK) == 0) return true;
        start = end + 1;
    }
    return false;
}

struct RunResult {
    bool ok = false;
    double seconds = 0;
    double peak_mb = 0;
};

// Runs a command with its output discarded; wall time and peak memory.
RunResult run_command(const std::vector<std::string>& argv) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    // Every tool starts with the disk cache clean: otherwise the last run's
    // hundreds of megabytes of output are still being written back while
    // the next one runs, and timings swing by half.
    ::sync();
    Stopwatch clock;
    pid_t pid;
    RunResult r;
    if (posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ) == 0) {
        int status = 0;
        struct rusage usage {};
        ::wait4(pid, &status, 0, &usage);
        r.seconds = clock.lap();
        r.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        r.peak_mb = usage.ru_maxrss / 1024.0;
    }
    posix_spawn_file_actions_destroy(&actions);
    return r;
}

RunResult best_of(int repeat, const std::vector<std::string>& argv) {
    RunResult best;
    for (int i = 0; i < repeat; ++i) {
        RunResult r = run_command(argv);
        if (!r.ok) return r;
        if (!best.ok || r.seconds < best.seconds) best = r;
    }
    return best;
}

// A scratch folder removed when the bench ends.
struct Scratch {
    fs::path dir;
    Scratch() {
        std::string templ = (fs::temp_directory_path() / "obscura-bench-XXXXXX").string();
        if (!::mkdtemp(templ.data())) throw Error("cannot create a scratch folder in " + fs::temp_directory_path().string());
        dir = templ;
    }
    ~Scratch() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
};

// Linear 16-bit sRGB (dcraw_emu -4) -> sRGB-encoded, as our truth is.
Image srgb_encoded(Image linear) {
    for (auto& v : linear.pixels) v = uint16_t(std::lround(srgb_encode(v / 65535.0) * 65535.0));
    return linear;
}

// RawTherapee with one demosaic method and everything else neutral: camera
// white balance, camera matrix to sRGB, no curves, sharpening or lens work.
std::string rawtherapee_profile(const std::string& method) {
    return "[Version]\nAppVersion=5.9\nVersion=349\n\n"
           "[Exposure]\nAuto=false\nCompensation=0\nBrightness=0\nContrast=0\nSaturation=0\nBlack=0\n"
           "HighlightCompr=0\nCurveMode=Standard\nCurve=0;\nCurve2=0;\n\n"
           "[White Balance]\nEnabled=true\nSetting=Camera\n\n"
           "[Color Management]\nInputProfile=(camera)\nToneCurve=false\nWorkingProfile=sRGB\n"
           "OutputProfile=RT_sRGB\nOutputProfileIntent=Relative\n\n"
           "[RAW Bayer]\nMethod=" + method + "\nBorder=4\nCcSteps=0\nPreSharpening=false\nLineDenoise=0\n"
           "GreenEqThreshold=0\n\n"
           "[RAW]\nCA=false\nHotPixelFilter=false\nDeadPixelFilter=false\n\n"
           "[Sharpening]\nEnabled=false\n\n[LensProfile]\nLcMode=none\n";
}

struct Score {
    double cpsnr = 0, de = 0, megapixels = 0, seconds = 0;
    int files = 0;
    std::string note;
};

struct Peer {
    std::string name;
    std::string tool;
    // Writes the developed file to `out` (a .tif); returns the command.
    std::vector<std::string> (*command)(const std::string& dng, const std::string& out, const std::string& arg);
    std::string arg;
    bool linear_output;
};

std::vector<std::string> dcraw_command(const std::string& dng, const std::string& out, const std::string& q) {
    return {"dcraw_emu", "-w", "-4", "-T", "-o", "1", "-q", q, "-Z", out, dng};
}

std::vector<std::string> rawtherapee_command(const std::string& dng, const std::string& out, const std::string& pp3) {
    return {"rawtherapee-cli", "-o", out, "-b16", "-t", "-p", pp3, "-Y", "-c", dng};
}

int bench_demosaic(Args& args) {
    auto truth_dir = args.value("--truth");
    auto dng_dir = args.value("--dngs");
    auto repeat_arg = args.value("--repeat");
    bool peers = !args.flag("--no-peers");
    if (!args.positional().empty()) throw UsageError("bench demosaic takes no file arguments (see obscura bench --help)");
    if (!truth_dir) throw UsageError("bench demosaic needs --truth DIR (see obscura bench --help)");
    int repeat = repeat_arg ? std::atoi(repeat_arg->c_str()) : 3;
    if (repeat < 1 || repeat > 100) throw UsageError("--repeat must be 1..100");
    if (!fs::is_directory(*truth_dir)) throw file_error(*truth_dir, "is not a folder");
    fs::path dngs = dng_dir ? fs::path(*dng_dir) : fs::path(*truth_dir);

    std::vector<std::pair<fs::path, fs::path>> pairs;  // truth, dng
    for (const auto& e : fs::directory_iterator(*truth_dir))
        if (e.path().extension() == ".png") {
            fs::path dng = dngs / (e.path().stem().string() + ".dng");
            if (!fs::exists(dng))
                throw file_error(dng.string(), "missing: make the DNGs first (scripts/kodak_eval.py --bench does)");
            pairs.emplace_back(e.path(), dng);
        }
    std::sort(pairs.begin(), pairs.end());
    if (pairs.empty()) throw file_error(*truth_dir, "holds no .png ground truth");

    Scratch scratch;
    std::vector<Peer> peer_list;
    if (peers && installed("dcraw_emu"))
        for (auto [name, q] : {std::pair{"LibRaw DHT (dcraw_emu -q 11)", "11"}, {"LibRaw AHD (dcraw_emu -q 3)", "3"},
                               {"LibRaw bilinear (dcraw_emu -q 0)", "0"}})
            peer_list.push_back({name, "dcraw_emu", dcraw_command, q, true});
    if (peers && installed("rawtherapee-cli"))
        for (auto [name, method] : {std::pair{"RawTherapee LMMSE", "lmmse"}, {"RawTherapee AMaZE", "amaze"},
                                    {"RawTherapee RCD", "rcd"}}) {
            fs::path pp3 = scratch.dir / (std::string(method) + ".pp3");
            std::ofstream(pp3) << rawtherapee_profile(method);
            peer_list.push_back({name, "rawtherapee-cli", rawtherapee_command, pp3.string(), false});
        }

    std::vector<std::string> order;
    std::map<std::string, Score> scores;
    for (const auto& m : demosaic_methods()) order.push_back("obscura " + m.name);
    for (const auto& p : peer_list) order.push_back(p.name);

    for (const auto& [truth_path, dng] : pairs) {
        Image truth = load_png(truth_path.string());
        RawImage raw = decode(dng.string());
        double mp = raw.crop.width * double(raw.crop.height) / 1e6;
        std::printf("%s (%.1f MP)\n", dng.filename().c_str(), mp);
        for (const auto& m : demosaic_methods()) {
            DevelopOptions opt;
            opt.look = "reference";
            opt.demosaic = m.name;
            opt.apply_orientation = false;
            Image best;
            double seconds = 1e9;
            for (int i = 0; i < repeat; ++i) {
                Stopwatch clock;
                Image image = develop(raw, opt);
                double t = clock.lap();
                if (t < seconds) seconds = t, best = std::move(image);
            }
            Score& s = scores["obscura " + m.name];
            s.cpsnr += cpsnr(best, truth), s.de += ciede2000(best, truth);
            s.megapixels += mp, s.seconds += seconds, ++s.files;
        }
        for (const auto& p : peer_list) {
            Score& s = scores[p.name];
            fs::path out = scratch.dir / "peer.tif";
            fs::remove(out);
            RunResult r = best_of(repeat, p.command(dng.string(), out.string(), p.arg));
            try {
                if (!r.ok) throw Error("failed");
                Image image = load_tiff_rgb(out.string());
                if (p.linear_output) image = srgb_encoded(std::move(image));
                // RawTherapee trims a few pixels at each edge: compare the centres.
                int dx = (truth.width - image.width) / 2, dy = (truth.height - image.height) / 2;
                int border = std::max(0, 8 - std::min(dx, dy));
                s.cpsnr += cpsnr(image, truth, border, dx, dy), s.de += ciede2000(image, truth, border, dx, dy);
                s.megapixels += mp, s.seconds += r.seconds, ++s.files;
            } catch (const Error& e) {
                s.note = std::string("failed on ") + dng.filename().string() + ": " + e.what();
            }
        }
    }

    std::printf("\n%zu photos, --look reference, CPSNR and CIEDE2000 with an 8-pixel border dropped\n", pairs.size());
    std::printf("%-34s %10s %10s %10s\n", "method", "CPSNR dB", "CIEDE2000", "MP/s");
    for (const auto& name : order) {
        const Score& s = scores[name];
        if (s.files == 0) {
            std::printf("%-34s %s\n", name.c_str(), s.note.empty() ? "no result" : s.note.c_str());
            continue;
        }
        std::printf("%-34s %10.2f %10.2f %10.1f%s\n", name.c_str(), s.cpsnr / s.files, s.de / s.files,
                    s.megapixels / s.seconds, name.rfind("obscura", 0) == 0 ? "" : "  (whole run)");
        if (!s.note.empty()) std::printf("    %s\n", s.note.c_str());
    }
    if (peers && peer_list.empty()) std::printf("(no peers installed: dcraw_emu, rawtherapee-cli)\n");
    return 0;
}

int bench_develop(Args& args) {
    auto repeat_arg = args.value("--repeat");
    const bool peers = !args.flag("--no-peers");
    bool with_dcraw = peers, with_darktable = peers;
    if (auto list = args.value("--peers")) {
        with_dcraw = with_darktable = false;
        for (const std::string& name : comma_items(*list)) {
            if (name == "dcraw_emu") with_dcraw = true;
            else if (name == "darktable") with_darktable = true;
            else throw UsageError("--peers: unknown peer '" + name + "' (dcraw_emu, darktable)");
        }
    }
    auto files = args.positional();
    if (files.empty()) throw UsageError("bench develop needs at least one raw file (see obscura bench --help)");
    int repeat = repeat_arg ? std::atoi(repeat_arg->c_str()) : 3;
    if (repeat < 1 || repeat > 100) throw UsageError("--repeat must be 1..100");
    std::string self = fs::read_symlink("/proc/self/exe").string();
    Scratch scratch;
    for (const auto& file : files) {
        RawImage raw = decode(file);  // a bad file fails here, before any timing
        double mp = raw.width * double(raw.height) / 1e6;
        std::printf("%s: %d x %d (%.1f MP), %s, %s\n", file.c_str(), raw.width, raw.height, mp,
                    raw.is_linear() ? "LinearRaw" : ("CFA " + raw.cfa.name()).c_str(), raw.storage.compression.c_str());
        std::string tif = (scratch.dir / "o.tif").string(), jpg = (scratch.dir / "o.jpg").string();
        struct Row {
            std::string name;
            std::vector<std::string> argv;
        };
        std::vector<Row> rows = {
            {"obscura -> TIFF16 (--look reference)", {self, "develop", file, "-o", tif, "--look", "reference", "--overwrite"}},
            {"obscura -> JPEG (default look)", {self, "develop", file, "-o", jpg, "--overwrite"}},
        };
        // n x n cells: the low-light way too, each cell binned into one pixel.
        if (raw.cfa.cell_size() > 1)
            rows.push_back({"obscura -> JPEG (--binning)", {self, "develop", file, "-o", jpg, "--binning", "--overwrite"}});
        if (with_dcraw && installed("dcraw_emu")) rows.push_back({"dcraw_emu -w -q 3 -T", {"dcraw_emu", "-w", "-q", "3", "-T", "-Z", tif, file}});
        if (with_darktable && installed("darktable-cli"))
            rows.push_back({"darktable-cli -> JPEG (defaults)",
                            {"darktable-cli", file, jpg, "--core", "--configdir", (scratch.dir / "dt").string(),
                             "--library", ":memory:"}});
        std::vector<RunResult> results;
        // A peer that cannot read the file may still exit 0 (dcraw_emu does):
        // each run must write its output, which is removed first.
        for (const auto& r : rows) {
            const std::string& out = std::find(r.argv.begin(), r.argv.end(), tif) != r.argv.end() ? tif : jpg;
            fs::remove(out);
            results.push_back(best_of(repeat, r.argv));
            std::error_code ec;
            if (!fs::exists(out) || fs::file_size(out, ec) == 0) results.back().ok = false;
        }
        double reference = 0;
        for (size_t i = 0; i < rows.size(); ++i)
            if (rows[i].name.rfind("dcraw_emu", 0) == 0 && results[i].ok) reference = results[i].seconds;
        std::printf("  %-38s %9s %9s %10s %14s\n", "", "seconds", "MP/s", "peak MB", "vs dcraw_emu");
        for (size_t i = 0; i < rows.size(); ++i) {
            const RunResult& r = results[i];
            if (!r.ok) {
                std::printf("  %-38s failed\n", rows[i].name.c_str());
                continue;
            }
            std::printf("  %-38s %9.3f %9.1f %10.0f", rows[i].name.c_str(), r.seconds, mp / r.seconds, r.peak_mb);
            if (reference > 0) std::printf(" %13.2fx", r.seconds / reference);
            std::printf("\n");
        }
    }
    return 0;
}

int bench_burst(Args& args) {
    auto repeat_arg = args.value("--repeat");
    auto frames = args.positional();
    if (frames.size() < 2) throw UsageError("bench burst needs the frames of a burst (see obscura bench --help)");
    int repeat = repeat_arg ? std::atoi(repeat_arg->c_str()) : 3;
    if (repeat < 1 || repeat > 100) throw UsageError("--repeat must be 1..100");
    std::string self = fs::read_symlink("/proc/self/exe").string();
    Scratch scratch;
    RawImage first = decode(frames[0]);  // a bad file fails here, before any timing
    double mp = first.width * double(first.height) / 1e6;
    std::printf("%zu frames of %d x %d (%.1f MP), CFA %s\n", frames.size(), first.width, first.height, mp, first.cfa.name().c_str());
    std::string jpg = (scratch.dir / "o.jpg").string(), tif = (scratch.dir / "o.tif").string();
    std::vector<std::string> burst = {self, "burst"};
    burst.insert(burst.end(), frames.begin(), frames.end());
    burst.insert(burst.end(), {"-o", jpg, "--overwrite"});
    // Alternated, so both see the machine in the same state.
    RunResult ours, peer;
    const bool have_peer = installed("dcraw_emu");
    for (int i = 0; i < repeat; ++i) {
        RunResult r = run_command(burst);
        if (!r.ok) throw Error("obscura burst failed on these frames");
        if (!ours.ok || r.seconds < ours.seconds) ours = r;
        if (!have_peer) continue;
        RunResult d = run_command({"dcraw_emu", "-w", "-q", "3", "-T", "-Z", tif, frames[0]});
        if (d.ok && (!peer.ok || d.seconds < peer.seconds)) peer = d;
    }
    std::printf("  %-44s %9s %10s %14s\n", "", "seconds", "peak MB", "vs dcraw_emu");
    std::printf("  %-44s %9.3f %10.0f", ("obscura burst (" + std::to_string(frames.size()) + " frames) -> JPEG").c_str(),
                ours.seconds, ours.peak_mb);
    if (peer.ok) std::printf(" %13.2fx", ours.seconds / peer.seconds);
    std::printf("\n");
    if (peer.ok) std::printf("  %-44s %9.3f %10.0f %13.2fx\n", "dcraw_emu -w -q 3 -T (first frame alone)", peer.seconds, peer.peak_mb, 1.0);
    else std::printf("  dcraw_emu not installed (Debian: libraw-bin): no peer to compare with\n");
    return 0;
}

}  // namespace

int cmd_bench(Args args) {
    auto positional_first = [&]() -> std::string {
        if (args.flag("--help") || args.flag("-h")) return "--help";
        if (args.flag("demosaic")) return "demosaic";
        if (args.flag("develop")) return "develop";
        if (args.flag("burst")) return "burst";
        return "";
    };
    std::string what = positional_first();
    if (what == "--help") {
        std::fputs(kBenchHelp, stdout);
        return 0;
    }
    if (what == "demosaic") return bench_demosaic(args);
    if (what == "develop") return bench_develop(args);
    if (what == "burst") return bench_burst(args);
    throw UsageError("bench needs demosaic, develop or burst (see obscura bench --help)");
}

}  // namespace obscura::cli
