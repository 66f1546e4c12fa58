// develop_linear: a LinearRaw frame (camera RGB, demosaiced in the camera)
// -> display-encoded RGB, one fused pass per tile: black/white
// normalisation and white balance, radial vignetting, camera -> output
// colour matrix, the look's tone curve with the output encoding. The same
// steps as the mosaic kernel (develop_gen.cpp) without its demosaic.
#include "Halide.h"
#include "encoding.h"

namespace {

using namespace Halide;
using namespace obscura::halide;

class DevelopLinear : public Generator<DevelopLinear> {
public:
    Input<Buffer<uint16_t, 3>> raw{"raw"};        // c, x, y: camera R, G, B interleaved
    // levels(k, c) of channel c: k = 0 black, 1 the gain to white balanced
    // with white at 1, 2 the white level.
    Input<Buffer<float, 2>> levels{"levels"};
    Input<int> use_vignette{"use_vignette"};
    Input<Buffer<float, 1>> vignette{"vignette"};  // k0..k4, centre x, centre y, inv_m2 (develop_gen.cpp)
    Input<Buffer<float, 2>> matrix{"matrix"};      // 3x3: white-balanced camera -> output linear
    Input<Buffer<uint32_t, 1>> curve{"curve"};     // as develop_gen.cpp
    Input<int> srgb_curve{"srgb_curve"};
    Output<Buffer<uint16_t, 3>> output{"output"};  // c, x, y

    Var x{"x"}, y{"y"}, c{"c"};

    void generate() {
        // (Edges repeated: the host develops at least one tile, which may
        // reach past a small frame.)
        Func in = BoundaryConditions::repeat_edge(raw, {{0, 3}, {raw.dim(1).min(), raw.dim(1).extent()},
                                                        {raw.dim(2).min(), raw.dim(2).extent()}});
        Expr px = cast<float>(x), py = cast<float>(y);
        Expr r2 = ((px - vignette(5)) * (px - vignette(5)) + (py - vignette(6)) * (py - vignette(6))) * vignette(7);
        Expr vgain = select(use_vignette != 0,
                            1.0f + r2 * (vignette(0) + r2 * (vignette(1) + r2 * (vignette(2) + r2 * (vignette(3) + r2 * vignette(4))))),
                            1.0f);
        Expr cam[3];
        for (int ch = 0; ch < 3; ++ch)
            cam[ch] = min((min(cast<float>(in(ch, x, y)), levels(2, ch)) - levels(0, ch)) * levels(1, ch), 1.0f) * vgain;
        std::vector<Expr> lins;
        for (int ch = 0; ch < 3; ++ch)
            lins.push_back(clamp(matrix(0, ch) * cam[0] + matrix(1, ch) * cam[1] + matrix(2, ch) * cam[2], 0.0f, 1.0f));
        // (A stage of its own: as parts of one Tuple computed per channel,
        // the three channels each recomputed it.)
        linear(x, y) = Tuple(lins);
        std::vector<Expr> encoded;
        for (int ch = 0; ch < 3; ++ch) encoded.push_back(encode_output(linear(x, y)[ch], curve, curve.dim(0).extent(), srgb_curve));
        output(c, x, y) = mux(c, encoded);
    }

    void schedule() {
        raw.dim(0).set_bounds(0, 3).set_stride(1);
        raw.dim(1).set_stride(3);
        output.dim(0).set_bounds(0, 3).set_stride(1);
        output.dim(1).set_stride(3);
        levels.dim(0).set_bounds(0, 3).dim(1).set_bounds(0, 3);
        vignette.dim(0).set_bounds(0, 8);
        matrix.dim(0).set_bounds(0, 3).dim(1).set_bounds(0, 3);
        const int vec = natural_vector_size<float>();
        // Tiles of 512 x 32 pixels on every core; the host never asks for
        // less than one tile (see develop.cpp), so the last shifts inwards.
        Var xo("xo"), yo("yo"), xi("xi"), yi("yi"), tile("tile");
        output.tile(x, y, xo, yo, xi, yi, 512, 32, TailStrategy::ShiftInwards)
            .reorder(c, xi, yi, xo, yo)
            .fuse(xo, yo, tile)
            .unroll(c)
            .vectorize(xi, vec)
            .parallel(tile);
        linear.compute_at(output, yi).vectorize(x, vec);
        output.specialize(srgb_curve != 0);
        linear.specialize(use_vignette != 0);
    }

private:
    Func linear{"linear"};
};

}  // namespace

HALIDE_REGISTER_GENERATOR(DevelopLinear, develop_linear)
