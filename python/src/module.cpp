// The Python face (pybind11): raw files in, numpy arrays and output files
// out, through the same pipeline runner as the CLI. rawpy's names where
// rawpy has one. The GIL is released while pixels are processed; errors are
// OSError (a file: unreadable, damaged, unwritable) or ValueError (an
// option), never a crash.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <memory>

#include "obscura/burst.h"
#include "obscura/encode.h"
#include "obscura/error.h"
#include "obscura/finish.h"
#include "obscura/look.h"
#include "obscura/pipeline.h"

namespace py = pybind11;
using namespace obscura;

namespace {

// An option the caller got wrong: ValueError, not OSError.
struct OptionError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Runs `check` (which throws obscura::Error for a bad value) as an option check.
template <typename F>
auto option(F check) {
    try {
        return check();
    } catch (const Error& e) {
        throw OptionError(e.what());
    }
}

Decoder decoder_named(const std::string& name) {
    if (name == "auto") return Decoder::Auto;
    if (name == "dng") return Decoder::Dng;
    if (name == "libraw") return Decoder::LibRaw;
    throw OptionError("decoder must be 'auto', 'dng' or 'libraw', not '" + name + "'");
}

// A str, or an os.PathLike's path; empty for anything else.
std::optional<std::string> as_text(const py::object& v) {
    if (py::isinstance<py::str>(v)) return v.cast<std::string>();
    if (py::hasattr(v, "__fspath__")) return py::str(v.attr("__fspath__")()).cast<std::string>();
    return std::nullopt;
}

std::string path_of(const py::object& p) {
    if (auto t = as_text(p)) return *t;
    throw OptionError("a path must be a str or os.PathLike");
}

// The develop options every call takes, by keyword (the CLI's flags);
// `taken` collects the keys read, so an unknown one is refused.
PipelineOptions pipeline_options(const py::kwargs& kw, std::vector<std::string> extra = {}) {
    PipelineOptions o;
    o.encode.overwrite = true;  // (Python's way: a save replaces; the CLI asks for --overwrite)
    static const std::vector<std::string> known = {"look",   "lut",     "demosaic", "lens_correction", "colorspace",
                                                   "frame",  "binning", "cfa",      "decoder",         "quality",
                                                   "overwrite", "apply_orientation", "denoise", "hdr_output"};
    for (auto item : kw) {
        std::string key = py::str(item.first);
        if (std::find(known.begin(), known.end(), key) == known.end() &&
            std::find(extra.begin(), extra.end(), key) == extra.end())
            throw OptionError("unknown option '" + key + "'");
    }
    auto get = [&](const char* key) -> py::object {
        if (kw.contains(key)) return py::reinterpret_borrow<py::object>(kw[key]);
        return py::none();
    };
    auto text = [&](const char* key) -> std::optional<std::string> {
        py::object v = get(key);
        if (v.is_none()) return std::nullopt;
        auto t = as_text(v);
        if (!t) throw OptionError(std::string(key) + " must be a string");
        return t;
    };
    auto flag = [&](const char* key, bool fallback) {
        py::object v = get(key);
        if (v.is_none()) return fallback;
        if (!py::isinstance<py::bool_>(v)) throw OptionError(std::string(key) + " must be True or False");
        return v.cast<bool>();
    };
    if (auto look = text("look")) o.develop.look = *look;
    option([&] { return find_look(o.develop.look); });
    if (auto lut = text("lut")) o.develop.lut = option([&] { return std::make_shared<const Lut3D>(Lut3D::load(*lut)); });
    if (auto demosaic = text("demosaic")) o.develop.demosaic = *demosaic;
    option([&] { return find_demosaic(o.develop.demosaic); });
    py::object lens = get("lens_correction");
    if (!lens.is_none()) {
        if (py::isinstance<py::bool_>(lens)) {
            o.develop.lens_correction = lens.cast<bool>();
        } else {
            std::string l = text("lens_correction").value();
            if (l != "auto" && l != "off") throw OptionError("lens_correction must be 'auto' or 'off', not '" + l + "'");
            o.develop.lens_correction = l == "auto";
        }
    }
    py::object dn = get("denoise");
    if (!dn.is_none()) {
        if (py::isinstance<py::str>(dn)) {
            std::string d = dn.cast<std::string>();
            if (d == "off")
                o.develop.denoise = 0.0;
            else if (d == "auto")
                o.develop.denoise = 1.0;
            else
                throw OptionError("denoise must be 'auto', 'off' or a strength in (0, 16], not '" + d + "'");
        } else if (py::isinstance<py::float_>(dn) || py::isinstance<py::int_>(dn)) {
            double v = dn.cast<double>();
            if (!(v > 0 && v <= 16)) throw OptionError("denoise must be 'auto', 'off' or a strength in (0, 16]");
            o.develop.denoise = v;
        } else {
            throw OptionError("denoise must be 'auto', 'off' or a number");
        }
    }
    if (auto cs = text("colorspace")) o.develop.color_space = option([&] { return color_space_named(*cs); });
    o.frame = flag("frame", false);
    if (auto hdr = text("hdr_output")) {
        auto named = hdr_output_named(*hdr);
        if (!named) throw OptionError("hdr_output must be 'ultrahdr', 'pq', 'hlg' or 'none', not '" + *hdr + "'");
        o.hdr_output = *named;
    }
    py::object bn = get("binning");
    if (!bn.is_none()) {
        if (py::isinstance<py::bool_>(bn)) {
            o.binning = bn.cast<bool>() ? PipelineOptions::Binning::On : PipelineOptions::Binning::Off;
        } else if (py::isinstance<py::str>(bn) && (bn.cast<std::string>() == "auto")) {
            o.binning = PipelineOptions::Binning::Auto;
        } else {
            throw OptionError("binning must be True, False or 'auto'");
        }
    }
    o.develop.apply_orientation = flag("apply_orientation", true);
    if (auto cfa = text("cfa")) {
        auto parsed = CfaPattern::parse(*cfa);
        if (!parsed) throw OptionError("unknown CFA '" + *cfa + "' (RGGB, BGGR, GRBG, GBRG, quad, nona, hexadeca[-LAYOUT])");
        o.cfa = *parsed;
    }
    if (auto d = text("decoder")) o.decode.decoder = decoder_named(*d);
    py::object q = get("quality");
    if (!q.is_none()) {
        if (!py::isinstance<py::int_>(q) || q.cast<long>() < 1 || q.cast<long>() > 100)
            throw OptionError("quality must be an integer within 1..100");
        o.encode.jpeg_quality = q.cast<int>();
    }
    o.encode.overwrite = flag("overwrite", true);
    return o;
}

// A RawImage shared between Python objects and the arrays that view it.
using RawPtr = std::shared_ptr<RawImage>;

py::array raw_samples(const RawPtr& raw, py::handle owner) {
    const ssize_t h = raw->height, w = raw->width;
    if (raw->is_linear())
        return py::array_t<uint16_t>({h, w, ssize_t(3)}, {ssize_t(2 * 3 * w), ssize_t(2 * 3), ssize_t(2)}, raw->data.data(), owner);
    return py::array_t<uint16_t>({h, w}, {ssize_t(2 * w), ssize_t(2)}, raw->data.data(), owner);
}

// The developed image as an H x W x 3 array: 16-bit without a copy (the
// array owns the image), or converted to 8-bit as the writers do.
py::array image_array(Image&& image, int bps) {
    const ssize_t h = image.height, w = image.width;
    if (bps == 16) {
        auto* owned = new Image(std::move(image));
        py::capsule free_it(owned, [](void* p) { delete static_cast<Image*>(p); });
        return py::array_t<uint16_t>({h, w, ssize_t(3)}, {ssize_t(6 * w), ssize_t(6), ssize_t(2)}, owned->pixels.data(), free_it);
    }
    py::array_t<uint8_t> out({h, w, ssize_t(3)});
    uint8_t* dst = out.mutable_data();
    const uint16_t* src = image.pixels.data();
    {
        py::gil_scoped_release release;
        to_8bit(src, dst, size_t(h) * size_t(w) * 3);
    }
    return out;
}

py::array postprocess(const RawPtr& raw, int output_bps, const py::kwargs& kw) {
    if (output_bps != 8 && output_bps != 16) throw OptionError("output_bps must be 8 or 16");
    PipelineOptions o = pipeline_options(kw);
    if (o.hdr_output != PipelineOptions::HdrOutput::None) throw OptionError("hdr_output is for develop() into a file");
    Image image;
    {
        py::gil_scoped_release release;
        // (A copy only when the sensor step or a CFA override changes it.)
        const bool changes = !raw->is_linear() && (o.cfa || o.binning == PipelineOptions::Binning::On || raw->cfa.cell_size() > 1);
        if (changes) {
            RawImage copy = *raw;
            if (o.cfa) copy.cfa = *o.cfa;
            image = render(to_bayer(std::move(copy), o), o);
        } else {
            image = render(*raw, o);
        }
    }
    return image_array(std::move(image), output_bps);
}

py::dict shot_dict(const ShotInfo& s) {
    py::dict d;
    d["make"] = s.make, d["model"] = s.model, d["lens"] = s.lens, d["datetime"] = s.datetime, d["software"] = s.software;
    auto opt = [](const std::optional<double>& v) -> py::object { return v ? py::object(py::float_(*v)) : py::none(); };
    d["iso"] = opt(s.iso), d["exposure_s"] = opt(s.exposure_s), d["f_number"] = opt(s.f_number), d["focal_mm"] = opt(s.focal_mm);
    d["orientation"] = s.orientation;
    return d;
}

py::object matrix(const std::optional<Mat3>& m) {
    if (!m) return py::none();
    py::array_t<double> a({3, 3});
    std::memcpy(a.mutable_data(), m->data(), 9 * sizeof(double));
    return a;
}

}  // namespace

PYBIND11_MODULE(_obscura, m) {
    m.doc() = "obscura's library: raw files in, numpy arrays and photos out (see the obscura package).";

    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const OptionError& e) {
            PyErr_SetString(PyExc_ValueError, e.what());
        } catch (const Error& e) {
            PyErr_SetString(PyExc_OSError, e.what());
        }
    });

    py::class_<RawImage, RawPtr>(m, "RawImage", "One raw frame as the file describes it (obscura::RawImage).")
        .def_property_readonly("raw_image", [](py::object self) { return raw_samples(self.cast<RawPtr>(), self); },
                               "The active area's samples: uint16, H x W (one CFA colour each) or H x W x 3 for a "
                               "LinearRaw file; a view, not a copy (writes change what postprocess develops).")
        .def_property_readonly("raw_pattern", [](const RawImage& r) {
            py::array_t<uint8_t> a({r.cfa.height, r.cfa.width});
            std::copy(r.cfa.colors.begin(), r.cfa.colors.end(), a.mutable_data());
            return a;
        }, "The CFA's repeat: colour index (0 red, 1 green, 2 blue) of each site, relative to raw_image's top-left.")
        .def_property_readonly("cfa", [](const RawImage& r) { return r.is_linear() ? std::string("LinearRaw") : r.cfa.name(); },
                               "The CFA layout by name ('RGGB', 'quad RGGB (4x4)', ...), or 'LinearRaw'.")
        .def_property_readonly("black_level_per_channel", [](const RawImage& r) {
            // rawpy's order: red, green, blue, second green (each colour's first site).
            std::vector<double> out(4, -1);
            for (int y = 0; y < r.cfa.height; ++y)
                for (int x = 0; x < r.cfa.width; ++x) {
                    int c = r.cfa.at(x, y);
                    size_t slot = c == kRed ? 0 : c == kBlue ? 2 : (out[1] < 0 ? 1 : 3);
                    if (out[slot] < 0) out[slot] = r.black.at(x, y);
                }
            for (double& v : out)
                if (v < 0) v = r.black.at(0, 0);
            return out;
        }, "Black level of red, green, blue and the second green (at each colour's first site).")
        .def_property_readonly("white_level", [](const RawImage& r) { return r.white_level; })
        .def_property_readonly("color_matrix", [](const RawImage& r) { return matrix(r.color.color_matrix[0]); },
                               "ColorMatrix1 (XYZ -> camera, 3 x 3), or None.")
        .def_property_readonly("camera_whitebalance", [](const RawImage& r) -> py::object {
            if (!r.color.as_shot_neutral) return py::none();
            const Vec3& n = *r.color.as_shot_neutral;
            return py::cast(std::vector<double>{n[1] / n[0], 1.0, n[1] / n[2], 1.0});
        }, "As-shot white balance multipliers (red, green, blue, green), green 1; None when the file has none.")
        .def_property_readonly("noise_profile", [](const RawImage& r) {
            std::vector<std::pair<double, double>> out;
            for (const auto& p : r.noise.planes) out.emplace_back(p[0], p[1]);
            return out;
        }, "Per plane (scale, offset): variance = scale * x + offset, x in 0..1 of white (DNG NoiseProfile).")
        .def_property_readonly("noise_map", [](const RawImage& r) -> py::object {
            const NoiseProfile& n = r.noise;
            if (n.map.empty()) return py::none();
            py::array_t<float> grid({ssize_t(n.map_height), ssize_t(n.map_width)});
            std::copy(n.map.begin(), n.map.end(), grid.mutable_data());
            return py::make_tuple(grid, n.map_step, n.map_origin);
        }, "Where the noise differs across the frame (a merged burst's refused, moving parts): (grid, step, origin),\n"
           "grid[gy, gx] the variance as a multiple of noise_profile's at raw pixel (origin + gx * step,\n"
           "origin + gy * step), bilinear between; None when the frame has none.")
        .def_property_readonly("shot", [](const RawImage& r) { return shot_dict(r.shot); },
                               "The shot: make, model, lens, datetime, software, iso, exposure_s, f_number, focal_mm, orientation.")
        .def_property_readonly("opcodes", [](const RawImage& r) {
            py::list out;
            for (const auto& list : r.opcodes) out.append(py::bytes(reinterpret_cast<const char*>(list.data()), list.size()));
            return out;
        }, "DNG OpcodeList1..3 as stored (big-endian bytes; empty when absent).")
        .def_property_readonly("crop", [](const RawImage& r) { return py::make_tuple(r.crop.x, r.crop.y, r.crop.width, r.crop.height); },
                               "The default crop (x, y, width, height) within raw_image.")
        .def_property_readonly("source", [](const RawImage& r) { return r.source; })
        .def_property_readonly("decoder", [](const RawImage& r) { return r.decoder; })
        .def_property_readonly("is_linear", &RawImage::is_linear)
        .def_property_readonly("sizes", [](const RawImage& r) { return py::make_tuple(r.width, r.height); })
        .def("postprocess", &postprocess, py::arg("output_bps") = 8,
             "Develops the frame: an H x W x 3 uint8 (output_bps=8) or uint16 array, display-encoded, upright.\n"
             "Options as the CLI's: look, lut, demosaic, lens_correction ('auto'/'off'), colorspace ('srgb',\n"
             "'display-p3'), frame, binning (True/False/'auto'), cfa, denoise ('auto'/'off'/strength),\n"
             "apply_orientation.")
        .def("__repr__", [](const RawImage& r) {
            return "<obscura.RawImage " + r.source + ": " + std::to_string(r.width) + " x " + std::to_string(r.height) + " " +
                   (r.is_linear() ? std::string("LinearRaw") : r.cfa.name()) + ">";
        });

    m.def("imread", [](const py::object& path, const std::string& decoder) {
        DecodeOptions o;
        o.decoder = decoder_named(decoder);
        std::string p = path_of(path);
        py::gil_scoped_release release;
        return std::make_shared<RawImage>(decode(p, o));
    }, py::arg("path"), py::arg("decoder") = "auto",
          "Reads a raw file (DNG by obscura's reader, other raws by LibRaw; decoder='dng'/'libraw' forces one).");

    m.def("develop", [](const py::object& input, const py::object& output, const py::kwargs& kw) {
        PipelineOptions o = pipeline_options(kw);
        std::string in = path_of(input), out = path_of(output);
        RunReport report;
        {
            py::gil_scoped_release release;
            develop_file(in, out, o, &report);
        }
        py::dict d;
        d["decode_s"] = report.decode_s, d["sensor_s"] = report.sensor_s, d["develop_s"] = report.develop_s;
        d["warnings"] = report.warnings;
        return d;
    }, py::arg("input"), py::arg("output"),
          "Develops a raw file into `output` (its extension picks JPEG, PNG, TIFF, HEIF, AVIF, or OpenEXR for the\n"
          "scene-linear rendition): the same bytes as `obscura develop`. hdr_output='ultrahdr' (a .jpg) writes Ultra\n"
          "HDR, 'pq' or 'hlg' (a .heic/.avif) 10-bit BT.2100. Written to a temporary and renamed. Returns the stage\n"
          "times and warnings.");

    m.def("merge_burst", [](const std::vector<py::object>& paths, const py::object& reference, double strength, bool binning,
                            const py::object& cfa, const std::string& decoder) {
        BurstOptions b;
        if (!reference.is_none()) b.reference = reference.cast<int>();
        if (b.reference >= int(paths.size()) || b.reference < -1) throw OptionError("reference must index one of the frames");
        if (!(strength > 0 && strength <= 1000)) throw OptionError("strength must be within (0, 1000]");
        b.strength = strength, b.binning = binning;
        if (!cfa.is_none()) {
            auto parsed = CfaPattern::parse(cfa.cast<std::string>());
            if (!parsed) throw OptionError("unknown CFA '" + cfa.cast<std::string>() + "'");
            b.cfa = *parsed;
        }
        DecodeOptions d;
        d.decoder = decoder_named(decoder);
        std::vector<std::string> files;
        for (const auto& p : paths) files.push_back(path_of(p));
        py::gil_scoped_release release;
        return std::make_shared<RawImage>(merge_burst_files(files, b, nullptr, d));
    }, py::arg("paths"), py::arg("reference") = py::none(), py::arg("strength") = 8.0,
          py::arg("binning") = false, py::arg("cfa") = py::none(), py::arg("decoder") = "auto",
          "Aligns and merges a handheld burst onto its reference frame (the sharpest of the first three unless\n"
          "given): a RawImage with less noise and its noise profile lowered to match, to postprocess like any other\n"
          "(postprocess's denoise takes off what the merge left).");

    m.def("write", [](const py::object& path, py::array rgb, const py::object& exif_from, int quality, const std::string& colorspace,
                      bool overwrite) {
        if (rgb.ndim() != 3 || rgb.shape(2) != 3) throw OptionError("rgb must be an H x W x 3 array");
        const bool is8 = py::isinstance<py::array_t<uint8_t>>(rgb) && rgb.dtype().itemsize() == 1;
        const bool is16 = rgb.dtype().is(py::dtype::of<uint16_t>());
        if (!is8 && !is16) throw OptionError("rgb must be uint8 or uint16");
        if (quality < 1 || quality > 100) throw OptionError("quality must be within 1..100");
        Image image;
        image.height = int(rgb.shape(0)), image.width = int(rgb.shape(1));
        image.color_space = option([&] { return color_space_named(colorspace); });
        auto c = py::array::ensure(rgb, py::array::c_style);
        OutputMetadata meta;
        if (!exif_from.is_none()) meta = metadata_of(*exif_from.cast<RawPtr>());
        EncodeOptions eo;
        eo.jpeg_quality = quality, eo.overwrite = overwrite;
        std::string p = path_of(path);
        image.pixels.resize(size_t(image.width) * image.height * 3);
        const size_t n = image.pixels.size();
        if (is16) {
            std::memcpy(image.pixels.data(), c.data(), n * 2);
        } else {
            const uint8_t* s = static_cast<const uint8_t*>(c.data());
            for (size_t i = 0; i < n; ++i) image.pixels[i] = uint16_t(s[i] * 257);
        }
        py::gil_scoped_release release;
        encode(image, p, meta, eo);
    }, py::arg("path"), py::arg("rgb"), py::arg("exif_from") = py::none(), py::arg("quality") = 92,
          py::arg("colorspace") = "srgb", py::arg("overwrite") = true,
          "Writes an H x W x 3 uint8/uint16 display-encoded array (its extension picks the format), with the EXIF\n"
          "of `exif_from` (a RawImage) and the colour space's ICC profile.");

    m.def("check_options", [](const py::kwargs& kw) { pipeline_options(kw); },
          "Raises ValueError for an option develop or postprocess would refuse (an unknown look, say), before any work.");

    m.def("looks", [] {
        py::list out;
        for (const auto& l : builtin_looks()) {
            py::dict d;
            d["name"] = l.name, d["description"] = l.description;
            out.append(d);
        }
        return out;
    }, "The shipped looks: a list of {'name', 'description'}, reference first.");

    m.attr("__version__") = "0.1.0";
}
