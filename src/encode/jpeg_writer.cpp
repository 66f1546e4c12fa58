// JPEG through libjpeg-turbo: 4:4:4 at quality >= 90 (4:2:0 below), EXIF in
// APP1, ICC in APP2 — encoded in parts on every core. One encoder leaves a
// core idle (it was the slowest step of a develop), so the rows are cut into
// parts of whole MCU rows, each part is encoded as a JPEG of its own with a
// restart marker after every MCU row and the standard tables, and the parts'
// scans are joined into one: the first part's header (its height patched to
// the photo's), then every part's entropy-coded data with one more restart
// marker between parts (the numbers continuing: see kMaxPartRows). Decoders
// see a single baseline JPEG with a restart interval of one MCU row.
//
// The parts are encoded straight from the caller's 16-bit rows, a call's
// rows at once, a part per core (the calling thread one of them), and the
// call returns when they are written: nothing is copied but the rows of a
// unit (below) a call leaves incomplete. Each encoder converts an MCU row
// at a time to Y, Cb and Cr planes (libjpeg's raw-data input) small enough
// to stay in its core's cache for the DCT, in one vectorised pass rounded
// once (libjpeg's own colour conversion and edge expansion, from 8-bit RGB
// copied out of the caller's rows, are gone).
#include <algorithm>
#include <cerrno>
#include <csetjmp>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <thread>

#include <jpeglib.h>  // needs size_t and FILE first

#include "core/jpeg_error.h"
#include "core/parallel.h"
#include "obscura/frame_memory.h"
#include "obscura/error.h"
#include "writers.h"

namespace obscura {
namespace {

// A part's own restart markers are numbered RST0, RST1, ... from its start.
// Every part but the photo's last is made of units of eight MCU rows (64
// rows at 4:4:4, 128 at 4:2:0), so with one marker between parts they
// already continue the file's sequence, and the parts are joined without
// renumbering.
constexpr int kMaxPartRows = 512;  // (a part's buffers grow with it)

// (Overwritten at once: not zeroed first.)
using Pixels8 = std::vector<uint8_t, UninitialisedAllocator<uint8_t>>;

// The photo's layout in the encoder's planes: rows of `padded` samples (the
// width rounded up to whole MCUs, the last sample repeated there, as
// libjpeg's raw-data input wants them).
struct Layout {
    int width = 0, padded = 0;
    int subsampling = 1;  // 2: chroma halved both ways (4:2:0), 1: 4:4:4
    int mcu_rows() const { return 8 * subsampling; }
    int unit_rows() const { return 8 * mcu_rows(); }
};

// MCU rows (restart intervals) in a part of `rows` rows.
int intervals(const Layout& g, int rows) { return (rows + g.mcu_rows() - 1) / g.mcu_rows(); }

// What one encoder works with, kept from part to part: the part's JPEG and
// one MCU row of planes (Y, Cb, Cr, each mcu_rows x padded).
struct Slot {
    Pixels8 bytes;
    Pixels8 planes;
    std::string error;  // the encoder's message when it failed
};

// 4:2:0: a plane's 2 x 2 blocks averaged in place into rows of padded / 2,
// with libjpeg's alternating rounding bias; an odd last row pairs with
// itself (as libjpeg pads a photo's last MCU row).
void halve_chroma(uint8_t* plane, const Layout& g, int rows) {
    const int w = g.padded / 2;
    for (int cy = 0; cy < (rows + 1) / 2; ++cy) {
        const uint8_t* a = plane + size_t(2 * cy) * size_t(g.padded);
        const uint8_t* b = plane + size_t(std::min(2 * cy + 1, rows - 1)) * size_t(g.padded);
        uint8_t* out = plane + size_t(cy) * size_t(w);
        for (int cx = 0; cx < w; ++cx)
            out[cx] = uint8_t((a[2 * cx] + a[2 * cx + 1] + b[2 * cx] + b[2 * cx + 1] + 1 + (cx & 1)) >> 2);
    }
}

// libjpeg's destination: a vector the writer hands from part to part (fresh
// memory costs a page fault per 4 KB here: a 200 MP JPEG took ~65,000 of
// them with libjpeg's own growing buffer), grown when a part needs more.
// Its first size is what a part of 8-bit RGB takes raw (more than any part
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

// One part, its rows given as pointers to 16-bit RGB, as a complete JPEG in
// slot.bytes. Only the first part carries the EXIF and ICC markers (its
// header becomes the file's).
void encode_part(Slot& slot, const Layout& g, const uint16_t* const* rgb, int rows, int quality,
                 const std::vector<uint8_t>* exif, const std::vector<uint8_t>* icc) {
    slot.error.clear();
    jpeg_compress_struct cinfo{};
    LibjpegErrors err{};
    cinfo.err = err.manager();
    jpeg_create_compress(&cinfo);
    if (setjmp(err.jump)) {
        slot.error = err.message;
        jpeg_destroy_compress(&cinfo);
        return;
    }
    VectorDestination destination{{}, &slot.bytes, size_t(g.width) * size_t(rows) * 3};
    destination.base.init_destination = destination_start;
    destination.base.empty_output_buffer = destination_full;
    destination.base.term_destination = destination_end;
    cinfo.dest = &destination.base;
    cinfo.image_width = JDIMENSION(g.width);
    cinfo.image_height = JDIMENSION(rows);
    cinfo.input_components = 3;
    cinfo.in_color_space = JCS_YCbCr;
    jpeg_set_defaults(&cinfo);  // (JFIF, YCbCr, 2 x 2 luma for 4:2:0)
    jpeg_set_quality(&cinfo, quality, TRUE);
    cinfo.dct_method = JDCT_ISLOW;
    cinfo.optimize_coding = FALSE;  // the standard Huffman tables: the same in every part
    cinfo.restart_in_rows = 1;
    cinfo.raw_data_in = TRUE;
    if (g.subsampling == 1) {
        for (int i = 0; i < 3; ++i) cinfo.comp_info[i].h_samp_factor = cinfo.comp_info[i].v_samp_factor = 1;
    }
    jpeg_start_compress(&cinfo, TRUE);
    if (exif && !exif->empty() && exif->size() + 6 < 65533) {
        std::vector<uint8_t> app1 = {'E', 'x', 'i', 'f', 0, 0};
        app1.insert(app1.end(), exif->begin(), exif->end());
        jpeg_write_marker(&cinfo, JPEG_APP0 + 1, app1.data(), unsigned(app1.size()));
    }
    if (icc && !icc->empty()) jpeg_write_icc_profile(&cinfo, icc->data(), unsigned(icc->size()));
    const int mcu_rows = g.mcu_rows();
    const size_t plane_size = size_t(mcu_rows) * size_t(g.padded);
    slot.planes.resize(3 * plane_size);
    uint8_t* plane[3] = {slot.planes.data(), slot.planes.data() + plane_size, slot.planes.data() + 2 * plane_size};
    for (int y0 = 0; y0 < rows; y0 += mcu_rows) {
        const int n = std::min(mcu_rows, rows - y0);
        for (int r = 0; r < n; ++r) {
            const size_t at = size_t(r) * size_t(g.padded);
            rgb16_to_ycbcr8(rgb[y0 + r], plane[0] + at, plane[1] + at, plane[2] + at, size_t(g.width));
            for (uint8_t* p : {plane[0] + at, plane[1] + at, plane[2] + at}) std::fill(p + g.width, p + g.padded, p[g.width - 1]);
        }
        if (g.subsampling == 2) {
            halve_chroma(plane[1], g, n);
            halve_chroma(plane[2], g, n);
        }
        // Rows past the part's last (its last MCU row's padding) repeat it,
        // as libjpeg pads scanline input.
        const int chroma_rows = (n + g.subsampling - 1) / g.subsampling, chroma_stride = g.padded / g.subsampling;
        JSAMPROW luma[16], blue[8], red[8];
        for (int r = 0; r < mcu_rows; ++r) luma[r] = plane[0] + size_t(std::min(r, n - 1)) * size_t(g.padded);
        for (int r = 0; r < 8; ++r) {
            const size_t at = size_t(std::min(r, chroma_rows - 1)) * size_t(chroma_stride);
            blue[r] = plane[1] + at;
            red[r] = plane[2] + at;
        }
        JSAMPARRAY components[3] = {luma, blue, red};
        jpeg_write_raw_data(&cinfo, components, JDIMENSION(mcu_rows));
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
}

// Where a JPEG's entropy-coded data starts (after the SOS segment), and the
// offset of the SOF's height field; 0 when the stream is not as expected.
struct Scan {
    size_t data = 0, sof_height = 0;
};

Scan scan_of(const Pixels8& j) {
    Scan l;
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
        : path_(s.path), height_(s.height), quality_(quality), exif_(s.exif), icc_(s.icc),
          slots_(std::max(2u, std::thread::hardware_concurrency())) {
        file_ = std::fopen(path_.c_str(), "wb");
        if (!file_) throw file_error(path_, std::string("cannot write: ") + std::strerror(errno));
        layout_.width = s.width;
        layout_.subsampling = quality >= 90 ? 1 : 2;  // no chroma subsampling for high-quality photos
        layout_.padded = (s.width + layout_.mcu_rows() - 1) / layout_.mcu_rows() * layout_.mcu_rows();
    }
    ~JpegWriter() override {
        if (file_) std::fclose(file_);
    }

    void write_rows(const uint16_t* rows, size_t stride, int y, int count) override {
        const int unit = layout_.unit_rows();
        const bool last = y + count >= height_;
        std::vector<const uint16_t*> ready;  // rows to encode now, in order
        int r = 0;
        // A unit left incomplete by the last call is completed first.
        if (carried_ > 0) {
            r = carry(rows, stride, 0, std::min(count, unit - carried_));
            if (carried_ < unit && !last) return;
            for (int k = 0; k < carried_; ++k) ready.push_back(carry_.data() + size_t(k) * row_values());
        }
        // Whole units straight from the caller's rows, and the photo's last
        // rows however many.
        const int direct = last ? count - r : (count - r) / unit * unit;
        for (int k = 0; k < direct; ++k) ready.push_back(rows + size_t(r + k) * stride);
        r += direct;
        encode(ready);
        // The rest waits for the next call.
        carried_ = 0;
        carry(rows, stride, r, count);
    }

    void finish() override {
        if (carried_ > 0) throw file_error(path_, "JPEG writer: rows missing at the end");
        const uint8_t eoi[2] = {0xFF, 0xD9};
        put(eoi, 2);
        FILE* f = file_;
        file_ = nullptr;
        if (std::fclose(f) != 0) throw file_error(path_, std::string("cannot finish writing: ") + std::strerror(errno));
    }

private:
    size_t row_values() const { return size_t(layout_.width) * 3; }

    // Rows [from, to) of a call appended to the carried unit; returns `to`.
    int carry(const uint16_t* rows, size_t stride, int from, int to) {
        if (from < to) carry_.resize(size_t(layout_.unit_rows()) * row_values());
        for (int r = from; r < to; ++r, ++carried_)
            std::copy_n(rows + size_t(r) * stride, row_values(), carry_.data() + size_t(carried_) * row_values());
        return to;
    }

    // Rows made of whole units (but for the photo's last), cut into parts
    // of whole units, as even as they can be (the longer ones last, where a
    // short last unit is), at least one per core, none longer than
    // kMaxPartRows; encoded a part per slot at a time, the calling thread
    // one of them.
    void encode(const std::vector<const uint16_t*>& rows) {
        const int unit = layout_.unit_rows(), total = int(rows.size());
        if (total == 0) return;
        const int units = (total + unit - 1) / unit, slots = int(slots_.size());
        const int wanted = (std::max(1, (total + kMaxPartRows - 1) / kMaxPartRows) + slots - 1) / slots * slots;
        const int parts = std::min(units, wanted);
        std::vector<int> start(size_t(parts) + 1, 0);
        for (int k = 0; k < parts; ++k) {
            const int units_here = units / parts + (k >= parts - units % parts ? 1 : 0);
            start[size_t(k) + 1] = std::min(total, start[size_t(k)] + units_here * unit);
        }
        auto rows_of = [&](int part) { return start[size_t(part) + 1] - start[size_t(part)]; };
        for (int first = 0; first < parts; first += slots) {
            const int n = std::min(slots, parts - first);
            auto run = [&](int k) {
                const bool opening = parts_written_ == 0 && first + k == 0;
                encode_part(slots_[size_t(k)], layout_, rows.data() + start[size_t(first + k)], rows_of(first + k),
                            quality_, opening ? &exif_ : nullptr, opening ? &icc_ : nullptr);
            };
            std::vector<Task> others;
            for (int k = 1; k < n; ++k) others.push_back(run_on_worker([&run, k] { run(k); }));
            run(0);
            wait_all(others);
            for (int k = 0; k < n; ++k) append(slots_[size_t(k)], rows_of(first + k));
        }
    }

    // A part's scan, joined onto the file.
    void append(Slot& slot, int rows) {
        if (!slot.error.empty()) throw file_error(path_, "JPEG encoder: " + slot.error);
        Pixels8& j = slot.bytes;
        Scan l = scan_of(j);
        if (!l.data || !l.sof_height || j.size() < l.data + 2 || j[j.size() - 2] != 0xFF || j[j.size() - 1] != 0xD9)
            throw file_error(path_, "JPEG encoder: unexpected part layout");
        if (parts_written_ == 0) {
            j[l.sof_height] = uint8_t(height_ >> 8);
            j[l.sof_height + 1] = uint8_t(height_ & 0xFF);
            put(j.data(), l.data);
        } else {
            const uint8_t rst[2] = {0xFF, uint8_t(0xD0 + (restarts_ - 1) % 8)};
            put(rst, 2);
        }
        restarts_ += unsigned(intervals(layout_, rows));
        put(j.data() + l.data, j.size() - 2 - l.data);  // (without EOI)
        ++parts_written_;
    }

    void put(const uint8_t* p, size_t n) {
        if (std::fwrite(p, 1, n, file_) != n) throw file_error(path_, std::string("cannot write: ") + std::strerror(errno));
    }

    std::string path_;
    int height_, quality_;
    std::vector<uint8_t> exif_, icc_;
    FILE* file_ = nullptr;
    Layout layout_;
    std::vector<Slot> slots_;  // one encoder per core
    Samples16 carry_;          // the rows of a unit a call left incomplete
    int carried_ = 0;
    int parts_written_ = 0;
    unsigned restarts_ = 0;    // MCU rows written (restart intervals begun)
};

}  // namespace

std::unique_ptr<FormatWriter> jpeg_writer(const WriterSetup& setup, int quality) {
    return std::make_unique<JpegWriter>(setup, quality);
}

}  // namespace obscura
