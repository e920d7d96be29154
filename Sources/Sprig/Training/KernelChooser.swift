/// Chooses each sparse layer's kernel (`SparseLayerKernel`) at the start of a run: where a
/// layer's density is high enough that dense GEMM on the masked matrix might beat the CSR
/// kernels, both are timed on the layer itself (its pattern, the rank's batch, the run's
/// backend and threads) and the faster is taken. What a user fixes per layer is kept as given.
///
/// The ranks time alike and take the slowest rank's time of each kernel, so they all choose
/// the same. A resumed run keeps the kernels its checkpoint names (the order of float sums
/// stays that of the first run).
public enum KernelChooser {
    /// Below this density the CSR kernels win by far (GEMM does 1/density times the flops at a
    /// few times their rate) and GEMM is not timed.
    public static let minimumDensity = 0.05
    /// A layer whose GEMM step is below this many flops stays CSR: fast either way, and too
    /// short to time reliably.
    public static let minimumFlops = 5e6
    /// GEMM is chosen only when its step takes at most this fraction of the CSR step's time:
    /// the CSR kernels keep memory ∝ nnz, and a near tie should not flip from run to run.
    public static let denseAdvantage = 0.85

    /// What was decided for one linear layer, and why.
    public struct Decision: Equatable, Sendable {
        public var kernel: SparseLayerKernel?
        /// Seconds per training step (forward, DW and DX) of each kernel, the slowest rank's;
        /// nil when not timed.
        public var csrSeconds: Double?
        public var denseSeconds: Double?
        /// "given", "as in the checkpoint", "timed", or why it was not timed ("density 0.01").
        public var reason: String
        /// Whether the user or the checkpoint fixed it.
        public var fixed = false

        /// "dense kernel (1.2 ms a step, CSR 3.4 ms)", for the run's summary; nil for a dense
        /// layer and for a sparse one left to CSR without timing (most of them, at low density).
        public var summary: String? {
            guard let kernel, kernel == .dense || csrSeconds != nil || fixed else { return nil }
            if let csr = csrSeconds, let dense = denseSeconds {
                let other = kernel == .csr ? "dense" : "CSR"
                let (mine, theirs) = kernel == .csr ? (csr, dense) : (dense, csr)
                return "\(kernel) kernel (\(Self.milliseconds(mine)) a step, \(other) \(Self.milliseconds(theirs)))"
            }
            return "\(kernel) kernel (\(reason))"
        }

        static func milliseconds(_ seconds: Double) -> String {
            seconds < 0.01 ? String(format: "%.2f ms", seconds * 1e3) : String(format: "%.1f ms", seconds * 1e3)
        }
    }

    /// Decides the kernel of every linear layer of `network` and sets it on its sparse layers.
    /// `fixed`: one entry per linear layer, nil where the choice is left to this (nil: all).
    /// `batch`: the examples of this rank's shard. Every rank must call this with the same
    /// network and `fixed` (it runs collectives).
    @discardableResult
    public static func choose(for network: Network, fixed: [SparseLayerKernel?]?, batch: Int, backend: any ComputeBackend,
                              communicator: any Communicator, fromCheckpoint: Bool = false) throws -> [Decision] {
        let layers = network.linearLayers
        precondition(fixed == nil || fixed!.count == layers.count, "one kernel (or nil) per linear layer")
        var decisions: [Decision] = []
        var timed: [Int] = []
        for (l, layer) in layers.enumerated() {
            guard let sparse = layer as? SparseLinear else {
                decisions.append(Decision(kernel: nil, reason: "dense layer"))
                continue
            }
            if let kernel = fixed?[l] {
                decisions.append(Decision(kernel: kernel, reason: fromCheckpoint ? "as in the checkpoint" : "given", fixed: true))
            } else if let reason = reasonNotToTime(sparse, batch: batch) {
                decisions.append(Decision(kernel: .csr, reason: reason))
            } else {
                decisions.append(Decision(kernel: .csr, reason: "timed"))
                timed.append(l)
            }
        }
        // Each rank times; the slowest rank's figures decide, the same on every rank.
        guard !timed.isEmpty else { return try apply(decisions, to: layers, backend: backend) }   // the same on every rank
        var seconds = try timed.flatMap { l in try time(layers[l] as! SparseLinear, batch: batch, backend: backend) }
        try seconds.withUnsafeMutableBufferPointer { try communicator.allreduceMax($0) }
        for (k, l) in timed.enumerated() {
            let csr = seconds[2 * k], dense = seconds[2 * k + 1]
            decisions[l].csrSeconds = csr
            decisions[l].denseSeconds = dense.isFinite ? dense : nil
            decisions[l].kernel = dense <= denseAdvantage * csr ? .dense : .csr
            if !dense.isFinite { decisions[l].reason = "too little memory for the dense kernel" }
        }
        return try apply(decisions, to: layers, backend: backend)
    }

    /// Sets each layer's kernel; a dense kernel's matrices are allocated now, so that a layer too
    /// large for them (`--layer-kernels dense`) is refused before training starts.
    private static func apply(_ decisions: [Decision], to layers: [any LinearLayer], backend: any ComputeBackend) throws -> [Decision] {
        for (l, (layer, decision)) in zip(layers, decisions).enumerated() {
            guard let sparse = layer as? SparseLinear, let kernel = decision.kernel else { continue }
            sparse.kernel = kernel
            guard kernel == .dense else { continue }
            do { try sparse.prepare(on: backend) } catch let error as SprigError {
                throw SprigError.invalidField(.layerKernels, ": dense for layer \(l + 1): \(error)")
            }
        }
        return decisions
    }

    /// Why `layer` is left to CSR without timing (nil: time it).
    static func reasonNotToTime(_ layer: SparseLinear, batch: Int) -> String? {
        let density = layer.pattern.density
        if density < minimumDensity { return String(format: "density %.3g", density) }
        let flops = 6 * Double(layer.outputSize) * Double(layer.inputSize) * Double(max(batch, 1))
        if flops < minimumFlops { return "too small to time" }
        if !SparseLayerKernel.denseFits(rows: layer.outputSize, columns: layer.inputSize) {
            return "the dense kernel would need \(MemoryBudget.describe(Int(SparseLayerKernel.denseBytes(rows: layer.outputSize, columns: layer.inputSize))))"
        }
        return nil
    }

    /// Seconds per step of the CSR and the dense kernel on `layer`'s pattern (the better of a few
    /// alternating runs after a warm-up; dense: infinity when its matrices cannot be allocated).
    static func time(_ layer: SparseLinear, batch: Int, backend: any ComputeBackend) throws -> [Double] {
        let k = layer.outputSize, d = layer.inputSize, nnz = layer.weightCount, b = max(batch, 1)
        var g = RandomGenerator(seed: 7, stream: UInt64(k * 31 + d))
        func filled(_ count: Int, _ value: () -> Float) throws -> BackendBuffer {
            let buffer = try backend.allocate(count: max(count, 1))
            let values = (0..<count).map { _ in value() }
            try values.withUnsafeBufferPointer { try buffer.upload($0) }
            return buffer
        }
        let values = try filled(nnz) { g.uniform(-0.1, 0.1) }, bias = try filled(k) { 0 }
        let x = try filled(d * b) { g.uniform(0, 1) }, dy = try filled(k * b) { g.uniform(-1, 1) }
        let z = try backend.allocate(count: k * b), y = try backend.allocate(count: k * b)
        let dx = try backend.allocate(count: d * b), dw = try backend.allocate(count: max(nnz, 1)), db = try backend.allocate(count: k)
        let csr = try backend.prepare(layer.pattern, transpose: layer.transpose, kernel: .csr)
        let dense: (any SparseOperand)?
        do { dense = try backend.prepare(layer.pattern, transpose: layer.transpose, kernel: .dense) } catch { dense = nil }

        func step(_ w: any SparseOperand) throws -> Double {
            let watch = Stopwatch()
            try backend.sparseForward(w, values: values.pointer, bias: bias.pointer, input: x.pointer, preActivation: z.pointer,
                                      output: y.pointer, batch: b, activation: layer.activation)
            try backend.sparseWeightGradient(w, preActivation: z.pointer, activation: layer.activation, outputGradient: dy.pointer,
                                             biasGradient: db.pointer, input: x.pointer, weightGradient: dw.pointer, batch: b)
            try backend.sparseInputGradient(w, values: values.pointer, outputGradient: dy.pointer, inputGradient: dx.pointer, batch: b)
            _ = try dx.download(count: 1)   // the backend's work is done
            return watch.seconds
        }
        var best = [Double.infinity, Double.infinity]
        let first = [try step(csr), try dense.map(step) ?? .infinity]   // warm-up: caches, pages, the pool
        // A few rounds in alternation; one when a step is long (the better of them is the figure).
        let rounds = first.min()! > 0.2 ? 1 : 3
        for _ in 0..<rounds {
            best[0] = min(best[0], try step(csr))
            if let dense { best[1] = min(best[1], try step(dense)) }
        }
        return best
    }
}
