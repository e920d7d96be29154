/// The activation buffers of one batch size: input X (D₀×B) and, per layer l, Z_l, Y_l and
/// DY_l (D_{l+1}×B), all feature-major with row length B.
public final class Workspace {
    public let capacity: Int
    public let input: FloatBuffer
    public let preActivations: [FloatBuffer]
    public let outputs: [FloatBuffer]
    public let gradients: [FloatBuffer]
    public var labels: [Int32]

    public init(layerSizes: [Int], capacity: Int) {
        self.capacity = capacity
        input = FloatBuffer(count: layerSizes[0] * capacity)
        let sizes = layerSizes.dropFirst()
        preActivations = sizes.map { FloatBuffer(count: $0 * capacity) }
        outputs = sizes.map { FloatBuffer(count: $0 * capacity) }
        gradients = sizes.map { FloatBuffer(count: $0 * capacity) }
        labels = [Int32](repeating: 0, count: capacity)
    }

    /// The network's output Y_L.
    public var output: FloatBuffer { outputs[outputs.count - 1] }
    public var outputGradient: FloatBuffer { gradients[gradients.count - 1] }
}
