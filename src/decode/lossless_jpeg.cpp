// Lossless JPEG decoding (ITU T.81 annex H) for DNG raw blocks.
//
// The entropy-coded data is first cut at its restart markers (RSTn): each
// interval starts its prediction afresh, so each decodes on its own, and in
// parallel. A Huffman code is found by one table lookup on the next 12 bits;
// longer codes (rare: they are the least likely differences) take the
// canonical search. (A 12 MP two-component tile set decodes in 43 ms on this
// project's 2-core machine, `OBSCURA_BENCH_RAWS=F.dng obscura_bench
// --benchmark_filter=Decode`: 81 ms before the reader lived in registers,
// the left neighbours too, the difference was read without a data-chosen
// branch and the bits refilled at half empty.)
#include "lossless_jpeg.h"

#include <array>
#include <cstring>
#include <vector>

#include "../core/parallel.h"

namespace obscura {
namespace {

constexpr int kFastBits = 12;

// A fast entry, for a code of at most kFastBits: its length (bits 0..4) and
// its category ssss (bits 8..12); 0 for a longer code. (No entry holds the
// difference itself: deciding whether it fits was a branch the data chose,
// mispredicted often enough to cost more than extracting the bits.)
struct Huffman {
    bool defined = false;
    std::array<uint16_t, 1 << kFastBits> fast{};
    int maxcode[18];                              // per length, the largest code (-1: none)
    int valptr[17], mincode[17];
    uint8_t values[256];
};

void build_huffman(Huffman& h, const uint8_t* counts, const uint8_t* values, int n) {
    h = Huffman{};
    h.defined = true;
    std::memcpy(h.values, values, size_t(n));
    for (int i = 0; i < n; ++i)
        if (values[i] > 16) throw JpegError("Huffman table has difference category " + std::to_string(values[i]) + " (at most 16)");
    int code = 0, k = 0;
    for (int len = 1; len <= 16; ++len) {
        h.valptr[len] = k;
        h.mincode[len] = code;
        for (int i = 0; i < counts[len - 1]; ++i, ++k, ++code) {
            if (code >= (1 << len)) throw JpegError("Huffman table has more codes than its lengths allow");
            if (len <= kFastBits) {
                const int shift = kFastBits - len;
                const uint16_t entry = uint16_t(len | values[k] << 8);
                for (int f = 0; f < (1 << shift); ++f) h.fast[size_t((code << shift) | f)] = entry;
            }
        }
        h.maxcode[len] = counts[len - 1] ? code - 1 : -1;
        code <<= 1;
    }
    h.maxcode[17] = 0x7fffffff;
}

// Reads bits MSB first from one restart interval's bytes, dropping the zero
// stuffed after each 0xFF. Past the end it reads zeros and counts them, so
// a truncated interval is found once it is decoded.
class BitReader {
public:
    BitReader(const uint8_t* p, const uint8_t* end) : p_(p), end_(end) {}

    void fill() {
        // (A difference takes at most 31 bits, code and extra bits: 32 held
        // is enough, and refilling only then, with at least four bytes,
        // refills every other difference or less.)
        if (count_ >= 32) return;
        // Eight bytes at once where none of them is 0xFF (no stuffing):
        // the common case, a few instructions instead of a loop.
        if (end_ - p_ >= 8) {
            uint64_t w;
            std::memcpy(&w, p_, 8);
            const uint64_t v = ~w;  // a 0xFF byte of w is a zero byte of v
            if ((((v - 0x0101010101010101ull) & ~v & 0x8080808080808080ull)) == 0) {
                w = __builtin_bswap64(w);
                const int take = (63 - count_) >> 3;
                buf_ |= (w >> (64 - 8 * take) << (64 - 8 * take)) >> count_;
                count_ += 8 * take;
                p_ += take;
                return;
            }
        }
        while (count_ <= 56) {
            uint64_t byte = 0;
            if (p_ < end_ && (*p_ != 0xFF || (p_ + 1 < end_ && p_[1] == 0x00))) {
                byte = *p_;
                p_ += byte == 0xFF ? 2 : 1;  // (a stuffed zero after 0xFF dropped)
            } else {
                // The end, or a marker (0xFF not followed by a stuffed zero):
                // zeros from here, counted, and the marker left unread.
                ++past_end_;
            }
            buf_ |= byte << (56 - count_);
            count_ += 8;
        }
    }
    uint32_t peek(int n) const { return uint32_t(buf_ >> (64 - n)); }
    void skip(int n) { buf_ <<= n, count_ -= n; }
    uint32_t get(int n) {
        uint32_t v = peek(n);
        skip(n);
        return v;
    }
    // Bits taken beyond the interval's data.
    bool overran() const { return int64_t(past_end_) * 8 > count_; }
    // On to the next restart interval: past the RSTn marker that ends this
    // one (bytes left before it are padding), bits dropped. False when
    // there is no marker.
    bool next_interval() {
        while (p_ + 1 < end_ && !(p_[0] == 0xFF && p_[1] >= 0xD0 && p_[1] <= 0xD7)) ++p_;
        if (p_ + 1 >= end_) return false;
        p_ += 2;
        buf_ = 0, count_ = 0, past_end_ = 0;
        return true;
    }

private:
    const uint8_t *p_, *end_;
    uint64_t buf_ = 0;
    int count_ = 0;
    uint64_t past_end_ = 0;
};

// (Always inlined: as a call it cost a quarter of the decode.)
__attribute__((always_inline)) inline int decode_difference(BitReader& bits, const Huffman& h) {
    bits.fill();
    const uint32_t entry = h.fast[bits.peek(kFastBits)];
    int len, ssss;
    if (__builtin_expect(entry != 0, 1)) {
        len = int(entry & 31), ssss = int(entry >> 8);
    } else {
        len = kFastBits + 1;
        int code = int(bits.peek(len));
        while (len <= 16 && code > h.maxcode[len]) code = int(bits.peek(++len));
        if (len > 16) throw JpegError("bad Huffman code (damaged data)");
        ssss = h.values[h.valptr[len] + code - h.mincode[len]];
    }
    if (__builtin_expect(ssss == 16, 0)) {  // 32768: no extra bits follow
        bits.skip(len);
        return 32768;
    }
    // The code and its ssss extra bits in one read (at most 31 bits: fill
    // keeps 32 or more); ssss 0 reads nothing and gives 0.
    const int total = len + ssss;
    const uint32_t extra = bits.peek(total) & ((1u << ssss) - 1);
    bits.skip(total);
    // Extra bits below half the category's range are negative differences.
    return int(extra) - (extra < ((1u << ssss) >> 1) ? (1 << ssss) - 1 : 0);
}

struct Scan {
    LosslessJpegFrame frame;
    const Huffman* table[4] = {};  // per component, in frame order
    size_t data_start = 0;         // first byte of entropy-coded data
};

struct Parsed {
    Scan scan;
    std::array<Huffman, 4> tables;
};

void parse(const uint8_t* d, size_t size, Parsed& out) {
    if (size < 4 || d[0] != 0xFF || d[1] != 0xD8) throw JpegError("not a JPEG stream (no SOI marker)");
    size_t at = 2;
    bool have_frame = false;
    int restart_interval = 0;
    int component_ids[4] = {};
    LosslessJpegFrame& f = out.scan.frame;
    for (;;) {
        if (at + 4 > size) throw JpegError("stream ends before its scan");
        if (d[at] != 0xFF) throw JpegError("expected a marker at byte " + std::to_string(at));
        while (at + 1 < size && d[at + 1] == 0xFF) ++at;  // fill bytes
        if (at + 4 > size) throw JpegError("stream ends before its scan");
        int marker = d[at + 1];
        size_t len = size_t(d[at + 2]) << 8 | d[at + 3];
        if (len < 2 || at + 2 + len > size) throw JpegError("marker segment runs past the end of the stream");
        const uint8_t* s = d + at + 4;
        size_t n = len - 2;
        if (marker == 0xC3) {
            if (n < 6) throw JpegError("SOF3 segment too short");
            f.precision = s[0];
            f.rows = s[1] << 8 | s[2];
            f.columns = s[3] << 8 | s[4];
            f.components = s[5];
            if (f.precision < 2 || f.precision > 16) throw JpegError(std::to_string(f.precision) + "-bit precision (2..16)");
            if (f.components < 1 || f.components > 4) throw JpegError(std::to_string(f.components) + " components (1..4)");
            if (f.rows < 1 || f.columns < 1) throw JpegError("frame of no size (rows set by DNL are not supported)");
            if (n < 6 + 3 * size_t(f.components)) throw JpegError("SOF3 segment too short");
            for (int c = 0; c < f.components; ++c) {
                component_ids[c] = s[6 + 3 * c];
                if (s[7 + 3 * c] != 0x11) throw JpegError("subsampled components are not supported");
            }
            have_frame = true;
        } else if (marker == 0xC4) {
            size_t k = 0;
            while (k < n) {
                if (k + 17 > n) throw JpegError("DHT segment too short");
                int cls = s[k] >> 4, id = s[k] & 15;
                if (cls != 0 || id > 3) throw JpegError("Huffman table class/id out of range");
                int total = 0;
                for (int i = 0; i < 16; ++i) total += s[k + 1 + i];
                if (total > 256 || k + 17 + size_t(total) > n) throw JpegError("DHT segment too short");
                build_huffman(out.tables[size_t(id)], s + k + 1, s + k + 17, total);
                k += 17 + size_t(total);
            }
        } else if (marker == 0xDD) {
            if (n < 2) throw JpegError("DRI segment too short");
            restart_interval = s[0] << 8 | s[1];
        } else if (marker == 0xDA) {
            if (!have_frame) throw JpegError("scan before its frame header (SOF3)");
            if (n < 1) throw JpegError("SOS segment too short");
            int ns = s[0];
            if (ns != f.components || n < 1 + 2 * size_t(ns) + 3)
                throw JpegError("scan of " + std::to_string(ns) + " of " + std::to_string(f.components) +
                                " components (one interleaved scan expected)");
            for (int c = 0; c < ns; ++c) {
                if (s[1 + 2 * c] != component_ids[c]) throw JpegError("scan components not in frame order");
                int td = s[2 + 2 * c] >> 4;
                if (td > 3 || !out.tables[size_t(td)].defined) throw JpegError("scan uses an undefined Huffman table");
                out.scan.table[c] = &out.tables[size_t(td)];
            }
            f.predictor = s[1 + 2 * ns];
            f.point_transform = s[3 + 2 * ns] & 15;
            if (f.predictor < 1 || f.predictor > 7) throw JpegError("predictor " + std::to_string(f.predictor) + " (1..7)");
            if (f.point_transform >= f.precision) throw JpegError("point transform exceeds the precision");
            if (restart_interval) {
                if (restart_interval % f.columns) throw JpegError("restart interval is not a whole number of rows");
                f.restart_rows = restart_interval / f.columns;
            }
            out.scan.data_start = at + 2 + len;
            return;
        } else if ((marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) ||
                   marker == 0xD9 || marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7)) {
            if (marker >= 0xC0 && marker <= 0xCF)
                throw JpegError("not lossless JPEG (SOF" + std::to_string(marker - 0xC0) + ")");
            throw JpegError("unexpected marker before the scan");
        }
        at += 2 + len;  // APPn, COM, DQT...: skipped
    }
}

// Splits the entropy-coded data at its restart markers: [begin, end) of each
// interval, up to the first other marker (EOI).
std::vector<std::pair<size_t, size_t>> intervals(const uint8_t* d, size_t size, size_t start) {
    std::vector<std::pair<size_t, size_t>> out;
    size_t begin = start, at = start;
    while (at < size) {
        const void* hit = std::memchr(d + at, 0xFF, size - at);
        if (!hit) break;
        at = size_t(static_cast<const uint8_t*>(hit) - d);
        if (at + 1 >= size) break;
        uint8_t next = d[at + 1];
        if (next == 0x00 || next == 0xFF) {
            at += next == 0x00 ? 2 : 1;
            continue;
        }
        out.emplace_back(begin, at);
        if (next < 0xD0 || next > 0xD7) return out;  // end of the scan
        begin = at = at + 2;
    }
    out.emplace_back(begin, size);
    return out;
}

// NC: the component count when fixed at compile time (1 or 2, what CFA
// tiles use: the inner loop unrolled), 0 for any.
template <int Predictor, int NC = 0>
void decode_rows(const Scan& scan, BitReader& reader, uint16_t* out, size_t stride, int r0, int r1) {
    const LosslessJpegFrame& f = scan.frame;
    const int nc = NC ? NC : f.components, width = f.columns * nc;
    const int initial = 1 << (f.precision - f.point_transform - 1);
    // The reader and the tables as locals: through the reference, the
    // reader's state went to memory and back at every difference, and each
    // table pointer was loaded again.
    BitReader bits = reader;
    struct WriteBack {
        BitReader &to, &from;
        ~WriteBack() { to = from; }
    } write_back{reader, bits};
    const Huffman* table[4] = {scan.table[0], scan.table[1], scan.table[2], scan.table[3]};
    for (int r = r0; r < r1; ++r) {
        uint16_t* row = out + size_t(r) * stride;
        const uint16_t* up = row - stride;
        for (int c = 0; c < nc; ++c)
            row[c] = uint16_t((r == r0 ? initial : up[c]) + decode_difference(bits, *table[c]));
        if (r == r0 || Predictor == 1) {
            if constexpr (NC > 0) {
                // The left neighbours in registers: read back from the row,
                // each sample waited on the store of the one before it.
                uint16_t left[NC];
                for (int c = 0; c < NC; ++c) left[c] = row[c];
                for (int x = NC; x < width; x += NC)
#pragma GCC unroll 4
                    for (int c = 0; c < NC; ++c) row[x + c] = left[c] = uint16_t(left[c] + decode_difference(bits, *table[c]));
            } else {
                for (int x = nc; x < width; x += nc)
                    for (int c = 0; c < nc; ++c) row[x + c] = uint16_t(row[x + c - nc] + decode_difference(bits, *table[c]));
            }
            continue;
        }
        for (int x = nc; x < width; x += nc)
            for (int c = 0; c < nc; ++c) {
                int ra = row[x + c - nc], rb = up[x + c], rc = up[x + c - nc], p;
                switch (Predictor) {
                    case 2: p = rb; break;
                    case 3: p = rc; break;
                    case 4: p = ra + rb - rc; break;
                    case 5: p = ra + ((rb - rc) >> 1); break;
                    case 6: p = rb + ((ra - rc) >> 1); break;
                    default: p = (ra + rb) >> 1; break;
                }
                row[x + c] = uint16_t(p + decode_difference(bits, *table[c]));
            }
    }
}

void decode_rows_with(const Scan& scan, BitReader& bits, uint16_t* out, size_t stride, int r0, int r1) {
    switch (scan.frame.predictor) {
        case 1:
            if (scan.frame.components == 2)
                decode_rows<1, 2>(scan, bits, out, stride, r0, r1);
            else if (scan.frame.components == 1)
                decode_rows<1, 1>(scan, bits, out, stride, r0, r1);
            else
                decode_rows<1>(scan, bits, out, stride, r0, r1);
            break;
        case 2: decode_rows<2>(scan, bits, out, stride, r0, r1); break;
        case 3: decode_rows<3>(scan, bits, out, stride, r0, r1); break;
        case 4: decode_rows<4>(scan, bits, out, stride, r0, r1); break;
        case 5: decode_rows<5>(scan, bits, out, stride, r0, r1); break;
        case 6: decode_rows<6>(scan, bits, out, stride, r0, r1); break;
        default: decode_rows<7>(scan, bits, out, stride, r0, r1); break;
    }
    if (bits.overran()) throw JpegError("Huffman data ends early (truncated or damaged)");
}

void decode_interval(const Scan& scan, const uint8_t* begin, const uint8_t* end, uint16_t* out, size_t stride, int r0, int r1) {
    BitReader bits(begin, end);
    decode_rows_with(scan, bits, out, stride, r0, r1);
}

}  // namespace

LosslessJpegFrame lossless_jpeg_frame(const uint8_t* data, size_t size) {
    Parsed p;
    parse(data, size, p);
    return p.scan.frame;
}

void decode_lossless_jpeg(const uint8_t* data, size_t size, uint16_t* out, size_t count, bool parallel, size_t stride) {
    Parsed p;
    parse(data, size, p);
    const LosslessJpegFrame& f = p.scan.frame;
    const size_t row = size_t(f.columns) * f.components;
    if (stride == 0) stride = row;
    if (stride < row || count < (size_t(f.rows) - 1) * stride + row) throw JpegError("frame holds more samples than its block");
    const int step = f.restart_rows ? f.restart_rows : f.rows;
    const int needed = (f.rows + step - 1) / step;
    if (!parallel || needed == 1) {
        // In sequence (a tile among many: the tiles are what runs in
        // parallel): one reader steps over the RSTn markers as it meets
        // them, so the data is not scanned for them first.
        BitReader bits(data + p.scan.data_start, data + size);
        for (int k = 0; k < needed; ++k) {
            if (k > 0 && !bits.next_interval())
                throw JpegError(std::to_string(k) + " restart intervals; the frame needs " + std::to_string(needed));
            decode_rows_with(p.scan, bits, out, stride, k * step, std::min(f.rows, (k + 1) * step));
        }
    } else {
        // One block alone: its intervals, found first, run on every core.
        auto parts = intervals(data, size, p.scan.data_start);
        if (int(parts.size()) < needed)
            throw JpegError(std::to_string(parts.size()) + " restart intervals; the frame needs " + std::to_string(needed));
        parallel_tasks(needed, [&](int k) {
            int r0 = k * step, r1 = std::min(f.rows, r0 + step);
            decode_interval(p.scan, data + parts[size_t(k)].first, data + parts[size_t(k)].second, out, stride, r0, r1);
        });
    }
    if (f.point_transform)
        for (int r = 0; r < f.rows; ++r)
            for (size_t i = 0; i < row; ++i) out[size_t(r) * stride + i] = uint16_t(out[size_t(r) * stride + i] << f.point_transform);
}

}  // namespace obscura
