/// Random regrow (SET): `count` distinct positions drawn uniformly, without replacement, among
/// the positions of the rows × columns matrix that no surviving slot holds (a position pruned
/// in this same step may be drawn again, as Nerva and RigL allow).
///
/// Two exact ways, chosen by the empty positions E = rows·columns − survivors and count:
/// - E ≥ rows·columns / 2 and count ≤ E / 2: rejection sampling. Draw a flat position
///   p = r·columns + c uniformly in 0..<rows·columns; keep it unless a survivor holds it (binary
///   search in row r's sorted columns) or it was drawn already (a hash set of the drawn ones).
///   Each draw is accepted with probability ≥ 1/4, so O(count) draws, O(count) memory.
/// - otherwise: enumerate the E empty positions and pick count of them by a partial
///   Fisher–Yates shuffle. Here E < survivors ≤ nnz, or count > E/2, so the list is within a
///   small factor of nnz or of the output.
/// The result is sorted by (row, column), so it depends only on the generator's state.
public enum RandomGrowth {
    public static func positions(in pattern: SparsityPattern, survivors: [Bool], count: Int,
                                 generator: inout RandomGenerator) -> [(row: Int32, column: Int32)] {
        precondition(survivors.count == pattern.nonzeroCount, "one survivor flag per slot")
        let (total, overflow) = pattern.rows.multipliedReportingOverflow(by: pattern.columns)
        precondition(!overflow, "\(pattern.rows)×\(pattern.columns) positions overflow Int")
        let kept = survivors.reduce(0) { $0 + ($1 ? 1 : 0) }
        let empty = total - kept
        precondition(count >= 0 && count <= empty, "cannot grow \(count) weights into \(empty) empty positions")
        guard count > 0 else { return [] }
        let columns = pattern.columns
        var chosen: [Int]
        if empty >= total - empty && count <= empty / 2 {
            var drawn = Set<Int>(minimumCapacity: count)
            chosen = []
            chosen.reserveCapacity(count)
            while chosen.count < count {
                let p = generator.below(total)
                if isSurvivor(pattern, survivors, row: p / columns, column: Int32(p % columns)) { continue }
                if drawn.insert(p).inserted { chosen.append(p) }
            }
        } else {
            var emptyPositions = [Int]()
            emptyPositions.reserveCapacity(empty)
            for r in 0..<pattern.rows {
                var q = pattern.rowOffsets[r]
                let end = pattern.rowOffsets[r + 1]
                for c in 0..<columns {
                    while q < end && (!survivors[q] || Int(pattern.columnIndices[q]) < c) { q += 1 }
                    if q < end && Int(pattern.columnIndices[q]) == c { continue }
                    emptyPositions.append(r * columns + c)
                }
            }
            for i in 0..<count {
                emptyPositions.swapAt(i, i + generator.below(emptyPositions.count - i))
            }
            chosen = Array(emptyPositions.prefix(count))
        }
        chosen.sort()
        return chosen.map { (row: Int32($0 / columns), column: Int32($0 % columns)) }
    }

    /// Whether a surviving slot holds (row, column): binary search in the row's sorted columns.
    static func isSurvivor(_ pattern: SparsityPattern, _ survivors: [Bool], row: Int, column: Int32) -> Bool {
        var low = pattern.rowOffsets[row], high = pattern.rowOffsets[row + 1]
        while low < high {
            let middle = (low + high) / 2
            let c = pattern.columnIndices[middle]
            if c == column { return survivors[middle] }
            if c < column { low = middle + 1 } else { high = middle }
        }
        return false
    }
}
