// Per-thread floating-point control and CPU feature detection, which Swift cannot reach.
#pragma once

// Subnormal floats slow sparse training 3-10x at high sparsity (Nerva's measurement).
// MXCSR is per thread: call this on every thread that runs kernels.
void sprig_flush_subnormals_to_zero(void);

// The calling thread's floating-point control register (x86 MXCSR, AArch64 FPCR), to save
// before Sprig sets its modes on a caller's thread and to restore after (the Python package).
unsigned long sprig_floating_point_control(void);
void sprig_set_floating_point_control(unsigned long value);

// 1 when this CPU (and OS) support the instruction-set feature (x86: __builtin_cpu_supports'
// names, e.g. "avx2", "avx512f"; AArch64: "asimd", "lse", "fp16", "dotprod", "sve", "sve2",
// "i8mm", "bf16"), 0 when not, -1 for a name it does not know.
int sprig_cpu_supports(const char *feature);

// The features this build was compiled for (the compiler's target macros under SPRIG_TARGET_CPU),
// space-separated, e.g. "sse3 ssse3 sse4.1 sse4.2 popcnt avx avx2 fma bmi bmi2 f16c movbe lzcnt".
const char *sprig_build_cpu_features(void);

// 0 when this CPU supports every feature in `required` (space-separated); otherwise 1, with the
// error line naming the host and the first missing feature written into `message`. A start-up
// check runs it on the build's features before main and exits with status 1 on a mismatch.
int sprig_check_cpu_features(const char *required, const char *host, char *message, unsigned long capacity);

// The CPUs the calling thread may run on (its affinity mask), at most `capacity` of them into
// `cpus` in increasing order; returns how many (0 where the OS does not say).
int sprig_allowed_cpus(int *cpus, int capacity);

// Lets the calling thread run only on the `count` CPUs in `cpus`; 0 on success.
int sprig_bind_thread(const int *cpus, int count);

// Tells the CPU this thread is spin-waiting (x86 PAUSE), easing the sibling hyperthread.
static inline void sprig_spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}
