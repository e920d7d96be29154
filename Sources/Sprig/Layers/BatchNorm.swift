/// Batch normalisation synchronised across ranks (as PyTorch's SyncBatchNorm), per feature k
/// over the GLOBAL batch of N examples (every rank's shard):
///
/// training:   μ_k = Σ x/N,  σ²_k = Σ x²/N − μ_k²   (sums allreduced: 2K doubles)
///             x̂ = (x − μ)/√(σ² + ε),  y = γ·x̂ + β
///             running μ ← (1−m)·μ_run + m·μ;  running σ² ← (1−m)·σ²_run + m·σ²·N/(N−1)
/// evaluation: y = γ·(x − μ_run)/√(σ²_run + ε) + β
/// backward:   Dγ = Σ DY·x̂, Dβ = Σ DY (this rank's share; the gradient allreduce sums them),
///             DX = γ/√(σ² + ε)·(DY − ΣDY/N − x̂·Σ(DY·x̂)/N)   (the two sums allreduced: 2K doubles)
///
/// So P ranks compute what one process computes on the whole batch. ε = 1e-5, m = 0.1, γ = 1,
/// β = 0 initially, running mean 0 and variance 1 (PyTorch's defaults). Scratch: x̂ (K per example).
public final class BatchNorm: Layer {
    public let size: Int
    public let gamma: ParameterGroup
    public let beta: ParameterGroup
    public let runningMean: LayerState
    public let runningVariance: LayerState
    public let epsilon: Float = 1e-5
    public let momentum: Float = 0.1

    public var inputSize: Int { size }
    public var outputSize: Int { size }
    public var parameterGroups: [ParameterGroup] { [gamma, beta] }
    public var state: [LayerState] { [runningMean, runningVariance] }
    public var scratchPerExample: Int { size }
    public var summary: String { "batch norm" }

    /// Layer `index` of a network, its `ordinal`-th BatchNorm (1-based: the arrays `gamma{k}`, `bn{k}.mean`, …).
    init(index: Int, ordinal: Int, size: Int) {
        self.size = size
        gamma = ParameterGroup(layer: index, name: "gamma", count: size)
        beta = ParameterGroup(layer: index, name: "beta", count: size)
        runningMean = LayerState(name: "bn\(ordinal).mean", count: size, initialValue: 0)
        runningVariance = LayerState(name: "bn\(ordinal).var", count: size, initialValue: 1)
        sums = UnsafeMutablePointer<Double>.allocate(capacity: 2 * size)
        sums.initialize(repeating: 0, count: 2 * size)
        inverseDeviation = FloatBuffer(count: size)
        inverseDeviation.fill(1)
        mean = FloatBuffer(count: size)
        localGradients = FloatBuffer(count: 2 * size)
    }

    public func initialize(_ parameters: ParameterStore) { parameters.values(of: gamma).update(repeating: 1) }

    public func forward(_ buffers: LayerBuffers, context: LayerContext) throws {
        let b = context.batch, backend = context.backend
        let values = try context.parameters.device(.values)
        let g = UnsafePointer(values + gamma.offset), bt = UnsafePointer(values + beta.offset)
        guard context.mode == .training else {
            try backend.batchNormInference(input: buffers.input, hostMean: runningMean.values.pointer,
                                           hostVariance: runningVariance.values.pointer, epsilon: epsilon, gamma: g, beta: bt,
                                           output: buffers.output, features: size, batch: b)
            return
        }
        try backend.featureSums(buffers.input, buffers.input, features: size, batch: b, into: sums)
        try allreduceSums(context)
        let n = Double(max(context.globalBatch, 1))
        let runningMean = runningMean.values.pointer, runningVariance = runningVariance.values.pointer
        let inverseDeviation = inverseDeviation.pointer, mean = mean.pointer
        for k in 0..<size {
            let mu = sums[k] / n
            let sigma2 = max(sums[size + k] / n - mu * mu, 0)
            inverseDeviation[k] = Float(1 / (sigma2 + Double(epsilon)).squareRoot())
            runningMean[k] = (1 - momentum) * runningMean[k] + momentum * Float(mu)
            let unbiased = context.globalBatch > 1 ? sigma2 * n / (n - 1) : sigma2
            runningVariance[k] = (1 - momentum) * runningVariance[k] + momentum * Float(unbiased)
            mean[k] = Float(mu)
        }
        try backend.batchNormForward(input: buffers.input, hostMean: mean, hostInverseDeviation: inverseDeviation, gamma: g, beta: bt,
                                     normalized: buffers.scratch, output: buffers.output, features: size, batch: b)
    }

    public func backward(_ buffers: LayerBuffers, context: LayerContext) throws {
        let b = context.batch, backend = context.backend, xHat = UnsafePointer(buffers.scratch)
        try backend.featureSums(buffers.outputGradient, xHat, features: size, batch: b, into: sums)
        // This rank's share of Dβ = Σ DY and Dγ = Σ DY·x̂ (the gradient allreduce sums them).
        let betaGradient = localGradients.pointer, gammaGradient = localGradients.pointer + size
        for k in 0..<size {
            betaGradient[k] = Float(sums[k])
            gammaGradient[k] = Float(sums[size + k])
        }
        let gradients = try context.parameters.device(.gradients)
        try backend.upload(betaGradient, to: gradients + beta.offset, count: size)
        try backend.upload(gammaGradient, to: gradients + gamma.offset, count: size)
        try allreduceSums(context)
        guard let dx = buffers.inputGradient else { return }
        let g = UnsafePointer(try context.parameters.device(.values) + gamma.offset)
        try backend.batchNormInputGradient(outputGradient: buffers.outputGradient, normalized: xHat, hostSums: sums, gamma: g,
                                           hostInverseDeviation: inverseDeviation.pointer, globalBatch: context.globalBatch,
                                           inputGradient: dx, features: size, batch: b)
    }

    /// Sums `sums` (2K doubles) over the ranks.
    private func allreduceSums(_ context: LayerContext) throws {
        guard context.communicator.size > 1 else { return }
        try context.communicator.allreduceSum(UnsafeMutableBufferPointer(start: sums, count: 2 * size))
    }

    /// Host scratch: the per-feature sums (2K doubles), 1/√(σ² + ε) of the last training forward
    /// (for backward), the batch mean, and this rank's Dβ then Dγ (2K floats).
    private let sums: UnsafeMutablePointer<Double>
    private let inverseDeviation: FloatBuffer
    private let mean: FloatBuffer
    private let localGradients: FloatBuffer

    deinit { sums.deallocate() }
}
