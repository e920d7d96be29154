// The training kernels (Sources/TrainingKernels) built for one instruction set, checked against
// naive double-precision products. KernelISATests compiles this file with each -march the
// machine can run (the release build covers only the machine's own), so the AVX2 and plain
// vector paths are tested here too. Exit 0 and "ok" when every product agrees.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "TrainingKernels.h"

static uint64_t state = 88172645463325252ull;
static double uniform(void) {   // xorshift64, [0, 1)
    state ^= state << 13; state ^= state >> 7; state ^= state << 17;
    return (double)(state >> 11) / 9007199254740992.0;
}

typedef struct { int64_t rows, columns, *offsets; int32_t *indices, *slots; } csr;

// A random R×C pattern of the given density; rows may be empty.
static csr random_pattern(int64_t rows, int64_t columns, double density) {
    csr p = {rows, columns, calloc(rows + 1, sizeof(int64_t)), malloc(rows * columns * sizeof(int32_t) + 4), 0};
    int64_t n = 0;
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t c = 0; c < columns; c++) if (uniform() < density) p.indices[n++] = (int32_t)c;
        p.offsets[r + 1] = n;
    }
    return p;
}

// Wᵀ's pattern, with slots[k] = W's slot of the k-th nonzero of Wᵀ.
static csr transpose(csr w) {
    csr t = {w.columns, w.rows, calloc(w.columns + 1, sizeof(int64_t)), malloc(w.offsets[w.rows] * sizeof(int32_t) + 4),
             malloc(w.offsets[w.rows] * sizeof(int32_t) + 4)};
    for (int64_t k = 0; k < w.offsets[w.rows]; k++) t.offsets[w.indices[k] + 1]++;
    for (int64_t c = 0; c < w.columns; c++) t.offsets[c + 1] += t.offsets[c];
    int64_t *next = malloc((w.columns + 1) * sizeof(int64_t));
    for (int64_t c = 0; c <= w.columns; c++) next[c] = t.offsets[c];
    for (int64_t r = 0; r < w.rows; r++) {
        for (int64_t k = w.offsets[r]; k < w.offsets[r + 1]; k++) {
            const int64_t q = next[w.indices[k]]++;
            t.indices[q] = (int32_t)r;
            t.slots[q] = (int32_t)k;
        }
    }
    free(next);
    return t;
}

static float *random_floats(int64_t n) {
    float *v = malloc(n * sizeof(float) + 4);
    for (int64_t i = 0; i < n; i++) v[i] = (float)(2 * uniform() - 1);
    return v;
}

static int failures = 0;
// |got − want| ≤ 3e-5·(Σ|terms| + 1), the float rounding of a sum of those terms.
static void expect(const char *what, int64_t r, int64_t j, double got, double want, double scale, const char *shape) {
    if (fabs(got - want) <= 3e-5 * (scale + 1) && !isnan(got)) return;
    if (failures++ < 10) printf("%s %s: [%lld][%lld] = %.7g, want %.7g\n", shape, what, (long long)r, (long long)j, got, want);
}

static void check(int64_t k, int64_t d, double density, int64_t b) {
    char shape[64];
    snprintf(shape, sizeof shape, "%lldx%lld d=%g B=%lld", (long long)k, (long long)d, density, (long long)b);
    csr w = random_pattern(k, d, density), wt = transpose(w);
    const int64_t nnz = w.offsets[k];
    float *values = random_floats(nnz), *bias = random_floats(k), *x = random_floats(d * b), *dz = random_floats(k * b);
    float *z = malloc(k * b * sizeof(float) + 4), *y = malloc(k * b * sizeof(float) + 4);
    float *dx = malloc(d * b * sizeof(float) + 4), *dw = malloc(nnz * sizeof(float) + 4);
    for (int far = 0; far <= 2; far++) {
        for (int epilogue = SPRIG_EPILOGUE_NONE; epilogue <= SPRIG_EPILOGUE_RELU; epilogue++) {
            sprig_csr_forward(w.offsets, w.indices, values, 0, k, x, z, b, far, bias, y, epilogue);
            for (int64_t r = 0; r < k; r++) {
                for (int64_t j = 0; j < b; j++) {
                    double s = epilogue == SPRIG_EPILOGUE_NONE ? 0 : bias[r], scale = fabs(s);
                    for (int64_t q = w.offsets[r]; q < w.offsets[r + 1]; q++) {
                        s += (double)values[q] * x[w.indices[q] * b + j];
                        scale += fabs((double)values[q] * x[w.indices[q] * b + j]);
                    }
                    expect("forward Z", r, j, z[r * b + j], s, scale, shape);
                    if (epilogue == SPRIG_EPILOGUE_IDENTITY) expect("forward Y", r, j, y[r * b + j], s, scale, shape);
                    if (epilogue == SPRIG_EPILOGUE_RELU) expect("forward relu Y", r, j, y[r * b + j], s > 0 ? s : 0, scale, shape);
                }
            }
        }
        sprig_csr_times_dense(wt.offsets, wt.indices, values, wt.slots, 0, d, dz, dx, b, far);
        for (int64_t i = 0; i < d; i++) {
            for (int64_t j = 0; j < b; j++) {
                double s = 0, scale = 0;
                for (int64_t q = wt.offsets[i]; q < wt.offsets[i + 1]; q++) {
                    s += (double)values[wt.slots[q]] * dz[wt.indices[q] * b + j];
                    scale += fabs((double)values[wt.slots[q]] * dz[wt.indices[q] * b + j]);
                }
                expect("transposed DX", i, j, dx[i * b + j], s, scale, shape);
            }
        }
        sprig_csr_sampled_product(w.offsets, w.indices, dz, x, dw, 0, k, b, far);
        for (int64_t r = 0; r < k; r++) {
            for (int64_t q = w.offsets[r]; q < w.offsets[r + 1]; q++) {
                double s = 0, scale = 0;
                for (int64_t j = 0; j < b; j++) {
                    s += (double)dz[r * b + j] * x[w.indices[q] * b + j];
                    scale += fabs((double)dz[r * b + j] * x[w.indices[q] * b + j]);
                }
                expect("sampled DW", r, q, dw[q], s, scale, shape);
            }
        }
    }
    free(w.offsets); free(w.indices); free(wt.offsets); free(wt.indices); free(wt.slots);
    free(values); free(bias); free(x); free(dz); free(z); free(y); free(dx); free(dw);
}

int main(void) {
    // (K, D, density, B): 1×1, empty rows, batches around every tile width (64 columns with
    // AVX-512, 32 elsewhere; then 48, 32 or 16, vectors of 4 and single floats), rows of Wᵀ
    // longer than the transposed product's staging array (4096 values).
    const struct { int64_t k, d; double density; int64_t b; } cases[] = {
        {1, 1, 1, 1}, {1, 1, 1, 7}, {7, 5, 0.3, 1}, {13, 17, 0.1, 33}, {64, 48, 0.05, 100}, {25, 9, 0, 4},
        {20, 30, 0.3, 129}, {9, 11, 0.5, 48}, {5, 70, 0.2, 15}, {12, 8, 0.9, 65}, {6, 40, 0.6, 3},
        {7, 20, 0.4, 120}, {6, 25, 0.5, 273}, {11, 13, 0.7, 64}, {3, 300, 0.3, 100}, {5000, 3, 0.9, 20},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check(cases[i].k, cases[i].d, cases[i].density, cases[i].b);
    if (failures) { printf("%d wrong values\n", failures); return 1; }
    printf("ok\n");
    return 0;
}
