/// The nonzero structure of a CSR matrix: `rows × columns`, row `r`'s nonzeros at slots
/// `rowOffsets[r] ..< rowOffsets[r+1]`, their columns in `columnIndices` (sorted, no duplicates).
/// Values live elsewhere (in the parameter store for a layer), indexed by slot.
public struct SparsityPattern: Equatable, Sendable {
    public let rows: Int
    public let columns: Int
    public let rowOffsets: [Int]
    public let columnIndices: [Int32]

    public var nonzeroCount: Int { columnIndices.count }
    public var density: Double { rows * columns == 0 ? 0 : Double(nonzeroCount) / (Double(rows) * Double(columns)) }

    /// Builds a pattern after checking the CSR invariant; throws `SprigError.invalidArgument`
    /// (prefixed with `context`) when offsets are not monotone, columns are out of range,
    /// unsorted or repeated.
    public init(rows: Int, columns: Int, rowOffsets: [Int], columnIndices: [Int32], context: String = "CSR matrix") throws {
        if let problem = SparsityPattern.invariantViolation(rows: rows, columns: columns,
                                                             rowOffsets: rowOffsets, columnIndices: columnIndices) {
            throw SprigError.invalidArgument("\(context): \(problem)")
        }
        self.rows = rows
        self.columns = columns
        self.rowOffsets = rowOffsets
        self.columnIndices = columnIndices
    }

    /// For patterns the library builds itself (already known to be valid).
    init(unchecked rows: Int, columns: Int, rowOffsets: [Int], columnIndices: [Int32]) {
        self.rows = rows
        self.columns = columns
        self.rowOffsets = rowOffsets
        self.columnIndices = columnIndices
    }

    /// The first broken rule of the CSR invariant, or nil when the arrays form a valid pattern.
    public static func invariantViolation(rows: Int, columns: Int, rowOffsets: [Int], columnIndices: [Int32]) -> String? {
        guard rows >= 0, columns >= 0 else { return "negative shape \(rows)×\(columns)" }
        guard columns <= Int(Int32.max) else { return "\(columns) columns exceed the 32-bit index range" }
        guard rowOffsets.count == rows + 1 else { return "indptr has \(rowOffsets.count) entries, expected rows + 1 = \(rows + 1)" }
        guard rowOffsets[0] == 0 else { return "indptr[0] is \(rowOffsets[0]), expected 0" }
        guard rowOffsets[rows] == columnIndices.count else {
            return "indptr[\(rows)] is \(rowOffsets[rows]) but there are \(columnIndices.count) column indices"
        }
        // indptr in full before any column is read through it: monotone, so within 0…nnz.
        for r in 0..<rows where rowOffsets[r] > rowOffsets[r + 1] {
            return "indptr is not monotone at index \(r + 1) (indptr[\(r)] = \(rowOffsets[r]) > indptr[\(r + 1)] = \(rowOffsets[r + 1]))"
        }
        for r in 0..<rows {
            let start = rowOffsets[r], end = rowOffsets[r + 1]
            var previous: Int32 = -1
            for p in start..<end {
                let c = columnIndices[p]
                guard c >= 0, Int(c) < columns else { return "row \(r): column \(c) out of range 0..<\(columns)" }
                guard c > previous else {
                    return c == previous ? "row \(r): column \(c) appears twice" : "row \(r): columns not sorted (\(previous) before \(c))"
                }
                previous = c
            }
        }
        return nil
    }

    /// Nonzeros of row `r`.
    @inline(__always) public func count(ofRow r: Int) -> Int { rowOffsets[r + 1] - rowOffsets[r] }

    /// A pattern with `round(density·rows·columns)` nonzeros at positions drawn uniformly without
    /// replacement (Floyd's algorithm; the complement is drawn above density 0.5).
    public static func random(rows: Int, columns: Int, density: Double, generator: inout RandomGenerator) -> SparsityPattern {
        precondition(density >= 0 && density <= 1 && rows >= 0 && columns >= 0)
        let total = rows * columns
        let target = Int((density * Double(total)).rounded())
        var positions: [Int]
        if target == total {
            positions = Array(0..<total)
        } else {
            let drawComplement = target > total / 2
            let drawn = drawComplement ? total - target : target
            var chosen = Set<Int>(minimumCapacity: drawn)
            for j in (total - drawn)..<total {
                let t = generator.below(j + 1)
                if !chosen.insert(t).inserted { chosen.insert(j) }
            }
            if drawComplement {
                positions = []
                positions.reserveCapacity(target)
                for p in 0..<total where !chosen.contains(p) { positions.append(p) }
            } else {
                positions = Array(chosen)
                positions.sort()
            }
        }
        return SparsityPattern(sortedPositions: positions, rows: rows, columns: columns)
    }

    /// From sorted flat row-major positions `r·columns + c`.
    init(sortedPositions positions: [Int], rows: Int, columns: Int) {
        var builder = CSRBuilder(columns: columns, capacity: positions.count)
        for p in positions { builder.append(row: Int32(p / columns), column: Int32(p % columns)) }
        self = builder.buildDistinct(rows: rows).pattern
    }

    /// A stable hash (`StableHasher`) of shape and structure, to check that ranks agree on the pattern.
    public var structureHash: UInt64 {
        var hasher = StableHasher()
        hasher.combine(rows)
        hasher.combine(columns)
        rowOffsets.withUnsafeBytes { hasher.combine(bytes: $0) }
        columnIndices.withUnsafeBytes { hasher.combine(bytes: $0) }
        return hasher.value
    }
}
