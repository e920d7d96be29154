/// The activation buffers of one batch size: input X (D₀×B) and, per layer i, its output Y_i,
/// the gradient DY_i of that output and its scratch (what forward leaves for backward: Z for
/// a linear layer, x̂ for batch norm, the mask for dropout), all feature-major with row length B.
public final class Workspace {
    public let capacity: Int
    public let input: FloatBuffer
    public let outputs: [FloatBuffer]
    public let gradients: [FloatBuffer]
    public let scratch: [FloatBuffer]
    public var labels: [Int32]

    public init(network: Network, capacity: Int) {
        self.capacity = capacity
        input = FloatBuffer(count: network.inputSize * capacity)
        outputs = network.layers.map { FloatBuffer(count: $0.outputSize * capacity) }
        gradients = network.layers.map { FloatBuffer(count: $0.outputSize * capacity) }
        scratch = network.layers.map { FloatBuffer(count: $0.scratchPerExample * capacity) }
        labels = [Int32](repeating: 0, count: capacity)
    }

    /// The network's output Y_L.
    public var output: FloatBuffer { outputs[outputs.count - 1] }
    public var outputGradient: FloatBuffer { gradients[gradients.count - 1] }
}
