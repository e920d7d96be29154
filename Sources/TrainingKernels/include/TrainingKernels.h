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

/// SDDMM by rows: dw[k] = Σ_{j < batch} dz[r][j]·x[columns[k]][j] for each nonzero k of rows r
/// in [row_begin, row_end), i.e. (DZ·Xᵀ) sampled on the pattern. dz: R×batch, x: C×batch.
void sprig_csr_sampled_product(const int64_t *offsets, const int32_t *columns, const float *dz,
                               const float *x, float *dw, int64_t row_begin, int64_t row_end,
                               int64_t batch, int far);

#endif
