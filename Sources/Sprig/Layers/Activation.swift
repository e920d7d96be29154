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

    /// Parses `relu`, `leaky_relu:0.1`, `all_relu:0.1`, `clipped_relu:32`, `tanh`, `sigmoid`,
    /// `identity`/`linear`, given with `flag` (named in errors).
    public init(parsing text: String, flag: String = "--activation") throws {
        let specification = NamedSpecification(text, flag: flag)
        let name = specification.name
        func alpha() throws -> Float {
            let usage = "\(name):ALPHA, e.g. \(name):0.1"
            try specification.expectParameters(1...1, usage: usage)
            return try specification.float(0, usage: usage)
        }
        switch name {
        case "identity", "linear", "none": self = .identity
        case "relu": self = .relu
        case "leaky_relu", "leakyrelu": self = .leakyReLU(try alpha())
        case "all_relu", "allrelu": self = .allReLU(try alpha())
        case "clipped_relu", "clippedrelu", "relu_clip": self = .clippedReLU(try alpha())
        case "trelu", "truncated_relu": self = .truncatedReLU(try alpha())
        case "tanh": self = .tanh
        case "sigmoid", "logistic": self = .sigmoid
        default:
            throw specification.error("unknown activation (expected relu, leaky_relu:A, all_relu:A, clipped_relu:C, trelu:E, tanh, sigmoid or identity)")
        }
        switch self {
        case .leakyReLU, .allReLU, .clippedReLU, .truncatedReLU: break
        default: try specification.expectParameters(0...0, usage: "\(name) without a parameter")
        }
    }

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
