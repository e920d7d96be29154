/// The CPU backend: Sprig's own kernels (`SparseKernels`, OpenBLAS for the dense products,
/// the optimizers' loops) on the pool's threads, each product split by rows.
///
/// Its memory is host memory (`.host`: buffers are read and written in place, the parameter
/// store is used without a mirror). `.separate` keeps every buffer in an allocation of its
/// own, reached only through `upload` and `download`, as a device's memory would be: the
/// training loop then makes exactly the transfers it makes to a GPU, so the conformance suite
/// checks them on any machine.
public final class CPUBackend: ComputeBackend {
    public enum Memory: Sendable { case host, separate }

    public let pool: ThreadPool
    public let memory: Memory

    public init(pool: ThreadPool, memory: Memory = .host) {
        self.pool = pool
        self.memory = memory
    }

    /// One thread on host memory (buffers allocated without a training backend).
    public static let host = CPUBackend(pool: .single)

    public var name: String { memory == .host ? "cpu" : "cpu (separate memory)" }
    public var sharesHostMemory: Bool { memory == .host }

    // MARK: memory

    public func allocate(count: Int) throws -> BackendBuffer {
        let floats = FloatBuffer(count: count)
        return BackendBuffer(count: count, pointer: floats.pointer, backend: self, owner: floats)
    }

    public func upload(_ host: UnsafePointer<Float>, to device: UnsafeMutablePointer<Float>, count: Int) {
        if UnsafePointer(device) != host { device.update(from: host, count: count) }
    }

    public func download(_ device: UnsafePointer<Float>, to host: UnsafeMutablePointer<Float>, count: Int) {
        if UnsafePointer(host) != device { host.update(from: device, count: count) }
    }

    // MARK: loss and reductions

    public func loss(_ kind: LossKind, output y: UnsafePointer<Float>, labels: UnsafePointer<Int32>, classes: Int, batch: Int,
                     globalBatch: Int, gradient dy: UnsafeMutablePointer<Float>) -> Double {
        kind.loss.evaluate(output: y, labels: labels, classes: classes, batch: batch, globalBatch: globalBatch, gradient: dy)
    }

    /// Σ_j [argmax_c Y[c,j] = label_j], the first largest class on a tie.
    public func correctCount(output y: UnsafePointer<Float>, labels: UnsafePointer<Int32>, classes: Int, batch b: Int) -> Int {
        var correct = 0
        for j in 0..<b {
            var best = 0
            for c in 1..<max(classes, 1) where y[c * b + j] > y[best * b + j] { best = c }
            if best == Int(labels[j]) { correct += 1 }
        }
        return correct
    }
}
