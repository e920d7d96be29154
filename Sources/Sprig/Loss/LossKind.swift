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
