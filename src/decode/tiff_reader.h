// A bounds-checked TIFF/DNG structure walker: IFDs, SubIFDs, EXIF IFD and
// typed tag values. It never trusts a count or offset before checking it.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace obscura {

class MappedFile;

struct TiffEntry {
    uint16_t tag = 0, type = 0;
    uint32_t count = 0;
    uint64_t offset = 0;  // file offset of the value bytes (inline or not)
};

struct TiffIfd {
    uint64_t offset = 0;
    std::map<uint16_t, TiffEntry> entries;
    bool has(uint16_t tag) const { return entries.count(tag) != 0; }
};

class TiffReader {
public:
    // Walks IFD0's chain, their SubIFDs (330) and the EXIF IFD (34665).
    explicit TiffReader(const MappedFile& file);  // throws obscura::Error

    const std::vector<TiffIfd>& ifds() const { return ifds_; }  // main chain + SubIFDs
    const TiffIfd* exif_ifd() const { return exif_.entries.empty() ? nullptr : &exif_; }

    // Typed readers. They throw obscura::Error on a bad type or range.
    std::vector<double> numbers(const TiffEntry& e, size_t max_count = 1u << 20) const;
    std::vector<uint64_t> integers(const TiffEntry& e, size_t max_count = 1u << 24) const;
    std::string text(const TiffEntry& e) const;
    const uint8_t* bytes(const TiffEntry& e, size_t& size) const;

    // Convenience on an IFD: first value or fallback.
    double number(const TiffIfd& ifd, uint16_t tag, double fallback) const;
    uint64_t integer(const TiffIfd& ifd, uint16_t tag, uint64_t fallback) const;

    bool little_endian() const { return little_; }
    uint16_t u16(uint64_t offset) const;
    uint32_t u32(uint64_t offset) const;
    void check_range(uint64_t offset, uint64_t size, const char* what) const;
    const std::string& path() const;
    uint64_t size() const;  // of the file
    const uint8_t* data_at(uint64_t offset) const;  // caller has checked the range
    void populate(uint64_t offset, uint64_t length) const;  // MappedFile::populate

private:
    void read_ifd_tree(uint64_t offset, int depth, std::vector<TiffIfd>& out);
    TiffIfd read_ifd(uint64_t offset) const;
    void check_values(const TiffEntry& e, size_t max_count) const;

    const MappedFile& file_;
    bool little_ = true;
    std::vector<TiffIfd> ifds_;
    TiffIfd exif_;
};

}  // namespace obscura
