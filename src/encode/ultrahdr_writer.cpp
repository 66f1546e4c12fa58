// Ultra HDR (Android's gain-map JPEG, the Adobe gain map in a JPEG): the
// photograph as an ordinary JPEG, which every viewer shows, plus a gain map
// that an HDR display applies to it to show the scene's highlights as bright
// as they were, up to its headroom.
//
// Layout (Ultra HDR image format v1): the primary JPEG (our JPEG writer:
// EXIF, ICC) with two segments inserted after its leading APP0/APP1: an XMP
// packet (hdrgm:Version and a GContainer directory naming the primary and
// the gain map with its length) and a Multi-Picture Format index (CIPA
// DC-007: the two images' sizes and offsets); then the gain map JPEG, a
// colour (RGB) image of the photo's size with its own XMP carrying the hdrgm
// metadata (min/max log2 gain, gamma 1, offsets, HDR capacity).
//
// The gain: per pixel and channel, (hdr + k) / (sdr + k), k = 1/64, with sdr
// the photograph as a viewer decodes it (8 bits, the JPEG's losses) and hdr
// the HDR rendition: the scene-linear light (1.0 = the reference white,
// shown at the photograph's white) where it is brighter than the
// photograph, else the photograph at full precision -- the look kept, the
// highlights given back. (A map at half size lost 1.2 dB PSNR-mu on
// libultrahdr's rebuild of kodim05's bracket: highlight edges.)
#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

#include <jpeglib.h>  // needs size_t and FILE first

#include "core/jpeg_error.h"
#include "obscura/encode.h"
#include "obscura/error.h"
#include "obscura/look.h"
#include "writers.h"

namespace obscura {
namespace {

constexpr int kMapScale = 1;            // photo pixels per gain map pixel, each way
constexpr double kOffset = 1.0 / 64.0;  // OffsetSDR = OffsetHDR
constexpr int kMapQuality = 90;

// The gain map as a JPEG in memory (RGB, 4:4:4), with an XMP packet in APP1.
std::vector<uint8_t> map_jpeg(const std::vector<uint8_t>& pixels, int width, int height, const std::string& xmp,
                              const std::string& path) {
    jpeg_compress_struct cinfo{};
    LibjpegErrors err{};
    cinfo.err = err.manager();
    unsigned char* buffer = nullptr;
    unsigned long size = 0;
    if (setjmp(err.jump)) {
        jpeg_destroy_compress(&cinfo);
        std::free(buffer);
        throw file_error(path, std::string("gain map JPEG: ") + err.message);
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, &buffer, &size);
    cinfo.image_width = JDIMENSION(width), cinfo.image_height = JDIMENSION(height);
    cinfo.input_components = 3, cinfo.in_color_space = JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, kMapQuality, TRUE);
    for (int c = 0; c < 3; ++c) cinfo.comp_info[c].h_samp_factor = cinfo.comp_info[c].v_samp_factor = 1;
    jpeg_start_compress(&cinfo, TRUE);
    jpeg_write_marker(&cinfo, JPEG_APP0 + 1, reinterpret_cast<const JOCTET*>(xmp.data()), unsigned(xmp.size()));
    for (int y = 0; y < height; ++y) {
        JSAMPROW row = const_cast<JSAMPROW>(&pixels[size_t(y) * width * 3]);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    std::vector<uint8_t> out(buffer, buffer + size);
    std::free(buffer);
    return out;
}

// A JPEG in memory decoded to 8-bit RGB (libjpeg-turbo).
std::vector<uint8_t> decode_rgb(const std::vector<uint8_t>& jpeg, const std::string& path) {
    jpeg_decompress_struct cinfo{};
    LibjpegErrors err{};
    cinfo.err = err.manager();
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&cinfo);
        throw file_error(path, std::string("reading the photograph back: ") + err.message);
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, jpeg.data(), (unsigned long)jpeg.size());
    jpeg_read_header(&cinfo, TRUE);
    cinfo.out_color_space = JCS_RGB;
    jpeg_start_decompress(&cinfo);
    std::vector<uint8_t> out(size_t(cinfo.output_width) * cinfo.output_height * 3);
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = &out[size_t(cinfo.output_scanline) * cinfo.output_width * 3];
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    return out;
}

std::string number(double v) {
    std::ostringstream s;
    s.precision(6);
    s << v;
    return s.str();
}

constexpr char kXmpHeader[] = "http://ns.adobe.com/xap/1.0/";  // with its NUL, the APP1 XMP signature

std::string xmp_packet(const std::string& description_attributes, const std::string& body) {
    std::string xmp(kXmpHeader, sizeof kXmpHeader);
    xmp += "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\" x:xmptk=\"obscura\">"
           "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">"
           "<rdf:Description rdf:about=\"\" " +
           description_attributes + ">" + body + "</rdf:Description></rdf:RDF></x:xmpmeta>";
    return xmp;
}

void put16(std::vector<uint8_t>& v, uint32_t x) { v.push_back(uint8_t(x >> 8)), v.push_back(uint8_t(x)); }
void put32(std::vector<uint8_t>& v, uint32_t x) { put16(v, x >> 16), put16(v, x & 0xffff); }
void set32(std::vector<uint8_t>& v, size_t at, uint32_t x) {
    for (int i = 0; i < 4; ++i) v[at + size_t(i)] = uint8_t(x >> (24 - 8 * i));
}

// A JPEG marker segment: FF nn, length, payload.
std::vector<uint8_t> segment(uint8_t marker, const std::vector<uint8_t>& payload) {
    std::vector<uint8_t> s = {0xff, marker};
    put16(s, uint32_t(payload.size() + 2));
    s.insert(s.end(), payload.begin(), payload.end());
    return s;
}

// The MPF index's payload (big-endian TIFF): version, two images, and
// their entries, sizes and offsets to be patched (see kMpfPrimarySize...).
std::vector<uint8_t> mpf_payload() {
    std::vector<uint8_t> p = {'M', 'P', 'F', 0, 'M', 'M', 0, 0x2a};
    put32(p, 8);   // first IFD, from the TIFF header
    put16(p, 3);   // entries
    put16(p, 0xb000), put16(p, 7), put32(p, 4), p.insert(p.end(), {'0', '1', '0', '0'});  // MPFVersion
    put16(p, 0xb001), put16(p, 4), put32(p, 1), put32(p, 2);                            // NumberOfImages
    put16(p, 0xb002), put16(p, 7), put32(p, 32), put32(p, 8 + 2 + 3 * 12 + 4);          // MPEntry, at 50
    put32(p, 0);   // no next IFD
    put32(p, 0x030000), put32(p, 0), put32(p, 0), put16(p, 0), put16(p, 0);  // primary: baseline MP primary
    put32(p, 0), put32(p, 0), put32(p, 0), put16(p, 0), put16(p, 0);         // gain map
    return p;
}
constexpr size_t kMpfTiff = 4;                       // where the TIFF header starts in the payload
constexpr size_t kMpfPrimarySize = 4 + 50 + 4;       // entry 1's size field
constexpr size_t kMpfMapSize = 4 + 50 + 16 + 4;      // entry 2's size field
constexpr size_t kMpfMapOffset = 4 + 50 + 16 + 8;    // entry 2's offset field

}  // namespace

void encode_ultrahdr(const Image& sdr, const Image& hdr, const std::string& path, const OutputMetadata& metadata,
                     const EncodeOptions& options) {
    if (format_for_path(path) != Format::Jpeg)
        throw file_error(path, "Ultra HDR is a JPEG: give the output a .jpg name");
    if (sdr.width != hdr.width || sdr.height != hdr.height || !(hdr.scene_peak > 0) || sdr.scene_peak > 0)
        throw Error(path + ": Ultra HDR needs the photograph and its scene-linear rendition, of one size");
    if (!options.overwrite && std::ifstream(path).good()) throw file_error(path, "exists (use --overwrite to replace it)");

    // The photograph through our JPEG writer (EXIF, ICC), into the
    // temporary file, then read back to be extended.
    const std::string temp = create_temporary_beside(path);
    try {
        WriterSetup setup{temp, sdr.width, sdr.height, output_exif(metadata, sdr.width, sdr.height),
                          icc_profile(sdr.color_space)};
        {
            auto writer = jpeg_writer(setup, options.jpeg_quality);
            writer->write_rows(sdr.pixels.data(), size_t(sdr.width) * 3, 0, sdr.height);
            writer->finish();
        }
        std::ifstream in(temp, std::ios::binary);
        std::vector<uint8_t> primary((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        in.close();
        // The gain map, against the photograph as a viewer decodes it (8 bits,
        // the JPEG's own losses): per block and channel the log2 gain from it
        // to the HDR rendition -- the scene where it is brighter than the
        // photograph, else the photograph at full precision -- over [min, max].
        // (Per channel, not by luminance: where the photograph clips to white
        // the scene still has colour. Below 1 too: the 8-bit photograph's
        // shadows are coarse, and the map gives their precision back.)
        const std::vector<uint8_t> base = decode_rgb(primary, path);
        const int mw = (sdr.width + kMapScale - 1) / kMapScale, mh = (sdr.height + kMapScale - 1) / kMapScale;
        std::vector<float> boost(size_t(mw) * mh * 3);
        const std::vector<float> decode = scene_light_table(1.0);
        std::vector<double> decode8(256);
        for (int c = 0; c < 256; ++c) decode8[size_t(c)] = srgb_decode(c / 255.0);
        double top = 0, bottom = 0;
        for (int my = 0; my < mh; ++my)
            for (int mx = 0; mx < mw; ++mx)
                for (int c = 0; c < 3; ++c) {
                    double ys = 0, yh = 0;
                    int n = 0;
                    for (int y = my * kMapScale; y < std::min(sdr.height, (my + 1) * kMapScale); ++y)
                        for (int x = mx * kMapScale; x < std::min(sdr.width, (mx + 1) * kMapScale); ++x, ++n) {
                            ys += decode8[base[(size_t(y) * sdr.width + x) * 3 + size_t(c)]];
                            yh += std::max(hdr.scene_peak * decode[hdr.at(x, y, c)], double(decode[sdr.at(x, y, c)]));
                        }
                    const double gain = std::log2((yh / n + kOffset) / (ys / n + kOffset));
                    boost[(size_t(my) * mw + mx) * 3 + size_t(c)] = float(gain);
                    top = std::max(top, gain), bottom = std::min(bottom, gain);
                }
        // (At least a small range, so the metadata stays valid for a flat scene.)
        const double max_log2 = std::max(top, 0.01), min_log2 = bottom;
        std::vector<uint8_t> map(boost.size());
        for (size_t i = 0; i < boost.size(); ++i)
            map[i] = uint8_t(std::lround(std::clamp((boost[i] - min_log2) / (max_log2 - min_log2), 0.0, 1.0) * 255));
        const std::string gm = "xmlns:hdrgm=\"http://ns.adobe.com/hdr-gain-map/1.0/\" hdrgm:Version=\"1.0\" hdrgm:GainMapMin=\"" +
                               number(min_log2) + "\" hdrgm:GainMapMax=\"" + number(max_log2) + "\" hdrgm:Gamma=\"1\" hdrgm:OffsetSDR=\"" +
                               number(kOffset) + "\" hdrgm:OffsetHDR=\"" + number(kOffset) +
                               "\" hdrgm:HDRCapacityMin=\"0\" hdrgm:HDRCapacityMax=\"" + number(max_log2) +
                               "\" hdrgm:BaseRenditionIsHDR=\"False\"";
        const std::vector<uint8_t> gain_jpeg = map_jpeg(map, mw, mh, xmp_packet(gm, ""), path);
        // After SOI and the leading APP0 (JFIF) / APP1 (EXIF) segments.
        size_t at = 2;
        while (at + 4 <= primary.size() && primary[at] == 0xff && (primary[at + 1] == 0xe0 || primary[at + 1] == 0xe1))
            at += 2 + (size_t(primary[at + 2]) << 8 | primary[at + 3]);
        const std::string dir =
            "<Container:Directory><rdf:Seq>"
            "<rdf:li rdf:parseType=\"Resource\"><Container:Item Item:Semantic=\"Primary\" Item:Mime=\"image/jpeg\"/></rdf:li>"
            "<rdf:li rdf:parseType=\"Resource\"><Container:Item Item:Semantic=\"GainMap\" Item:Mime=\"image/jpeg\" Item:Length=\"" +
            std::to_string(gain_jpeg.size()) + "\"/></rdf:li></rdf:Seq></Container:Directory>";
        const std::string xmp = xmp_packet(
            "xmlns:Container=\"http://ns.google.com/photos/1.0/container/\" "
            "xmlns:Item=\"http://ns.google.com/photos/1.0/container/item/\" "
            "xmlns:hdrgm=\"http://ns.adobe.com/hdr-gain-map/1.0/\" hdrgm:Version=\"1.0\"",
            dir);
        std::vector<uint8_t> xmp_seg = segment(0xe1, std::vector<uint8_t>(xmp.begin(), xmp.end()));
        std::vector<uint8_t> mpf_seg = segment(0xe2, mpf_payload());
        if (xmp_seg.size() > 65535 + 2) throw file_error(path, "Ultra HDR metadata too large");
        const size_t mpf_at = at + xmp_seg.size() + 4;  // the payload, past FF E2 and the length
        primary.insert(primary.begin() + long(at), mpf_seg.begin(), mpf_seg.end());
        primary.insert(primary.begin() + long(at), xmp_seg.begin(), xmp_seg.end());
        const size_t tiff = mpf_at + kMpfTiff;
        set32(primary, mpf_at + kMpfPrimarySize, uint32_t(primary.size()));
        set32(primary, mpf_at + kMpfMapSize, uint32_t(gain_jpeg.size()));
        set32(primary, mpf_at + kMpfMapOffset, uint32_t(primary.size() - tiff));

        std::ofstream out(temp, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(primary.data()), std::streamsize(primary.size()));
        out.write(reinterpret_cast<const char*>(gain_jpeg.data()), std::streamsize(gain_jpeg.size()));
        out.close();
        if (!out) throw file_error(path, "cannot write the output");
        move_into_place(temp, path);
    } catch (...) {
        std::remove(temp.c_str());
        throw;
    }
}

}  // namespace obscura
