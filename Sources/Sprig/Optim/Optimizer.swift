import Foundation

/// Applies `OptimizerKind`'s update (the formulas are on `OptimizerKind`) to the parameters of
/// a store: one kind for every parameter, or one kind per layer, each to its layer's range
/// (`ParameterStore.range(ofLayer:)`). The state buffers the kinds declare (momentum's
/// velocity, Adam's moments m and v: `OptimizerKind.stateNames(of:)`, each once) live in the
/// store beside the values, so they follow their parameters when a layer's topology changes.
public final class Optimizer {
    /// The kind for every layer (the first layer's when `layerKinds` is given).
    public let kind: OptimizerKind
    /// One kind per layer (nil: `kind` for the whole store, in one loop).
    public let layerKinds: [OptimizerKind]?
    public let weightDecay: Float
    public let parameters: ParameterStore

    /// Adds the kind's state buffers (zeroed) to `parameters`.
    public init(kind: OptimizerKind, weightDecay: Float = 0, parameters: ParameterStore) {
        self.kind = kind
        layerKinds = nil
        self.weightDecay = weightDecay
        self.parameters = parameters
        for name in kind.stateNames { parameters.addState(named: name) }
    }

    /// The parameters of store layer l (`ParameterStore.range(ofLayer:)`, a position in the
    /// network's layer list) follow `layerKinds[l]`; adds the union of their state buffers (zeroed).
    public init(layerKinds: [OptimizerKind], weightDecay: Float = 0, parameters: ParameterStore) {
        precondition(!layerKinds.isEmpty, "one optimizer per layer")
        kind = layerKinds[0]
        self.layerKinds = layerKinds
        self.weightDecay = weightDecay
        self.parameters = parameters
        for name in OptimizerKind.stateNames(of: layerKinds) { parameters.addState(named: name) }
    }

    /// The velocity v (one value per parameter; nil unless a momentum or Nesterov kind is used).
    public var velocity: FloatBuffer? { parameters.state(named: "velocity") }
    /// Adam's first moment m (nil unless an Adam kind is used).
    public var firstMoment: FloatBuffer? { parameters.state(named: "m") }
    /// Adam's second moment v (nil unless an Adam kind is used).
    public var secondMoment: FloatBuffer? { parameters.state(named: "v") }

    /// One update of the parameters from the store's gradients; `t` is the 1-based count of
    /// updates since the start of training (Adam's bias corrections), this one included.
    public func step(learningRate eta: Float, update t: Int, pool: ThreadPool) {
        precondition(t >= 1, "updates are counted from 1")
        if let layerKinds {
            for (l, kind) in layerKinds.enumerated() {
                apply(kind, to: parameters.range(ofLayer: l), learningRate: eta, update: t, pool: pool)
            }
        } else {
            apply(kind, to: 0..<parameters.count, learningRate: eta, update: t, pool: pool)
        }
    }

    /// `kind`'s update of the parameters in `slots`.
    private func apply(_ kind: OptimizerKind, to slots: Range<Int>, learningRate eta: Float, update t: Int, pool: ThreadPool) {
        guard !slots.isEmpty else { return }
        let w = parameters.values.pointer + slots.lowerBound, g = parameters.gradients.pointer + slots.lowerBound
        let lambda = weightDecay
        switch kind {
        case .sgd:
            // w ← w − η·(∇L + λ·w)
            pool.forEachRange(slots.count, minimumPerThread: 1 << 16) { range in
                for i in range { w[i] -= eta * (g[i] + lambda * w[i]) }
            }
        case .momentum(let mu):
            // v ← μ·v − η·g;  w ← w + v
            let v = velocity!.pointer + slots.lowerBound
            pool.forEachRange(slots.count, minimumPerThread: 1 << 16) { range in
                for i in range {
                    let vi = mu * v[i] - eta * (g[i] + lambda * w[i])
                    v[i] = vi
                    w[i] += vi
                }
            }
        case .nesterov(let mu):
            // v ← μ·v − η·g;  w ← w + μ·v − η·g
            let v = velocity!.pointer + slots.lowerBound
            pool.forEachRange(slots.count, minimumPerThread: 1 << 16) { range in
                for i in range {
                    let step = eta * (g[i] + lambda * w[i])
                    let vi = mu * v[i] - step
                    v[i] = vi
                    w[i] += mu * vi - step
                }
            }
        case .adam(let beta1, let beta2, let epsilon):
            adamStep(slots, beta1: beta1, beta2: beta2, epsilon: epsilon, gradientDecay: lambda, decoupledDecay: 0,
                     learningRate: eta, update: t, pool: pool)
        case .adamW(let beta1, let beta2, let epsilon, let weightDecay):
            adamStep(slots, beta1: beta1, beta2: beta2, epsilon: epsilon, gradientDecay: 0, decoupledDecay: weightDecay,
                     learningRate: eta, update: t, pool: pool)
        }
    }

    /// Adam (torch.optim.Adam) and AdamW (torch.optim.AdamW) on `slots`, as PyTorch computes them:
    ///
    ///     w ← w·(1 − η·wd)                       (AdamW's decoupled decay; wd = 0 for Adam)
    ///     g = ∇L + λ·w                            (λ = gradientDecay; 0 for AdamW)
    ///     m ← β1·m + (1−β1)·g
    ///     v ← β2·v + (1−β2)·g²
    ///     w ← w − (η/(1−β1^t))·m / (√v/√(1−β2^t) + ε)   = w − η·m̂/(√v̂ + ε)
    ///
    /// The bias corrections 1−β1^t and 1−β2^t are computed in Double once per step.
    private func adamStep(_ slots: Range<Int>, beta1: Float, beta2: Float, epsilon: Float, gradientDecay lambda: Float,
                          decoupledDecay: Float, learningRate eta: Float, update t: Int, pool: ThreadPool) {
        let offset = slots.lowerBound
        let w = parameters.values.pointer + offset, g = parameters.gradients.pointer + offset
        let m = firstMoment!.pointer + offset, v = secondMoment!.pointer + offset
        let biasCorrection1 = 1 - pow(Double(beta1), Double(t))
        let biasCorrection2 = 1 - pow(Double(beta2), Double(t))
        let stepSize = Float(Double(eta) / biasCorrection1)
        let biasCorrection2Root = Float(biasCorrection2.squareRoot())
        let decayFactor = 1 - eta * decoupledDecay
        let oneMinusBeta1 = 1 - beta1, oneMinusBeta2 = 1 - beta2
        pool.forEachRange(slots.count, minimumPerThread: 1 << 16) { range in
            for i in range {
                let wi = w[i] * decayFactor
                let gi = g[i] + lambda * wi
                let mi = beta1 * m[i] + oneMinusBeta1 * gi
                let vi = beta2 * v[i] + oneMinusBeta2 * gi * gi
                m[i] = mi
                v[i] = vi
                w[i] = wi - stepSize * mi / (vi.squareRoot() / biasCorrection2Root + epsilon)
            }
        }
    }
}
