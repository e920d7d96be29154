
/// The optimizer's state (the velocity buffer, same layout as the arena) and its update.
public final class Optimizer {
    public let kind: OptimizerKind
    public let weightDecay: Float
    /// v, one value per arena parameter (empty for plain SGD).
    public let velocity: FloatBuffer

    public init(kind: OptimizerKind, weightDecay: Float = 0, parameterCount: Int) {
        self.kind = kind
        self.weightDecay = weightDecay
        velocity = FloatBuffer(count: kind.needsVelocity ? parameterCount : 0)
    }

    /// One update of all parameters from the arena's gradients.
    public func step(arena: ParameterArena, learningRate eta: Float, pool: ThreadPool) {
        let w = arena.values.pointer, g = arena.gradients.pointer, v = velocity.pointer
        let lambda = weightDecay
        pool.forEachRange(arena.count, minimumPerThread: 1 << 16) { range in
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
