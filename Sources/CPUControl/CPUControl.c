#include "CPUControl.h"
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
// FTZ (bit 15) and DAZ (bit 6) of MXCSR.
void sprig_flush_subnormals_to_zero(void) { _mm_setcsr(_mm_getcsr() | 0x8040); }
int sprig_subnormals_flushed(void) { return (_mm_getcsr() & 0x8040) == 0x8040; }
int sprig_cpu_has_avx512f(void) { __builtin_cpu_init(); return __builtin_cpu_supports("avx512f") ? 1 : 0; }
int sprig_cpu_has_avx2(void) { __builtin_cpu_init(); return __builtin_cpu_supports("avx2") ? 1 : 0; }
#elif defined(__aarch64__)
// FZ (bit 24) of FPCR.
void sprig_flush_subnormals_to_zero(void) {
    unsigned long fpcr; __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    fpcr |= (1UL << 24); __asm__ volatile("msr fpcr, %0" : : "r"(fpcr));
}
int sprig_subnormals_flushed(void) {
    unsigned long fpcr; __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr)); return (fpcr >> 24) & 1;
}
int sprig_cpu_has_avx512f(void) { return 0; }
int sprig_cpu_has_avx2(void) { return 0; }
#else
void sprig_flush_subnormals_to_zero(void) {}
int sprig_subnormals_flushed(void) { return 0; }
int sprig_cpu_has_avx512f(void) { return 0; }
int sprig_cpu_has_avx2(void) { return 0; }
#endif
