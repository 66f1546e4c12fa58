// Lossless JPEG (ITU T.81 process 14, SOF3): how DNG files store raw tiles
// and strips. Predictors 1-7, 1-4 components, 2-16 bits, point transform,
// restart markers. The restart intervals of one stream are independent, so
// they decode in parallel when the caller asks (a strip with a marker every
// row spreads over every core).
#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace obscura {

// A damaged or unsupported stream; the message says what, without a file
// name (the DNG reader adds the file and the tile).
struct JpegError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct LosslessJpegFrame {
    int precision = 0;          // bits per sample, 2..16
    int rows = 0, columns = 0;  // of the frame, in samples of each component
    int components = 0;         // 1..4, interleaved sample by sample
    int predictor = 0;          // 1..7
    int point_transform = 0;
    int restart_rows = 0;       // rows per restart interval, 0: none
    size_t samples() const { return size_t(rows) * columns * components; }
};

// Reads the headers up to the scan; throws JpegError.
LosslessJpegFrame lossless_jpeg_frame(const uint8_t* data, size_t size);

// Decodes the stream into `out`, frame.samples() values row by row with the
// components interleaved, rows `stride` samples apart (0: packed); `count`
// is the room at `out` (rows x stride). `parallel` spreads restart intervals
// over the cores. Throws JpegError on damaged data (never reads outside
// [data, data + size) nor writes past `count`).
void decode_lossless_jpeg(const uint8_t* data, size_t size, uint16_t* out, size_t count, bool parallel, size_t stride = 0);

}  // namespace obscura
