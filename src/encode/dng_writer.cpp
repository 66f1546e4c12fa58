// DNG writer through libtiff: one uncompressed CFA image in IFD 0 with the
// DNG tags a developer needs. libtiff 4.5 knows most DNG tags; the few it
// does not (ForwardMatrix, OpcodeList, NoiseProfile) are registered here.
#include "obscura/dng_writer.h"

#include <algorithm>
#include <cmath>
#include <array>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <vector>

#include "obscura/error.h"
#include "obscura/lens_correction.h"
#include "obscura/opcodes.h"
#include "writers.h"
#include "core/lazy_tiff.h"
#include "core/noise_map.h"

namespace obscura {
namespace {

constexpr ttag_t kForwardMatrix1 = 50964, kForwardMatrix2 = 50965;
constexpr ttag_t kOpcodeList1 = 51008, kOpcodeList2 = 51009, kOpcodeList3 = 51022;
constexpr ttag_t kNoiseProfile = 51041;
// The shot's exposure, TIFF/EP style in IFD0 (DNG readers take them there as
// from an EXIF IFD): what a bracket merge compares frames by.
constexpr ttag_t kExposureTime = 33434, kFNumber = 33437, kIsoSpeed = 34855;

TIFFFieldInfo kExtraFields[] = {
    {kForwardMatrix1, -1, -1, TIFF_SRATIONAL, FIELD_CUSTOM, 1, 1, const_cast<char*>("ForwardMatrix1")},
    {kForwardMatrix2, -1, -1, TIFF_SRATIONAL, FIELD_CUSTOM, 1, 1, const_cast<char*>("ForwardMatrix2")},
    {kOpcodeList1, -3, -3, TIFF_UNDEFINED, FIELD_CUSTOM, 1, 1, const_cast<char*>("OpcodeList1")},
    {kOpcodeList2, -3, -3, TIFF_UNDEFINED, FIELD_CUSTOM, 1, 1, const_cast<char*>("OpcodeList2")},
    {kOpcodeList3, -3, -3, TIFF_UNDEFINED, FIELD_CUSTOM, 1, 1, const_cast<char*>("OpcodeList3")},
    {kNoiseProfile, -1, -1, TIFF_DOUBLE, FIELD_CUSTOM, 1, 1, const_cast<char*>("NoiseProfile")},
    {kExposureTime, -1, -1, TIFF_RATIONAL, FIELD_CUSTOM, 1, 1, const_cast<char*>("ExposureTime")},
    {kFNumber, -1, -1, TIFF_RATIONAL, FIELD_CUSTOM, 1, 1, const_cast<char*>("FNumber")},
    {kIsoSpeed, -1, -1, TIFF_SHORT, FIELD_CUSTOM, 1, 1, const_cast<char*>("ISOSpeedRatings")},
};

TIFFExtendProc previous_extender = nullptr;

void add_dng_fields(TIFF* tif) {
    TIFF_LAZY(TIFFMergeFieldInfo)(tif, kExtraFields, sizeof kExtraFields / sizeof kExtraFields[0]);
    if (previous_extender) previous_extender(tif);
}

void register_dng_fields() {
    static std::once_flag once;
    std::call_once(once, [] { previous_extender = TIFF_LAZY(TIFFSetTagExtender)(add_dng_fields); });
}

struct TiffCloser {
    void operator()(TIFF* t) const { TIFF_LAZY(TIFFClose)(t); }
};

std::vector<float> floats(const std::array<double, 9>& m) { return {m.begin(), m.end()}; }

// The opcode lists for this frame. Lists written for another frame (before
// a remosaic or binning: RawImage::opcode_frame) keep every opcode but their
// GainMaps, which picked pixels of that frame; the shading they describe
// goes into list 2 as one GainMap per site of this Bayer frame, as the
// develop resamples it (plan_lens_correction). A plan that cannot be made
// (a required opcode we lack), or damaged lists, leave them out.
std::array<std::vector<uint8_t>, 3> opcode_lists_for(const RawImage& raw) {
    std::array<std::vector<uint8_t>, 3> lists = {raw.opcodes[0], raw.opcodes[1], raw.opcodes[2]};
    if (raw.opcode_frame.width == 0) return lists;
    std::vector<std::vector<uint8_t>> kept[2];
    bool had_maps = false;
    try {
        for (int i = 0; i < 2; ++i)
            for (const Opcode& op : parse_opcode_list(raw.opcodes[i], raw.source)) {
                if (std::holds_alternative<GainMap>(op.params)) had_maps = true;
                else kept[i].push_back(op.record);
            }
    } catch (const Error&) {
        lists[0].clear(), lists[1].clear();  // damaged lists: not written
        return lists;
    }
    if (had_maps) {
        try {
            const LensCorrection plan = plan_lens_correction(raw);
            for (int site = 0; plan.grid_w > 0 && site < 4; ++site) {
                GainMap g;
                g.top = uint32_t(site >> 1), g.left = uint32_t(site & 1);
                g.bottom = uint32_t(raw.height), g.right = uint32_t(raw.width);
                g.plane = 0, g.planes = 1, g.row_pitch = 2, g.col_pitch = 2;
                g.points_v = uint32_t(plan.grid_h), g.points_h = uint32_t(plan.grid_w);
                g.spacing_v = 1.0 / (plan.grid_h - 1), g.spacing_h = 1.0 / (plan.grid_w - 1);
                g.origin_v = g.origin_h = 0;
                g.map_planes = 1;
                g.gains = plan.site_gains[site];
                kept[1].push_back(gain_map_record(g, false));
            }
        } catch (const Error&) {
        }
    }
    for (int i = 0; i < 2; ++i) lists[size_t(i)] = kept[i].empty() ? std::vector<uint8_t>{} : opcode_list(kept[i]);
    return lists;
}

void write_tags(TIFF* t, const RawImage& raw) {
    TIFF_LAZY(TIFFSetField)(t, TIFFTAG_SUBFILETYPE, 0);
    TIFF_LAZY(TIFFSetField)(t, TIFFTAG_IMAGEWIDTH, uint32_t(raw.width));
    TIFF_LAZY(TIFFSetField)(t, TIFFTAG_IMAGELENGTH, uint32_t(raw.height));
    TIFF_LAZY(TIFFSetField)(t, TIFFTAG_BITSPERSAMPLE, 16);
    TIFF_LAZY(TIFFSetField)(t, TIFFTAG_SAMPLESPERPIXEL, 1);
    TIFF_LAZY(TIFFSetField)(t, TIFFTAG_COMPRESSION, COMPRESSION_NONE);
    TIFF_LAZY(TIFFSetField)(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_CFA);
    TIFF_LAZY(TIFFSetField)(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFF_LAZY(TIFFSetField)(t, TIFFTAG_ORIENTATION, uint16_t(raw.shot.orientation >= 1 && raw.shot.orientation <= 8 ? raw.shot.orientation : 1));
    // About 1 MB strips, never more rows than the image (rawspeed refuses that).
    TIFF_LAZY(TIFFSetField)(t, TIFFTAG_ROWSPERSTRIP, uint32_t(std::clamp((1 << 20) / std::max(1, raw.width * 2), 1, raw.height)));
    TIFF_LAZY(TIFFSetField)(t, TIFFTAG_SOFTWARE, raw.shot.software.empty() ? "obscura" : raw.shot.software.c_str());
    const std::string make = raw.shot.make.empty() ? "obscura" : raw.shot.make;
    const std::string model = raw.shot.model.empty() ? "unknown" : raw.shot.model;
    TIFF_LAZY(TIFFSetField)(t, TIFFTAG_MAKE, make.c_str());
    TIFF_LAZY(TIFFSetField)(t, TIFFTAG_MODEL, model.c_str());
    std::string unique = make + " " + model;
    TIFF_LAZY(TIFFSetField)(t, TIFFTAG_UNIQUECAMERAMODEL, unique.c_str());
    if (!raw.shot.datetime.empty()) TIFF_LAZY(TIFFSetField)(t, TIFFTAG_DATETIME, raw.shot.datetime.c_str());
    if (raw.shot.exposure_s) {
        const float v = float(*raw.shot.exposure_s);
        TIFF_LAZY(TIFFSetField)(t, kExposureTime, uint32_t(1), &v);
    }
    if (raw.shot.f_number) {
        const float v = float(*raw.shot.f_number);
        TIFF_LAZY(TIFFSetField)(t, kFNumber, uint32_t(1), &v);
    }
    if (raw.shot.iso && *raw.shot.iso >= 1 && *raw.shot.iso <= 65535) {
        const uint16_t v = uint16_t(std::lround(*raw.shot.iso));
        TIFF_LAZY(TIFFSetField)(t, kIsoSpeed, uint32_t(1), &v);
    }

    const uint8_t version[4] = {1, 4, 0, 0}, backward[4] = {1, 3, 0, 0};
    TIFF_LAZY(TIFFSetField)(t, TIFFTAG_DNGVERSION, version);
    TIFF_LAZY(TIFFSetField)(t, TIFFTAG_DNGBACKWARDVERSION, backward);

    const uint16_t repeat[2] = {uint16_t(raw.cfa.height), uint16_t(raw.cfa.width)};
    TIFF_LAZY(TIFFSetField)(t, TIFFTAG_CFAREPEATPATTERNDIM, repeat);
    TIFF_LAZY(TIFFSetField)(t, TIFFTAG_CFAPATTERN, uint16_t(raw.cfa.colors.size()), raw.cfa.colors.data());
    const uint8_t plane_colors[3] = {0, 1, 2};
    TIFF_LAZY(TIFFSetField)(t, TIFFTAG_CFAPLANECOLOR, 3, plane_colors);
    TIFF_LAZY(TIFFSetField)(t, TIFFTAG_CFALAYOUT, 1);

    const uint16_t black_repeat[2] = {uint16_t(raw.black.repeat_height), uint16_t(raw.black.repeat_width)};
    TIFF_LAZY(TIFFSetField)(t, TIFFTAG_BLACKLEVELREPEATDIM, black_repeat);
    std::vector<float> black(raw.black.pattern.begin(), raw.black.pattern.end());
    TIFF_LAZY(TIFFSetField)(t, TIFFTAG_BLACKLEVEL, uint32_t(black.size()), black.data());
    if (!raw.black.delta_h.empty()) {
        std::vector<float> d(raw.black.delta_h.begin(), raw.black.delta_h.end());
        TIFF_LAZY(TIFFSetField)(t, TIFFTAG_BLACKLEVELDELTAH, uint32_t(d.size()), d.data());
    }
    if (!raw.black.delta_v.empty()) {
        std::vector<float> d(raw.black.delta_v.begin(), raw.black.delta_v.end());
        TIFF_LAZY(TIFFSetField)(t, TIFFTAG_BLACKLEVELDELTAV, uint32_t(d.size()), d.data());
    }
    uint32_t white = uint32_t(std::clamp(raw.white_level, 1.0, 65535.0) + 0.5);
    TIFF_LAZY(TIFFSetField)(t, TIFFTAG_WHITELEVEL, 1, &white);
    const float crop_origin[2] = {float(raw.crop.x), float(raw.crop.y)};
    const float crop_size[2] = {float(raw.crop.width), float(raw.crop.height)};
    TIFF_LAZY(TIFFSetField)(t, TIFFTAG_DEFAULTCROPORIGIN, crop_origin);
    TIFF_LAZY(TIFFSetField)(t, TIFFTAG_DEFAULTCROPSIZE, crop_size);

    const CameraColor& c = raw.color;
    const ttag_t matrix_tags[2] = {TIFFTAG_COLORMATRIX1, TIFFTAG_COLORMATRIX2};
    const ttag_t forward_tags[2] = {kForwardMatrix1, kForwardMatrix2};
    const ttag_t calibration_tags[2] = {TIFFTAG_CAMERACALIBRATION1, TIFFTAG_CAMERACALIBRATION2};
    const ttag_t illuminant_tags[2] = {TIFFTAG_CALIBRATIONILLUMINANT1, TIFFTAG_CALIBRATIONILLUMINANT2};
    for (int i = 0; i < 2; ++i) {
        if (!c.color_matrix[i]) continue;
        auto m = floats(*c.color_matrix[i]);
        TIFF_LAZY(TIFFSetField)(t, matrix_tags[i], uint32_t(9), m.data());
        TIFF_LAZY(TIFFSetField)(t, illuminant_tags[i], uint16_t(c.illuminant[i]));
        if (c.forward_matrix[i]) {
            auto f = floats(*c.forward_matrix[i]);
            TIFF_LAZY(TIFFSetField)(t, forward_tags[i], uint32_t(9), f.data());
        }
        if (c.camera_calibration[i]) {
            auto k = floats(*c.camera_calibration[i]);
            TIFF_LAZY(TIFFSetField)(t, calibration_tags[i], uint32_t(9), k.data());
        }
    }
    if (c.analog_balance) {
        const float ab[3] = {float((*c.analog_balance)[0]), float((*c.analog_balance)[1]), float((*c.analog_balance)[2])};
        TIFF_LAZY(TIFFSetField)(t, TIFFTAG_ANALOGBALANCE, uint32_t(3), ab);
    }
    if (c.as_shot_neutral) {
        const float n[3] = {float((*c.as_shot_neutral)[0]), float((*c.as_shot_neutral)[1]), float((*c.as_shot_neutral)[2])};
        TIFF_LAZY(TIFFSetField)(t, TIFFTAG_ASSHOTNEUTRAL, uint32_t(3), n);
    } else if (c.as_shot_white_xy) {
        const float xy[2] = {float((*c.as_shot_white_xy)[0]), float((*c.as_shot_white_xy)[1])};
        TIFF_LAZY(TIFFSetField)(t, TIFFTAG_ASSHOTWHITEXY, xy);
    }
    if (c.baseline_exposure != 0) TIFF_LAZY(TIFFSetField)(t, TIFFTAG_BASELINEEXPOSURE, c.baseline_exposure);

    if (!raw.noise.planes.empty()) {
        std::vector<double> n;
        for (const auto& p : raw.noise.planes) n.insert(n.end(), {p[0], p[1]});
        TIFF_LAZY(TIFFSetField)(t, kNoiseProfile, uint32_t(n.size()), n.data());
    }
    // A merged burst's noise map, in the DNG's private data (no tag of the
    // standard holds it; other readers pass over it).
    if (const auto map = noise_map_private_data(raw.noise); !map.empty())
        TIFF_LAZY(TIFFSetField)(t, TIFFTAG_DNGPRIVATEDATA, uint16_t(map.size()), map.data());
    const ttag_t opcode_tags[3] = {kOpcodeList1, kOpcodeList2, kOpcodeList3};
    const auto lists = opcode_lists_for(raw);
    for (int i = 0; i < 3; ++i)
        if (!lists[size_t(i)].empty())
            TIFF_LAZY(TIFFSetField)(t, opcode_tags[i], uint32_t(lists[size_t(i)].size()), lists[size_t(i)].data());
}

}  // namespace

void write_dng(const RawImage& raw, const std::string& path, const DngWriteOptions& options) {
    if (raw.is_linear()) throw file_error(path, "writing LinearRaw DNGs is not supported (CFA frames only)");
    if (raw.width <= 0 || raw.height <= 0 || raw.data.size() != size_t(raw.width) * raw.height)
        throw file_error(path, "nothing to write (empty raw image)");
    if (!options.overwrite && std::filesystem::exists(path)) throw file_error(path, "exists (use --overwrite to replace it)");
    register_dng_fields();
    std::string temp = create_temporary_beside(path);
    bool ok = false;
    {
        TIFF_LAZY(TIFFSetWarningHandler)(nullptr);
        std::unique_ptr<TIFF, TiffCloser> tif(TIFF_LAZY(TIFFOpen)(temp.c_str(), "w"));
        if (tif) {
            write_tags(tif.get(), raw);
            ok = true;
            const auto write_scanline = TIFF_LAZY(TIFFWriteScanline);  // (looked up once, not per row)
            for (int y = 0; y < raw.height && ok; ++y)
                ok = write_scanline(tif.get(), const_cast<uint16_t*>(&raw.data[size_t(y) * raw.width]), uint32_t(y), 0) == 1;
            ok = ok && TIFF_LAZY(TIFFWriteDirectory)(tif.get()) == 1;
        }
    }
    if (!ok) {
        std::remove(temp.c_str());
        throw file_error(path, "cannot write DNG (disk full or not writable?)");
    }
    try {
        move_into_place(temp, path);
    } catch (const Error&) {
        std::remove(temp.c_str());
        throw;
    }
}

}  // namespace obscura
