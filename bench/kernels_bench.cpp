// Where a develop's time goes: the develop kernel alone (rows into a sink
// that keeps nothing) and each strip writer alone, at 12 and 50 MP; with
// OBSCURA_BENCH_RAWS (paths, colon-separated) also the decode of each file.
//   build/bin/obscura_bench [--benchmark_filter=...]
// The frames are made in memory from tests/data/kodim05.png (nearest-
// neighbour enlarged, mosaicked RGGB, 14-bit), so no files are needed.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

#include "obscura/decode.h"
#include "obscura/develop.h"
#include "obscura/encode.h"
#include "obscura/look.h"
#include "obscura/quality.h"

namespace {
using namespace obscura;

RawImage synthetic_raw(int width, int height) {
    Image photo = load_png(std::string(OBSCURA_TEST_DATA) + "/kodim05.png");
    RawImage raw;
    raw.source = "kodim05 (synthetic)";
    raw.decoder = "dng";
    raw.width = width;
    raw.height = height;
    raw.bits = 14;
    raw.white_level = 16383;
    raw.black.pattern = {512};
    raw.crop = {0, 0, width, height};
    raw.data = Samples16(size_t(width) * height);
    // Camera = linear sRGB primaries, so the solved matrix is near identity.
    raw.color.color_matrix[0] = Mat3{3.2406, -1.5372, -0.4986, -0.9689, 1.8758, 0.0415, 0.0557, -0.2040, 1.0570};
    raw.color.illuminant[0] = 21;  // D65
    raw.color.as_shot_neutral = Vec3{0.5, 1.0, 0.7};
    const Vec3 gain = {0.5, 1.0, 0.7};
    for (int y = 0; y < height; ++y)
        for (int x = 0; x < width; ++x) {
            int sx = int(int64_t(x) * photo.width / width), sy = int(int64_t(y) * photo.height / height);
            int c = raw.cfa.at(x, y);
            double v = srgb_decode(photo.pixels[(size_t(sy) * photo.width + sx) * 3 + c] / 65535.0) * gain[c];
            raw.data[size_t(y) * width + x] = uint16_t(512 + std::lround(v * (16383 - 512)));
        }
    return raw;
}

const RawImage& frame(int64_t megapixels) {
    static RawImage r12 = synthetic_raw(4000, 3000), r50 = synthetic_raw(8192, 6144);
    return megapixels >= 50 ? r50 : r12;
}

struct NullSink : RowSink {
    uint64_t sum = 0;
    void write_rows(const uint16_t* rows, size_t, int, int) override { sum += rows[0]; }
};

void set_rate(benchmark::State& state, const RawImage& raw) {
    state.counters["MP/s"] = benchmark::Counter(raw.width * double(raw.height) / 1e6, benchmark::Counter::kIsIterationInvariantRate);
}

// The reference look (its curve the sRGB encoding, a table like any
// look's) or the default one (shoulder, contrast: what the JPEG bars time).
void BM_DevelopKernel(benchmark::State& state, const char* method, const char* look) {
    const RawImage& raw = frame(state.range(0));
    DevelopOptions o;
    o.look = look;
    o.demosaic = method;
    for (auto _ : state) {
        NullSink sink;
        develop_rows(raw, o, sink);
        benchmark::DoNotOptimize(sink.sum);
    }
    set_rate(state, raw);
}
BENCHMARK_CAPTURE(BM_DevelopKernel, best, "best", "reference")->Arg(12)->Arg(50)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_DevelopKernel, fast, "fast", "reference")->Arg(12)->Arg(50)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_DevelopKernel, best_default_look, "best", "authentic")->Arg(12)->Arg(50)->Unit(benchmark::kMillisecond)->UseRealTime();

// Each writer fed the same rows, into /dev/shm when it exists (so the disk
// is not what is measured).
void BM_Writer(benchmark::State& state, const char* extension) {
    const RawImage& raw = frame(state.range(0));
    std::vector<uint16_t> strip(size_t(raw.width) * 3 * 256);
    for (size_t i = 0; i < strip.size(); ++i) strip[i] = uint16_t((i * 2654435761u) >> 16);
    std::string dir = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    std::string path = dir + "/obscura-bench-" + std::to_string(::getpid()) + extension;
    EncodeOptions opts;
    for (auto _ : state) {
        auto out = OutputFile::open(path, raw.width, raw.height, metadata_of(raw), opts);
        for (int y = 0; y < raw.height; y += 256)
            out->write_rows(strip.data(), size_t(raw.width) * 3, y, std::min(256, raw.height - y));
        out->commit();
    }
    std::remove(path.c_str());
    set_rate(state, raw);
}
BENCHMARK_CAPTURE(BM_Writer, tiff16, ".tif")->Arg(12)->Arg(50)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Writer, jpeg, ".jpg")->Arg(12)->Arg(50)->Unit(benchmark::kMillisecond)->UseRealTime();

// A file's decode (read, unpack or decompress, into a RawImage), from the
// page cache: what a develop pays before its kernel runs.
void BM_Decode(benchmark::State& state, const std::string& path) {
    size_t pixels = 0;
    for (auto _ : state) {
        RawImage raw = decode(path);
        pixels = size_t(raw.width) * size_t(raw.height);
        benchmark::DoNotOptimize(raw.data.data());
    }
    state.counters["MP/s"] = benchmark::Counter(double(pixels) / 1e6, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

int main(int argc, char** argv) {
    if (const char* list = std::getenv("OBSCURA_BENCH_RAWS")) {
        std::string paths = list;
        for (size_t at = 0; at <= paths.size();) {
            size_t end = std::min(paths.find(':', at), paths.size());
            if (end > at) {
                std::string path = paths.substr(at, end - at);
                benchmark::RegisterBenchmark(("BM_Decode/" + path).c_str(), BM_Decode, path)
                    ->Unit(benchmark::kMillisecond)->UseRealTime();
            }
            at = end + 1;
        }
    }
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
