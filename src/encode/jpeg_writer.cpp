// JPEG through libjpeg-turbo: 4:4:4 at quality >= 90, EXIF in APP1, ICC in
// APP2 — encoded in bands on every core. One encoder leaves a core idle (it
// was the slowest step of a develop), so the rows are cut into bands of 256
// (whole MCU rows), each band is encoded as a JPEG of its own with a restart
// marker after every MCU row and the standard tables, and the bands' scans
// are joined into one: the first band's header (its height patched to the
// photo's), then every band's entropy-coded data with the restart markers
// renumbered in sequence and one more between bands. Decoders see a single
// baseline JPEG with a restart interval of one MCU row.
#include <algorithm>
#include <cerrno>
#include <csetjmp>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <deque>
#include <future>
#include <thread>

#include <jpeglib.h>  // needs size_t and FILE first

#include "core/jpeg_error.h"
#include "obscura/frame_memory.h"
#include "obscura/error.h"
#include "writers.h"

namespace obscura {
namespace {

constexpr int kBandRows = 256;  // a multiple of every MCU height (8 or 16)

// (Grown row by row and overwritten at once: not zeroed first.)
using Pixels8 = std::vector<uint8_t, UninitialisedAllocator<uint8_t>>;

struct Band {
    Pixels8 bytes;               // a whole JPEG of the band
    Pixels8 rgb;                 // its 8-bit pixels (handed back for reuse)
    std::string error;           // the encoder's message when it failed
};

// libjpeg's destination: a vector the writer hands from band to band (fresh
// memory costs a page fault per 4 KB here: a 200 MP JPEG took ~65,000 of
// them with libjpeg's own growing buffer), grown when a band needs more.
// Its first size is what a band of 8-bit RGB takes raw (more than any band
// at our qualities compresses to), so it is seldom grown and copied; the
// memory is not zeroed first.
struct VectorDestination {
    jpeg_destination_mgr base;
    Pixels8* out;
    size_t first_size;
};

void destination_start(j_compress_ptr cinfo) {
    auto* d = reinterpret_cast<VectorDestination*>(cinfo->dest);
    d->out->resize(std::max({d->out->capacity(), d->first_size, size_t(1) << 16}));
    d->base.next_output_byte = d->out->data();
    d->base.free_in_buffer = d->out->size();
}

boolean destination_full(j_compress_ptr cinfo) {  // called when all of it is used
    auto* d = reinterpret_cast<VectorDestination*>(cinfo->dest);
    const size_t used = d->out->size();
    d->out->resize(used * 2);
    d->base.next_output_byte = d->out->data() + used;
    d->base.free_in_buffer = d->out->size() - used;
    return TRUE;
}

void destination_end(j_compress_ptr cinfo) {
    auto* d = reinterpret_cast<VectorDestination*>(cinfo->dest);
    d->out->resize(d->out->size() - d->base.free_in_buffer);
}

// One band as a complete JPEG in memory. Only the first band carries the
// EXIF and ICC markers (its header becomes the file's).
Band encode_band(Band band, int width, int rows, int quality, const std::vector<uint8_t>* exif,
                 const std::vector<uint8_t>* icc) {
    jpeg_compress_struct cinfo{};
    LibjpegErrors err{};
    cinfo.err = err.manager();
    jpeg_create_compress(&cinfo);
    if (setjmp(err.jump)) {
        band.error = err.message;
        jpeg_destroy_compress(&cinfo);
        return band;
    }
    VectorDestination destination{{}, &band.bytes, size_t(width) * size_t(rows) * 3};
    destination.base.init_destination = destination_start;
    destination.base.empty_output_buffer = destination_full;
    destination.base.term_destination = destination_end;
    cinfo.dest = &destination.base;
    cinfo.image_width = JDIMENSION(width);
    cinfo.image_height = JDIMENSION(rows);
    cinfo.input_components = 3;
    cinfo.in_color_space = JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    cinfo.dct_method = JDCT_ISLOW;
    cinfo.optimize_coding = FALSE;  // the standard Huffman tables: the same in every band
    cinfo.restart_in_rows = 1;
    if (quality >= 90) {  // no chroma subsampling for high-quality photos
        for (int i = 0; i < 3; ++i) cinfo.comp_info[i].h_samp_factor = cinfo.comp_info[i].v_samp_factor = 1;
    }
    jpeg_start_compress(&cinfo, TRUE);
    if (exif && !exif->empty() && exif->size() + 6 < 65533) {
        std::vector<uint8_t> app1 = {'E', 'x', 'i', 'f', 0, 0};
        app1.insert(app1.end(), exif->begin(), exif->end());
        jpeg_write_marker(&cinfo, JPEG_APP0 + 1, app1.data(), unsigned(app1.size()));
    }
    if (icc && !icc->empty()) jpeg_write_icc_profile(&cinfo, icc->data(), unsigned(icc->size()));
    const size_t stride = size_t(width) * 3;
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW p[1] = {band.rgb.data() + cinfo.next_scanline * stride};
        jpeg_write_scanlines(&cinfo, p, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    return band;
}

// Where a JPEG's entropy-coded data starts (after the SOS segment), and the
// offset of the SOF's height field; 0 when the stream is not as expected.
struct Layout {
    size_t data = 0, sof_height = 0;
};

Layout layout_of(const Pixels8& j) {
    Layout l;
    size_t i = 2;  // after SOI
    while (i + 4 <= j.size() && j[i] == 0xFF) {
        const uint8_t marker = j[i + 1];
        const size_t length = (size_t(j[i + 2]) << 8) | j[i + 3];
        if (marker == 0xC0 || marker == 0xC1) l.sof_height = i + 5;
        if (marker == 0xDA) {
            l.data = i + 2 + length;
            return l;
        }
        i += 2 + length;
    }
    return {};
}

class JpegWriter : public FormatWriter {
public:
    JpegWriter(const WriterSetup& s, int quality)
        : path_(s.path), width_(s.width), height_(s.height), quality_(quality), exif_(s.exif), icc_(s.icc),
          in_flight_(std::max(2u, std::thread::hardware_concurrency()) * 2) {
        file_ = std::fopen(path_.c_str(), "wb");
        if (!file_) throw file_error(path_, std::string("cannot write: ") + std::strerror(errno));
        band_.reserve(size_t(width_) * 3 * kBandRows);
    }
    ~JpegWriter() override {
        for (auto& p : pending_) p.wait();
        if (file_) std::fclose(file_);
    }

    void write_rows(const uint16_t* rows, size_t stride, int, int count) override {
        for (int r = 0; r < count; ++r) {
            const size_t at = band_.size();
            band_.resize(at + size_t(width_) * 3);
            to_8bit(rows + size_t(r) * stride, band_.data() + at, size_t(width_) * 3);
            if (++band_rows_ == kBandRows) submit();
        }
    }

    void finish() override {
        if (band_rows_ > 0) submit();
        while (!pending_.empty()) write_next();
        const uint8_t eoi[2] = {0xFF, 0xD9};
        put(eoi, 2);
        FILE* f = file_;
        file_ = nullptr;
        if (std::fclose(f) != 0) throw file_error(path_, std::string("cannot finish writing: ") + std::strerror(errno));
    }

private:
    void submit() {
        const bool first = bands_submitted_++ == 0;
        Band band = spare_.empty() ? Band{} : std::move(spare_.back());
        if (!spare_.empty()) spare_.pop_back();
        std::swap(band.rgb, band_);
        pending_.push_back(std::async(std::launch::async, encode_band, std::move(band), width_, band_rows_, quality_,
                                      first ? &exif_ : nullptr, first ? &icc_ : nullptr));
        band_.clear();
        band_.reserve(size_t(width_) * 3 * kBandRows);
        band_rows_ = 0;
        while (pending_.size() >= in_flight_) write_next();
    }

    // The oldest band's scan, joined onto the file.
    void write_next() {
        Band band = pending_.front().get();
        pending_.pop_front();
        if (!band.error.empty()) throw file_error(path_, "JPEG encoder: " + band.error);
        Pixels8& j = band.bytes;
        Layout l = layout_of(j);
        if (!l.data || !l.sof_height || j.size() < l.data + 2 || j[j.size() - 2] != 0xFF || j[j.size() - 1] != 0xD9)
            throw file_error(path_, "JPEG encoder: unexpected band layout");
        if (bands_written_ == 0) {
            j[l.sof_height] = uint8_t(height_ >> 8);
            j[l.sof_height + 1] = uint8_t(height_ & 0xFF);
            put(j.data(), l.data);
        } else {
            const uint8_t rst[2] = {0xFF, uint8_t(0xD0 + restarts_++ % 8)};
            put(rst, 2);
        }
        const size_t end = j.size() - 2;  // without EOI
        for (size_t i = l.data; i + 1 < end; ++i)
            if (j[i] == 0xFF && j[i + 1] >= 0xD0 && j[i + 1] <= 0xD7) j[++i] = uint8_t(0xD0 + restarts_++ % 8);
        put(j.data() + l.data, end - l.data);
        ++bands_written_;
        band.rgb.clear();
        spare_.push_back(std::move(band));  // its buffers serve a later band
    }

    void put(const uint8_t* p, size_t n) {
        if (std::fwrite(p, 1, n, file_) != n) throw file_error(path_, std::string("cannot write: ") + std::strerror(errno));
    }

    std::string path_;
    int width_, height_, quality_;
    std::vector<uint8_t> exif_, icc_;
    size_t in_flight_;
    FILE* file_ = nullptr;
    Pixels8 band_;
    int band_rows_ = 0;
    int bands_submitted_ = 0, bands_written_ = 0;
    unsigned restarts_ = 0;
    std::deque<std::future<Band>> pending_;
    std::vector<Band> spare_;  // written bands, their buffers kept for reuse
};

}  // namespace

std::unique_ptr<FormatWriter> jpeg_writer(const WriterSetup& setup, int quality) {
    return std::make_unique<JpegWriter>(setup, quality);
}

}  // namespace obscura
