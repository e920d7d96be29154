/// Gradient regrow (RigL): the `count` empty positions (held by no surviving slot) with the
/// largest |∂L/∂W|, where ∂L/∂W = ΔZ·Xᵀ is the dense K×D gradient the layer would have if it
/// were dense. Ties: larger |g| first, then the smaller flat position r·D + c; a NaN gradient
/// ranks below every number. The result is sorted by (row, column).
///
/// Memory stays bounded: the rows are walked in blocks of `blockRows`; the caller fills one
/// dense block (rows.count × D, row-major) at a time, and the best `count` candidates are kept
/// in a min-heap, so memory is blockRows·D floats + the heap, never the whole K×D matrix
/// unless it fits one block. Cost: one dense K×D×B product per regrow (the caller's, e.g.
/// sgemm and an allreduce per block) + O(K·D·log count) for the selection.
public enum GradientGrowth {
    /// `gradientBlock(rows, buffer)` must write all rows.count·columns values of the block.
    /// Blocks are requested in increasing row order; none when `count` is 0.
    public static func positions(in pattern: SparsityPattern, survivors: [Bool], count: Int, blockRows: Int,
                                 gradientBlock: (_ rows: Range<Int>, _ block: UnsafeMutablePointer<Float>) throws -> Void)
        rethrows -> [(row: Int32, column: Int32)] {
        precondition(survivors.count == pattern.nonzeroCount, "one survivor flag per slot")
        precondition(blockRows >= 1, "blockRows must be at least 1")
        let (total, overflow) = pattern.rows.multipliedReportingOverflow(by: pattern.columns)
        precondition(!overflow, "\(pattern.rows)×\(pattern.columns) positions overflow Int")
        let empty = total - survivors.reduce(0) { $0 + ($1 ? 1 : 0) }
        precondition(count >= 0 && count <= empty, "cannot grow \(count) weights into \(empty) empty positions")
        guard count > 0 else { return [] }
        let columns = pattern.columns
        let rowsPerBlock = min(blockRows, pattern.rows)
        var heap = GradientCandidateHeap(capacity: count)
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: rowsPerBlock * columns)
        defer { buffer.deallocate() }
        for first in stride(from: 0, to: pattern.rows, by: rowsPerBlock) {
            let rows = first..<min(pattern.rows, first + rowsPerBlock)
            try gradientBlock(rows, buffer)
            for r in rows {
                let row = buffer + (r - first) * columns
                var q = pattern.rowOffsets[r]
                let end = pattern.rowOffsets[r + 1]
                for c in 0..<columns {
                    while q < end && (!survivors[q] || Int(pattern.columnIndices[q]) < c) { q += 1 }
                    if q < end && Int(pattern.columnIndices[q]) == c { continue }
                    heap.offer(gradient: row[c], position: r * columns + c)
                }
            }
        }
        return heap.items.map(\.position).sorted().map { (row: Int32($0 / columns), column: Int32($0 % columns)) }
    }

    /// Rows per block so that one block of `columns` floats per row fits `budgetBytes`:
    /// max(1, budgetBytes / (4·columns)).
    public static func blockRows(columns: Int, budgetBytes: Int) -> Int {
        max(1, budgetBytes / (4 * max(columns, 1)))
    }
}
