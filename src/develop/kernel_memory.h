// Scratch memory for the Halide kernels.
#pragma once

namespace obscura {

// Installs (once) an allocator that keeps each thread's freed scratch
// blocks for reuse. Every kernel tile allocates and frees its intermediates;
// through malloc that returned memory to the system and faulted it back in
// for every tile, a third of the develop time on a 50 MP frame.
void use_kernel_scratch_cache();

}  // namespace obscura
