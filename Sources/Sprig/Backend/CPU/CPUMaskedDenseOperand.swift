/// A sparse layer run with dense GEMM (`SparseLayerKernel.dense`) on the CPU: W scattered into a
/// K×D row-major matrix that is zero off the pattern, and a K×D buffer for the full DZ·Xᵀ whose
/// pattern slots are gathered into the store's DW. Rows are split evenly across the threads for
/// the scatter and the gather.
public final class CPUMaskedDenseOperand: SparseOperand {
    public let pattern: SparsityPattern
    public var kernel: SparseLayerKernel { .dense }
    /// W (K×D): the pattern's values at their positions, zero elsewhere.
    let weights: FloatBuffer
    /// DZ·Xᵀ (K×D), in full; only the pattern's slots are read.
    let gradient: FloatBuffer
    let threads: Int

    /// Throws when the two K×D buffers do not fit in half the machine's memory.
    init(pattern: SparsityPattern, threads: Int) throws {
        var budget = MemoryBudget("the dense kernel of a \(pattern.rows)×\(pattern.columns) sparse layer (two such matrices)")
        try budget.add(product: [2, pattern.rows, pattern.columns])
        try budget.check(fraction: 0.5)
        self.pattern = pattern
        self.threads = threads
        weights = FloatBuffer(count: pattern.rows * pattern.columns)
        gradient = FloatBuffer(count: pattern.rows * pattern.columns)
    }

    /// W[r, c_p] = values[p] for rows `rows` (the zeros off the pattern stay as allocated).
    func scatter(_ values: UnsafePointer<Float>, rows: Range<Int>) {
        let w = weights.pointer
        forEachNonzero(rows: rows) { p, position in w[position] = values[p] }
    }

    /// DW[p] = (DZ·Xᵀ)[r, c_p] for rows `rows`.
    func gather(into dw: UnsafeMutablePointer<Float>, rows: Range<Int>) {
        let g = UnsafePointer(gradient.pointer)
        forEachNonzero(rows: rows) { p, position in dw[p] = g[position] }
    }

    /// body(p, r·D + c_p) for each slot p of rows `rows`: the slot and its place in a K×D matrix.
    @inline(__always)
    private func forEachNonzero(rows: Range<Int>, _ body: (Int, Int) -> Void) {
        let d = pattern.columns
        pattern.rowOffsets.withUnsafeBufferPointer { offsets in
            pattern.columnIndices.withUnsafeBufferPointer { columns in
                for r in rows {
                    for p in offsets[r]..<offsets[r + 1] { body(p, r * d + Int(columns[p])) }
                }
            }
        }
    }
}
