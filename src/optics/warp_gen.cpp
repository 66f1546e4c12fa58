// warp: resamples a developed RGB image through a radial warp (DNG
// WarpRectilinear, or a lensfun profile; see obscura/warp.h): each output
// pixel is fetched from where the lens put it, per colour plane (so lateral
// chromatic aberration is corrected with the distortion), with Catmull-Rom
// bicubic interpolation.
#include "Halide.h"
#include "bicubic.h"

namespace {

using namespace Halide;

class Warp : public Generator<Warp> {
public:
    Input<Buffer<uint16_t, 3>> input{"input"};    // c, x, y (interleaved)
    Input<Buffer<float, 2>> coef{"coef"};         // 9 x 3: a0..a6 (powers of r), kt0, kt1 per plane
    Input<float> cx{"cx"}, cy{"cy"};              // optical centre, pixels
    Input<float> radius{"radius"};                // largest centre-corner distance, pixels
    Output<Buffer<uint16_t, 3>> output{"output"};  // c, x, y

    Var c{"c"}, x{"x"}, y{"y"}, xo{"xo"}, yo{"yo"}, xi{"xi"}, yi{"yi"}, tile{"tile"};

    void generate() {
        Func in = BoundaryConditions::repeat_edge(input);
        Expr dx = (cast<float>(x) - cx) / radius, dy = (cast<float>(y) - cy) / radius;
        Expr r2 = dx * dx + dy * dy;
        Expr r = sqrt(r2);
        Expr f = coef(6, c);
        for (int k = 5; k >= 0; --k) f = coef(k, c) + r * f;
        Expr sx = cx + radius * (f * dx + coef(7, c) * 2.0f * dx * dy + coef(8, c) * (r2 + 2.0f * dx * dx));
        Expr sy = cy + radius * (f * dy + coef(8, c) * 2.0f * dx * dy + coef(7, c) * (r2 + 2.0f * dy * dy));
        // Keep far-off positions finite before converting to int.
        sx = clamp(sx, -4.0f, cast<float>(input.dim(1).max() + 4));
        sy = clamp(sy, -4.0f, cast<float>(input.dim(2).max() + 4));
        Expr sum = obscura::halide::bicubic([&](Expr a, Expr b) { return cast<float>(in(c, a, b)); }, sx, sy);
        output(c, x, y) = cast<uint16_t>(clamp(sum + 0.5f, 0.0f, 65535.0f));
    }

    void schedule() {
        input.dim(0).set_bounds(0, 3).set_stride(1);
        output.dim(0).set_bounds(0, 3).set_stride(1);
        coef.dim(0).set_bounds(0, 9).dim(1).set_bounds(0, 3);
        output.reorder(c, x, y)
            .unroll(c)
            .tile(x, y, xo, yo, xi, yi, 128, 32, TailStrategy::GuardWithIf)
            .fuse(xo, yo, tile)
            .parallel(tile)
            .vectorize(xi, natural_vector_size<float>(), TailStrategy::GuardWithIf);
    }
};

}  // namespace

HALIDE_REGISTER_GENERATOR(Warp, warp)
