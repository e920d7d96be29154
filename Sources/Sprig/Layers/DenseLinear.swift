/// A layer with a full K×D weight matrix (row-major, in the parameter store), computed with
/// the backend's GEMM in the feature-major layout. Used where a layer's density is 1.
public final class DenseLinear: LinearLayer {
    public let inputSize: Int
    public let outputSize: Int
    public let activation: Activation
    public let weights: ParameterGroup
    public let bias: ParameterGroup
    public var weightCount: Int { inputSize * outputSize }
    public var sparsity: SparsityPattern? { nil }

    /// Layer `index` of a network; its groups are laid out by the network's store.
    init(index: Int, inputSize: Int, outputSize: Int, activation: Activation) {
        self.inputSize = inputSize
        self.outputSize = outputSize
        self.activation = activation
        weights = ParameterGroup(layer: index, name: "weights", count: inputSize * outputSize)
        bias = ParameterGroup(layer: index, name: "bias", count: outputSize)
    }

    /// Z (K×B) = W (K×D) · X (D×B) + b, Y = f(Z) (Z kept in the scratch, but for ReLU).
    public func forward(_ buffers: LayerBuffers, context: LayerContext) throws {
        let values = try context.parameters.device(.values)
        try context.backend.denseForward(rows: outputSize, columns: inputSize, values: values + weights.offset,
                                         bias: values + bias.offset, input: buffers.input, preActivation: preActivation(buffers),
                                         output: buffers.output, batch: context.batch, activation: activation)
    }

    /// DZ = DY ∘ f'(Z); Db = row sums; DW (K×D) = DZ · Xᵀ; DX (D×B) = Wᵀ · DZ.
    public func backward(_ buffers: LayerBuffers, context: LayerContext) throws {
        let backend = context.backend, parameters = context.parameters
        let gradients = try parameters.device(.gradients)
        try backend.denseWeightGradient(rows: outputSize, columns: inputSize, preActivation: preActivation(buffers), activation: activation,
                                        outputGradient: buffers.outputGradient, biasGradient: gradients + bias.offset,
                                        input: buffers.input, weightGradient: gradients + weights.offset, batch: context.batch)
        guard let dx = buffers.inputGradient else { return }
        try backend.denseInputGradient(rows: outputSize, columns: inputSize, values: try parameters.device(.values) + weights.offset,
                                       outputGradient: buffers.outputGradient, inputGradient: dx, batch: context.batch)
    }
}
