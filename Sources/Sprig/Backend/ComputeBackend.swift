/// Where a rank's training runs: buffers in the backend's memory and the operations training
/// needs on them. The CPU backend (`CPUBackend`) is Sprig's own kernels on its thread pool; a
/// device backend (CUDA: cuSPARSE, cuBLAS, NVRTC kernels) implements the same operations on
/// device memory. The parameter store keeps one layout and mirrors it in the backend's memory
/// (`ParameterStore.place(on:)`); a workspace's activations live there too.
///
/// Layout: feature-major, as everywhere in Sprig. A batch of B examples with D features is a
/// D×B row-major matrix (row length B); W is K×D (outputs × inputs), CSR for a sparse layer
/// (values by slot, in the store) or row-major for a dense one.
///
/// Pointers passed to and returned by a backend are addresses in its memory: host pointers
/// when `sharesHostMemory`, device addresses otherwise (host code never dereferences those:
/// it copies with `upload` and `download`). Operations are ordered: each sees the results of
/// those called before it.
public protocol ComputeBackend: AnyObject {
    /// A short name for messages and summaries ("cpu", "cuda:0").
    var name: String { get }
    /// Whether host code may read and write this backend's buffers in place (the CPU's own
    /// memory). Layers that only have host kernels run on such a backend only.
    var sharesHostMemory: Bool { get }

    // MARK: memory

    /// `count` zeroed floats in the backend's memory.
    func allocate(count: Int) throws -> BackendBuffer
    /// device[0..<count] = host[0..<count].
    func upload(_ host: UnsafePointer<Float>, to device: UnsafeMutablePointer<Float>, count: Int) throws
    /// host[0..<count] = device[0..<count]; complete when it returns.
    func download(_ device: UnsafePointer<Float>, to host: UnsafeMutablePointer<Float>, count: Int) throws

    // MARK: sparse layers (W: K×D CSR)

    /// W's pattern and its transpose plan as this backend's sparse kernels take them (row
    /// partitions for the CPU's threads, device arrays and descriptors for cuSPARSE). A layer
    /// keeps it while its pattern stays the same and `canUse` says yes.
    func prepare(_ pattern: SparsityPattern, transpose: TransposePlan) throws -> any SparseOperand
    func canUse(_ operand: any SparseOperand) -> Bool

    /// SpMM with its epilogue: Z = W·X + b, Y = f(Z).   X: D×B, b: K, Z and Y: K×B.
    func sparseForward(_ w: any SparseOperand, values: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                       input x: UnsafePointer<Float>, preActivation z: UnsafeMutablePointer<Float>,
                       output y: UnsafeMutablePointer<Float>, batch: Int, activation: Activation) throws
    /// The activation's backward and SDDMM on W's pattern: DZ = DY ∘ f'(Z) (in place over DY),
    /// Db[o] = Σ_j DZ[o,j], DW[p] = Σ_j DZ[o,j]·X[c_p,j] for each nonzero p = (o, c_p)
    /// (work ∝ nnz·B, never K·D·B).   Z, DY: K×B, X: D×B, Db: K, DW: nnz.
    func sparseWeightGradient(_ w: any SparseOperand, preActivation z: UnsafePointer<Float>, activation: Activation,
                              outputGradient dy: UnsafeMutablePointer<Float>, biasGradient db: UnsafeMutablePointer<Float>,
                              input x: UnsafePointer<Float>, weightGradient dw: UnsafeMutablePointer<Float>, batch: Int) throws
    /// SpMM through the transpose plan: DX = Wᵀ·DZ.   DZ: K×B, DX: D×B.
    func sparseInputGradient(_ w: any SparseOperand, values: UnsafePointer<Float>, outputGradient dz: UnsafePointer<Float>,
                             inputGradient dx: UnsafeMutablePointer<Float>, batch: Int) throws

    // MARK: dense layers (W: K×D row-major) and GEMM

    /// GEMM with its epilogue: Z = W·X + b, Y = f(Z).   W: K×D, X: D×B, Z and Y: K×B.
    func denseForward(rows k: Int, columns d: Int, values w: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                      input x: UnsafePointer<Float>, preActivation z: UnsafeMutablePointer<Float>,
                      output y: UnsafeMutablePointer<Float>, batch: Int, activation: Activation) throws
    /// DZ = DY ∘ f'(Z) (in place over DY), Db = row sums of DZ, DW = DZ·Xᵀ (K×D).
    func denseWeightGradient(rows k: Int, columns d: Int, preActivation z: UnsafePointer<Float>, activation: Activation,
                             outputGradient dy: UnsafeMutablePointer<Float>, biasGradient db: UnsafeMutablePointer<Float>,
                             input x: UnsafePointer<Float>, weightGradient dw: UnsafeMutablePointer<Float>, batch: Int) throws
    /// DX = Wᵀ·DZ.   W: K×D, DZ: K×B, DX: D×B.
    func denseInputGradient(rows k: Int, columns d: Int, values w: UnsafePointer<Float>, outputGradient dz: UnsafePointer<Float>,
                            inputGradient dx: UnsafeMutablePointer<Float>, batch: Int) throws
    /// C = A·Bᵀ:  A m×k, B n×k, C m×n, all row-major (RigL's dense gradient block ΔZ·Xᵀ).
    func multiplyTransposed(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into c: UnsafeMutablePointer<Float>,
                            m: Int, n: Int, k: Int) throws

    // MARK: loss and reductions (Y: C×B)

    /// Writes DY = ∂L/∂Y for L = (1/globalBatch)·Σ_j ℓ(y_j, label_j) and returns Σ_j ℓ over
    /// this shard's B examples. `labels` are host values (B of them).
    func loss(_ kind: LossKind, output y: UnsafePointer<Float>, labels: UnsafePointer<Int32>, classes: Int, batch: Int,
              globalBatch: Int, gradient dy: UnsafeMutablePointer<Float>) throws -> Double
    /// The number of examples j whose largest output argmax_c Y[c,j] (the first on a tie) is its label.
    func correctCount(output y: UnsafePointer<Float>, labels: UnsafePointer<Int32>, classes: Int, batch: Int) throws -> Int

    // MARK: optimizer

    /// One update of `count` parameters (the formulas are on `OptimizerKind`); `t` is the
    /// 1-based update count (Adam's bias corrections).
    func optimizerStep(_ kind: OptimizerKind, _ buffers: OptimizerBuffers, count: Int, weightDecay: Float,
                       learningRate eta: Float, update t: Int) throws
}
