/// The value a grown weight starts from (`--grow-weights`), for a layer with fan-in n and
/// fan-out m (fans below 1 count as 1), with the formulas of `Initializer`:
/// - `zero`:             0 (RigL's choice; no random number is drawn)
/// - `xavier`:           U(±1/√n)
/// - `xavierNormalized`: U(±√(6/(n+m)))
/// - `he`:               N(0, 2/n)
/// - `pytorch`:          U(±1/√n)
public enum GrowWeights: String, Sendable, Codable, CaseIterable {
    case zero
    case xavier
    case xavierNormalized = "xavier-normalized"
    case he
    case pytorch

    /// Parses `zero`, `xavier`, `xavier-normalized`, `he` or `pytorch` (the initializer's
    /// aliases too), given with `flag` (named in errors).
    public init(parsing text: String, flag: String = "--grow-weights") throws {
        let specification = NamedSpecification(text, flag: flag)
        switch specification.name {
        case "zero", "zeros": self = .zero
        case "xavier": self = .xavier
        case "xavier_normalized", "xaviernormalized", "glorot", "glorot_uniform": self = .xavierNormalized
        case "he", "kaiming": self = .he
        case "pytorch", "torch": self = .pytorch
        default: throw specification.error("unknown grow weights (expected zero, xavier, xavier-normalized, he or pytorch)")
        }
        try specification.expectParameters(0...0, usage: "\(rawValue) without a parameter")
    }

    /// One new weight's value.
    public func value(fanIn: Double, fanOut: Double, generator: inout RandomGenerator) -> Float {
        let n = max(fanIn, 1), m = max(fanOut, 1)
        switch self {
        case .zero:
            return 0
        case .xavier, .pytorch:   // U(±1/√n)
            let a = Float(1 / n.squareRoot())
            return generator.uniform(-a, a)
        case .xavierNormalized:   // U(±√(6/(n+m)))
            let a = Float((6 / (n + m)).squareRoot())
            return generator.uniform(-a, a)
        case .he:   // N(0, 2/n)
            return Float((2 / n).squareRoot()) * generator.normal()
        }
    }
}
