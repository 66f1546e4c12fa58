// A fuzz input as a file (the readers take paths; /dev/shm keeps it in
// memory), removed when the input is done however it ends.
#pragma once
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

struct ScratchFile {
    std::string path;
    bool ok = false;
    ScratchFile(const char* extension, const uint8_t* data, size_t size)
        : path("/dev/shm/obscura-fuzz-" + std::to_string(::getpid()) + extension) {
        if (FILE* f = std::fopen(path.c_str(), "wb")) {
            ok = std::fwrite(data, 1, size, f) == size;
            ok = std::fclose(f) == 0 && ok;
        }
    }
    ~ScratchFile() { ::unlink(path.c_str()); }
};
