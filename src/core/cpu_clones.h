// OBSCURA_CPU_CLONES: a hot C++ loop compiled for AVX-512 and AVX2 machines
// as well as the baseline, the variant chosen when the program loads (GCC
// function multi-versioning). On ARM64 the baseline (NEON) only: GCC 12 has
// no target_clones there, and every ARMv8 core has NEON.
#pragma once

#if defined(__x86_64__)
#define OBSCURA_CPU_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define OBSCURA_CPU_CLONES
#endif
