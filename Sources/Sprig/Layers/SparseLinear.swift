/// A layer whose K×D weight matrix is stored in CSR: only the nonzeros exist, in the arena;
/// the pattern is fixed for the layer's life. Work per step ∝ nnz·B.
public final class SparseLinear: Layer {
    public let pattern: SparsityPattern
    public let transpose: TransposePlan
    public let activation: Activation
    public let weights: ParameterRange
    public let bias: ParameterRange
    public var inputSize: Int { pattern.columns }
    public var outputSize: Int { pattern.rows }
    public var weightCount: Int { pattern.nonzeroCount }

    private var forwardParts: RowPartition
    private var transposeParts: RowPartition
    private var partsFor = 0

    init(pattern: SparsityPattern, activation: Activation, layout: inout ArenaLayout) {
        self.pattern = pattern
        self.transpose = TransposePlan(of: pattern)
        self.activation = activation
        weights = layout.reserve(pattern.nonzeroCount)
        bias = layout.reserve(pattern.rows)
        forwardParts = RowPartition(pattern, parts: 1)
        transposeParts = RowPartition(transpose.pattern, parts: 1)
    }

    /// Row partitions balanced by nonzeros, rebuilt only when the thread count changes.
    private func partitions(for pool: ThreadPool) -> (RowPartition, RowPartition) {
        if partsFor != pool.threads {
            forwardParts = RowPartition(pattern, parts: pool.threads)
            transposeParts = RowPartition(transpose.pattern, parts: pool.threads)
            partsFor = pool.threads
        }
        return (forwardParts, transposeParts)
    }

    public func forward(input x: UnsafePointer<Float>, preActivation z: UnsafeMutablePointer<Float>,
                        output y: UnsafeMutablePointer<Float>, batch: Int, arena: ParameterArena, pool: ThreadPool) {
        let (parts, _) = partitions(for: pool)
        let w = UnsafePointer(arena.values.pointer + weights.offset)
        let b = UnsafePointer(arena.values.pointer + bias.offset)
        pool.run(parts: parts.parts) { k in
            SparseKernels.forward(pattern: pattern, values: w, bias: b, input: x, preActivation: z, output: y,
                                  batch: batch, activation: activation, rows: parts.rows(ofPart: k))
        }
    }

    public func backward(input x: UnsafePointer<Float>, preActivation z: UnsafePointer<Float>,
                         outputGradient dy: UnsafeMutablePointer<Float>, inputGradient dx: UnsafeMutablePointer<Float>?,
                         batch: Int, arena: ParameterArena, pool: ThreadPool) {
        let (parts, transposeParts) = partitions(for: pool)
        let dw = arena.gradients.pointer + weights.offset
        let db = arena.gradients.pointer + bias.offset
        // DZ, Db and DW row by row: each thread owns whole rows of DZ and their nonzeros.
        pool.run(parts: parts.parts) { k in
            let rows = parts.rows(ofPart: k)
            activationBackward(preActivation: z, gradient: dy, biasGradient: db, batch: batch, rows: rows)
            SparseKernels.weightGradient(pattern: pattern, gradient: UnsafePointer(dy), input: x, into: dw,
                                         batch: batch, rows: rows)
        }
        guard let dx else { return }
        let w = UnsafePointer(arena.values.pointer + weights.offset)
        pool.run(parts: transposeParts.parts) { k in
            SparseKernels.multiplyTransposed(plan: transpose, values: w, gradient: UnsafePointer(dy), into: dx,
                                             batch: batch, rows: transposeParts.rows(ofPart: k))
        }
    }
}
