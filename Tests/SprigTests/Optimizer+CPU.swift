@testable import Sprig

extension Optimizer {
    /// The step on the CPU backend with `pool`'s threads (which never throws).
    func step(learningRate eta: Float, update t: Int, pool: ThreadPool) {
        try! step(learningRate: eta, update: t, backend: CPUBackend(pool: pool))
    }
}
