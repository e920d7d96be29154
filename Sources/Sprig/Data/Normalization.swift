/// A scalar affine normalization `x ← (x − mean) / standardDeviation`, applied to every
/// feature of every example (one mean and one deviation for the whole data set).
public struct Normalization: Sendable, Equatable, Codable {
    public var mean: Float
    public var standardDeviation: Float

    public init(mean: Float, standardDeviation: Float) {
        self.mean = mean
        self.standardDeviation = standardDeviation
    }

    /// The mean and population standard deviation, `sqrt(Σ (x − mean)² / N)`, of all feature
    /// values of `dataset`, accumulated in `Double` (two passes). An empty data set gives (0, 1).
    public static func fit(_ dataset: Dataset) -> Normalization {
        switch dataset.storage {
        case .floats(let values):
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
                return Normalization(mean: Float(mean), standardDeviation: Float((squares / Double(x.count)).squareRoot()))
            }
        case .bytes(let bytes, let values):
            guard !bytes.isEmpty else { return Normalization(mean: 0, standardDeviation: 1) }
            // The same two sums over a histogram of the bytes.
            var histogram = [Int](repeating: 0, count: 256)
            bytes.withUnsafeBufferPointer { for b in $0 { histogram[Int(b)] += 1 } }
            let n = Double(bytes.count)
            var sum = 0.0
            for v in 0 ..< 256 { sum += Double(histogram[v]) * Double(values[v]) }
            let mean = sum / n
            var squares = 0.0
            for v in 0 ..< 256 {
                let deviation = Double(values[v]) - mean
                squares += Double(histogram[v]) * deviation * deviation
            }
            return Normalization(mean: Float(mean), standardDeviation: Float((squares / n).squareRoot()))
        }
    }

    /// Rewrites every feature as `(x − mean) / standardDeviation` (for byte data, the 256-entry
    /// value table, with the same float operations); a deviation of 0 (or one that is not
    /// finite) is treated as 1, so a constant data set becomes all zeros.
    public func apply(to dataset: inout Dataset) {
        let divisor = standardDeviation.isFinite && standardDeviation != 0 ? standardDeviation : 1
        let shift = mean
        switch dataset.storage {
        case .floats(var values):
            dataset.storage = .floats([])   // keep the array uniquely referenced while rewriting it
            values.withUnsafeMutableBufferPointer { x in
                for i in x.indices { x[i] = (x[i] - shift) / divisor }
            }
            dataset.storage = .floats(values)
        case .bytes(let bytes, let values):
            dataset.storage = .bytes(bytes, values: values.map { ($0 - shift) / divisor })
        }
    }
}
