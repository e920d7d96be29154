#ifndef SPRIG_TRAINING_KERNELS_H
#define SPRIG_TRAINING_KERNELS_H

#include <stdint.h>

/// The CSR kernels of training (see TrainingKernels.c), in the feature-major layout: a batch
/// of B examples with D features is a D×B row-major matrix (row i = feature i of every example).

/// SpMM by rows, for rows r in [row_begin, row_end) and every column j < batch:
///   out[r][j] = Σ_{k ∈ row r} w(k)·x[columns[k]][j]
/// with w(k) = values[k], or values[slots[k]] when slots is not NULL (a product with Wᵀ whose
/// pattern is a transpose plan of W's: the values stay in W's slots).
/// offsets, columns: the CSR of an R×C pattern; x: C×batch; out: R×batch. `far`: where x lies,
/// and so how its rows are prefetched: 0 in L2 (not at all), 1 in L3, 2 in DRAM.
void sprig_csr_times_dense(const int64_t *offsets, const int32_t *columns, const float *values,
                           const int32_t *slots, int64_t row_begin, int64_t row_end,
                           const float *x, float *out, int64_t batch, int far);

/// What the forward SpMM does with each finished sum s of out[r][j] (while it is in a register):
/// NONE: out = s; BIAS: out = s + bias[r]; IDENTITY: out = y[r][j] = s + bias[r];
/// RELU: out = s + bias[r], y[r][j] = max(out, 0) (0 for NaN).
enum { SPRIG_EPILOGUE_NONE = 0, SPRIG_EPILOGUE_BIAS = 1, SPRIG_EPILOGUE_IDENTITY = 2, SPRIG_EPILOGUE_RELU = 3 };

/// The forward SpMM of a layer, Z = W·X (+ b, Y = f(Z) as `epilogue` says), rows r in
/// [row_begin, row_end): sprig_csr_times_dense's product without slots, finished in registers.
/// bias: R values; y: R×batch (both unused with NONE).
void sprig_csr_forward(const int64_t *offsets, const int32_t *columns, const float *values, int64_t row_begin,
                       int64_t row_end, const float *x, float *out, int64_t batch, int far,
                       const float *bias, float *y, int epilogue);

/// SDDMM by rows: dw[k] = Σ_{j < batch} dz[r][j]·x[columns[k]][j] for each nonzero k of rows r
/// in [row_begin, row_end), i.e. (DZ·Xᵀ) sampled on the pattern. dz: R×batch, x: C×batch.
void sprig_csr_sampled_product(const int64_t *offsets, const int32_t *columns, const float *dz,
                               const float *x, float *dw, int64_t row_begin, int64_t row_end,
                               int64_t batch, int far);

/// Batch assembly (BatchGather.c): X[f][j] = source[indices[j]][f] for j < count and the
/// features f = used[k] (f = k when used is NULL), k in [k0, k1); X is D×count, source
/// example-major with `features` values per example. The bytes variant reads table[byte].
void sprig_gather_floats(const float *source, int64_t features, const int64_t *indices, int64_t count,
                         const int32_t *used, int64_t k0, int64_t k1, float *x);
void sprig_gather_bytes(const uint8_t *source, const float *table, int64_t features, const int64_t *indices,
                        int64_t count, const int32_t *used, int64_t k0, int64_t k1, float *x);

#endif
