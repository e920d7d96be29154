/// The best `capacity` candidates (|g|, flat position) seen so far, in a binary min-heap whose
/// root is the worst kept one: a candidate ranks higher when its |g| is larger, or equal with
/// a smaller flat position. Offering n candidates costs O(n log capacity).
struct GradientCandidateHeap {
    struct Candidate {
        /// |g|, with NaN read as -1 (below every number).
        var magnitude: Float
        var position: Int

        /// Whether `self` ranks below `other`.
        @inline(__always) func isWorse(than other: Candidate) -> Bool {
            magnitude < other.magnitude || (magnitude == other.magnitude && position > other.position)
        }
    }

    let capacity: Int
    private(set) var items: [Candidate] = []

    init(capacity: Int) {
        precondition(capacity >= 0)
        self.capacity = capacity
        items.reserveCapacity(capacity)
    }

    /// Keeps the candidate when fewer than `capacity` are held or it ranks above the worst.
    @inline(__always) mutating func offer(gradient g: Float, position: Int) {
        let candidate = Candidate(magnitude: g.isNaN ? -1 : abs(g), position: position)
        if items.count < capacity {
            items.append(candidate)
            siftUp(items.count - 1)
        } else if capacity > 0 && items[0].isWorse(than: candidate) {
            items[0] = candidate
            siftDown(0)
        }
    }

    private mutating func siftUp(_ start: Int) {
        var i = start
        while i > 0 {
            let parent = (i - 1) / 2
            guard items[i].isWorse(than: items[parent]) else { return }
            items.swapAt(i, parent)
            i = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var i = start
        while true {
            let left = 2 * i + 1, right = left + 1
            var worst = i
            if left < items.count && items[left].isWorse(than: items[worst]) { worst = left }
            if right < items.count && items[right].isWorse(than: items[worst]) { worst = right }
            if worst == i { return }
            items.swapAt(i, worst)
            i = worst
        }
    }
}
