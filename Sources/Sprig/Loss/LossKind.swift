public enum LossKind: String, Sendable, Codable, CaseIterable {
    case softmaxCrossEntropy = "softmax-cross-entropy"
    case squaredError = "squared-error"
    case logisticCrossEntropy = "logistic-cross-entropy"
    case negativeLogLikelihood = "negative-log-likelihood"
    case crossEntropy = "cross-entropy"

    /// Accepts the kebab-case names (`_` for `-`, any case) and Nerva's names
    /// (`SoftmaxCrossEntropy`, `SquaredError`, `LogisticCrossEntropy`, `NegativeLogLikelihood`, `CrossEntropy`).
    /// `cross-entropy` is the plain cross-entropy on probabilities (Nerva's meaning), not the softmax one.
    public init(parsing text: String) throws {
        switch text.lowercased().replacingOccurrences(of: "_", with: "-") {
        case "softmax-cross-entropy", "softmaxcrossentropy", "ce", "softmax": self = .softmaxCrossEntropy
        case "squared-error", "squarederror", "mse", "se": self = .squaredError
        case "logistic-cross-entropy", "logisticcrossentropy": self = .logisticCrossEntropy
        case "negative-log-likelihood", "negativeloglikelihood", "nll": self = .negativeLogLikelihood
        case "cross-entropy", "crossentropy": self = .crossEntropy
        default:
            throw SprigError.invalidArgument("unknown loss '\(text)' (expected softmax-cross-entropy, squared-error, "
                + "logistic-cross-entropy, negative-log-likelihood or cross-entropy)")
        }
    }

    public var loss: any Loss {
        switch self {
        case .softmaxCrossEntropy: return SoftmaxCrossEntropy()
        case .squaredError: return SquaredError()
        case .logisticCrossEntropy: return LogisticCrossEntropy()
        case .negativeLogLikelihood: return NegativeLogLikelihood()
        case .crossEntropy: return CrossEntropy()
        }
    }

    /// True when the loss reads the output as probabilities (the last layer should end in a softmax).
    public var expectsProbabilities: Bool { self == .crossEntropy }

    /// True when the loss reads the output as log-probabilities (the last layer should end in a log-softmax).
    public var expectsLogProbabilities: Bool { self == .negativeLogLikelihood }
}
