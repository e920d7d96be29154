/// CSR from coordinates, the one way the library builds it. Entries (row, column) are added
/// in any order and numbered 0, 1, … as they come; `build` counts them per row, turns the
/// counts into row offsets by prefix sums, fills each row's slots stably (a row keeps its
/// entries' order), then sorts each row's columns (only rows that came out of order) and
/// checks that no column repeats. A repeat is reported by entry numbers, so a reader can name
/// the file's lines. Rows and columns must be in range: readers check them as they parse,
/// where they know the line.
public struct CSRBuilder {
    public let columns: Int
    private var rowOf: [Int32] = []
    private var columnOf: [Int32] = []

    /// `capacity`: the entries expected (storage reserved up front).
    public init(columns: Int, capacity: Int = 0) {
        precondition(columns >= 0 && columns <= Int(Int32.max))
        self.columns = columns
        rowOf.reserveCapacity(capacity)
        columnOf.reserveCapacity(capacity)
    }

    /// The entries added so far.
    public var count: Int { rowOf.count }

    /// Adds entry number `count`: (row, column), both in range.
    @inline(__always) public mutating func append(row: Int32, column: Int32) {
        rowOf.append(row)
        columnOf.append(column)
    }

    /// The `rows` × `columns` pattern, and for each of its slots the number of the entry it holds (so a caller
    /// moves its values with it: value of slot q = values[entryOfSlot[q]]). A column given
    /// twice in a row throws `repeated(row, column, earlier, later)` (entry numbers, earlier < later).
    public func build(rows: Int, repeated: (_ row: Int, _ column: Int32, _ earlier: Int, _ later: Int) -> Error) throws -> (pattern: SparsityPattern, entryOfSlot: [Int32]) {
        precondition(rows >= 0 && rows <= Int(Int32.max) && count <= Int(Int32.max), "more rows or entries than 32-bit indices")
        // Counts per row → prefix sums: row r's slots are offsets[r] ..< offsets[r + 1].
        var offsets = [Int](repeating: 0, count: rows + 1)
        for r in rowOf { offsets[Int(r) + 1] += 1 }
        for r in 0..<rows { offsets[r + 1] += offsets[r] }
        // Fill, stably: entryOfSlot[next[r]] = e for the entries e of row r in order.
        var next = offsets
        var entryOfSlot = [Int32](repeating: 0, count: count)
        var indices = [Int32](repeating: 0, count: count)
        for e in 0..<count {
            let r = Int(rowOf[e]), q = next[r]
            next[r] = q + 1
            entryOfSlot[q] = Int32(e)
            indices[q] = columnOf[e]
        }
        // Each row: sorted by column (ties by entry number, so the earlier entry comes first), then no repeats.
        for r in 0..<rows {
            let slots = offsets[r]..<offsets[r + 1]
            var sorted = true
            for q in slots.dropFirst() where indices[q - 1] >= indices[q] { sorted = false; break }
            if sorted { continue }
            let order = slots.map { entryOfSlot[$0] }.sorted { (columnOf[Int($0)], $0) < (columnOf[Int($1)], $1) }
            for (q, e) in zip(slots, order) {
                if q > slots.lowerBound, columnOf[Int(e)] == indices[q - 1] { throw repeated(r, indices[q - 1], Int(entryOfSlot[q - 1]), Int(e)) }
                entryOfSlot[q] = e
                indices[q] = columnOf[Int(e)]
            }
        }
        return (SparsityPattern(unchecked: rows, columns: columns, rowOffsets: offsets, columnIndices: indices), entryOfSlot)
    }

    /// `build` for entries the library made itself, which never repeat (a repeat is a bug).
    public func buildDistinct(rows: Int) -> (pattern: SparsityPattern, entryOfSlot: [Int32]) {
        do { return try build(rows: rows) { row, column, _, _ in SprigError.invalidArgument("row \(row): column \(column) appears twice") } }
        catch { preconditionFailure("\(error)") }
    }
}
