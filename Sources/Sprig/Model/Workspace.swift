/// The activation buffers of one batch size, in the backend's memory: input X (D₀×B) and, per
/// layer i, its output Y_i, the gradient DY_i of that output and its scratch (what forward
/// leaves for backward: Z for a linear layer, x̂ for batch norm, the mask for dropout), all
/// feature-major with row length B. The batch is assembled on the host in `hostInput` and
/// `commitInput` puts it in X (no copy when the backend shares host memory).
public final class Workspace {
    public let capacity: Int
    public let backend: any ComputeBackend
    public let input: BackendBuffer
    public let outputs: [BackendBuffer]
    public let gradients: [BackendBuffer]
    public let scratch: [BackendBuffer]
    public var labels: [Int32]
    /// Where the host assembles X: X itself in host memory, a staging buffer otherwise.
    private let staging: FloatBuffer?

    /// The examples an evaluation batch holds: up to 1000 (and `examples`), fewer when a
    /// workspace of 1000 would pass 1 GiB (`NetworkConfiguration.workspaceRows`: a
    /// 3072-1048576³-10 network of ReLU layers needs 25 MB per example), but never fewer than
    /// `atLeast` (the training batch, whose workspace the run holds anyway). At least 1.
    public static func evaluationColumns(_ network: NetworkConfiguration, examples: Int, atLeast: Int = 1) -> Int {
        let bytesPerColumn = network.workspaceRows.reduce(0.0) { $0 + 4 * Double($1.rows) * Double($1.size) }   // no overflow
        let fitting = Int(min(Double(1 << 30) / max(bytesPerColumn, 1), 1e9))
        return max(1, min(1000, examples, max(fitting, atLeast)))
    }

    public init(network: Network, capacity: Int, backend: any ComputeBackend = CPUBackend.host) throws {
        self.capacity = capacity
        self.backend = backend
        input = try backend.allocate(count: network.inputSize * capacity)
        outputs = try network.layers.map { try backend.allocate(count: $0.outputSize * capacity) }
        gradients = try network.layers.map { try backend.allocate(count: $0.outputSize * capacity) }
        scratch = try network.layers.map { try backend.allocate(count: $0.scratchPerExample * capacity) }
        labels = [Int32](repeating: 0, count: capacity)
        staging = backend.sharesHostMemory ? nil : FloatBuffer(count: network.inputSize * capacity)
    }

    /// The host buffer the batch X (D₀×B) is assembled in.
    public var hostInput: UnsafeMutablePointer<Float> { staging?.pointer ?? input.pointer }

    /// Puts the first `count` floats of `hostInput` into X.
    public func commitInput(count: Int) throws {
        guard let staging else { return }
        try input.upload(UnsafeBufferPointer(start: staging.pointer, count: count))
    }

    /// The network's output Y_L.
    public var output: BackendBuffer { outputs[outputs.count - 1] }
    public var outputGradient: BackendBuffer { gradients[gradients.count - 1] }
}
