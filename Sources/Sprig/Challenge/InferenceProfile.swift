/// Where the CPU engine's inference time went, summed over the batches run since it was
/// last reset (`sprig challenge run --profile`).
public struct InferenceProfile: Sendable {
    /// Layer 1, built from the sparse inputs.
    public var firstLayerSeconds = 0.0
    /// Layers 2 … L.
    public var layerSeconds = 0.0
    /// Freeing the lanes of dead inputs and refilling panels from the last ones, after every layer.
    public var compactionSeconds = 0.0
    /// Inputs columns moved by the refilling, and the panels it freed.
    public var columnsMoved = 0
    public var panelsFreed = 0
    /// Live inputs after each layer (index l: after layer l + 1), summed over the batches.
    public var liveAfterLayer: [Int] = []
    /// The panel work the layers did: Σ over layers of panels in use × 16 (lanes computed,
    /// live or not), beside Σ of the live inputs: how full the panels were kept.
    public var lanesComputed = 0

    public init(layers: Int = 0) { liveAfterLayer = Array(repeating: 0, count: layers) }

    /// Adds the counts of `other` (a share of the same batch's inputs; its times are the
    /// caller's to count, as the shares ran side by side).
    mutating func add(_ other: InferenceProfile) {
        columnsMoved += other.columnsMoved
        panelsFreed += other.panelsFreed
        lanesComputed += other.lanesComputed
        for (l, live) in other.liveAfterLayer.enumerated() where l < liveAfterLayer.count { liveAfterLayer[l] += live }
    }

    /// "layer 1 (sparse inputs) 12.1 ms · layers 2–120 801.0 ms · lanes freed, panels refilled 3.2 ms
    /// (2 310 columns moved, 180 panels freed) · panels 97 % full".
    public var summary: String {
        func ms(_ seconds: Double) -> String { String(format: "%.1f ms", seconds * 1000) }
        let live = liveAfterLayer.dropLast().reduce(0, +)   // the inputs of layers 2 … L
        let full = lanesComputed > 0 ? Double(live) / Double(lanesComputed) : 1
        return "layer 1 (sparse inputs) \(ms(firstLayerSeconds)) · layers 2–\(liveAfterLayer.count) \(ms(layerSeconds)) · "
            + "lanes freed, panels refilled \(ms(compactionSeconds)) (\(columnsMoved) columns moved, \(panelsFreed) panels freed) · "
            + String(format: "panels %.0f %% full", 100 * full)
    }

    /// The live inputs after layers 1, 2, 4, 8, … and the last.
    public var survivors: String {
        var marks = Array(sequence(first: 1, next: { $0 * 2 }).prefix { $0 < liveAfterLayer.count })
        marks.append(liveAfterLayer.count)
        return marks.map { "\($0): \(liveAfterLayer[$0 - 1])" }.joined(separator: ", ")
    }
}
