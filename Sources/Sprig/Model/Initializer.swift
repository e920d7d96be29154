/// Initial weights and biases of a layer with fan-in n and fan-out m:
/// - `xavier`:           W ~ U(±1/√n), b = 0
/// - `xavierNormalized`: W ~ U(±√6/√(n+m)) (Glorot uniform), b = 0
/// - `he`:               W ~ N(0, 2/n), b = 0
/// - `pytorch`:          W ~ U(±1/√n), b ~ U(±1/√n) (nn.Linear's default)
///
/// Fan-in of a sparse layer: with `FanIn.dense` (default) n = D and m = K, the dense layer's
/// sizes — as Nerva and PyTorch-with-masks count, so runs compare like for like; with
/// `FanIn.sparse` n = nnz/K and m = nnz/D, the mean nonzeros per row and per column.
public enum Initializer: String, Sendable, Codable, CaseIterable {
    case xavier
    case xavierNormalized = "xavier-normalized"
    case he
    case pytorch

    public init(parsing text: String) throws {
        switch text.lowercased().replacingOccurrences(of: "_", with: "-") {
        case "xavier": self = .xavier
        case "xavier-normalized", "xaviernormalized", "glorot", "glorot-uniform": self = .xavierNormalized
        case "he", "kaiming": self = .he
        case "pytorch", "torch", "default": self = .pytorch
        default: throw SprigError.invalidArgument("unknown initializer '\(text)' (expected xavier, xavier-normalized, he or pytorch)")
        }
    }

    public enum FanIn: String, Sendable, Codable, CaseIterable { case dense, sparse }

    /// Fills `weights` and `bias` for a layer with the given fan-in and fan-out.
    func fill(weights: UnsafeMutableBufferPointer<Float>, bias: UnsafeMutableBufferPointer<Float>,
              fanIn n: Double, fanOut m: Double, generator g: inout RandomGenerator) {
        let n = max(n, 1), m = max(m, 1)
        switch self {
        case .xavier:
            let a = Float(1 / n.squareRoot())
            for i in weights.indices { weights[i] = g.uniform(-a, a) }
            bias.update(repeating: 0)
        case .xavierNormalized:
            let a = Float((6 / (n + m)).squareRoot())
            for i in weights.indices { weights[i] = g.uniform(-a, a) }
            bias.update(repeating: 0)
        case .he:
            let s = Float((2 / n).squareRoot())
            for i in weights.indices { weights[i] = s * g.normal() }
            bias.update(repeating: 0)
        case .pytorch:
            let a = Float(1 / n.squareRoot())
            for i in weights.indices { weights[i] = g.uniform(-a, a) }
            for i in bias.indices { bias[i] = g.uniform(-a, a) }
        }
    }
}
