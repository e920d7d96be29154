public enum LossKind: String, Sendable, Codable, CaseIterable {
    case softmaxCrossEntropy = "softmax-cross-entropy"
    case squaredError = "squared-error"
    case logisticCrossEntropy = "logistic-cross-entropy"
    case negativeLogLikelihood = "negative-log-likelihood"
    case crossEntropy = "cross-entropy"

    /// Accepts the kebab-case names and the aliases in `spellings`, compared as
    /// `NamedSpecification.key`s (any case, `-`, `_` or nothing between words), so Nerva's
    /// `SoftmaxCrossEntropy`, `SquaredError`, `LogisticCrossEntropy`, `NegativeLogLikelihood` and
    /// `CrossEntropy` are the kebab-case names. `cross-entropy` is the plain cross-entropy on
    /// probabilities (Nerva's meaning), not the softmax one. Errors name `flag` and the text.
    public init(parsing text: String, flag: String = "--loss") throws {
        let key = NamedSpecification.key(text.trimmingCharacters(in: .whitespaces))
        guard let kind = LossKind.allCases.first(where: { $0.spellings.contains { NamedSpecification.key($0) == key } }) else {
            throw SprigError.invalidArgument("\(flag) '\(text)': unknown loss (expected softmax-cross-entropy, squared-error, "
                + "logistic-cross-entropy, negative-log-likelihood or cross-entropy)")
        }
        self = kind
    }

    /// Every spelling `init(parsing:)` accepts for this loss, the canonical one first.
    public var spellings: [String] {
        switch self {
        case .softmaxCrossEntropy: return [rawValue, "ce", "softmax"]
        case .squaredError: return [rawValue, "mse", "se"]
        case .logisticCrossEntropy: return [rawValue]
        case .negativeLogLikelihood: return [rawValue, "nll"]
        case .crossEntropy: return [rawValue]
        }
    }

    /// Every name `init(parsing:)` accepts: what `sprig train --help` and the README must list.
    public static var names: [String] { allCases.flatMap(\.spellings) }

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
