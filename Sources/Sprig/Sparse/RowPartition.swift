/// Contiguous row ranges with about equal work each, for splitting a CSR kernel across threads.
/// A row's work is its nonzero count plus `rowCost` (the per-row epilogue, in nonzero units).
public struct RowPartition: Sendable {
    /// Part k covers rows `bounds[k] ..< bounds[k+1]`.
    public let bounds: [Int]
    public var parts: Int { bounds.count - 1 }

    public init(_ pattern: SparsityPattern, parts requested: Int, rowCost: Int = 1) {
        let rows = pattern.rows
        let parts = max(1, min(requested, rows))
        let total = pattern.nonzeroCount + rowCost * rows
        var bounds = [0]
        var row = 0
        for k in 1..<parts {
            let goal = total * k / parts
            func work(upTo r: Int) -> Int { pattern.rowOffsets[r] + rowCost * r }
            while row < rows && work(upTo: row) < goal { row += 1 }
            // Take the boundary nearer the goal: one row more or one less.
            if row > bounds[bounds.count - 1] && goal - work(upTo: row - 1) < work(upTo: row) - goal { row -= 1 }
            bounds.append(max(row, bounds[bounds.count - 1]))
        }
        bounds.append(rows)
        self.bounds = bounds
    }

    @inline(__always) public func rows(ofPart k: Int) -> Range<Int> { bounds[k]..<bounds[k + 1] }
}
