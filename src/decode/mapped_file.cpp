#include "mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "obscura/error.h"

namespace obscura {

MappedFile::MappedFile(const std::string& path) : path_(path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw file_error(path, std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        throw file_error(path, "not a regular file");
    }
    size_ = size_t(st.st_size);
    if (size_ == 0) {
        ::close(fd);
        throw file_error(path, "file is empty");
    }
    // Not populated up front: an uncompressed frame is read straight into
    // its memory (read_file_samples), not through the map; a decoder that
    // reads blocks through it populates them first (populate).
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (p == MAP_FAILED) throw file_error(path, std::string("cannot map: ") + std::strerror(errno));
    data_ = static_cast<const uint8_t*>(p);
}

void MappedFile::populate(uint64_t offset, uint64_t length) const {
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22  // (Linux 5.14; older kernels refuse it, and the pages fault in as read)
#endif
    if (offset >= size_ || length == 0) return;
    const uint64_t page = uint64_t(::sysconf(_SC_PAGESIZE));
    const uint64_t start = offset / page * page, end = std::min<uint64_t>(size_, offset + length);
    ::madvise(const_cast<uint8_t*>(data_) + start, size_t(end - start), MADV_POPULATE_READ);
}

MappedFile::~MappedFile() {
    if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

}  // namespace obscura
