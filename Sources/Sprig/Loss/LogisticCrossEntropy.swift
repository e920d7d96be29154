import Foundation

/// Logistic cross-entropy, Nerva's `LogisticCrossEntropyLoss`: an independent sigmoid σ per class,
/// scored against the one-hot target t as Nerva defines it,
///
///     ℓ = −Σ_c t_c · log σ(y_c) = −log σ(y_label) = softplus(−y_label),
///     ∂ℓ/∂y_c = t_c · σ(y_c) − t_c   (σ(y_label) − 1 = −σ(−y_label) at the label, 0 elsewhere).
///
/// Nerva's definition omits the negative-class term −(1 − t_c)·log(1 − σ(y_c)) of the usual binary
/// cross-entropy, so only the label's logit receives a gradient; this follows Nerva exactly.
/// Computed stably: softplus(x) = max(x, 0) + log1p(exp(−|x|)), and σ(−y) from exp(−|y|), so very
/// large logits of either sign give finite values and gradients.
public struct LogisticCrossEntropy: Loss {
    public init() {}

    public func evaluate(output y: UnsafePointer<Float>, labels: UnsafePointer<Int32>, classes: Int, batch: Int,
                         globalBatch: Int, gradient dy: UnsafeMutablePointer<Float>) -> Double {
        let scale = 1 / Float(globalBatch)
        var total = 0.0
        for j in 0..<batch {
            for c in 0..<classes { dy[c * batch + j] = 0 }
            let label = Int(labels[j])
            let v = y[label * batch + j]
            let e = exp(-abs(v))                       // in (0, 1]
            total += Double(max(-v, 0) + log1p(e))      // softplus(−v) = −log σ(v)
            let sigmoidOfMinusV = v >= 0 ? e / (1 + e) : 1 / (1 + e)
            dy[label * batch + j] = -sigmoidOfMinusV * scale   // σ(v) − 1
        }
        return total
    }
}
