import Foundation

/// The optimizers' updates, element-wise, split across the pool's threads.
extension CPUBackend {
    public func optimizerStep(_ kind: OptimizerKind, _ buffers: OptimizerBuffers, count: Int, weightDecay lambda: Float,
                              learningRate eta: Float, update t: Int) {
        guard count > 0 else { return }
        let w = buffers.values, g = buffers.gradients
        switch kind {
        case .sgd:
            // w ← w − η·(∇L + λ·w)
            pool.forEachRange(count, minimumPerThread: 1 << 16) { range in
                for i in range { w[i] -= eta * (g[i] + lambda * w[i]) }
            }
        case .momentum(let mu):
            // v ← μ·v − η·g;  w ← w + v
            let v = buffers.velocity!
            pool.forEachRange(count, minimumPerThread: 1 << 16) { range in
                for i in range {
                    let vi = mu * v[i] - eta * (g[i] + lambda * w[i])
                    v[i] = vi
                    w[i] += vi
                }
            }
        case .nesterov(let mu):
            // v ← μ·v − η·g;  w ← w + μ·v − η·g
            let v = buffers.velocity!
            pool.forEachRange(count, minimumPerThread: 1 << 16) { range in
                for i in range {
                    let step = eta * (g[i] + lambda * w[i])
                    let vi = mu * v[i] - step
                    v[i] = vi
                    w[i] += mu * vi - step
                }
            }
        case .adam(let beta1, let beta2, let epsilon):
            adamStep(buffers, count: count, beta1: beta1, beta2: beta2, epsilon: epsilon, gradientDecay: lambda, decoupledDecay: 0,
                     learningRate: eta, update: t)
        case .adamW(let beta1, let beta2, let epsilon, let weightDecay):
            adamStep(buffers, count: count, beta1: beta1, beta2: beta2, epsilon: epsilon, gradientDecay: 0, decoupledDecay: weightDecay,
                     learningRate: eta, update: t)
        }
    }

    /// Adam (torch.optim.Adam) and AdamW (torch.optim.AdamW), as PyTorch computes them:
    ///
    ///     w ← w·(1 − η·wd)                       (AdamW's decoupled decay; wd = 0 for Adam)
    ///     g = ∇L + λ·w                            (λ = gradientDecay; 0 for AdamW)
    ///     m ← β1·m + (1−β1)·g
    ///     v ← β2·v + (1−β2)·g²
    ///     w ← w − (η/(1−β1^t))·m / (√v/√(1−β2^t) + ε)   = w − η·m̂/(√v̂ + ε)
    ///
    /// The bias corrections 1−β1^t and 1−β2^t are computed in Double once per step.
    private func adamStep(_ buffers: OptimizerBuffers, count: Int, beta1: Float, beta2: Float, epsilon: Float,
                          gradientDecay lambda: Float, decoupledDecay: Float, learningRate eta: Float, update t: Int) {
        let w = buffers.values, g = buffers.gradients, m = buffers.firstMoment!, v = buffers.secondMoment!
        let biasCorrection1 = 1 - pow(Double(beta1), Double(t))
        let biasCorrection2 = 1 - pow(Double(beta2), Double(t))
        let stepSize = Float(Double(eta) / biasCorrection1)
        let biasCorrection2Root = Float(biasCorrection2.squareRoot())
        let decayFactor = 1 - eta * decoupledDecay
        let oneMinusBeta1 = 1 - beta1, oneMinusBeta2 = 1 - beta2
        pool.forEachRange(count, minimumPerThread: 1 << 16) { range in
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
