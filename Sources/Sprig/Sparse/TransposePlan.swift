/// Wᵀ's pattern and, for each of its slots, the slot of the same nonzero in W (`sourceSlot`).
/// Built once per pattern; a product with Wᵀ reads `values[sourceSlot[p]]`, so no values are
/// copied when W changes.
public struct TransposePlan: Sendable {
    public let pattern: SparsityPattern      // columns × rows of the original
    public let sourceSlot: [Int32]           // slot in W of Wᵀ's slot p

    /// Counting sort of W's nonzeros by column: O(nnz + columns).
    public init(of w: SparsityPattern) {
        precondition(w.nonzeroCount <= Int(Int32.max))
        var offsets = [Int](repeating: 0, count: w.columns + 1)
        for c in w.columnIndices { offsets[Int(c) + 1] += 1 }
        for c in 0..<w.columns { offsets[c + 1] += offsets[c] }
        var next = offsets
        var rowIndex = [Int32](repeating: 0, count: w.nonzeroCount)
        var source = [Int32](repeating: 0, count: w.nonzeroCount)
        for r in 0..<w.rows {
            for p in w.rowOffsets[r]..<w.rowOffsets[r + 1] {
                let c = Int(w.columnIndices[p])
                let q = next[c]
                next[c] += 1
                rowIndex[q] = Int32(r)
                source[q] = Int32(p)
            }
        }
        pattern = SparsityPattern(unchecked: w.columns, columns: w.rows, rowOffsets: offsets, columnIndices: rowIndex)
        sourceSlot = source
    }
}
