/// Negative log-likelihood on log-probabilities, for a network whose last layer is a log-softmax
/// (PyTorch's `NLLLoss` convention): the output y holds log p, and
///
///     ℓ = −y_label,   ∂ℓ/∂y = −onehot(label).
///
/// Log-softmax followed by this loss equals `SoftmaxCrossEntropy` on the logits.
/// Note: Nerva's `NegativeLogLikelihoodLoss` is instead ℓ = −log(⟨y, t⟩) = −log y_label with gradient
/// −t/⟨y, t⟩, i.e. it reads y as probabilities and coincides with `CrossEntropy` for one-hot targets;
/// Sprig keeps `cross-entropy` for that and gives this name the log-probability meaning.
public struct NegativeLogLikelihood: Loss {
    public init() {}

    public func evaluate(output y: UnsafePointer<Float>, labels: UnsafePointer<Int32>, classes: Int, batch: Int,
                         globalBatch: Int, gradient dy: UnsafeMutablePointer<Float>) -> Double {
        let scale = 1 / Float(globalBatch)
        var total = 0.0
        for j in 0..<batch {
            for c in 0..<classes { dy[c * batch + j] = 0 }
            let label = Int(labels[j])
            total -= Double(y[label * batch + j])
            dy[label * batch + j] = -scale
        }
        return total
    }
}
