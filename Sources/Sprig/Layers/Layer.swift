/// One layer of a network, in the feature-major layout: it maps X (D×B) to Y (K×B), where
/// D = `inputSize`, K = `outputSize`, B = the examples of this rank's shard. A layer declares
/// its trainable parameter groups (laid out in the network's `ParameterStore`), its
/// non-trainable state and the scratch it keeps between forward and backward; the network
/// runs the layers in order (mlx-swift's `Module`, llm.c's forward/backward pairs).
///
/// forward:  Y = f(X), leaving in scratch what backward needs
/// backward: from DY, writes DX (when asked) and adds nothing: it *sets* its parameters'
///           gradients in the store (each step's gradients are written afresh)
public protocol Layer: AnyObject {
    var inputSize: Int { get }
    var outputSize: Int { get }
    /// Trainable values in the store (weights, bias, gains…); empty for a layer without any.
    var parameterGroups: [ParameterGroup] { get }
    /// Non-trainable state (empty for most layers).
    var state: [LayerState] { get }
    /// Floats per example that forward leaves in the scratch for backward.
    var scratchPerExample: Int { get }
    /// A short description for the run's summary ("sparse linear, relu", "batch norm").
    var summary: String { get }

    /// Sets the layer's parameters to their fixed initial values, where it has such (batch
    /// norm's γ = 1, SReLU's thresholds); random initialisation is the network's.
    func initialize(_ parameters: ParameterStore)
    func forward(_ buffers: LayerBuffers, context: LayerContext) throws
    func backward(_ buffers: LayerBuffers, context: LayerContext) throws
}

extension Layer {
    public var state: [LayerState] { [] }
    public var parameterGroups: [ParameterGroup] { [] }
    public func initialize(_ parameters: ParameterStore) {}
}
