// libFuzzer target: the compressed-block readers on arbitrary bytes, alone
// (the DNG fuzzer rarely gets a valid container around a damaged block).
// The first byte picks the reader: even, our lossless JPEG decoder; odd, a
// JPEG XL tile of 64 x 64 x (1 or 3) samples through libjxl. Every input
// must decode or throw: no crash, no sanitizer report, no write past the
// block.
#include <cstdint>
#include <vector>

#include "decode/dng_blocks.h"
#include "decode/lossless_jpeg.h"
#include "obscura/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    const uint8_t pick = data[0];
    ++data, --size;
    try {
        if (pick % 2 == 0) {
            obscura::LosslessJpegFrame f = obscura::lossless_jpeg_frame(data, size);
            if (f.samples() > (1u << 18)) return 0;  // the DNG reader refuses frames larger than their block
            std::vector<uint16_t> out(f.samples());
            obscura::decode_lossless_jpeg(data, size, out.data(), out.size(), pick & 2);
        } else {
            obscura::decode_jpeg_xl_tile(data, size, 64, 64, pick & 2 ? 3 : 1);
        }
    } catch (const obscura::JpegError&) {
    } catch (const obscura::Error&) {
    }
    return 0;
}
