import Foundation

/// Element-wise activation y = f(z) and its derivative f'(z).
///
/// - `leakyReLU(α)`: max(z, α·z) (Nerva's definition; for 0 < α < 1 the usual leaky ReLU).
/// - `allReLU(α)`: z < 0 ? α·z : z for any α, also negative or above 1 (Nerva's AllReLU,
///   from "Truly Sparse Neural Networks at Scale").
/// - `clippedReLU(c)`: min(c, max(0, z)) (the Graph Challenge's activation, with c = 32).
/// - `truncatedReLU(ε)`: z < ε ? 0 : z (Nerva's TReLU; ReLU for ε = 0).
public enum Activation: Equatable, Sendable, Codable, CustomStringConvertible {
    case identity
    case relu
    case leakyReLU(Float)
    case allReLU(Float)
    case clippedReLU(Float)
    case truncatedReLU(Float)
    case tanh
    case sigmoid

    /// Parses `relu`, `leaky_relu:0.1`, `all_relu:0.1`, `clipped_relu:32`, `trelu:1e-30`, `tanh`,
    /// `sigmoid`, `identity`/`linear`, given with `flag` (named in errors). Names are compared as
    /// `NamedSpecification.key`s (any case, with `-`, `_` or nothing between words) and Nerva's
    /// `Name(A)` is `name:A`, so `ReLU`, `LeakyReLU(0.1)`, `AllReLU(0.6)` and `TReLU(0.1)` are
    /// `relu`, `leaky_relu:0.1`, `all_relu:0.6` and `trelu:0.1`. `names` lists every name.
    public init(parsing text: String, flag: String = "--activation") throws {
        let specification = NamedSpecification(text, flag: flag)
        guard let kind = Name.allCases.first(where: { $0.spellings.contains { NamedSpecification.key($0) == specification.key } }) else {
            let hint = specification.key == "srelu"
                ? "SReLU has trainable parameters: give it in --layers, e.g. --layers 'SReLU;SReLU;Linear'"
                : "unknown activation"
            throw specification.error("\(hint) (expected relu, leaky_relu:A, all_relu:A, trelu:E, clipped_relu:C, tanh, sigmoid or identity)")
        }
        let canonical = kind.spellings[0]
        guard kind.takesParameter else {
            try specification.expectParameters(0...0, usage: "\(canonical) without a parameter")
            self = kind.make(0)
            return
        }
        let usage = "\(canonical):A, e.g. \(canonical):\(kind.example)"
        try specification.expectParameters(1...1, usage: usage)
        self = kind.make(try specification.float(0, usage: usage))
    }

    /// The kinds by name, each with every spelling `init(parsing:)` accepts (the canonical one first).
    enum Name: CaseIterable {
        case identity, relu, leakyReLU, allReLU, clippedReLU, truncatedReLU, tanh, sigmoid

        var spellings: [String] {
            switch self {
            case .identity: return ["identity", "linear", "none"]
            case .relu: return ["relu"]
            case .leakyReLU: return ["leaky_relu"]
            case .allReLU: return ["all_relu"]
            case .clippedReLU: return ["clipped_relu", "relu_clip"]
            case .truncatedReLU: return ["trelu", "truncated_relu"]
            case .tanh: return ["tanh"]
            case .sigmoid: return ["sigmoid", "logistic"]
            }
        }

        var takesParameter: Bool { [.leakyReLU, .allReLU, .clippedReLU, .truncatedReLU].contains(self) }

        var example: String {
            switch self {
            case .clippedReLU: return "32"
            case .truncatedReLU: return "1e-30"
            default: return "0.1"
            }
        }

        func make(_ parameter: Float) -> Activation {
            switch self {
            case .identity: return .identity
            case .relu: return .relu
            case .leakyReLU: return .leakyReLU(parameter)
            case .allReLU: return .allReLU(parameter)
            case .clippedReLU: return .clippedReLU(parameter)
            case .truncatedReLU: return .truncatedReLU(parameter)
            case .tanh: return .tanh
            case .sigmoid: return .sigmoid
            }
        }
    }

    /// Every name `init(parsing:)` accepts (any case, `-` or `_` or nothing between words), with
    /// whether it needs a parameter: what `sprig train --help` and the README must list.
    public static let names: [(name: String, needsParameter: Bool)] =
        Name.allCases.flatMap { kind in kind.spellings.map { ($0, kind.takesParameter) } }

    public var description: String {
        switch self {
        case .identity: return "identity"
        case .relu: return "relu"
        case .leakyReLU(let a): return "leaky_relu:\(a)"
        case .allReLU(let a): return "all_relu:\(a)"
        case .clippedReLU(let c): return "clipped_relu:\(c)"
        case .truncatedReLU(let e): return "trelu:\(e)"
        case .tanh: return "tanh"
        case .sigmoid: return "sigmoid"
        }
    }

    @inline(__always)
    public func apply(_ z: Float) -> Float {
        switch self {
        case .identity: return z
        case .relu: return z > 0 ? z : 0
        case .leakyReLU(let a): return max(z, a * z)
        case .allReLU(let a): return z < 0 ? a * z : z
        case .clippedReLU(let c): return min(c, max(0, z))
        case .truncatedReLU(let e): return z < e ? 0 : z
        case .tanh: return Foundation.tanh(z)
        case .sigmoid: return 1 / (1 + exp(-z))
        }
    }

    @inline(__always)
    public func derivative(_ z: Float) -> Float {
        switch self {
        case .identity: return 1
        case .relu: return z > 0 ? 1 : 0
        case .leakyReLU(let a): return z < a * z ? a : 1
        case .allReLU(let a): return z < 0 ? a : 1
        case .clippedReLU(let c): return z > 0 && z < c ? 1 : 0
        case .truncatedReLU(let e): return z < e ? 0 : 1
        case .tanh: let t = Foundation.tanh(z); return 1 - t * t
        case .sigmoid: let s = 1 / (1 + exp(-z)); return s * (1 - s)
        }
    }

    /// y[j] = f(z[j] + bias), also storing z[j] + bias back into z; n values.
    @inline(__always)
    func applyRow(z: UnsafeMutablePointer<Float>, bias: Float, y: UnsafeMutablePointer<Float>, count n: Int) {
        switch self {
        case .identity: for j in 0..<n { let v = z[j] + bias; z[j] = v; y[j] = v }
        case .relu: for j in 0..<n { let v = z[j] + bias; z[j] = v; y[j] = v > 0 ? v : 0 }
        case .clippedReLU(let c): for j in 0..<n { let v = z[j] + bias; z[j] = v; y[j] = min(c, max(0, v)) }
        default: for j in 0..<n { let v = z[j] + bias; z[j] = v; y[j] = apply(v) }
        }
    }

    /// y[j] = f(z[j]), n values (z already holds the bias).
    @inline(__always)
    func applyRow(preActivation z: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, count n: Int) {
        for j in 0..<n { y[j] = apply(z[j]) }
    }

    /// DZ = DY ∘ f'(Z) in place and Db[o] = Σ_j DZ[o,j], for rows `rows` of K×B matrices.
    @inline(__always)
    func backward(preActivation z: UnsafePointer<Float>, gradient dy: UnsafeMutablePointer<Float>,
                  biasGradient db: UnsafeMutablePointer<Float>, batch: Int, rows: Range<Int>) {
        for o in rows { db[o] = backwardRow(z: z + o * batch, gradient: dy + o * batch, count: batch) }
    }

    /// dz[j] = dy[j]·f'(z[j]) (in place over dy), returning Σ_j dz[j] (the bias gradient).
    @inline(__always)
    func backwardRow(z: UnsafePointer<Float>, gradient dy: UnsafeMutablePointer<Float>, count n: Int) -> Float {
        switch self {
        case .identity: return VectorMath.sum(UnsafePointer(dy), count: n)
        case .relu:
            for j in 0..<n where !(z[j] > 0) { dy[j] = 0 }
            return VectorMath.sum(UnsafePointer(dy), count: n)
        default:
            for j in 0..<n { dy[j] *= derivative(z[j]) }
            return VectorMath.sum(UnsafePointer(dy), count: n)
        }
    }
}
