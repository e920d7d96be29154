import Foundation

/// Softmax fused with cross-entropy, stable through log-sum-exp:
/// ℓ = log Σ_c exp(y_c − m) + m − y_label  (m = max_c y_c),  ∂ℓ/∂y = softmax(y) − onehot(label).
public struct SoftmaxCrossEntropy: Loss {
    public init() {}

    public func evaluate(output y: UnsafePointer<Float>, labels: UnsafePointer<Int32>, classes: Int, batch: Int,
                         globalBatch: Int, gradient dy: UnsafeMutablePointer<Float>) -> Double {
        let scale = 1 / Float(globalBatch)
        var total = 0.0
        for j in 0..<batch {
            var m = -Float.infinity
            for c in 0..<classes { m = max(m, y[c * batch + j]) }
            var s: Float = 0
            for c in 0..<classes {
                let e = exp(y[c * batch + j] - m)
                dy[c * batch + j] = e
                s += e
            }
            let label = Int(labels[j])
            total += Double(log(s) + m - y[label * batch + j])
            let inverse = 1 / s
            for c in 0..<classes { dy[c * batch + j] *= inverse * scale }
            dy[label * batch + j] -= scale
        }
        return total
    }
}
