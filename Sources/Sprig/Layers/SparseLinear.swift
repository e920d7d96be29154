/// A layer whose K×D weight matrix is stored in CSR: only the nonzeros exist, in the parameter
/// store, slot p of the weights group holding the nonzero at `pattern`'s slot p. Work per step
/// ∝ nnz·B. The pattern may change during training (`Network.replacePattern`), which rebuilds
/// everything derived from it here: the transpose plan and the backend's operand.
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

    /// CSR kernels, or dense GEMM on the masked matrix (`KernelChooser` sets it; CSR until then).
    public var kernel: SparseLayerKernel = .csr {
        didSet { if kernel != oldValue { operand = nil } }
    }

    /// The pattern as the last backend's kernels take it (rebuilt for another backend, pattern or kernel).
    private var operand: (any SparseOperand)?

    /// Layer `index` of a network; its groups are laid out by the network's store.
    init(index: Int, pattern: SparsityPattern, activation: Activation) {
        self.pattern = pattern
        self.transpose = TransposePlan(of: pattern)
        self.activation = activation
        weights = ParameterGroup(layer: index, name: "weights", count: pattern.nonzeroCount)
        bias = ParameterGroup(layer: index, name: "bias", count: pattern.rows)
    }

    /// Takes a new pattern of the same shape (the store has already remapped the values):
    /// rebuilds the transpose plan, and the backend's operand at its next use.
    func replacePattern(_ newPattern: SparsityPattern) {
        precondition(newPattern.rows == pattern.rows && newPattern.columns == pattern.columns)
        precondition(newPattern.nonzeroCount == weights.count, "the store's weights group must be remapped first")
        pattern = newPattern
        transpose = TransposePlan(of: newPattern)
        operand = nil
    }

    /// Prepares the operand for `backend` now (the dense kernel's matrices are allocated here, so
    /// that one too large fails before training starts rather than at the first step).
    func prepare(on backend: any ComputeBackend) throws { _ = try operand(for: backend) }

    private func operand(for backend: any ComputeBackend) throws -> any SparseOperand {
        if let operand, backend.canUse(operand) { return operand }
        let prepared = try backend.prepare(pattern, transpose: transpose, kernel: kernel)
        operand = prepared
        return prepared
    }

    /// Z = W·X + b, Y = f(Z) (Z kept in the scratch, but for ReLU).
    public func forward(_ buffers: LayerBuffers, context: LayerContext) throws {
        let backend = context.backend, parameters = context.parameters
        let values = try parameters.device(.values)
        try backend.sparseForward(try operand(for: backend), values: values + weights.offset, bias: values + bias.offset,
                                  input: buffers.input, preActivation: preActivation(buffers), output: buffers.output,
                                  batch: context.batch, activation: activation)
    }

    /// DZ = DY ∘ f'(Z), Db and the SDDMM DW on the pattern; DX = Wᵀ·DZ through the transpose plan.
    public func backward(_ buffers: LayerBuffers, context: LayerContext) throws {
        let backend = context.backend, parameters = context.parameters, w = try operand(for: backend)
        let gradients = try parameters.device(.gradients)
        try backend.sparseWeightGradient(w, preActivation: preActivation(buffers), activation: activation,
                                         outputGradient: buffers.outputGradient, biasGradient: gradients + bias.offset,
                                         input: buffers.input, weightGradient: gradients + weights.offset, batch: context.batch)
        guard let dx = buffers.inputGradient else { return }
        try backend.sparseInputGradient(w, values: try parameters.device(.values) + weights.offset,
                                        outputGradient: buffers.outputGradient, inputGradient: dx, batch: context.batch)
    }
}
