/// Applies `OptimizerKind`'s update to every parameter of a store. The state buffers the kind
/// declares (`OptimizerKind.stateNames`: momentum's velocity) live in the store beside the
/// values, so they follow their parameters when a layer's topology changes.
public final class Optimizer {
    public let kind: OptimizerKind
    public let weightDecay: Float
    public let parameters: ParameterStore

    /// Adds the kind's state buffers (zeroed) to `parameters`.
    public init(kind: OptimizerKind, weightDecay: Float = 0, parameters: ParameterStore) {
        self.kind = kind
        self.weightDecay = weightDecay
        self.parameters = parameters
        for name in kind.stateNames { parameters.addState(named: name) }
    }

    /// The velocity v (one value per parameter; nil for plain SGD).
    public var velocity: FloatBuffer? { parameters.state(named: "velocity") }

    /// One update of all parameters from the store's gradients.
    public func step(learningRate eta: Float, pool: ThreadPool) {
        let w = parameters.values.pointer, g = parameters.gradients.pointer
        let v = velocity?.pointer ?? w   // not read by sgd
        let lambda = weightDecay
        let kind = kind
        pool.forEachRange(parameters.count, minimumPerThread: 1 << 16) { range in
            switch kind {
            case .sgd:
                for i in range { w[i] -= eta * (g[i] + lambda * w[i]) }
            case .momentum(let mu):
                for i in range {
                    let vi = mu * v[i] - eta * (g[i] + lambda * w[i])
                    v[i] = vi
                    w[i] += vi
                }
            case .nesterov(let mu):
                for i in range {
                    let step = eta * (g[i] + lambda * w[i])
                    let vi = mu * v[i] - step
                    v[i] = vi
                    w[i] += mu * vi - step
                }
            }
        }
    }
}
