/// A scalar affine normalization `x ← (x − mean) / standardDeviation`, applied to every
/// feature of every example (one mean and one deviation for the whole data set).
public struct Normalization: Sendable, Equatable {
    public var mean: Float
    public var standardDeviation: Float

    public init(mean: Float, standardDeviation: Float) {
        self.mean = mean
        self.standardDeviation = standardDeviation
    }

    /// The mean and population standard deviation, `sqrt(Σ (x − mean)² / N)`, of all feature
    /// values of `dataset`, accumulated in `Double` (two passes). An empty data set gives (0, 1).
    public static func fit(_ dataset: Dataset) -> Normalization {
        let values = dataset.features
        guard !values.isEmpty else { return Normalization(mean: 0, standardDeviation: 1) }
        return values.withUnsafeBufferPointer { x in
            var sum = 0.0
            for value in x { sum += Double(value) }
            let mean = sum / Double(x.count)
            var squares = 0.0
            for value in x {
                let deviation = Double(value) - mean
                squares += deviation * deviation
            }
            let deviation = (squares / Double(x.count)).squareRoot()
            return Normalization(mean: Float(mean), standardDeviation: Float(deviation))
        }
    }

    /// Rewrites every feature as `(x − mean) / standardDeviation`; a deviation of 0 (or one
    /// that is not finite) is treated as 1, so a constant data set becomes all zeros.
    public func apply(to dataset: inout Dataset) {
        let divisor = standardDeviation.isFinite && standardDeviation != 0 ? standardDeviation : 1
        let shift = mean
        dataset.features.withUnsafeMutableBufferPointer { x in
            for i in x.indices { x[i] = (x[i] - shift) / divisor }
        }
    }
}
