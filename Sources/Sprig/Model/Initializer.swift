/// Initial weights and biases of a layer with fan-in n and fan-out m:
/// - `xavier`:           W ~ U(±1/√n), b = 0
/// - `xavierNormalized`: W ~ U(±√6/√(n+m)) (Glorot uniform), b = 0
/// - `he`:               W ~ N(0, 2/n), b = 0
/// - `pytorch`:          W ~ U(±1/√n), b ~ U(±1/√n) (nn.Linear's default)
///
/// Fan-in of a sparse layer: with `FanIn.perRow` (the command line's default) n is the
/// nonzeros of the weight's own row and m those of its own column, so every output neuron's
/// pre-activation has the variance of a dense layer's whatever its density; with
/// `FanIn.sparse` n = nnz/K and m = nnz/D, the layer's mean nonzeros per row and per column;
/// with `FanIn.dense` n = D and m = K, the dense layer's sizes — as Nerva and
/// PyTorch-with-masks count, so parity runs compare like for like (the signal then shrinks
/// by about √density per sparse layer, and deep sparse networks do not train).
public enum Initializer: String, Sendable, Codable, CaseIterable {
    case xavier
    case xavierNormalized = "xavier-normalized"
    case he
    case pytorch

    /// Accepts the names and the aliases in `spellings`, compared as `NamedSpecification.key`s
    /// (any case, `-`, `_` or nothing between words), so Nerva's `Xavier`, `XavierNormalized`,
    /// `He` and `PyTorch` are the names. Errors name `flag` and the text.
    public init(parsing text: String, flag: String = "--initializer") throws {
        let key = NamedSpecification.key(text.trimmingCharacters(in: .whitespaces))
        guard let kind = Initializer.allCases.first(where: { $0.spellings.contains { NamedSpecification.key($0) == key } }) else {
            throw SprigError.invalidArgument("\(flag) '\(text)': unknown initializer (expected xavier, xavier-normalized, he or pytorch)")
        }
        self = kind
    }

    /// Every spelling `init(parsing:)` accepts for this initializer, the canonical one first.
    public var spellings: [String] {
        switch self {
        case .xavier: return [rawValue]
        case .xavierNormalized: return [rawValue, "glorot", "glorot-uniform"]
        case .he: return [rawValue, "kaiming"]
        case .pytorch: return [rawValue, "torch", "default"]
        }
    }

    /// Every name `init(parsing:)` accepts: what `sprig train --help` and the README must list.
    public static var names: [String] { allCases.flatMap(\.spellings) }

    /// How a sparse layer's fan-in and fan-out are counted (see above).
    public enum FanIn: String, Sendable, Codable, CaseIterable {
        case dense, sparse
        case perRow = "per-row"
    }

    /// Fills `weights` and `bias` for a layer with the given fan-in and fan-out.
    func fill(weights: UnsafeMutableBufferPointer<Float>, bias: UnsafeMutableBufferPointer<Float>,
              fanIn n: Double, fanOut m: Double, generator g: inout RandomGenerator) {
        fill(weights: weights, bias: bias, weightFans: { _ in (n, m) }, biasFanIn: { _ in n }, generator: &g)
    }

    /// Fills `weights` and `bias`: weight k has fan-in and fan-out `weightFans(k)`, bias i
    /// (output neuron i) fan-in `biasFanIn(i)`; fans below 1 count as 1. The random draws are
    /// the same whatever the fans, so only the scales differ between the ways of counting.
    func fill(weights: UnsafeMutableBufferPointer<Float>, bias: UnsafeMutableBufferPointer<Float>,
              weightFans: (Int) -> (fanIn: Double, fanOut: Double), biasFanIn: (Int) -> Double,
              generator g: inout RandomGenerator) {
        switch self {
        case .xavier:   // U(±1/√n)
            for i in weights.indices {
                let a = Float(1 / max(weightFans(i).fanIn, 1).squareRoot())
                weights[i] = g.uniform(-a, a)
            }
            bias.update(repeating: 0)
        case .xavierNormalized:   // U(±√(6/(n+m)))
            for i in weights.indices {
                let (n, m) = weightFans(i)
                let a = Float((6 / (max(n, 1) + max(m, 1))).squareRoot())
                weights[i] = g.uniform(-a, a)
            }
            bias.update(repeating: 0)
        case .he:   // N(0, 2/n)
            for i in weights.indices { weights[i] = Float((2 / max(weightFans(i).fanIn, 1)).squareRoot()) * g.normal() }
            bias.update(repeating: 0)
        case .pytorch:   // W, b ~ U(±1/√n)
            for i in weights.indices {
                let a = Float(1 / max(weightFans(i).fanIn, 1).squareRoot())
                weights[i] = g.uniform(-a, a)
            }
            for i in bias.indices {
                let a = Float(1 / max(biasFanIn(i), 1).squareRoot())
                bias[i] = g.uniform(-a, a)
            }
        }
    }
}
