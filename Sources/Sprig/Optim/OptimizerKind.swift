/// Updates every parameter of the store in one loop, from the gradient g = ∇L + λ·w
/// (λ = weight decay, applied to weights and biases alike, as PyTorch's SGD does).
///
/// - `sgd`:            w ← w − η·g
/// - `momentum(μ)`:    v ← μ·v − η·g;  w ← w + v
/// - `nesterov(μ)`:    v ← μ·v − η·g;  w ← w + μ·v − η·g   (Nerva's and Keras' formulation)
public enum OptimizerKind: Equatable, Sendable, Codable, CustomStringConvertible {
    case sgd
    case momentum(Float)
    case nesterov(Float)

    /// Parses `sgd`, `momentum:0.9`, `nesterov:0.9`, given with `flag` (named in errors).
    public init(parsing text: String, flag: String = "--optimizer") throws {
        let specification = NamedSpecification(text, flag: flag)
        let name = specification.name
        func mu() throws -> Float {
            let usage = "\(name):MU with 0 ≤ MU < 1, e.g. \(name):0.9"
            try specification.expectParameters(1...1, usage: usage)
            let m = try specification.float(0, in: 0...1, usage: usage)
            guard m < 1 else { throw specification.error("expected \(usage)") }
            return m
        }
        switch name {
        case "sgd", "gradient_descent":
            try specification.expectParameters(0...0, usage: "sgd without a parameter")
            self = .sgd
        case "momentum": self = .momentum(try mu())
        case "nesterov": self = .nesterov(try mu())
        default: throw specification.error("unknown optimizer (expected sgd, momentum:MU or nesterov:MU)")
        }
    }

    public var description: String {
        switch self {
        case .sgd: return "sgd"
        case .momentum(let m): return "momentum:\(m)"
        case .nesterov(let m): return "nesterov:\(m)"
        }
    }

    /// The state buffers this optimizer keeps per parameter, by name, in the parameter store.
    public var stateNames: [String] { self == .sgd ? [] : ["velocity"] }
}
