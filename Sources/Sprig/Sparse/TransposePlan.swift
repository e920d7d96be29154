/// Wᵀ's pattern and, for each of its slots, the slot of the same nonzero in W (`sourceSlot`).
/// Built once per pattern; a product with Wᵀ reads `values[sourceSlot[p]]`, so no values are
/// copied when W changes.
public struct TransposePlan: Sendable {
    public let pattern: SparsityPattern      // columns × rows of the original
    public let sourceSlot: [Int32]           // slot in W of Wᵀ's slot p

    /// W's nonzeros by column (a stable counting sort, O(nnz + columns)); the entry numbers are W's slots.
    public init(of w: SparsityPattern) {
        var builder = CSRBuilder(columns: w.rows, capacity: w.nonzeroCount)
        for r in 0..<w.rows {
            for p in w.rowOffsets[r]..<w.rowOffsets[r + 1] { builder.append(row: w.columnIndices[p], column: Int32(r)) }
        }
        let (transposed, entryOfSlot) = builder.buildDistinct(rows: w.columns)
        pattern = transposed
        sourceSlot = entryOfSlot ?? Array(0..<Int32(w.nonzeroCount))
    }
}
