/// A sparse layer's pattern in the form one backend's kernels take (`ComputeBackend.prepare`):
/// built once per pattern, kept by the layer until the pattern or the backend changes.
public protocol SparseOperand: AnyObject {
    /// W's pattern (K×D).
    var pattern: SparsityPattern { get }
    /// The kernels it was prepared for.
    var kernel: SparseLayerKernel { get }
}
