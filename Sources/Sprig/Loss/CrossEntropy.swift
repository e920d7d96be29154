import Foundation

/// Plain cross-entropy on probabilities, Nerva's `CrossEntropyLoss`, for a network whose last layer
/// is a softmax: the output y holds probabilities, and against the one-hot target t
///
///     ℓ = −Σ_c t_c · log y_c = −log y_label,
///     ∂ℓ/∂y_label = −1 / y_label,  ∂ℓ/∂y_c = 0 for c ≠ label.
///
/// Guard: y_label is clamped below to `Float.leastNormalMagnitude` (≈ 1.18e−38) before the log and the
/// division, so a zero (or negative) probability gives a large but finite loss (≈ 87.3) and gradient
/// (≈ −8.5e37 before the 1/B scaling) instead of inf/NaN.
public struct CrossEntropy: Loss {
    public init() {}

    public func evaluate(output y: UnsafePointer<Float>, labels: UnsafePointer<Int32>, classes: Int, batch: Int,
                         globalBatch: Int, gradient dy: UnsafeMutablePointer<Float>) -> Double {
        let scale = 1 / Float(globalBatch)
        var total = 0.0
        for j in 0..<batch {
            for c in 0..<classes { dy[c * batch + j] = 0 }
            let label = Int(labels[j])
            let p = max(y[label * batch + j], Float.leastNormalMagnitude)   // ≤ 0 clamps to the smallest normal
            total -= Foundation.log(Double(p))
            dy[label * batch + j] = -(1 / p) * scale
        }
        return total
    }
}
