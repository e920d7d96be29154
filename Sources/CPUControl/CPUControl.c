#define _GNU_SOURCE
#include "CPUControl.h"
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

// The check must itself run on any CPU of the architecture: its functions are compiled for the
// baseline instruction set, whatever the target of the rest (an AVX store here would be SIGILL).
#if defined(__x86_64__) || defined(__i386__)
#define SPRIG_BASELINE __attribute__((target("arch=x86-64,no-sse3,no-popcnt,no-bmi,no-bmi2,no-lzcnt,no-movbe")))
#elif defined(__aarch64__)
#define SPRIG_BASELINE __attribute__((target("arch=armv8-a")))
#else
#define SPRIG_BASELINE
#endif

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
// FTZ (bit 15) and DAZ (bit 6) of MXCSR.
void sprig_flush_subnormals_to_zero(void) { _mm_setcsr(_mm_getcsr() | 0x8040); }
unsigned long sprig_floating_point_control(void) { return _mm_getcsr(); }
void sprig_set_floating_point_control(unsigned long value) { _mm_setcsr((unsigned int)value); }

// The x86 features the compiler may use, as __builtin_cpu_supports names them; the build
// requires those whose macro the target (-march) defines.
#define SPRIG_FEATURES(X) \
    X("sse3") X("ssse3") X("sse4.1") X("sse4.2") X("popcnt") X("avx") X("avx2") X("fma") X("bmi") X("bmi2") \
    X("f16c") X("movbe") X("lzcnt") X("gfni") X("vaes") X("vpclmulqdq") X("avxvnni") X("avx512f") X("avx512dq") \
    X("avx512cd") X("avx512bw") X("avx512vl") X("avx512vnni") X("avx512ifma") X("avx512vbmi") X("avx512vbmi2") \
    X("avx512bitalg") X("avx512vpopcntdq") X("avx512bf16") X("avx512fp16")

SPRIG_BASELINE int sprig_cpu_supports(const char *feature) {
    __builtin_cpu_init();
#define SPRIG_SUPPORTS(name) if (strcmp(feature, name) == 0) return __builtin_cpu_supports(name) ? 1 : 0;
    SPRIG_FEATURES(SPRIG_SUPPORTS)
#undef SPRIG_SUPPORTS
    return -1;
}

static const char build_features[] = ""
#ifdef __SSE3__
    " sse3"
#endif
#ifdef __SSSE3__
    " ssse3"
#endif
#ifdef __SSE4_1__
    " sse4.1"
#endif
#ifdef __SSE4_2__
    " sse4.2"
#endif
#ifdef __POPCNT__
    " popcnt"
#endif
#ifdef __AVX__
    " avx"
#endif
#ifdef __AVX2__
    " avx2"
#endif
#ifdef __FMA__
    " fma"
#endif
#ifdef __BMI__
    " bmi"
#endif
#ifdef __BMI2__
    " bmi2"
#endif
#ifdef __F16C__
    " f16c"
#endif
#ifdef __MOVBE__
    " movbe"
#endif
#ifdef __LZCNT__
    " lzcnt"
#endif
#ifdef __GFNI__
    " gfni"
#endif
#ifdef __VAES__
    " vaes"
#endif
#ifdef __VPCLMULQDQ__
    " vpclmulqdq"
#endif
#ifdef __AVXVNNI__
    " avxvnni"
#endif
#ifdef __AVX512F__
    " avx512f"
#endif
#ifdef __AVX512DQ__
    " avx512dq"
#endif
#ifdef __AVX512CD__
    " avx512cd"
#endif
#ifdef __AVX512BW__
    " avx512bw"
#endif
#ifdef __AVX512VL__
    " avx512vl"
#endif
#ifdef __AVX512VNNI__
    " avx512vnni"
#endif
#ifdef __AVX512IFMA__
    " avx512ifma"
#endif
#ifdef __AVX512VBMI__
    " avx512vbmi"
#endif
#ifdef __AVX512VBMI2__
    " avx512vbmi2"
#endif
#ifdef __AVX512BITALG__
    " avx512bitalg"
#endif
#ifdef __AVX512VPOPCNTDQ__
    " avx512vpopcntdq"
#endif
#ifdef __AVX512BF16__
    " avx512bf16"
#endif
#ifdef __AVX512FP16__
    " avx512fp16"
#endif
    ;
#define SPRIG_PORTABLE_TARGET "x86-64-v3"

#elif defined(__aarch64__)
#include <sys/auxv.h>
// FZ (bit 24) of FPCR.
void sprig_flush_subnormals_to_zero(void) {
    unsigned long fpcr; __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    fpcr |= (1UL << 24); __asm__ volatile("msr fpcr, %0" : : "r"(fpcr));
}
unsigned long sprig_floating_point_control(void) {
    unsigned long fpcr; __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    return fpcr;
}
void sprig_set_floating_point_control(unsigned long value) { __asm__ volatile("msr fpcr, %0" : : "r"(value)); }

// AArch64 features from the kernel's HWCAP bits (arch/arm64/include/uapi/asm/hwcap.h).
SPRIG_BASELINE int sprig_cpu_supports(const char *feature) {
    unsigned long hwcap = getauxval(AT_HWCAP), hwcap2 = getauxval(AT_HWCAP2);
    if (strcmp(feature, "asimd") == 0) return (hwcap >> 1) & 1;
    if (strcmp(feature, "lse") == 0) return (hwcap >> 8) & 1;
    if (strcmp(feature, "fp16") == 0) return (hwcap >> 10) & 1;
    if (strcmp(feature, "dotprod") == 0) return (hwcap >> 20) & 1;
    if (strcmp(feature, "sve") == 0) return (hwcap >> 22) & 1;
    if (strcmp(feature, "sve2") == 0) return (hwcap2 >> 1) & 1;
    if (strcmp(feature, "i8mm") == 0) return (hwcap2 >> 13) & 1;
    if (strcmp(feature, "bf16") == 0) return (hwcap2 >> 14) & 1;
    return -1;
}

static const char build_features[] = ""
#ifdef __ARM_NEON
    " asimd"
#endif
#ifdef __ARM_FEATURE_ATOMICS
    " lse"
#endif
#ifdef __ARM_FEATURE_FP16_VECTOR_ARITHMETIC
    " fp16"
#endif
#ifdef __ARM_FEATURE_DOTPROD
    " dotprod"
#endif
#ifdef __ARM_FEATURE_SVE
    " sve"
#endif
#ifdef __ARM_FEATURE_SVE2
    " sve2"
#endif
#ifdef __ARM_FEATURE_MATMUL_INT8
    " i8mm"
#endif
#ifdef __ARM_FEATURE_BF16
    " bf16"
#endif
    ;
#define SPRIG_PORTABLE_TARGET "generic"

#else
void sprig_flush_subnormals_to_zero(void) {}
unsigned long sprig_floating_point_control(void) { return 0; }
void sprig_set_floating_point_control(unsigned long value) { (void)value; }
int sprig_cpu_supports(const char *feature) { (void)feature; return -1; }
static const char build_features[] = "";
#define SPRIG_PORTABLE_TARGET "generic"
#endif

SPRIG_BASELINE const char *sprig_build_cpu_features(void) { return build_features[0] == ' ' ? build_features + 1 : build_features; }

SPRIG_BASELINE int sprig_check_cpu_features(const char *required, const char *host, char *message, unsigned long capacity) {
    const char *cursor = required;
    while (*cursor) {
        while (*cursor == ' ') cursor++;
        size_t length = strcspn(cursor, " ");
        if (length == 0) break;
        char feature[32];
        if (length < sizeof feature) {
            memcpy(feature, cursor, length);
            feature[length] = 0;
            if (sprig_cpu_supports(feature) == 0) {
                snprintf(message, capacity,
                         "error: this sprig was built for %s but host %s lacks %s; rebuild with SPRIG_TARGET_CPU=%s "
                         "(a portable target; launch.sh does so for a hostfile naming other hosts) or build on this host",
                         required, host, feature, SPRIG_PORTABLE_TARGET);
                return 1;
            }
        }
        cursor += length;
    }
    return 0;
}

// Runs before any Swift code (which may use the build's instructions): on a CPU that lacks one,
// one error line and exit status 1 instead of SIGILL somewhere later.
__attribute__((constructor)) SPRIG_BASELINE static void sprig_refuse_unsupported_cpu(void) {
    char host[256] = "?", message[1024];
    gethostname(host, sizeof host - 1);
    if (sprig_check_cpu_features(sprig_build_cpu_features(), host, message, sizeof message)) {
        fprintf(stderr, "%s\n", message);
        _exit(1);
    }
}

#if defined(__linux__)
int sprig_allowed_cpus(int *cpus, int capacity) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0) return 0;
    int count = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE && count < capacity; cpu++) if (CPU_ISSET(cpu, &set)) cpus[count++] = cpu;
    return count;
}

int sprig_bind_thread(const int *cpus, int count) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int i = 0; i < count; i++) if (cpus[i] >= 0 && cpus[i] < CPU_SETSIZE) CPU_SET(cpus[i], &set);
    return sched_setaffinity(0, sizeof set, &set);
}
#else
int sprig_allowed_cpus(int *cpus, int capacity) { (void)cpus; (void)capacity; return 0; }
int sprig_bind_thread(const int *cpus, int count) { (void)cpus; (void)count; return -1; }
#endif
