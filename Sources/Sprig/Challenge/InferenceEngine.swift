import PanelKernels

/// Sparse DNN Graph Challenge inference: Y_{l+1} = min(32, ReLU(Y_l·W_l + b)) through all
/// layers; the categories are the inputs whose final row has any nonzero.
///
/// Feature-major, as in training, but cut into panels of 16 inputs (`PanelBatch`): each layer
/// computes, for every panel and output neuron j (a row of Wᵀ),
///   Yᵀ_{l+1}[j, 0..<16] = min(32, max(0, Σ_i W(i, j)·Yᵀ_l[i, 0..<16] + b_j)),
/// one 64-byte input line per nonzero (`sprig_panel_layer`), with work items of a few panels
/// (their inputs stay in L2) × a share of the rows. The kernel also reports which columns kept
/// a nonzero: the bias is ≤ 0, so an input whose column is all zero stays zero, and its lane is
/// freed at once; panels whose lanes died are refilled from the last ones
/// (`PanelBatch.compact`), which is most of the speed. Layer 1 reads the sparse inputs: each
/// thread builds input panels in scratch panels of its own and keeps only the inputs that
/// survive it, so Y₀ is never written out. FP32 throughout: 16-bit storage of Y changes
/// categories (bench/README.md). The weights' values and the bias vector are used as given
/// (nothing assumes they are equal).
public final class InferenceEngine: ChallengeEngine {
    public let layers: [ChallengeLayer]
    public let neurons: Int
    public let bias: Float
    public let cap: Float
    public let pool: ThreadPool
    /// Each layer's rows in up to 4 parts per thread of about equal nonzeros (fewer when N is
    /// smaller); a work item takes a run of them.
    private let partitions: [RowPartition]
    /// b as a vector, one value per neuron, as any layer's bias is used.
    private let biases: FloatBuffer
    private let batch: PanelBatch
    /// Where the time went, over every batch run since the engine was made or `resetProfile`.
    public private(set) var profile: InferenceProfile
    /// Two tiles of scratch panels per thread, for layer 1's input and output panels.
    private let scratch: UnsafeMutablePointer<Float>

    public init(layers: [ChallengeLayer], neurons: Int, bias: Float, cap: Float = 32, pool: ThreadPool) {
        self.layers = layers
        self.neurons = neurons
        self.bias = bias
        self.cap = cap
        self.pool = pool
        partitions = layers.map { RowPartition($0.transposed, parts: pool.threads * 4) }
        biases = FloatBuffer(count: neurons)
        biases.fill(bias)
        batch = PanelBatch(neurons: neurons)
        profile = InferenceProfile(layers: layers.count)
        let scratchFloats = 2 * pool.threads * Self.tilePanels(neurons: neurons) * batch.panelFloats
        scratch = PanelBatch.allocate(floats: scratchFloats)
        scratch.initialize(repeating: 0, count: scratchFloats)
    }

    deinit { UnsafeMutableRawPointer(scratch).deallocate() }

    /// Starts the profile anew (e.g. for each pass over the inputs).
    public func resetProfile() { profile = InferenceProfile(layers: layers.count) }

    /// The edges one input passes through: Σ over layers of nonzeros.
    public var edges: Int { layers.reduce(0) { $0 + $1.values.count } }

    /// The default bias of the challenge for N neurons: −0.3, −0.35, −0.4, −0.45 for 1024 … 65536.
    public static func challengeBias(neurons: Int) -> Float? {
        [1024: -0.3, 4096: -0.35, 16384: -0.4, 65536: -0.45][neurons]
    }

    /// Panels per work item: their inputs take about `tileBytes` (a quarter of a core's L2,
    /// leaving room for the outputs and the weights streaming through).
    static let tileBytes = 256 << 10
    static func tilePanels(neurons: Int) -> Int { max(1, tileBytes / (neurons * PanelBatch.width * MemoryLayout<Float>.size)) }

    /// The largest batch whose two buffers of panels fit in `memory` bytes (N plus the spare
    /// lines, 4 bytes for each input, twice).
    public static func batchSize(neurons: Int, memory: Int) -> Int {
        max(1, memory / (2 * MemoryLayout<Float>.size * Int(sprig_panel_lines(Int64(neurons)))))
    }

    /// The categories among one batch of inputs: the ids of those alive after the last layer.
    public func categories(of inputs: ChallengeInputs) -> [Int] {
        guard inputs.count > 0, !layers.isEmpty else { return [] }
        batch.start(count: inputs.count)
        var clock = Stopwatch()
        firstLayer(inputs)
        profile.firstLayerSeconds += clock.seconds
        finish(alive: nil, layer: 0)
        var live: [Int]?
        for l in layers.indices.dropFirst() where !batch.slots.isEmpty {
            clock = Stopwatch()
            if pool.threads > 1, batch.slots.count <= pool.threads, neurons <= Self.tailNeurons {
                live = tail(from: l)
                profile.layerSeconds += clock.seconds
                break
            }
            profile.lanesComputed += batch.slots.count * PanelBatch.width
            let alive = hiddenLayer(l)
            profile.layerSeconds += clock.seconds
            finish(alive: alive, layer: l)
        }
        return (live ?? batch.liveInputs).map { inputs.ids[$0] }.sorted()
    }

    /// Layer 1 from the sparse inputs. Thread k takes a contiguous share of the input panels,
    /// a tile at a time (`tilePanels`): it builds them in its scratch input panels (zeroed again
    /// pixel by pixel after use), computes their outputs into its scratch output panels, and
    /// packs the live columns into the slots of its share in the back buffer, from the first on
    /// (never ahead of the input panels it is on: an input panel yields at most one output
    /// panel). Inputs that die in layer 1 are never written out, and the buffers' pages that only
    /// they would have used are never touched (a first touch costs a page fault).
    private func firstLayer(_ inputs: ChallengeInputs) {
        let w = PanelBatch.width, panels = PanelBatch.panels(for: inputs.count), parts = min(pool.threads, panels)
        let floats = batch.panelFloats, tile = Self.tilePanels(neurons: neurons)
        var placed = [(slots: [Int], lanes: [Int32])](repeating: ([], []), count: parts)
        placed.withUnsafeMutableBufferPointer { placed in
            pool.run(parts: parts) { k in
                let x = scratch + 2 * k * tile * floats, y = x + tile * floats
                let share = panels * k / parts ..< panels * (k + 1) / parts
                var slots: [Int] = [], lanes: [Int32] = [], filled = w   // lanes used in the newest slot
                var nextSlot = share.lowerBound
                for first in stride(from: share.lowerBound, to: share.upperBound, by: tile) {
                    let group = first ..< min(share.upperBound, first + tile)
                    // Input j of the batch is column j − 16·first of the tile's panels, side by side.
                    func setPixels(_ value: (Int) -> Float) {
                        for j in group.lowerBound * w ..< min(inputs.count, group.upperBound * w) {
                            let panel = x + (j / w - first) * floats + j % w
                            for q in inputs.offsets[j]..<inputs.offsets[j + 1] { panel[PanelBatch.line(Int(inputs.pixels[q])) * w] = value(q) }
                        }
                    }
                    setPixels { inputs.values[$0] }
                    var alive = [UInt16](repeating: 0, count: group.count)
                    run(layer: 0, rows: 0..<neurons, inputs: group.map { UnsafePointer(x + ($0 - first) * floats) },
                        outputs: group.map { y + ($0 - first) * floats }, alive: &alive)
                    setPixels { _ in 0 }
                    var from: [UnsafePointer<Float>?] = [], fromLanes: [UInt8] = [], to: [UnsafeMutablePointer<Float>?] = [], toLanes: [UInt8] = []
                    for (g, p) in group.enumerated() where alive[g] != 0 {
                        let output = y + g * floats
                        if alive[g] == 0xFFFF && filled == w {   // every input lives: the whole panel, in order
                            batch.panel(nextSlot, back: true).update(from: output, count: floats)
                            slots.append(nextSlot)
                            lanes += (0..<w).map { Int32(p * w + $0) }
                            nextSlot += 1
                            continue
                        }
                        for c in 0..<w where alive[g] & (1 << c) != 0 {
                            if filled == w {
                                slots.append(nextSlot)
                                lanes += [Int32](repeating: -1, count: w)
                                nextSlot += 1
                                filled = 0
                            }
                            from.append(UnsafePointer(output)); fromLanes.append(UInt8(c))
                            to.append(batch.panel(slots.last!, back: true)); toLanes.append(UInt8(filled))
                            lanes[lanes.count - w + filled] = Int32(p * w + c)
                            filled += 1
                        }
                    }
                    sprig_panel_move_columns(from, fromLanes, to, toLanes, Int64(from.count), 0, Int64(batch.panelLines))
                }
                // Empty lanes are zero columns: those of the last, partly filled panel.
                if filled < w, let last = slots.last {
                    let panel = batch.panel(last, back: true)
                    for line in 0..<batch.panelLines { (panel + line * w + filled).update(repeating: 0, count: w - filled) }
                }
                placed[k] = (slots, lanes)
            }
        }
        batch.place(slots: placed.flatMap(\.slots), lanes: placed.flatMap(\.lanes))
    }

    /// A layer on the batch's panels: work items are tiles of panels × runs of row pieces,
    /// as many row runs as it takes to give every thread about four items.
    private func hiddenLayer(_ l: Int) -> [UInt16] {
        let partition = partitions[l], pieces = partition.parts
        let count = batch.slots.count, tile = Self.tilePanels(neurons: neurons)
        let tiles = (count + tile - 1) / tile
        let runs = min(pieces, max(1, (4 * pool.threads + tiles - 1) / tiles))
        let inputs = batch.slots.map { UnsafePointer(batch.panel($0)) as UnsafePointer<Float>? }
        let outputs = batch.slots.map { batch.panel($0, back: true) as UnsafeMutablePointer<Float>? }
        var alive = [UInt16](repeating: 0, count: runs * count)
        alive.withUnsafeMutableBufferPointer { alive in
            inputs.withUnsafeBufferPointer { inputs in
                outputs.withUnsafeBufferPointer { outputs in
                    pool.run(parts: tiles * runs) { item in
                        let t = item / runs, r = item % runs
                        let entries = t * tile ..< min(count, (t + 1) * tile)
                        let rows = partition.bounds[r * pieces / runs] ..< partition.bounds[(r + 1) * pieces / runs]
                        run(layer: l, rows: rows, inputs: inputs.baseAddress! + entries.lowerBound,
                            outputs: outputs.baseAddress! + entries.lowerBound, count: entries.count,
                            alive: alive.baseAddress! + r * count + entries.lowerBound)
                    }
                }
            }
        }
        return (0..<count).map { e in (0..<runs).reduce(UInt16(0)) { $0 | alive[$1 * count + e] } }
    }

    /// Up to this N, a layer on one panel is short enough (≈ 25 µs at N = 1024) that handing the
    /// layers' work to the threads one layer at a time costs more than it saves.
    static let tailNeurons = 4096

    /// Layers `first` … L when no more panels are left than threads: each thread takes its
    /// share of them through all those layers on its own (freeing lanes and refilling panels
    /// within its share), with no synchronization between layers. On the challenge's real
    /// inputs, 19 inputs (2 panels) go through 112 of the 120 layers so. Returns the live inputs.
    private func tail(from first: Int) -> [Int] {
        let parts = batch.split(into: batch.slots.count)
        var live = [[Int]](repeating: [], count: parts.count)
        var profiles = [InferenceProfile](repeating: InferenceProfile(layers: layers.count), count: parts.count)
        live.withUnsafeMutableBufferPointer { live in
            profiles.withUnsafeMutableBufferPointer { profiles in
                pool.run(parts: parts.count) { k in
                    let part = parts[k]
                    for l in first..<layers.count where !part.slots.isEmpty {
                        profiles[k].lanesComputed += part.slots.count * PanelBatch.width
                        var alive = [UInt16](repeating: 0, count: part.slots.count)
                        run(layer: l, rows: 0..<neurons, inputs: part.slots.map { UnsafePointer(part.panel($0)) },
                            outputs: part.slots.map { part.panel($0, back: true) }, alive: &alive)
                        let step = part.advance(alive: alive, pool: .single)
                        profiles[k].columnsMoved += step.moved
                        profiles[k].panelsFreed += step.freed
                        profiles[k].liveAfterLayer[l] = part.live
                    }
                    live[k] = part.liveInputs
                }
            }
        }
        profiles.forEach { profile.add($0) }
        return live.flatMap { $0 }
    }

    /// After layer `l`: its output becomes the input, dead lanes are freed (layer 1 placed
    /// only live ones) and panels refilled.
    private func finish(alive: [UInt16]?, layer l: Int) {
        let clock = Stopwatch()
        let (moved, freed) = batch.advance(alive: alive, pool: pool)
        profile.compactionSeconds += clock.seconds
        profile.columnsMoved += moved
        profile.panelsFreed += freed
        profile.liveAfterLayer[l] += batch.live
    }

    /// The kernel on `count` panels and `rows` of layer `index` (0-based).
    private func run(layer index: Int, rows: Range<Int>, inputs: UnsafePointer<UnsafePointer<Float>?>,
                     outputs: UnsafePointer<UnsafeMutablePointer<Float>?>, count: Int, alive: UnsafeMutablePointer<UInt16>) {
        let layer = layers[index]
        layer.transposed.rowOffsets.withUnsafeBufferPointer { offsets in
            layer.transposed.columnIndices.withUnsafeBufferPointer { columns in
                layer.values.withUnsafeBufferPointer { values in
                    sprig_panel_layer(offsets.int64Address, columns.baseAddress!,
                                      values.baseAddress!, biases.pointer, cap, Int64(rows.lowerBound), Int64(rows.upperBound),
                                      inputs, outputs, Int64(count), alive)
                }
            }
        }
    }

    private func run(layer index: Int, rows: Range<Int>, inputs: [UnsafePointer<Float>?],
                     outputs: [UnsafeMutablePointer<Float>?], alive: inout [UInt16]) {
        alive.withUnsafeMutableBufferPointer { run(layer: index, rows: rows, inputs: inputs, outputs: outputs, count: inputs.count, alive: $0.baseAddress!) }
    }
}
