#include "tiff_reader.h"

#include <cstring>
#include <set>

#include "mapped_file.h"
#include "obscura/error.h"

namespace obscura {
namespace {

// Bytes per value of each TIFF field type (0 = unknown type).
int type_size(uint16_t type) {
    switch (type) {
        case 1: case 2: case 6: case 7: return 1;   // BYTE ASCII SBYTE UNDEFINED
        case 3: case 8: return 2;                    // SHORT SSHORT
        case 4: case 9: case 11: case 13: return 4;  // LONG SLONG FLOAT IFD
        case 5: case 10: case 12: return 8;          // RATIONAL SRATIONAL DOUBLE
        default: return 0;
    }
}

constexpr int kMaxIfds = 64;
constexpr int kMaxEntries = 4096;

}  // namespace

TiffReader::TiffReader(const MappedFile& file) : file_(file) {
    if (file.size() < 8) throw file_error(file.path(), "too short to be a TIFF/DNG file");
    const uint8_t* d = file.data();
    if (d[0] == 'I' && d[1] == 'I') little_ = true;
    else if (d[0] == 'M' && d[1] == 'M') little_ = false;
    else throw file_error(file.path(), "not a TIFF/DNG file (no II/MM byte-order mark)");
    if (u16(2) != 42) throw file_error(file.path(), "not a TIFF/DNG file (bad magic number)");
    read_ifd_tree(u32(4), 0, ifds_);
    if (ifds_.empty()) throw file_error(file.path(), "TIFF has no image directory");
    for (const auto& ifd : ifds_) {
        auto it = ifd.entries.find(34665);
        if (it != ifd.entries.end()) {
            try {
                auto offset = integers(it->second, 1);
                if (offset.empty()) throw file_error(file.path(), "EXIF IFD pointer has no value");
                exif_ = read_ifd(offset[0]);
            } catch (const Error&) {
                exif_ = {};  // a damaged EXIF IFD loses the shot info, not the photo
            }
            break;
        }
    }
}

const std::string& TiffReader::path() const { return file_.path(); }
uint64_t TiffReader::size() const { return file_.size(); }

const uint8_t* TiffReader::data_at(uint64_t offset) const { return file_.data() + offset; }
void TiffReader::populate(uint64_t offset, uint64_t length) const { file_.populate(offset, length); }

void TiffReader::check_range(uint64_t offset, uint64_t size, const char* what) const {
    if (offset > file_.size() || size > file_.size() - offset)
        throw file_error(file_.path(), std::string(what) + " lies beyond the end of the file (truncated?)");
}

uint16_t TiffReader::u16(uint64_t off) const {
    check_range(off, 2, "TIFF field");
    const uint8_t* p = file_.data() + off;
    return little_ ? uint16_t(p[0] | p[1] << 8) : uint16_t(p[0] << 8 | p[1]);
}

uint32_t TiffReader::u32(uint64_t off) const {
    check_range(off, 4, "TIFF field");
    const uint8_t* p = file_.data() + off;
    return little_ ? uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24
                   : uint32_t(p[3]) | uint32_t(p[2]) << 8 | uint32_t(p[1]) << 16 | uint32_t(p[0]) << 24;
}

TiffIfd TiffReader::read_ifd(uint64_t offset) const {
    TiffIfd ifd;
    ifd.offset = offset;
    uint16_t n = u16(offset);
    if (n == 0 || n > kMaxEntries) throw file_error(file_.path(), "TIFF directory has " + std::to_string(n) + " entries");
    check_range(offset + 2, uint64_t(n) * 12 + 4, "TIFF directory");
    for (uint16_t i = 0; i < n; ++i) {
        uint64_t at = offset + 2 + uint64_t(i) * 12;
        TiffEntry e;
        e.tag = u16(at);
        e.type = u16(at + 2);
        e.count = u32(at + 4);
        int size = type_size(e.type);
        if (size == 0) continue;  // unknown types are skipped, as TIFF says
        uint64_t bytes = uint64_t(size) * e.count;
        e.offset = bytes <= 4 ? at + 8 : u32(at + 8);
        ifd.entries[e.tag] = e;
    }
    return ifd;
}

void TiffReader::read_ifd_tree(uint64_t offset, int depth, std::vector<TiffIfd>& out) {
    std::set<uint64_t> seen;
    while (offset != 0) {
        if (depth > 4 || out.size() >= kMaxIfds || !seen.insert(offset).second)
            throw file_error(file_.path(), "TIFF directories form a loop or are nested too deeply");
        TiffIfd ifd = read_ifd(offset);
        uint64_t next_at = offset + 2 + uint64_t(u16(offset)) * 12;
        out.push_back(ifd);
        auto sub = ifd.entries.find(330);
        if (sub != ifd.entries.end()) {
            for (uint64_t child : integers(sub->second, kMaxIfds)) read_ifd_tree(child, depth + 1, out);
        }
        offset = u32(next_at);
    }
}

const uint8_t* TiffReader::bytes(const TiffEntry& e, size_t& size) const {
    size = size_t(type_size(e.type)) * e.count;
    check_range(e.offset, size, "TIFF tag value");
    return file_.data() + e.offset;
}

void TiffReader::check_values(const TiffEntry& e, size_t max_count) const {
    if (e.count > max_count)
        throw file_error(file_.path(), "TIFF tag " + std::to_string(e.tag) + " has too many values (" + std::to_string(e.count) + ")");
    size_t size = 0;
    bytes(e, size);  // throws when the values lie past the end
}

std::vector<uint64_t> TiffReader::integers(const TiffEntry& e, size_t max_count) const {
    check_values(e, max_count);
    std::vector<uint64_t> v(e.count);
    for (uint32_t i = 0; i < e.count; ++i) {
        switch (e.type) {
            case 1: case 7: v[i] = file_.data()[e.offset + i]; break;
            case 3: v[i] = u16(e.offset + 2 * i); break;
            case 4: case 13: v[i] = u32(e.offset + 4 * i); break;
            default: throw file_error(file_.path(), "TIFF tag " + std::to_string(e.tag) + " should be an integer");
        }
    }
    return v;
}

std::vector<double> TiffReader::numbers(const TiffEntry& e, size_t max_count) const {
    check_values(e, max_count);
    std::vector<double> v(e.count);
    for (uint32_t i = 0; i < e.count; ++i) {
        uint64_t o = e.offset;
        switch (e.type) {
            case 1: case 7: v[i] = file_.data()[o + i]; break;
            case 6: v[i] = int8_t(file_.data()[o + i]); break;
            case 3: v[i] = u16(o + 2 * i); break;
            case 8: v[i] = int16_t(u16(o + 2 * i)); break;
            case 4: case 13: v[i] = u32(o + 4 * i); break;
            case 9: v[i] = int32_t(u32(o + 4 * i)); break;
            case 5: {
                uint32_t den = u32(o + 8 * i + 4);
                v[i] = den ? double(u32(o + 8 * i)) / den : 0.0;
                break;
            }
            case 10: {
                int32_t den = int32_t(u32(o + 8 * i + 4));
                v[i] = den ? double(int32_t(u32(o + 8 * i))) / den : 0.0;
                break;
            }
            case 11: {
                uint32_t b = u32(o + 4 * i);
                float f;
                std::memcpy(&f, &b, 4);
                v[i] = f;
                break;
            }
            case 12: {
                uint64_t b = little_ ? uint64_t(u32(o + 8 * i)) | uint64_t(u32(o + 8 * i + 4)) << 32
                                     : uint64_t(u32(o + 8 * i + 4)) | uint64_t(u32(o + 8 * i)) << 32;
                double d;
                std::memcpy(&d, &b, 8);
                v[i] = d;
                break;
            }
            default: throw file_error(file_.path(), "TIFF tag " + std::to_string(e.tag) + " should be a number");
        }
    }
    return v;
}

std::string TiffReader::text(const TiffEntry& e) const {
    size_t size = 0;
    const uint8_t* p = bytes(e, size);
    std::string s(reinterpret_cast<const char*>(p), size);
    s = s.substr(0, s.find('\0'));
    while (!s.empty() && s.back() == ' ') s.pop_back();
    return s;
}

double TiffReader::number(const TiffIfd& ifd, uint16_t tag, double fallback) const {
    auto it = ifd.entries.find(tag);
    if (it == ifd.entries.end() || it->second.count == 0) return fallback;
    return numbers(it->second, 1u << 20).at(0);
}

uint64_t TiffReader::integer(const TiffIfd& ifd, uint16_t tag, uint64_t fallback) const {
    auto it = ifd.entries.find(tag);
    if (it == ifd.entries.end() || it->second.count == 0) return fallback;
    return integers(it->second).at(0);
}

}  // namespace obscura
