// Per-thread floating-point control and CPU feature detection, which Swift cannot reach.
#pragma once

// Subnormal floats slow sparse training 3-10x at high sparsity (Nerva's measurement).
// MXCSR is per thread: call this on every thread that runs kernels.
void sprig_flush_subnormals_to_zero(void);
int sprig_subnormals_flushed(void);

// 1 when the CPU (and OS) support the instruction set, else 0.
int sprig_cpu_has_avx512f(void);
int sprig_cpu_has_avx2(void);

// Asks the CPU to bring the cache line holding `address` towards L1 (a hint; never faults).
static inline void sprig_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }

// Tells the CPU this thread is spin-waiting (x86 PAUSE), easing the sibling hyperthread.
static inline void sprig_spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}
