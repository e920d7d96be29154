/// Updates every parameter of the arena in one loop, from the gradient g = ∇L + λ·w
/// (λ = weight decay, applied to weights and biases alike, as PyTorch's SGD does).
///
/// - `sgd`:            w ← w − η·g
/// - `momentum(μ)`:    v ← μ·v − η·g;  w ← w + v
/// - `nesterov(μ)`:    v ← μ·v − η·g;  w ← w + μ·v − η·g   (Nerva's and Keras' formulation)
public enum OptimizerKind: Equatable, Sendable, Codable, CustomStringConvertible {
    case sgd
    case momentum(Float)
    case nesterov(Float)

    /// Parses `sgd`, `momentum:0.9`, `nesterov:0.9`.
    public init(parsing text: String) throws {
        let parts = text.lowercased().split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        func mu() throws -> Float {
            guard parts.count == 2, let m = Float(parts[1]), m >= 0, m < 1 else {
                throw SprigError.invalidArgument("optimizer '\(text)': expected \(parts[0]):MU with 0 ≤ MU < 1, e.g. \(parts[0]):0.9")
            }
            return m
        }
        switch parts[0] {
        case "sgd", "gradient_descent", "gradient-descent":
            guard parts.count == 1 else { throw SprigError.invalidArgument("optimizer '\(text)': sgd takes no parameter") }
            self = .sgd
        case "momentum": self = .momentum(try mu())
        case "nesterov": self = .nesterov(try mu())
        default: throw SprigError.invalidArgument("unknown optimizer '\(text)' (expected sgd, momentum:MU or nesterov:MU)")
        }
    }

    public var description: String {
        switch self {
        case .sgd: return "sgd"
        case .momentum(let m): return "momentum:\(m)"
        case .nesterov(let m): return "nesterov:\(m)"
        }
    }

    public var needsVelocity: Bool { self != .sgd }
}
