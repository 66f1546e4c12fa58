// exr_to_tiff IN.exr OUT.tif: an OpenEXR image read by OpenEXR's own RGBA
// reader, written as a 32-bit float RGB TIFF, so the Python scorers can read
// what we wrote with the format's library (not our code).
#include <ImfArray.h>
#include <ImfRgbaFile.h>
#include <tiffio.h>

#include <cstdio>
#include <exception>
#include <vector>

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: exr_to_tiff IN.exr OUT.tif\n");
        return 2;
    }
    try {
        Imf::RgbaInputFile in(argv[1]);
        const Imath::Box2i dw = in.dataWindow();
        const int w = dw.max.x - dw.min.x + 1, h = dw.max.y - dw.min.y + 1;
        Imf::Array2D<Imf::Rgba> px(h, w);
        in.setFrameBuffer(&px[0][0] - dw.min.x - dw.min.y * w, 1, size_t(w));
        in.readPixels(dw.min.y, dw.max.y);
        TIFF* t = TIFFOpen(argv[2], "w");
        if (!t) return 1;
        TIFFSetField(t, TIFFTAG_IMAGEWIDTH, w);
        TIFFSetField(t, TIFFTAG_IMAGELENGTH, h);
        TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 3);
        TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 32);
        TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, SAMPLEFORMAT_IEEEFP);
        TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_RGB);
        TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
        std::vector<float> row(size_t(w) * 3);
        for (int y = 0; y < h; ++y) {
            for (int x = 0; x < w; ++x) row[3 * x] = px[y][x].r, row[3 * x + 1] = px[y][x].g, row[3 * x + 2] = px[y][x].b;
            if (TIFFWriteScanline(t, row.data(), uint32_t(y), 0) < 0) return 1;
        }
        TIFFClose(t);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: %s\n", argv[1], e.what());
        return 1;
    }
    return 0;
}
