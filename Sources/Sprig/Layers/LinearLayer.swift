/// A fully connected layer with its element-wise activation fused in (the fast path):
/// Z = W·X + b, Y = f(Z), with Z kept in the scratch (K per example; none for ReLU) for backward:
/// DZ = DY ∘ f'(Z) (in place over DY), DW = DZ·Xᵀ (on W's pattern), Db = row sums of DZ,
/// DX = Wᵀ·DZ. Linear layer k of a network is `W{k}`, `b{k}` in the weights file.
public protocol LinearLayer: Layer {
    var activation: Activation { get }
    /// W's values in the store (nnz values for a sparse layer, K·D for a dense one).
    var weights: ParameterGroup { get }
    /// b in the store (K values).
    var bias: ParameterGroup { get }
    /// Stored weights: nnz for a sparse layer, K·D for a dense one.
    var weightCount: Int { get }
    /// W's sparsity pattern; nil for a dense layer.
    var sparsity: SparsityPattern? { get }
}

extension LinearLayer {
    public var parameterGroups: [ParameterGroup] { [weights, bias] }
    /// A ReLU layer keeps no Z: f'(Z) = [Z > 0] = [Y > 0] (NaN included), and Y stays for the
    /// next layer's backward anyway. So its forward writes Z over Y (the kernels then leave
    /// Y = max(Z, 0) there) and its backward reads Y: K×B floats fewer to write, read and hold.
    public var scratchPerExample: Int { activation == .relu ? 0 : outputSize }

    /// Where forward leaves Z for backward (for ReLU, Y: `scratchPerExample`).
    func preActivation(_ buffers: LayerBuffers) -> UnsafeMutablePointer<Float> {
        activation == .relu ? buffers.output : buffers.scratch
    }
    public var summary: String { "\(sparsity == nil ? "dense" : "sparse") linear, \(activation)" }
}
