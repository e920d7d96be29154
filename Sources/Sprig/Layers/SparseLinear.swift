/// A layer whose K×D weight matrix is stored in CSR: only the nonzeros exist, in the parameter
/// store, slot p of the weights group holding the nonzero at `pattern`'s slot p. Work per step
/// ∝ nnz·B. The pattern may change during training (`Network.replacePattern`), which rebuilds
/// everything derived from it here: the transpose plan and the row partitions.
public final class SparseLinear: LinearLayer {
    public private(set) var pattern: SparsityPattern
    public var sparsity: SparsityPattern? { pattern }
    public private(set) var transpose: TransposePlan
    public let activation: Activation
    public let weights: ParameterGroup
    public let bias: ParameterGroup
    public var inputSize: Int { pattern.columns }
    public var outputSize: Int { pattern.rows }
    public var weightCount: Int { pattern.nonzeroCount }

    private var forwardParts: RowPartition
    private var transposeParts: RowPartition
    private var partsFor = 0   // partitions are rebuilt at the next use

    /// Layer `index` of a network; its groups are laid out by the network's store.
    init(index: Int, pattern: SparsityPattern, activation: Activation) {
        self.pattern = pattern
        self.transpose = TransposePlan(of: pattern)
        self.activation = activation
        weights = ParameterGroup(layer: index, name: "weights", count: pattern.nonzeroCount)
        bias = ParameterGroup(layer: index, name: "bias", count: pattern.rows)
        forwardParts = RowPartition(pattern, parts: 1)
        transposeParts = RowPartition(transpose.pattern, parts: 1)
    }

    /// Takes a new pattern of the same shape (the store has already remapped the values):
    /// rebuilds the transpose plan, and the row partitions at their next use.
    func replacePattern(_ newPattern: SparsityPattern) {
        precondition(newPattern.rows == pattern.rows && newPattern.columns == pattern.columns)
        precondition(newPattern.nonzeroCount == weights.count, "the store's weights group must be remapped first")
        pattern = newPattern
        transpose = TransposePlan(of: newPattern)
        partsFor = 0   // partitions are rebuilt at the next use
    }

    /// Row partitions balanced by nonzeros, rebuilt when the thread count or the pattern changes.
    private func partitions(for pool: ThreadPool) -> (RowPartition, RowPartition) {
        if partsFor != pool.threads {
            forwardParts = RowPartition(pattern, parts: pool.threads)
            transposeParts = RowPartition(transpose.pattern, parts: pool.threads)
            partsFor = pool.threads
        }
        return (forwardParts, transposeParts)
    }

    /// Z = W·X + b, Y = f(Z) by rows balanced by nonzeros (Z kept in the scratch).
    public func forward(_ buffers: LayerBuffers, context: LayerContext) {
        let x = buffers.input, z = buffers.scratch, y = buffers.output
        let batch = context.batch, parameters = context.parameters, pool = context.pool
        let (parts, _) = partitions(for: pool)
        let pattern = pattern, activation = activation
        let w = UnsafePointer(parameters.values.pointer + weights.offset)
        let b = UnsafePointer(parameters.values.pointer + bias.offset)
        pool.run(parts: parts.parts) { k in
            SparseKernels.forward(pattern: pattern, values: w, bias: b, input: x, preActivation: z, output: y,
                                  batch: batch, activation: activation, rows: parts.rows(ofPart: k))
        }
    }

    /// DZ = DY ∘ f'(Z), Db and the SDDMM DW row by row; DX = Wᵀ·DZ through the transpose plan.
    public func backward(_ buffers: LayerBuffers, context: LayerContext) {
        let x = buffers.input, z = UnsafePointer(buffers.scratch), dy = buffers.outputGradient, dx = buffers.inputGradient
        let batch = context.batch, parameters = context.parameters, pool = context.pool
        let (parts, transposeParts) = partitions(for: pool)
        let pattern = pattern, transpose = transpose
        let dw = parameters.gradients.pointer + weights.offset
        let db = parameters.gradients.pointer + bias.offset
        // DZ, Db and DW row by row: each thread owns whole rows of DZ and their nonzeros.
        pool.run(parts: parts.parts) { k in
            let rows = parts.rows(ofPart: k)
            activationBackward(preActivation: z, gradient: dy, biasGradient: db, batch: batch, rows: rows)
            SparseKernels.weightGradient(pattern: pattern, gradient: UnsafePointer(dy), input: x, into: dw,
                                         batch: batch, rows: rows)
        }
        guard let dx else { return }
        let w = UnsafePointer(parameters.values.pointer + weights.offset)
        pool.run(parts: transposeParts.parts) { k in
            SparseKernels.multiplyTransposed(plan: transpose, values: w, gradient: UnsafePointer(dy), into: dx,
                                             batch: batch, rows: transposeParts.rows(ofPart: k))
        }
    }
}
