// Which of the kernels' compiled variants this CPU runs, on ARM64.
//
// Every kernel is compiled for several targets (OBSCURA_HALIDE_TARGETS) and a
// wrapper runs the first one halide_can_use_target_features accepts. Halide
// 14's runtime knows no ARM64 features: it would accept the dot-product and
// fp16 variant on any core and die of SIGILL on ARMv8.0 ones (Cortex-A53,
// A72, Raspberry Pi 4). The kernel's hardware capabilities decide instead.
#include "kernel_memory.h"

#include <HalideRuntime.h>

#if defined(__aarch64__) && defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

namespace obscura {
namespace {

#if defined(__aarch64__) && defined(__linux__)
bool asks_for(int count, const uint64_t* features, halide_target_feature_t f) {
    const int word = int(f) / 64;
    return word < count && ((features[word] >> (int(f) % 64)) & 1) != 0;
}

int arm64_can_use(int count, const uint64_t* features) {
    const unsigned long hw = getauxval(AT_HWCAP);
    if (asks_for(count, features, halide_target_feature_arm_dot_prod) && !(hw & HWCAP_ASIMDDP)) return 0;
    // fp16 arithmetic, scalar and vector.
    const unsigned long fp16 = HWCAP_FPHP | HWCAP_ASIMDHP;
    if (asks_for(count, features, halide_target_feature_arm_fp16) && (hw & fp16) != fp16) return 0;
    return halide_default_can_use_target_features(count, features);
}
#endif

}  // namespace

void use_kernel_cpu_features() {
#if defined(__aarch64__) && defined(__linux__)
    halide_set_custom_can_use_target_features(arm64_can_use);
#endif
}

}  // namespace obscura
