/// CSR from coordinates, the one way the library builds it. Entries (row, column) are added
/// in any order and numbered 0, 1, … as they come; `build` counts them per row, turns the
/// counts into row offsets by prefix sums, fills each row's slots stably (a row keeps its
/// entries' order), then sorts each row's columns (only rows that came out of order) and
/// checks that no column repeats. A repeat is reported by entry numbers, so a reader can name
/// the file's lines. Rows and columns must be in range: readers check them as they parse,
/// where they know the line.
///
/// Entries that come grouped by row in increasing row order (a file read row by row) skip the
/// counting and the fill: their row offsets are kept as they come, and `build` only sorts and
/// checks.
public struct CSRBuilder {
    public let columns: Int
    private var columnOf: [Int32] = []
    /// While the entries come grouped by row in increasing order: rowStarts[r] is row r's first
    /// entry, for the rows up to the last one seen. Otherwise empty, and rowOf holds every entry's row.
    private var rowStarts: [Int] = []
    private var rowOf: [Int32] = []
    private var grouped = true

    /// `capacity`: the entries expected (storage reserved up front).
    public init(columns: Int, capacity: Int = 0) {
        precondition(columns >= 0 && columns <= Int(Int32.max))
        self.columns = columns
        columnOf.reserveCapacity(capacity)
    }

    /// The entries added so far.
    public var count: Int { columnOf.count }

    /// Adds entry number `count`: (row, column), both in range.
    @inline(__always) public mutating func append(row: Int32, column: Int32) {
        if grouped {
            if Int(row) != rowStarts.count - 1 { startGroup(Int(row)) }
        } else {
            rowOf.append(row)
        }
        columnOf.append(column)
    }

    /// A row other than the current one: the next group when it comes later, else the entries
    /// are not grouped, and every entry's row is recorded from now on.
    private mutating func startGroup(_ row: Int) {
        if row > rowStarts.count - 1 {
            while rowStarts.count <= row { rowStarts.append(count) }
            return
        }
        grouped = false
        rowOf.reserveCapacity(columnOf.capacity)
        for r in rowStarts.indices {
            let end = r + 1 < rowStarts.count ? rowStarts[r + 1] : count
            rowOf += repeatElement(Int32(r), count: end - rowStarts[r])
        }
        rowOf.append(Int32(row))
        rowStarts = []
    }

    /// The `rows` × `columns` pattern, and for each of its slots the number of the entry it
    /// holds (so a caller moves its values with it: value of slot q = values[entryOfSlot[q]]),
    /// or nil when every slot holds the entry of its own number. A column given twice in a row
    /// throws `repeated(row, column, earlier, later)` (entry numbers, earlier < later). The
    /// builder is left empty.
    public mutating func build(rows: Int, repeated: (_ row: Int, _ column: Int32, _ earlier: Int, _ later: Int) -> Error) throws
        -> (pattern: SparsityPattern, entryOfSlot: [Int32]?) {
        precondition(rows >= 0 && rows <= Int(Int32.max) && count <= Int(Int32.max), "more rows or entries than 32-bit indices")
        var offsets: [Int], indices: [Int32] = [], entryOfSlot: [Int32]?
        swap(&indices, &columnOf)
        if grouped {
            precondition(rowStarts.count <= rows, "row out of range")
            offsets = rowStarts
            offsets += repeatElement(indices.count, count: rows + 1 - rowStarts.count)
        } else {
            // Counts per row → prefix sums: row r's slots are offsets[r] ..< offsets[r + 1].
            offsets = [Int](repeating: 0, count: rows + 1)
            for r in rowOf { offsets[Int(r) + 1] += 1 }
            for r in 0..<rows { offsets[r + 1] += offsets[r] }
            // Fill, stably: entryOfSlot[next[r]] = e for the entries e of row r in order.
            var next = offsets, slots = [Int32](repeating: 0, count: indices.count), filled = indices
            for e in rowOf.indices {
                let r = Int(rowOf[e]), q = next[r]
                next[r] = q + 1
                slots[q] = Int32(e)
                filled[q] = indices[e]
            }
            entryOfSlot = slots
            indices = filled
        }
        rowOf = []
        rowStarts = []
        grouped = true
        // Each row: sorted by column (ties by entry number, so the earlier entry comes first), then no repeats.
        for r in 0..<rows {
            let slots = offsets[r]..<offsets[r + 1]
            var sorted = true
            for q in slots.dropFirst() where indices[q - 1] >= indices[q] { sorted = false; break }
            if sorted { continue }
            if entryOfSlot == nil { entryOfSlot = (0..<Int32(indices.count)).map { $0 } }
            let order = slots.map { (column: indices[$0], entry: entryOfSlot![$0]) }.sorted { ($0.column, $0.entry) < ($1.column, $1.entry) }
            for (q, item) in zip(slots, order) {
                if q > slots.lowerBound, item.column == indices[q - 1] { throw repeated(r, item.column, Int(entryOfSlot![q - 1]), Int(item.entry)) }
                entryOfSlot![q] = item.entry
                indices[q] = item.column
            }
        }
        return (SparsityPattern(unchecked: rows, columns: columns, rowOffsets: offsets, columnIndices: indices), entryOfSlot)
    }

    /// `build` for entries the library made itself, which never repeat (a repeat is a bug).
    public mutating func buildDistinct(rows: Int) -> (pattern: SparsityPattern, entryOfSlot: [Int32]?) {
        do { return try build(rows: rows) { row, column, _, _ in SprigError.invalidArgument("row \(row): column \(column) appears twice") } }
        catch { preconditionFailure("\(error)") }
    }
}
