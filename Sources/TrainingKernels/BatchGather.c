#include "TrainingKernels.h"

// Batch assembly: examples stored example-major (row i = example i's features) copied into the
// feature-major batch X (D×B), as a blocked transpose. Examples go in blocks of 16; with every
// feature copied, tiles of 16 examples × 16 features are loaded as 16 vectors, transposed in
// registers and stored as 16 runs of X's rows (bytes through the value table). Otherwise (a
// list of features, the edges) each feature's 16 values are copied one by one into one run.

enum { block = 16, ahead = 2 };   // examples per block; blocks whose rows are prefetched ahead

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

#define INLINE static inline __attribute__((always_inline))

typedef uint8_t b16 __attribute__((vector_size(16), aligned(1)));
typedef float f16 __attribute__((vector_size(64), aligned(4)));

// The perfect shuffle: rows (r[k], r[k + 8]) → (zip of their first halves, zip of their second
// halves) as rows 2k, 2k + 1. Four rounds transpose a 16×16 tile.
#define ZIP_LO 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23
#define ZIP_HI 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31
#define TRANSPOSE16(type, r) \
    for (int round = 0; round < 4; round++) { \
        type next[16]; \
        for (int k = 0; k < 8; k++) { \
            next[2 * k] = __builtin_shufflevector(r[k], r[k + 8], ZIP_LO); \
            next[2 * k + 1] = __builtin_shufflevector(r[k], r[k + 8], ZIP_HI); \
        } \
        for (int k = 0; k < 16; k++) r[k] = next[k]; \
    }

// A full tile: features [f0, f0 + 16) of the 16 rows, to X rows f0… at columns j0….
INLINE void tile_bytes(const uint8_t *const *rows, const float *table, int64_t f0, float *x, int64_t count, int64_t j0) {
    b16 r[16];
    for (int i = 0; i < 16; i++) r[i] = *(const b16 *)(rows[i] + f0);
    TRANSPOSE16(b16, r)
    for (int c = 0; c < 16; c++) {
        float *out = x + (f0 + c) * count + j0;
#if defined(__AVX512F__)   // the 16 table entries in one gather (the compiler extracts byte by byte)
        _mm512_storeu_ps(out, _mm512_i32gather_ps(_mm512_cvtepu8_epi32((__m128i)r[c]), table, 4));
#elif defined(__AVX2__)
        const __m128i bytes = (__m128i)r[c];
        _mm256_storeu_ps(out, _mm256_i32gather_ps(table, _mm256_cvtepu8_epi32(bytes), 4));
        _mm256_storeu_ps(out + 8, _mm256_i32gather_ps(table, _mm256_cvtepu8_epi32(_mm_srli_si128(bytes, 8)), 4));
#else
        for (int i = 0; i < 16; i++) out[i] = table[r[c][i]];
#endif
    }
}

INLINE void tile_floats(const float *const *rows, int64_t f0, float *x, int64_t count, int64_t j0) {
    f16 r[16];
    for (int i = 0; i < 16; i++) r[i] = *(const f16 *)(rows[i] + f0);
    TRANSPOSE16(f16, r)
    for (int c = 0; c < 16; c++) *(f16 *)(x + (f0 + c) * count + j0) = r[c];
}

// The lines of features [first, last] of `row` (elements of `size` bytes), into L2.
INLINE void prefetch_features(const void *row, int64_t first, int64_t last, int64_t size) {
    const char *p = (const char *)row;
    for (int64_t offset = (first * size) & ~63; offset <= last * size; offset += 64) __builtin_prefetch(p + offset, 0, 2);
}

INLINE void gather(const float *floats, const uint8_t *bytes, const float *table, int64_t features,
                   const int64_t *indices, int64_t count, const int32_t *used, int64_t k0, int64_t k1, float *x) {
    const int64_t size = floats ? 4 : 1;
    const int64_t first = used ? used[k0] : k0, last = used ? used[k1 - 1] : k1 - 1;
    for (int64_t j0 = 0; j0 < count; j0 += block) {
        const int64_t n = count - j0 < block ? count - j0 : block;
        for (int64_t i = j0 + block * ahead; i < j0 + block * (ahead + 1) && i < count; i++) {
            prefetch_features(floats ? (const void *)(floats + indices[i] * features) : (const void *)(bytes + indices[i] * features),
                              first, last, size);
        }
        const float *frows[block];
        const uint8_t *brows[block];
        for (int64_t i = 0; i < n; i++) {
            if (floats) frows[i] = floats + indices[j0 + i] * features;
            else brows[i] = bytes + indices[j0 + i] * features;
        }
        int64_t k = k0;
        if (!used && n == block) {   // whole tiles of 16 features
            for (; k + 16 <= k1; k += 16) {
                if (floats) tile_floats(frows, k, x, count, j0);
                else tile_bytes(brows, table, k, x, count, j0);
            }
        }
        for (; k < k1; k++) {
            const int64_t f = used ? used[k] : k;
            float *out = x + f * count + j0;
            if (floats) {
                for (int64_t i = 0; i < n; i++) out[i] = frows[i][f];
            } else {
                for (int64_t i = 0; i < n; i++) out[i] = table[brows[i][f]];
            }
        }
    }
}

void sprig_gather_floats(const float *source, int64_t features, const int64_t *indices, int64_t count,
                         const int32_t *used, int64_t k0, int64_t k1, float *x) {
    if (used) gather(source, 0, 0, features, indices, count, used, k0, k1, x);
    else gather(source, 0, 0, features, indices, count, 0, k0, k1, x);
}

void sprig_gather_bytes(const uint8_t *source, const float *table, int64_t features, const int64_t *indices,
                        int64_t count, const int32_t *used, int64_t k0, int64_t k1, float *x) {
    if (used) gather(0, source, table, features, indices, count, used, k0, k1, x);
    else gather(0, source, table, features, indices, count, 0, k0, k1, x);
}
