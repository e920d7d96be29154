/// Where a compact network's neurons came from: the sizes and densities it was created with
/// and, for each hidden layer, the original indices of the neurons that survive (ascending).
/// Part of `NetworkConfiguration` (checkpoints carry it); `--save-weights` writes `kept{k}`.
public struct Compaction: Equatable, Sendable, Codable {
    public var originalLayerSizes: [Int]
    public var originalDensities: [Double]
    /// kept[h]: hidden layer h+1's surviving neurons, as indices into the original layer.
    public var kept: [[Int32]]

    /// Throws unless `kept` has one ascending list of in-range indices per hidden layer, of
    /// the compact sizes `layerSizes`.
    func validate(layerSizes: [Int]) throws {
        guard originalLayerSizes.count == layerSizes.count, kept.count == layerSizes.count - 2,
              originalLayerSizes.first == layerSizes.first, originalLayerSizes.last == layerSizes.last,
              originalDensities.count == layerSizes.count - 1 else {
            throw SprigError.invalidField(.layerSizes, ": the compaction record does not match the layer sizes \(layerSizes)")
        }
        if let bad = originalLayerSizes.first(where: { $0 < 1 }) {
            throw SprigError.invalidField(.layerSizes, ": the compaction record's original layer size \(bad) is not positive")
        }
        if let bad = originalDensities.first(where: { !($0 > 0 && $0 <= 1) }) {
            throw SprigError.invalidField(.densities, ": the compaction record's original density \(bad) is not in (0, 1]")
        }
        for (h, list) in kept.enumerated() {
            let original = originalLayerSizes[h + 1]
            guard list.count == layerSizes[h + 1],
                  zip(list, list.dropFirst()).allSatisfy({ $0 < $1 }), list.allSatisfy({ $0 >= 0 && Int($0) < original }) else {
                throw SprigError.invalidField(.layerSizes, ": the compaction record of hidden layer \(h + 1) is not \(layerSizes[h + 1]) "
                                              + "ascending indices below \(original)")
            }
        }
    }
}
