/// A loss over a batch in the feature-major layout: network output Y is C×B (C classes).
/// L = (1/B_global) Σ_examples ℓ(y, label): each shard of a data-parallel batch divides by
/// the global batch size, so summing shard gradients gives the full batch's gradient.
public protocol Loss: Sendable {
    /// Writes DY = ∂L/∂Y (C×B) and returns Σ ℓ over this shard's B examples.
    func evaluate(output y: UnsafePointer<Float>, labels: UnsafePointer<Int32>, classes: Int, batch: Int,
                  globalBatch: Int, gradient dy: UnsafeMutablePointer<Float>) -> Double
}

public enum LossKind: String, Sendable, Codable, CaseIterable {
    case softmaxCrossEntropy = "softmax-cross-entropy"
    case squaredError = "squared-error"

    public init(parsing text: String) throws {
        switch text.lowercased().replacingOccurrences(of: "_", with: "-") {
        case "softmax-cross-entropy", "cross-entropy", "ce", "softmax": self = .softmaxCrossEntropy
        case "squared-error", "mse", "se": self = .squaredError
        default: throw SprigError.invalidArgument("unknown loss '\(text)' (expected softmax-cross-entropy or squared-error)")
        }
    }

    public var loss: any Loss {
        switch self {
        case .softmaxCrossEntropy: return SoftmaxCrossEntropy()
        case .squaredError: return SquaredError()
        }
    }
}
