// Scratch memory and CPU-variant choice for the Halide kernels.
#pragma once

namespace obscura {

// Installs (once) an allocator that keeps each thread's freed scratch
// blocks for reuse. Every kernel tile allocates and frees its intermediates;
// through malloc that returned memory to the system and faulted it back in
// for every tile, a third of the develop time on a 50 MP frame.
void use_kernel_scratch_cache();

// Makes the kernels' run-time dispatch pick only variants this CPU can run
// (ARM64: by its hardware capabilities; elsewhere Halide's own check).
// Installed with the scratch cache, when the program loads.
void use_kernel_cpu_features();

}  // namespace obscura
