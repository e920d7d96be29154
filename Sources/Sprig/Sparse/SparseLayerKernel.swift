/// How a sparse layer's products are computed. Both give the products of W on its pattern
/// (only the order of float sums differs), so the choice is about speed and memory:
///
/// - `csr`: the CSR kernels, work ∝ nnz·B and memory ∝ nnz (the default, and the only sane
///   choice at low density);
/// - `dense`: GEMM on W scattered into a K×D matrix that is zero off the pattern, DW = DZ·Xᵀ
///   computed in full and gathered at the pattern's slots: work ∝ K·D·B, two K×D buffers more,
///   and faster where the density is high enough that BLAS's rate outweighs the extra flops.
///
/// `KernelChooser` picks one per layer by timing both at start-up; a user may fix it per layer.
public enum SparseLayerKernel: String, Codable, Sendable, CaseIterable {
    case csr, dense
}
