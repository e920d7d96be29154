import Glibc
import PanelKernels

/// A batch of live inputs as panels of 16: Yᵀ (N×B) cut into N×16 blocks, each contiguous and
/// 64-byte aligned, so a kernel reads one input line per nonzero and a panel stays in cache
/// whatever the batch's width (neuron i on line `sprig_panel_line(i)`, a spare line after every 64). Two buffers: a layer reads the front one and writes the back one
/// (then `flip`). The panels in use are `slots` (their places in either buffer); lane c of entry
/// e holds input `lanes[16·e + c]` of the batch, or −1 for an empty lane, whose column is all
/// zero and stays zero (the bias is ≤ 0).
final class PanelBatch {
    static let width = 16
    let neurons: Int
    /// Lines per panel (N and the spare lines), and floats: 16 a line.
    let panelLines: Int
    let panelFloats: Int
    /// Panels per buffer.
    private(set) var capacity = 0
    private var buffers: [UnsafeMutablePointer<Float>] = []
    /// False for a part of another batch (`split`), whose buffers it shares.
    private let ownsBuffers: Bool
    private var front = 0
    private(set) var slots: [Int] = []
    private(set) var lanes: [Int32] = []

    init(neurons: Int) {
        self.neurons = neurons
        panelLines = Int(sprig_panel_lines(Int64(neurons)))
        panelFloats = panelLines * Self.width
        ownsBuffers = true
    }

    private init(partOf whole: PanelBatch, entries: Range<Int>) {
        neurons = whole.neurons
        panelLines = whole.panelLines
        panelFloats = whole.panelFloats
        capacity = whole.capacity
        buffers = whole.buffers
        ownsBuffers = false
        front = whole.front
        slots = Array(whole.slots[entries])
        lanes = Array(whole.lanes[entries.lowerBound * Self.width ..< entries.upperBound * Self.width])
    }

    deinit { if ownsBuffers { buffers.forEach { UnsafeMutableRawPointer($0).deallocate() } } }

    /// The entries in `parts` contiguous shares, each a batch of its own over the same buffers
    /// (its own front): a thread can take one through layers without the others. This batch
    /// must not be used while they are.
    func split(into parts: Int) -> [PanelBatch] {
        (0..<parts).map { k in PanelBatch(partOf: self, entries: slots.count * k / parts ..< slots.count * (k + 1) / parts) }
    }

    /// The line of neuron i in a panel (`sprig_panel_line`).
    @inline(__always) static func line(_ neuron: Int) -> Int { Int(sprig_panel_line(Int64(neuron))) }

    /// Panels for `count` inputs.
    static func panels(for count: Int) -> Int { (count + width - 1) / width }

    /// Starts a batch of `count` inputs, none placed yet (`place` puts them): the buffers grow
    /// to fit, their contents are the caller's to write.
    func start(count: Int) {
        precondition(ownsBuffers, "a part of a batch cannot start another")
        let panels = Self.panels(for: count)
        if capacity < panels {
            buffers.forEach { UnsafeMutableRawPointer($0).deallocate() }
            buffers = (0..<2).map { _ in Self.allocate(floats: panels * panelFloats) }
            capacity = panels
        }
        front = 0
        slots = []
        lanes = []
    }

    /// The panels in use after layer 1 wrote them into the back buffer, and their lanes' inputs.
    func place(slots: [Int], lanes: [Int32]) {
        precondition(lanes.count == slots.count * Self.width && slots.allSatisfy { $0 < capacity })
        self.slots = slots
        self.lanes = lanes
    }

    /// `floats` uninitialized floats in whole 2 MiB pages, as transparent huge pages where the
    /// kernel offers them (madvise; small pages otherwise): the first batch touches every page
    /// of its buffers, and one fault per 2 MiB instead of per 4 KiB took about 1 ms off layer 1
    /// of the challenge's 1 200 real inputs (≈ 3 ms); a panel of N = 65536 spans 4 MiB.
    static func allocate(floats: Int) -> UnsafeMutablePointer<Float> {
        let huge = 1 << 21, bytes = (max(floats, 1) * MemoryLayout<Float>.stride + huge - 1) / huge * huge
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: huge)
        _ = madvise(raw, bytes, MADV_HUGEPAGE)
        return raw.bindMemory(to: Float.self, capacity: max(floats, 1))
    }

    /// The panel in slot `slot` of the front (current activations) or back buffer.
    func panel(_ slot: Int, back: Bool = false) -> UnsafeMutablePointer<Float> {
        buffers[back ? 1 - front : front] + slot * panelFloats
    }

    /// The back buffer becomes the front: after a layer wrote it.
    func flip() { front = 1 - front }

    /// The number of live lanes.
    var live: Int { lanes.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) } }

    /// The batch indices of the live lanes.
    var liveInputs: [Int] { lanes.compactMap { $0 >= 0 ? Int($0) : nil } }

    /// After a layer: the lanes whose bit is clear in `alive[e]` (entry e's columns with a
    /// nonzero) died; entries left without a live lane are dropped.
    func keep(alive: [UInt16]) {
        var keptSlots: [Int] = [], keptLanes: [Int32] = []
        keptSlots.reserveCapacity(slots.count)
        keptLanes.reserveCapacity(lanes.count)
        for (e, slot) in slots.enumerated() where alive[e] != 0 {
            keptSlots.append(slot)
            for c in 0..<Self.width { keptLanes.append(alive[e] & (1 << c) != 0 ? lanes[e * Self.width + c] : -1) }
        }
        slots = keptSlots
        lanes = keptLanes
    }

    /// After a layer wrote the back buffer: it becomes the front, the lanes not in `alive` die
    /// (nil: layer 1 placed only live ones) and panels are refilled. Returns what `compact` did.
    @discardableResult
    func advance(alive: [UInt16]?, pool: ThreadPool) -> (moved: Int, freed: Int) {
        flip()
        if let alive { keep(alive: alive) }
        return compact(pool: pool)
    }

    /// Frees panels by moving the live lanes of the last partly empty entries into the empty
    /// lanes of the first ones (columns copied in the front buffer, lines split across `pool`),
    /// as long as the emptied entry's lanes all find a place. Lane order does not matter: each
    /// column is computed on its own. Returns the columns moved and the panels freed.
    @discardableResult
    func compact(pool: ThreadPool) -> (moved: Int, freed: Int) {
        let w = Self.width
        func liveCount(_ e: Int) -> Int { (0..<w).reduce(0) { $0 + (lanes[e * w + $1] >= 0 ? 1 : 0) } }
        let partial = slots.indices.filter { liveCount($0) < w }
        guard partial.count > 1 else { return (0, 0) }
        // holesBefore[m]: the empty lanes of partial[0 ..< m].
        var holesBefore = [0]
        for e in partial { holesBefore.append(holesBefore.last! + w - liveCount(e)) }
        var moves: [(from: Int, fromLane: Int, to: Int, toLane: Int)] = []
        var removed = Set<Int>()
        var target = 0, targetLane = 0   // the next empty lane looked at: partial[target], lane targetLane
        var source = partial.count - 1
        func holesInTarget() -> Int { (targetLane..<w).reduce(0) { $0 + (lanes[partial[target] * w + $1] < 0 ? 1 : 0) } }
        while target < source {
            let from = partial[source], needed = liveCount(from)
            guard holesInTarget() + holesBefore[source] - holesBefore[target + 1] >= needed else { break }
            for lane in 0..<w where lanes[from * w + lane] >= 0 {
                while true {
                    if targetLane == w { target += 1; targetLane = 0 }
                    if lanes[partial[target] * w + targetLane] < 0 { break }
                    targetLane += 1
                }
                let to = partial[target]
                moves.append((from, lane, to, targetLane))
                lanes[to * w + targetLane] = lanes[from * w + lane]
                lanes[from * w + lane] = -1
                targetLane += 1
            }
            removed.insert(from)
            source -= 1
        }
        guard !removed.isEmpty else { return (0, 0) }
        let from = moves.map { UnsafePointer(panel(slots[$0.from])) as UnsafePointer<Float>? }
        let to = moves.map { panel(slots[$0.to]) as UnsafeMutablePointer<Float>? }
        let fromLanes = moves.map { UInt8($0.fromLane) }, toLanes = moves.map { UInt8($0.toLane) }
        pool.forEachRange(panelLines, minimumPerThread: 256) { rows in
            sprig_panel_move_columns(from, fromLanes, to, toLanes, Int64(moves.count), Int64(rows.lowerBound), Int64(rows.upperBound))
        }
        let kept = slots.indices.filter { !removed.contains($0) }
        lanes = kept.flatMap { e in lanes[e * w ..< (e + 1) * w] }
        slots = kept.map { slots[$0] }
        return (moves.count, removed.count)
    }
}
