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
/// A saved model records its layers' kernels (`ModelDescription.kernels`), and a loaded one
/// evaluates on them, so that it computes bitwise what its training run evaluated.
public enum SparseLayerKernel: String, Codable, Sendable, CaseIterable {
    case csr, dense

    /// The dense kernel's two K×D matrices may take at most this fraction of the machine's
    /// memory where it is chosen rather than asked for.
    public static let denseMemoryFraction = 0.125

    /// The bytes of the dense kernel's two matrices for a rows×columns layer.
    public static func denseBytes(rows: Int, columns: Int) -> Double { 8 * Double(rows) * Double(columns) }

    /// Whether they fit in `denseMemoryFraction` of this machine's memory.
    public static func denseFits(rows: Int, columns: Int) -> Bool {
        denseBytes(rows: rows, columns: columns) <= denseMemoryFraction * Double(MemoryBudget.machineBytes)
    }
}
