#include "TrainingKernels.h"

// Vectors of 16, 8 and 4 floats (C vector extensions: zmm with AVX-512, pairs of ymm with AVX2,
// quads of NEON registers), aligned to one float: a row of a D×B matrix starts anywhere.
typedef float v16 __attribute__((vector_size(64), aligned(4)));
typedef float v4 __attribute__((vector_size(16), aligned(4)));
typedef int32_t i16 __attribute__((vector_size(64), aligned(4)));

#if defined(__AVX512F__)
enum { widest = 4, group = 8 };   // 32 vector registers: tiles of 64 columns, 8 dot products at once
#else
enum { widest = 2, group = 4 };   // 16 registers (AVX2, NEON pairs): tiles of 32, 4 at once
#endif
// `far`: where the gathered matrix lies. 0: in L2, nothing prefetched; 1: in L3, each tile's
// lines of the row 8 nonzeros ahead into L1 (whole rows: 1.4× slower SpMM at W = 16384);
// 2: in DRAM, whole rows 32 nonzeros ahead into L2 (more lines in flight than L1's miss
// buffers hold: 1.5–1.9× the L1 prefetch at W = 2^20, density 4e-5).
#define AHEAD(far) ((far) == 2 ? 32 : 8)


#define INLINE static inline __attribute__((always_inline))

INLINE v16 splat16(float s) { return (v16){s, s, s, s, s, s, s, s, s, s, s, s, s, s, s, s}; }
INLINE v4 splat4(float s) { return (v4){s, s, s, s}; }
INLINE float sum4(v4 v) { return (v[0] + v[2]) + (v[1] + v[3]); }
INLINE float sum16(v16 v) {
    const v4 a = __builtin_shufflevector(v, v, 0, 1, 2, 3), b = __builtin_shufflevector(v, v, 4, 5, 6, 7);
    const v4 c = __builtin_shufflevector(v, v, 8, 9, 10, 11), d = __builtin_shufflevector(v, v, 12, 13, 14, 15);
    return sum4((a + b) + (c + d));
}
// sum > 0 ? sum : +0 per element, as the Swift epilogue (NaN and −0 give +0).
INLINE v16 relu16(v16 sum) { return (v16)((i16)sum & (sum > splat16(0))); }
INLINE float weight(const float *values, const int32_t *slots, int64_t k, const int indirect) {
    return indirect ? values[slots[k]] : values[k];
}

// Asks for every line of x's row `column` (batch floats, anywhere in a line): into L1 (far 1)
// or L2 (far 2).
INLINE void prefetch_row(const float *x, int64_t column, int64_t batch, const int far) {
    const float *row = x + column * batch;
    if (far == 2) {
        for (int64_t j = 0; j < batch; j += 16) __builtin_prefetch(row + j, 0, 1);
        __builtin_prefetch(row + batch - 1, 0, 1);
    } else {
        for (int64_t j = 0; j < batch; j += 16) __builtin_prefetch(row + j, 0, 3);
        __builtin_prefetch(row + batch - 1, 0, 3);
    }
}

// One row of out, columns [j, j + 16n): n vectors of accumulators per nonzero chain, two
// chains (even and odd nonzeros) so that 2n FMAs are independent. With `prefetch_end` (x lies
// beyond L2), the x row of the nonzero AHEAD(far) places on, into the next rows up to
// prefetch_end, is requested: in L3, this tile's lines; in DRAM, the whole row, by the row's
// first tile only (the later tiles find it in L2).
INLINE void row_tile(const int32_t *col, const float *values, const int32_t *slots, int64_t count,
                     const float *x, int64_t batch, int64_t j, float *out, const int n,
                     const int indirect, const int32_t *prefetch_end, const int far,
                     float bias, float *y, const int epilogue) {
    v16 a[4] = {0}, c[4] = {0};
    int64_t k = 0;
    for (; k + 2 <= count; k += 2) {
        if (far == 2 && prefetch_end && col + k + AHEAD(far) + 1 < prefetch_end) {
            prefetch_row(x, col[k + AHEAD(far)], batch, far);
            prefetch_row(x, col[k + AHEAD(far) + 1], batch, far);
        }
        if (far == 1 && prefetch_end && col + k + AHEAD(far) + 1 < prefetch_end) {
            for (int u = 0; u < n; u++) {
                __builtin_prefetch(x + col[k + AHEAD(far)] * batch + j + 16 * u);
                __builtin_prefetch(x + col[k + AHEAD(far) + 1] * batch + j + 16 * u);
            }
        }
        const v16 w0 = splat16(weight(values, slots, k, indirect)), w1 = splat16(weight(values, slots, k + 1, indirect));
        const float *x0 = x + col[k] * batch + j, *x1 = x + col[k + 1] * batch + j;
        for (int u = 0; u < n; u++) {
            a[u] += w0 * *(const v16 *)(x0 + 16 * u);
            c[u] += w1 * *(const v16 *)(x1 + 16 * u);
        }
    }
    if (k < count) {
        const v16 w0 = splat16(weight(values, slots, k, indirect));
        const float *x0 = x + col[k] * batch + j;
        for (int u = 0; u < n; u++) a[u] += w0 * *(const v16 *)(x0 + 16 * u);
    }
    for (int u = 0; u < n; u++) {
        v16 sum = a[u] + c[u];
        if (epilogue != SPRIG_EPILOGUE_NONE) sum += splat16(bias);
        *(v16 *)(out + j + 16 * u) = sum;
        if (epilogue == SPRIG_EPILOGUE_IDENTITY) *(v16 *)(y + j + 16 * u) = sum;
        if (epilogue == SPRIG_EPILOGUE_RELU) *(v16 *)(y + j + 16 * u) = relu16(sum);
    }
}

// The epilogue on one float (the tails).
INLINE void finish(float sum, float *out, float *y, float bias, const int epilogue) {
    if (epilogue != SPRIG_EPILOGUE_NONE) sum += bias;
    *out = sum;
    if (epilogue == SPRIG_EPILOGUE_IDENTITY) *y = sum;
    if (epilogue == SPRIG_EPILOGUE_RELU) *y = sum > 0 ? sum : 0;
}

// One row of out, columns [j, batch) with batch − j < 16: a vector of 4 while 4 remain, then floats.
INLINE void row_tail(const int32_t *col, const float *values, const int32_t *slots, int64_t count,
                     const float *x, int64_t batch, int64_t j, float *out, const int indirect,
                     float bias, float *y, const int epilogue) {
    for (; j + 4 <= batch; j += 4) {
        v4 a = {0};
        for (int64_t k = 0; k < count; k++) a += splat4(weight(values, slots, k, indirect)) * *(const v4 *)(x + col[k] * batch + j);
        for (int i = 0; i < 4; i++) finish(a[i], out + j + i, y + j + i, bias, epilogue);
    }
    for (; j < batch; j++) {
        float a = 0;
        for (int64_t k = 0; k < count; k++) a += weight(values, slots, k, indirect) * x[col[k] * batch + j];
        finish(a, out + j, y + j, bias, epilogue);
    }
}

INLINE void times_dense(const int64_t *offsets, const int32_t *columns, const float *values, int64_t origin,
                        int64_t row_begin, int64_t row_end, const float *x, float *out, int64_t batch, const int far,
                        const float *bias, float *y, const int epilogue) {
    const int32_t *last = far ? columns + offsets[row_end] : 0;   // prefetches stop at the call's last nonzero
    for (int64_t r = row_begin; r < row_end; r++) {
        const int64_t start = offsets[r], count = offsets[r + 1] - start;
        const int32_t *col = columns + start;
        const float *v = values + (start - origin);
        float *o = out + r * batch;
        const float b = epilogue != SPRIG_EPILOGUE_NONE ? bias[r] : 0;
        float *yr = epilogue == SPRIG_EPILOGUE_IDENTITY || epilogue == SPRIG_EPILOGUE_RELU ? y + r * batch : 0;
        int64_t j = 0;
        const int32_t *ahead_end = last;   // the first tile prefetches, the later ones find the rows
        for (; j + 16 * widest <= batch; j += 16 * widest, ahead_end = far == 2 ? 0 : ahead_end) {
            row_tile(col, v, 0, count, x, batch, j, o, widest, 0, ahead_end, far, b, yr, epilogue);
        }
        switch ((batch - j) / 16) {   // the rest of the full vectors, in one tile
        case 3: row_tile(col, v, 0, count, x, batch, j, o, 3, 0, ahead_end, far, b, yr, epilogue); j += 48; break;
        case 2: row_tile(col, v, 0, count, x, batch, j, o, 2, 0, ahead_end, far, b, yr, epilogue); j += 32; break;
        case 1: row_tile(col, v, 0, count, x, batch, j, o, 1, 0, ahead_end, far, b, yr, epilogue); j += 16; break;
        default: break;
        }
        if (j < batch) row_tail(col, v, 0, count, x, batch, j, o, 0, b, yr, epilogue);
    }
}

// One row of Wᵀ too long to stage: its values read through the slots.
static void times_dense_indirect_row(const int64_t *offsets, const int32_t *columns, const float *values,
                                     const int32_t *slots, int64_t r, const float *x, float *out, int64_t batch) {
    const int64_t start = offsets[r], count = offsets[r + 1] - start;
    int64_t j = 0;
    for (; j + 16 <= batch; j += 16) {
        row_tile(columns + start, values, slots + start, count, x, batch, j, out + r * batch, 1, 1, (const int32_t *)0, 0,
                 0, 0, SPRIG_EPILOGUE_NONE);
    }
    if (j < batch) row_tail(columns + start, values, slots + start, count, x, batch, j, out + r * batch, 1, 0, 0, SPRIG_EPILOGUE_NONE);
}

// Rows outer; within a row, tiles of the batch outer and the row's nonzeros inner, so a tile's
// accumulators stay in registers over the whole row and out is written once. With slots, the
// values of a run of rows are first gathered into a staging array (one random read per
// nonzero, many in flight) instead of once per tile inside the product.
// The forward product with each `far` and epilogue compiled apart.
#define FORWARD(far, epilogue) times_dense(offsets, columns, values, 0, row_begin, row_end, x, out, batch, far, bias, y, epilogue)
#define FORWARD_EPILOGUES(far) \
    switch (epilogue) { \
    case SPRIG_EPILOGUE_BIAS: FORWARD(far, SPRIG_EPILOGUE_BIAS); break; \
    case SPRIG_EPILOGUE_IDENTITY: FORWARD(far, SPRIG_EPILOGUE_IDENTITY); break; \
    case SPRIG_EPILOGUE_RELU: FORWARD(far, SPRIG_EPILOGUE_RELU); break; \
    default: FORWARD(far, SPRIG_EPILOGUE_NONE); break; \
    }

void sprig_csr_forward(const int64_t *offsets, const int32_t *columns, const float *values, int64_t row_begin,
                       int64_t row_end, const float *x, float *out, int64_t batch, int far,
                       const float *bias, float *y, int epilogue) {
    switch (far) {
    case 2: FORWARD_EPILOGUES(2); break;
    case 1: FORWARD_EPILOGUES(1); break;
    default: FORWARD_EPILOGUES(0); break;
    }
}

void sprig_csr_times_dense(const int64_t *offsets, const int32_t *columns, const float *values,
                           const int32_t *slots, int64_t row_begin, int64_t row_end,
                           const float *x, float *out, int64_t batch, int far) {
    if (!slots) {
        sprig_csr_forward(offsets, columns, values, row_begin, row_end, x, out, batch, far, 0, 0, SPRIG_EPILOGUE_NONE);
        return;
    }
    enum { staged = 4096 };
    float stage[staged];
    for (int64_t r = row_begin; r < row_end;) {
        const int64_t origin = offsets[r];
        int64_t end = r;
        while (end < row_end && offsets[end + 1] - origin <= staged) end++;
        if (end == r) {
            times_dense_indirect_row(offsets, columns, values, slots, r, x, out, batch);
            r++;
            continue;
        }
        for (int64_t k = origin; k < offsets[end]; k++) stage[k - origin] = values[slots[k]];
        switch (far) {
        case 2: times_dense(offsets, columns, stage, origin, r, end, x, out, batch, 2, 0, 0, SPRIG_EPILOGUE_NONE); break;
        case 1: times_dense(offsets, columns, stage, origin, r, end, x, out, batch, 1, 0, 0, SPRIG_EPILOGUE_NONE); break;
        default: times_dense(offsets, columns, stage, origin, r, end, x, out, batch, 0, 0, 0, SPRIG_EPILOGUE_NONE); break;
        }
        r = end;
    }
}

// m nonzeros of one row at once: dw[k + i] = dz·x[col[k + i]] for i < m. Each vector of dz is
// loaded once for the m rows of x it multiplies (m + 1 loads per m FMAs), m independent chains.
INLINE void dot_group(const int32_t *col, int64_t k, const int32_t *prefetch_end, const float *dz, const float *x,
                      int64_t batch, float *dw, const int m, const int far) {
    const float *xs[8];
    for (int i = 0; i < m; i++) xs[i] = x + col[k + i] * batch;
    if (far && col + k + AHEAD(far) + m <= prefetch_end) {
        for (int i = 0; i < m; i++) prefetch_row(x, col[k + AHEAD(far) + i], batch, far);
    }
    v16 a[8] = {0};
    int64_t j = 0;
    for (; j + 16 <= batch; j += 16) {
        const v16 d = *(const v16 *)(dz + j);
        for (int i = 0; i < m; i++) a[i] += d * *(const v16 *)(xs[i] + j);
    }
    float s[8];
    for (int i = 0; i < m; i++) s[i] = sum16(a[i]);
    if (j + 4 <= batch) {
        v4 t[8] = {0};
        for (; j + 4 <= batch; j += 4) {
            const v4 d = *(const v4 *)(dz + j);
            for (int i = 0; i < m; i++) t[i] += d * *(const v4 *)(xs[i] + j);
        }
        for (int i = 0; i < m; i++) s[i] += sum4(t[i]);
    }
    for (; j < batch; j++) for (int i = 0; i < m; i++) s[i] += dz[j] * xs[i][j];
    for (int i = 0; i < m; i++) dw[k + i] = s[i];
}

INLINE void sampled_product(const int64_t *offsets, const int32_t *columns, const float *dz, const float *x,
                            float *dw, int64_t row_begin, int64_t row_end, int64_t batch, const int far) {
    const int32_t *last = far ? columns + offsets[row_end] : 0;   // prefetches run on into the next rows
    for (int64_t r = row_begin; r < row_end; r++) {
        const int64_t start = offsets[r], count = offsets[r + 1] - start;
        const int32_t *col = columns + start;
        const float *d = dz + r * batch;
        float *w = dw + start;
        int64_t k = 0;
        for (; k + group <= count; k += group) dot_group(col, k, last, d, x, batch, w, group, far);
        for (; k < count; k++) dot_group(col, k, last, d, x, batch, w, 1, far);
    }
}

void sprig_csr_sampled_product(const int64_t *offsets, const int32_t *columns, const float *dz,
                               const float *x, float *dw, int64_t row_begin, int64_t row_end,
                               int64_t batch, int far) {
    switch (far) {
    case 2: sampled_product(offsets, columns, dz, x, dw, row_begin, row_end, batch, 2); break;
    case 1: sampled_product(offsets, columns, dz, x, dw, row_begin, row_end, batch, 1); break;
    default: sampled_product(offsets, columns, dz, x, dw, row_begin, row_end, batch, 0); break;
    }
}
