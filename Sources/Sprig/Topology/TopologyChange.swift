/// A layer's new pattern after a prune-and-grow step, and where each new slot's value comes
/// from: `sourceSlot[q]` is the slot of the old pattern at the same (row, column), or -1 for a
/// grown position (so a caller moves values and optimizer state with
/// `new[q] = sourceSlot[q] >= 0 ? old[sourceSlot[q]] : initial value`).
public struct TopologyChange: Sendable {
    /// The new pattern.
    public let pattern: SparsityPattern
    /// For each slot of `pattern`, the old slot at the same position, or -1 for a grown one.
    public let sourceSlot: [Int32]
    /// The grown positions (the -1 entries of `sourceSlot`).
    public var grown: Int

    /// The pattern of `old`'s surviving slots plus the `grown` positions, built row by row:
    /// each row merges its kept columns (already sorted) with its grown columns (sorted once,
    /// by (row, column)), so the columns come out sorted without repeats. Grown positions
    /// must be in range, distinct, and not at a kept position. Cost O(nnz + rows + g log g)
    /// for g grown positions.
    public static func combining(old: SparsityPattern, survivors: [Bool], grown: [(row: Int32, column: Int32)]) -> TopologyChange {
        precondition(survivors.count == old.nonzeroCount, "one survivor flag per slot")
        let sortedGrown = grown.sorted { ($0.row, $0.column) < ($1.row, $1.column) }
        let kept = survivors.reduce(0) { $0 + ($1 ? 1 : 0) }
        let total = kept + sortedGrown.count
        precondition(total <= Int(Int32.max), "more nonzeros than 32-bit indices")
        var offsets = [Int](repeating: 0, count: old.rows + 1)
        var columns = [Int32](), source = [Int32]()
        columns.reserveCapacity(total)
        source.reserveCapacity(total)
        var g = 0
        for r in 0..<old.rows {
            var q = old.rowOffsets[r]
            let end = old.rowOffsets[r + 1]
            while true {
                while q < end && !survivors[q] { q += 1 }
                let hasKept = q < end
                let hasGrown = g < sortedGrown.count && Int(sortedGrown[g].row) == r
                if !hasKept && !hasGrown { break }
                if hasGrown && (!hasKept || sortedGrown[g].column < old.columnIndices[q]) {
                    let c = sortedGrown[g].column
                    precondition(c >= 0 && Int(c) < old.columns, "grown column \(c) out of range")
                    precondition(columns.count == offsets[r] || columns.last! < c, "grown position (\(r), \(c)) given twice")
                    columns.append(c)
                    source.append(-1)
                    g += 1
                } else {
                    precondition(!hasGrown || sortedGrown[g].column != old.columnIndices[q],
                                 "grown position (\(r), \(old.columnIndices[q])) is a kept position")
                    columns.append(old.columnIndices[q])
                    source.append(Int32(q))
                    q += 1
                }
            }
            offsets[r + 1] = columns.count
        }
        precondition(g == sortedGrown.count, "grown row out of range")
        let pattern = SparsityPattern(unchecked: old.rows, columns: old.columns, rowOffsets: offsets, columnIndices: columns)
        return TopologyChange(pattern: pattern, sourceSlot: source, grown: sortedGrown.count)
    }
}
