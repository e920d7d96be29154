/// A fully connected layer with its element-wise activation fused in (the fast path):
/// Z = W·X + b, Y = f(Z), with Z kept in the scratch (K per example) for backward:
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
    public var scratchPerExample: Int { outputSize }
    public var summary: String { "\(sparsity == nil ? "dense" : "sparse") linear, \(activation)" }
}
