// Look files: TOML, one per look, read at run time (styles/ for the shipped
// ones). `reference` is also built in, so measurements never depend on where
// the styles were installed.
#include "obscura/look.h"

#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>

#include "core/parallel.h"
#include "obscura/error.h"

namespace fs = std::filesystem;

namespace obscura {

double srgb_encode(double v) {
    v = std::clamp(v, 0.0, 1.0);
    return v <= 0.0031308 ? v * 12.92 : 1.055 * std::pow(v, 1.0 / 2.4) - 0.055;
}

double srgb_decode(double v) {
    v = std::clamp(v, 0.0, 1.0);
    return v <= 0.04045 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4);
}

bool Look::finishing_is_identity() const {
    return saturation == 1 && vibrance == 0 && hue_deg == 0 && !mono_mix && shadow_amount == 0 &&
           highlight_amount == 0 && vignette == 0 && grain == 0;
}

namespace {

// Extended Reinhard of strength k with its white at w.
double extended_reinhard(double x, double w, double k) { return x * (1 + k * x / (w * w)) / (1 + k * x); }

}  // namespace

Look::Encoding Look::encoding(double peak) const {
    Encoding e{std::pow(2.0, exposure_ev), 0, shoulder, shadows, contrast, 1};
    e.white = e.gain * peak;
    if (shoulder > 0) e.shoulder_norm = extended_reinhard(e.white, e.white, shoulder);
    return e;
}

double Look::Encoding::operator()(double x) const {
    x *= gain;
    // Extended Reinhard with its white at the brightest input: a soft
    // shoulder that still reaches white, so highlights roll off.
    if (shoulder > 0) x = extended_reinhard(x, white, shoulder) / shoulder_norm;
    x = std::min(x, 1.0);
    if (shadows > 0) {
        // Shadow lift: a toe that raises dark tones most (x / (x + s)
        // shaped), leaving white where it was.
        double s = 0.02 + 0.3 * (1 - shadows);
        double lifted = x * (1 + s) / (x + s);
        x = x + shadows * 0.5 * (lifted - x);
    }
    double y = srgb_encode(x);
    if (contrast != 0) {
        // S-curve around mid-grey: darker shadows, brighter mid-highs,
        // with both ends pinned.
        const double pivot = 0.46;
        double t = y < pivot ? y / pivot : (y - pivot) / (1 - pivot);
        y = y < pivot ? std::pow(t, 1 + contrast) * pivot : pivot + (1 - std::pow(1 - t, 1 + contrast)) * (1 - pivot);
    }
    return std::clamp(y, 0.0, 1.0);
}

std::vector<float> Look::encoding_curve(int samples, double range, double peak) const {
    std::vector<float> out(size_t(std::max(samples, 2)));
    const Encoding encode = encoding(peak);
    parallel_rows(0, int(out.size()), [&](int i0, int i1) {
        for (int i = i0; i < i1; ++i) out[size_t(i)] = float(encode(double(i) / double(out.size() - 1) * range));
    }, 4096);
    return out;
}

namespace {

// Reads one table of a look file, checking every key against the known
// ones and every value against its range.
class Section {
public:
    Section(const std::string& path, const toml::table* table, std::string name)
        : path_(path), table_(table), name_(std::move(name)) {}

    double number(const std::string& key, double fallback, double lo, double hi) {
        const toml::node* n = node(key);
        if (!n) return fallback;
        std::optional<double> v = n->value<double>();
        if (!v || !std::isfinite(*v)) fail(key, "must be a number");
        if (*v < lo || *v > hi) {
            std::ostringstream m;
            m << "is " << *v << ", must be within " << lo << ".." << hi;
            fail(key, m.str());
        }
        return *v;
    }
    std::string text(const std::string& key, const std::string& fallback) {
        const toml::node* n = node(key);
        if (!n) return fallback;
        std::optional<std::string> v = n->value<std::string>();
        if (!v) fail(key, "must be a string");
        return *v;
    }
    std::optional<std::array<double, 3>> triple(const std::string& key) {
        const toml::node* n = node(key);
        if (!n) return std::nullopt;
        const toml::array* a = n->as_array();
        if (!a || a->size() != 3) fail(key, "must be an array of three numbers");
        std::array<double, 3> out{};
        for (size_t i = 0; i < 3; ++i) {
            std::optional<double> v = a->get(i)->value<double>();
            if (!v || !std::isfinite(*v) || *v < -2 || *v > 2) fail(key, "must hold three numbers within -2..2");
            out[i] = *v;
        }
        return out;
    }
    bool flag(const std::string& key, bool fallback) {
        const toml::node* n = node(key);
        if (!n) return fallback;
        std::optional<bool> v = n->value<bool>();
        if (!v) fail(key, "must be true or false");
        return *v;
    }
    void allow(const std::string& key) { seen_.insert(key); }  // read elsewhere
    // The key's value (null when absent), marked as read.
    const toml::node* node(const std::string& key) {
        seen_.insert(key);
        return table_ ? table_->get(key) : nullptr;
    }
    // Every key the file has must have been read: a typo is an error.
    void check_all_known() const {
        if (!table_) return;
        for (const auto& [key, node] : *table_)
            if (!seen_.count(std::string(key.str())))
                throw file_error(path_, "unknown key " + qualified(std::string(key.str())));
    }

private:
    std::string qualified(const std::string& key) const { return name_.empty() ? key : name_ + "." + key; }
    [[noreturn]] void fail(const std::string& key, const std::string& why) const {
        throw file_error(path_, qualified(key) + " " + why);
    }
    std::string path_;
    const toml::table* table_;
    std::string name_;
    std::set<std::string> seen_;
};

const toml::table* subtable(const std::string& path, const toml::table& root, const char* name) {
    const toml::node* n = root.get(name);
    if (!n) return nullptr;
    if (!n->is_table()) throw file_error(path, std::string(name) + " must be a table ([" + name + "])");
    return n->as_table();
}

Look reference_look() {
    Look l;
    l.name = "reference";
    l.denoise = 0;  // (the measurement rendering: off unless asked)
    l.description = "measurement rendering: sRGB encoding only, no tone curve";
    return l;
}

fs::path executable_dir() {
    std::error_code ec;
    fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    return ec ? fs::path() : exe.parent_path();
}

}  // namespace

Look load_look(const std::string& path) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) throw file_error(path, "no such look file");
    if (fs::file_size(path, ec) > 1 << 20) throw file_error(path, "is too large for a look file (over 1 MB)");
    toml::table root;
    try {
        root = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
        std::ostringstream m;
        m << "line " << e.source().begin.line << ": " << e.description();
        throw file_error(path, m.str());
    }
    Look look;
    look.source = path;
    Section top(path, &root, "");
    look.name = top.text("name", fs::path(path).stem().string());
    look.description = top.text("description", "");
    if (look.name.empty() || look.name.size() > 64) throw file_error(path, "name must be 1..64 characters");
    static const char* kTables[] = {"tone", "color", "mono", "split_toning", "vignette", "grain", "lut", "local", "denoise"};
    std::vector<Section> sections;
    for (const char* t : kTables) {
        top.allow(t);  // (its keys are checked below)
        sections.emplace_back(path, subtable(path, root, t), t);
    }
    top.check_all_known();

    Section& tone = sections[0];
    look.exposure_ev = tone.number("exposure", 0, -4, 4);
    look.shoulder = tone.number("shoulder", 0, 0, 10);
    look.shadows = tone.number("shadows", 0, 0, 1);
    look.contrast = tone.number("contrast", 0, -0.5, 1);
    look.camera_profile = tone.flag("camera_profile", false);
    Section& color = sections[1];
    look.saturation = color.number("saturation", 1, 0, 3);
    look.vibrance = color.number("vibrance", 0, -1, 1);
    look.hue_deg = color.number("hue", 0, -180, 180);
    Section& mono = sections[2];
    if (subtable(path, root, "mono")) {
        auto mix = mono.triple("mix").value_or(std::array<double, 3>{0.2126, 0.7152, 0.0722});
        double sum = mix[0] + mix[1] + mix[2];
        if (!(std::abs(sum) > 1e-3)) throw file_error(path, "mono.mix must not sum to zero");
        for (double& m : mix) m /= sum;
        look.mono_mix = mix;
    }
    Section& split = sections[3];
    look.shadow_hue = split.number("shadow_hue", 0, -360, 360);
    look.shadow_amount = split.number("shadow_amount", 0, 0, 1);
    look.highlight_hue = split.number("highlight_hue", 0, -360, 360);
    look.highlight_amount = split.number("highlight_amount", 0, 0, 1);
    look.split_balance = split.number("balance", 0, -1, 1);
    Section& vignette = sections[4];
    look.lens_vignette_kept = vignette.number("lens", 0, 0, 1);
    look.vignette = vignette.number("amount", 0, -1, 1);
    Section& grain = sections[5];
    look.grain = grain.number("amount", 0, 0, 1);
    look.grain_size = grain.number("size", 1.5, 0.5, 8);
    Section& lut = sections[6];
    look.lut = lut.text("file", "");
    look.lut_space = lut.text("space", "srgb");
    if (look.lut_space != "srgb" && look.lut_space != "linear")
        throw file_error(path, "lut.space must be \"srgb\" or \"linear\", not \"" + look.lut_space + "\"");
    if (!look.lut.empty() && fs::path(look.lut).is_relative()) look.lut = (fs::path(path).parent_path() / look.lut).string();
    Section& local = sections[7];
    look.local_amount = local.number("amount", 0, 0, 1);
    look.denoise = sections[8].number("strength", 1, 0, 16);
    for (const Section& s : sections) s.check_all_known();
    return look;
}

std::string styles_directory() {
    std::vector<fs::path> candidates;
    if (const char* env = std::getenv("OBSCURA_STYLES")) candidates.emplace_back(env);
    fs::path exe = executable_dir();
    if (!exe.empty()) candidates.push_back(exe / ".." / "share" / "obscura" / "styles");
#ifdef OBSCURA_INSTALLED_STYLES
    candidates.emplace_back(OBSCURA_INSTALLED_STYLES);
#endif
#ifdef OBSCURA_SOURCE_STYLES
    candidates.emplace_back(OBSCURA_SOURCE_STYLES);
#endif
    std::error_code ec;
    for (const auto& c : candidates)
        if (fs::is_regular_file(c / "reference.toml", ec)) return fs::weakly_canonical(c, ec).string();
    return "";
}

const std::vector<Look>& builtin_looks() {
    static const std::vector<Look> looks = [] {
        std::vector<Look> out;
        std::string dir = styles_directory();
        if (!dir.empty()) {
            std::vector<fs::path> files;
            for (const auto& e : fs::directory_iterator(dir))
                if (e.path().extension() == ".toml") files.push_back(e.path());
            std::sort(files.begin(), files.end());
            for (const auto& f : files) out.push_back(load_look(f.string()));
        }
        if (std::none_of(out.begin(), out.end(), [](const Look& l) { return l.name == "reference"; }))
            out.push_back(reference_look());
        // The shipped ones in the order a photographer meets them, then any
        // others by name.
        static const std::vector<std::string> order = {"reference", "authentic", "vibrant", "natural", "vivid",
                                                       "mono", "mono-hc", "sepia", "blue"};
        auto rank = [](const Look& l) {
            return size_t(std::find(order.begin(), order.end(), l.name) - order.begin());
        };
        std::stable_sort(out.begin(), out.end(), [&](const Look& a, const Look& b) {
            return rank(a) != rank(b) ? rank(a) < rank(b) : a.name < b.name;
        });
        return out;
    }();
    return looks;
}

const std::string& default_look_name() {
    static const std::string name = "authentic";
    return name;
}

namespace {

// A shipped look by its own file, when that file is named after it and
// carries its name: one file read, not every look's (1-1.6 ms of a
// develop's start here). Read once, as builtin_looks() are: a develop asks
// for its look more than once, and a batch for every file.
std::optional<Look> look_in_own_file(const std::string& name) {
    if (name.empty() || name.find_first_of("/\\") != std::string::npos) return std::nullopt;
    static std::mutex lock;
    static std::map<std::string, std::optional<Look>> read;
    std::lock_guard<std::mutex> hold(lock);
    if (auto it = read.find(name); it != read.end()) return it->second;
    std::optional<Look> look;
    const std::string dir = styles_directory();
    std::error_code ec;
    const fs::path own = fs::path(dir) / (name + ".toml");
    if (!dir.empty() && fs::is_regular_file(own, ec)) {
        look = load_look(own.string());  // (a broken file throws, and is not remembered)
        if (look->name != name) look.reset();
    }
    read.emplace(name, look);
    return look;
}

}  // namespace

Look find_look(const std::string& name_or_path) {
    if (fs::path(name_or_path).extension() == ".toml") return load_look(name_or_path);
    if (std::optional<Look> own = look_in_own_file(name_or_path)) return *own;
    for (const auto& l : builtin_looks())
        if (l.name == name_or_path) return l;
    std::string known;
    for (const auto& l : builtin_looks()) known += (known.empty() ? "" : ", ") + l.name;
    throw Error("unknown look '" + name_or_path + "' (known: " + known + "; or a .toml look file)");
}

}  // namespace obscura
