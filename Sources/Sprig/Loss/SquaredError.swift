/// Squared error against the one-hot target: ℓ = ½ Σ_c (y_c − t_c)², ∂ℓ/∂y = y − t.
public struct SquaredError: Loss {
    public init() {}

    public func evaluate(output y: UnsafePointer<Float>, labels: UnsafePointer<Int32>, classes: Int, batch: Int,
                         globalBatch: Int, gradient dy: UnsafeMutablePointer<Float>) -> Double {
        let scale = 1 / Float(globalBatch)
        var total = 0.0
        for j in 0..<batch {
            let label = Int(labels[j])
            for c in 0..<classes {
                let d = y[c * batch + j] - (c == label ? 1 : 0)
                total += 0.5 * Double(d) * Double(d)
                dy[c * batch + j] = d * scale
            }
        }
        return total
    }
}
