import Foundation
@testable import Sprig

/// An independent, deliberately naive double-precision implementation of the MLP (dense
/// matrices, example by example, no layout tricks) that the tests compare the kernels with.
struct DenseReference {
    /// Per layer: W (K×D, row-major, zeros off the pattern) and b (K), in Double.
    var weights: [[Double]]
    var biases: [[Double]]
    var sizes: [Int]
    var activations: [Activation]

    init(_ network: Network) {
        sizes = network.configuration.layerSizes
        activations = network.linearLayers.map(\.activation)
        weights = []
        biases = []
        for layer in network.linearLayers {
            var w = [Double](repeating: 0, count: layer.outputSize * layer.inputSize)
            let values = network.values(of: layer.weights)
            if let sparse = layer as? SparseLinear {
                for r in 0..<sparse.pattern.rows {
                    for p in sparse.pattern.rowOffsets[r]..<sparse.pattern.rowOffsets[r + 1] {
                        w[r * layer.inputSize + Int(sparse.pattern.columnIndices[p])] = Double(values[p])
                    }
                }
            } else {
                for i in 0..<w.count { w[i] = Double(values[i]) }
            }
            weights.append(w)
            biases.append(network.values(of: layer.bias).map(Double.init))
        }
    }

    static func f(_ a: Activation, _ z: Double) -> Double {
        switch a {
        case .identity: return z
        case .relu: return max(z, 0)
        case .leakyReLU(let alpha): return max(z, Double(alpha) * z)
        case .allReLU(let alpha): return z < 0 ? Double(alpha) * z : z
        case .clippedReLU(let c): return min(Double(c), max(z, 0))
        case .tanh: return Foundation.tanh(z)
        case .sigmoid: return 1 / (1 + Foundation.exp(-z))
        case .truncatedReLU(let e): return z < Double(e) ? 0 : z
        }
    }

    /// Output of one example x (D₀ values).
    func output(_ x: [Double]) -> [Double] {
        var a = x
        for l in 0..<weights.count {
            let d = sizes[l], k = sizes[l + 1]
            var next = [Double](repeating: 0, count: k)
            for o in 0..<k {
                var s = biases[l][o]
                for i in 0..<d { s += weights[l][o * d + i] * a[i] }
                next[o] = DenseReference.f(activations[l], s)
            }
            a = next
        }
        return a
    }

    /// Mean loss over examples (columns of the feature-major `x`, D₀×B).
    func loss(_ kind: LossKind, x: [Double], labels: [Int32], batch: Int) -> Double {
        var total = 0.0
        for j in 0..<batch {
            let example = (0..<sizes[0]).map { x[$0 * batch + j] }
            let y = output(example)
            let label = Int(labels[j])
            switch kind {
            case .softmaxCrossEntropy:
                let m = y.max()!
                total += Foundation.log(y.map { Foundation.exp($0 - m) }.reduce(0, +)) + m - y[label]
            case .squaredError:
                total += y.enumerated().map { c, v in 0.5 * (v - (c == label ? 1 : 0)) * (v - (c == label ? 1 : 0)) }.reduce(0, +)
            case .logisticCrossEntropy:
                total += max(-y[label], 0) + Foundation.log1p(Foundation.exp(-abs(y[label])))
            case .negativeLogLikelihood:
                total -= y[label]
            case .crossEntropy:
                total -= Foundation.log(max(y[label], Double(Float.leastNormalMagnitude)))
            }
        }
        return total / Double(batch)
    }
}

/// Relative difference |a − b| / max(|a|, |b|, floor).
func relativeDifference(_ a: Double, _ b: Double, floor: Double = 1e-3) -> Double {
    abs(a - b) / max(abs(a), abs(b), floor)
}

/// Two trained networks' values: max |a − b| / max |a| (infinity when their counts differ).
func relativeDifference(_ a: [Float], _ b: [Float]) -> Float {
    guard a.count == b.count, !a.isEmpty else { return a.count == b.count ? 0 : .infinity }
    let scale = max(a.map(abs).max() ?? 0, 1e-12)
    return zip(a, b).map { abs($0 - $1) }.max()! / scale
}

/// Random floats in [-1, 1) from a seed.
func randomFloats(_ n: Int, seed: UInt64) -> [Float] {
    var g = RandomGenerator(seed: seed)
    return (0..<n).map { _ in g.uniform(-1, 1) }
}
