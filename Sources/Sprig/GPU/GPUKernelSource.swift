/// The device kernels, in CUDA C, compiled by NVRTC when a GPU rank starts (no CUDA toolkit
/// at build time). One thread per matrix element; matrices are row-major N×stride, as on the
/// CPU (feature-major: a row is a neuron, a column an input).
enum GPUKernelSource {
    static let name = "sprig_kernels.cu"

    static let challenge = """
    // The challenge's epilogue over Z = Wᵀ·Yᵀ (N×stride, row-major):
    //   Y[j, c] = min(cap, max(0, Z[j, c] + b[j]));  alive[c] = 1 if Y[j, c] ≠ 0 for some j.
    extern "C" __global__ void sprig_challenge_epilogue(float* y, long long count, int stride,
                                                        const float* bias, float cap, int* alive) {
        long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
        if (i >= count) return;
        long long j = i / stride;
        int c = (int)(i - j * stride);
        float v = fminf(cap, fmaxf(0.0f, y[i] + bias[j]));
        y[i] = v;
        if (v != 0.0f) alive[c] = 1;   // every writer stores the same value
    }

    // Keeps the columns `keep` (kept of them, ascending) of an N×inStride matrix:
    //   out[j, c] = in[j, keep[c]],  out: N×kept.
    extern "C" __global__ void sprig_gather_columns(const float* in, int inStride, float* out, int kept,
                                                    long long count, const int* keep) {
        long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
        if (i >= count) return;
        long long j = i / kept;
        int c = (int)(i - j * kept);
        out[i] = in[j * inStride + keep[c]];
    }
    """
}
