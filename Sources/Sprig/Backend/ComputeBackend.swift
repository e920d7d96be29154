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

    /// W's pattern and its transpose plan as this backend's `kernel` takes them (for CSR: row
    /// partitions for the CPU's threads, device arrays and descriptors for cuSPARSE; for dense:
    /// the K×D matrices of W and DW). A layer keeps it while its pattern and kernel stay the same
    /// and `canUse` says yes. The sparse operations below take either kind.
    func prepare(_ pattern: SparsityPattern, transpose: TransposePlan, kernel: SparseLayerKernel) throws -> any SparseOperand
    func canUse(_ operand: any SparseOperand) -> Bool

    /// SpMM with its epilogue: Z = W·X + b, Y = f(Z).   X: D×B, b: K, Z and Y: K×B. Z and Y may
    /// be the same buffer (a ReLU layer keeps Y alone): Y = f(Z) is then what it holds.
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

    /// GEMM with its epilogue: Z = W·X + b, Y = f(Z).   W: K×D, X: D×B, Z and Y: K×B (Z and Y
    /// may be one buffer, as in `sparseForward`).
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

    // MARK: the other layers (feature-major K×B; arrays named `host…` are host memory, K values)

    /// destination[0..<count] = source[0..<count].
    func copy(_ source: UnsafePointer<Float>, to destination: UnsafeMutablePointer<Float>, count: Int) throws
    /// c[i] = a[i]·b[i], i < count (dropout's backward: DX = DY ∘ M).
    func multiply(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into c: UnsafeMutablePointer<Float>, count: Int) throws
    /// Inverted dropout: M[k,j] = 0 where u(key_j, k) < rate, 1/(1 − rate) elsewhere (u:
    /// `Dropout.uniform(key:unit:)`), Y = X ∘ M.   `hostKeys`: each example's hash (B values).
    func dropoutForward(input x: UnsafePointer<Float>, output y: UnsafeMutablePointer<Float>, mask: UnsafeMutablePointer<Float>,
                        units: Int, batch: Int, rate: Float, hostKeys: UnsafePointer<UInt64>) throws
    /// Softmax of each column: Y[:,j] = exp(X[:,j] − m_j) / Σ_c exp(X[c,j] − m_j), m_j = max_c X[c,j];
    /// with `logarithm`, log-softmax: Y = X − m_j − log Σ_c exp(X[c,j] − m_j).
    func softmaxForward(input x: UnsafePointer<Float>, output y: UnsafeMutablePointer<Float>, classes: Int, batch: Int,
                        logarithm: Bool) throws
    /// Softmax: DX = Y ∘ (DY − Σ_c DY∘Y); log-softmax: DX = DY − exp(Y)·Σ_c DY (sums per column).
    func softmaxBackward(output y: UnsafePointer<Float>, outputGradient dy: UnsafePointer<Float>,
                         inputGradient dx: UnsafeMutablePointer<Float>, classes: Int, batch: Int, logarithm: Bool) throws
    /// Per feature k, in Double: hostSums[k] = Σ_j A[k,j] and hostSums[K + k] = Σ_j A[k,j]·B[k,j]
    /// (batch norm's statistics, brought to the host to be summed over the ranks).
    func featureSums(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, features: Int, batch: Int,
                     into hostSums: UnsafeMutablePointer<Double>) throws
    /// Batch norm in training: X̂[k,:] = (X[k,:] − μ_k)·s_k, Y = γ_k·X̂ + β_k   (μ, s = 1/√(σ² + ε): host).
    func batchNormForward(input x: UnsafePointer<Float>, hostMean: UnsafePointer<Float>, hostInverseDeviation: UnsafePointer<Float>,
                          gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, normalized xHat: UnsafeMutablePointer<Float>,
                          output y: UnsafeMutablePointer<Float>, features: Int, batch: Int) throws
    /// Batch norm in evaluation: Y[k,:] = γ_k·(X[k,:] − μ_k)/√(σ²_k + ε) + β_k   (running μ, σ²: host).
    func batchNormInference(input x: UnsafePointer<Float>, hostMean: UnsafePointer<Float>, hostVariance: UnsafePointer<Float>,
                            epsilon: Float, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
                            output y: UnsafeMutablePointer<Float>, features: Int, batch: Int) throws
    /// Batch norm's input gradient: DX[k,:] = γ_k·s_k·(DY[k,:] − S0_k/N − X̂[k,:]·S1_k/N), with the
    /// ranks' sums S0 = Σ DY, S1 = Σ DY·X̂ (`hostSums`, as `featureSums` lays them out) and N the global batch.
    func batchNormInputGradient(outputGradient dy: UnsafePointer<Float>, normalized xHat: UnsafePointer<Float>,
                                hostSums: UnsafePointer<Double>, gamma: UnsafePointer<Float>, hostInverseDeviation: UnsafePointer<Float>,
                                globalBatch: Int, inputGradient dx: UnsafeMutablePointer<Float>, features: Int, batch: Int) throws
    /// SReLU per neuron k: Y = t_l + a_l·(X − t_l) where X ≤ t_l, t_r + a_r·(X − t_r) where X ≥ t_r, X between.
    func sreluForward(input x: UnsafePointer<Float>, _ parameters: SReLUParameters, output y: UnsafeMutablePointer<Float>,
                      units: Int, batch: Int) throws
    /// SReLU's backward: DX = DY·(a_l | 1 | a_r) (when `dx`); per neuron Da_l = Σ DY·(X − t_l) and
    /// Dt_l = Σ DY·(1 − a_l) over X ≤ t_l, Da_r = Σ DY·(X − t_r) and Dt_r = Σ DY·(1 − a_r) over X ≥ t_r.
    func sreluBackward(input x: UnsafePointer<Float>, outputGradient dy: UnsafePointer<Float>, _ parameters: SReLUParameters,
                       gradients: SReLUParameters, inputGradient dx: UnsafeMutablePointer<Float>?, units: Int, batch: Int) throws

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
