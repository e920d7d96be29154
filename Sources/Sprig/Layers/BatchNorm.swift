import Foundation

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
    /// 1/√(σ² + ε) of the last training forward, for backward.
    private var inverseDeviation: [Float]

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
        inverseDeviation = [Float](repeating: 1, count: size)
        sums = UnsafeMutablePointer<Double>.allocate(capacity: 2 * size)
        sums.initialize(repeating: 0, count: 2 * size)
    }

    public func initialize(_ parameters: ParameterStore) { parameters.values(of: gamma).update(repeating: 1) }

    public func forward(_ buffers: LayerBuffers, context: LayerContext) throws {
        let b = context.batch, x = buffers.input, y = buffers.output, xHat = buffers.scratch
        let g = UnsafePointer(context.parameters.values.pointer + gamma.offset)
        let bt = UnsafePointer(context.parameters.values.pointer + beta.offset)
        guard context.mode == .training else {
            let mean = runningMean.values.pointer, variance = runningVariance.values.pointer, epsilon = epsilon
            context.pool.forEachRange(size, minimumPerThread: 64) { rows in
                for k in rows {
                    let scale = g[k] / (variance[k] + epsilon).squareRoot(), shift = bt[k] - mean[k] * scale
                    for j in 0..<b { y[k * b + j] = x[k * b + j] * scale + shift }
                }
            }
            return
        }
        let sums = try globalSums(context) { k in
            VectorMath.sumAndDotInDouble(x + k * b, x + k * b, count: b)
        }
        let n = Double(max(context.globalBatch, 1))
        let mean = runningMean.values.pointer, variance = runningVariance.values.pointer
        for k in 0..<size {
            let mu = sums[k] / n
            let sigma2 = max(sums[size + k] / n - mu * mu, 0)
            inverseDeviation[k] = Float(1 / (sigma2 + Double(epsilon)).squareRoot())
            mean[k] = (1 - momentum) * mean[k] + momentum * Float(mu)
            let unbiased = context.globalBatch > 1 ? sigma2 * n / (n - 1) : sigma2
            variance[k] = (1 - momentum) * variance[k] + momentum * Float(unbiased)
            sums[k] = mu
        }
        inverseDeviation.withUnsafeBufferPointer { inverse in
            let inverse = inverse.baseAddress!
            context.pool.forEachRange(size, minimumPerThread: 64) { rows in
                for k in rows {
                    let mu = Float(sums[k]), scale = inverse[k]
                    for j in 0..<b {
                        let h = (x[k * b + j] - mu) * scale
                        xHat[k * b + j] = h
                        y[k * b + j] = g[k] * h + bt[k]
                    }
                }
            }
        }
    }

    public func backward(_ buffers: LayerBuffers, context: LayerContext) throws {
        let b = context.batch, dy = buffers.outputGradient, xHat = UnsafePointer(buffers.scratch)
        let dGamma = context.parameters.gradients.pointer + gamma.offset
        let dBeta = context.parameters.gradients.pointer + beta.offset
        let sums = try globalSums(context) { k in
            let s = VectorMath.sumAndDotInDouble(dy + k * b, xHat + k * b, count: b)
            dBeta[k] = Float(s.0)    // this rank's share, before the sums are allreduced
            dGamma[k] = Float(s.1)
            return s
        }
        guard let dx = buffers.inputGradient else { return }
        let n = Float(max(context.globalBatch, 1))
        let g = UnsafePointer(context.parameters.values.pointer + gamma.offset)
        inverseDeviation.withUnsafeBufferPointer { inverse in
            let inverse = inverse.baseAddress!
            context.pool.forEachRange(size, minimumPerThread: 64) { rows in
                for k in rows {
                    let meanDy = Float(sums[k]) / n, meanDyXHat = Float(sums[size + k]) / n
                    let scale = g[k] * inverse[k]
                    for j in 0..<b {
                        dx[k * b + j] = scale * (dy[k * b + j] - meanDy - xHat[k * b + j] * meanDyXHat)
                    }
                }
            }
        }
    }

    /// Per feature k, `accumulate(k)` = (s0, s1) over this rank's examples, then both sums
    /// allreduced over the ranks; returns `sums`: s0 of every feature, then s1 of every feature.
    private func globalSums(_ context: LayerContext, _ accumulate: @escaping (Int) -> (Double, Double)) throws
        -> UnsafeMutablePointer<Double> {
        let s = sums, size = size
        context.pool.forEachRange(size, minimumPerThread: 64) { rows in
            for k in rows {
                (s[k], s[size + k]) = accumulate(k)
            }
        }
        if context.communicator.size > 1 {
            try context.communicator.allreduceSum(UnsafeMutableBufferPointer(start: s, count: 2 * size))
        }
        return s
    }

    /// The two per-feature sums of `globalSums` (2K doubles).
    private let sums: UnsafeMutablePointer<Double>

    deinit { sums.deallocate() }
}
