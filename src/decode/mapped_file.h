// A read-only memory map of a whole file: raw files are large and read once.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace obscura {

class MappedFile {
public:
    explicit MappedFile(const std::string& path);  // throws obscura::Error
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const uint8_t* data() const { return data_; }
    size_t size() const { return size_; }
    const std::string& path() const { return path_; }

    // Asks the system to map [offset, offset + length) in one go (what a
    // decoder reads whole: compressed or packed blocks), instead of a page
    // fault per 4 KB. A hint: nothing happens where it cannot.
    void populate(uint64_t offset, uint64_t length) const;

private:
    std::string path_;
    const uint8_t* data_ = nullptr;
    size_t size_ = 0;
};

}  // namespace obscura
