import Foundation
@testable import Sprig

/// An independent double-precision forward pass over a whole batch for any layer list
/// (linear layers as dense matrices, batch norm with the batch's statistics, dropout with
/// given masks, softmax, log-softmax), written naively, feature-major like the library, and
/// the loss; tests perturb its parameters for finite differences.
struct LayerReference {
    enum Step {
        case linear(w: [Double], b: [Double], inputs: Int, outputs: Int, activation: Activation)
        case batchNorm(gamma: [Double], beta: [Double])
        case dropout(mask: [Double])   // K×B, the multiplier of each unit and example
        case softmax, logSoftmax
        case srelu(al: [Double], tl: [Double], ar: [Double], tr: [Double])
    }
    var steps: [Step]

    /// The network's current values; dropout masks from `masks` (by layer position).
    init(_ network: Network, masks: [Int: [Double]] = [:]) {
        steps = network.layers.enumerated().map { i, layer in
            if let linear = layer as? any LinearLayer {
                var w = [Double](repeating: 0, count: linear.outputSize * linear.inputSize)
                let values = network.values(of: linear.weights)
                if let pattern = linear.sparsity {
                    for r in 0..<pattern.rows {
                        for p in pattern.rowOffsets[r]..<pattern.rowOffsets[r + 1] {
                            w[r * linear.inputSize + Int(pattern.columnIndices[p])] = Double(values[p])
                        }
                    }
                } else {
                    for k in w.indices { w[k] = Double(values[k]) }
                }
                return .linear(w: w, b: network.values(of: linear.bias).map(Double.init), inputs: linear.inputSize,
                               outputs: linear.outputSize, activation: linear.activation)
            }
            if let norm = layer as? BatchNorm {
                return .batchNorm(gamma: network.values(of: norm.gamma).map(Double.init), beta: network.values(of: norm.beta).map(Double.init))
            }
            if layer is Dropout { return .dropout(mask: masks[i] ?? []) }
            if layer is Softmax { return .softmax }
            if let s = layer as? SReLU {
                let v = { (g: ParameterGroup) in network.values(of: g).map(Double.init) }
                return .srelu(al: v(s.leftSlope), tl: v(s.leftThreshold), ar: v(s.rightSlope), tr: v(s.rightThreshold))
            }
            return .logSoftmax
        }
    }

    /// The output (K×B) for the input x (D×B).
    func output(_ x: [Double], batch b: Int) -> [Double] {
        var a = x, size = x.count / b
        for step in steps {
            switch step {
            case .linear(let w, let bias, let d, let k, let activation):
                var next = [Double](repeating: 0, count: k * b)
                for o in 0..<k {
                    for j in 0..<b {
                        var s = bias[o]
                        for i in 0..<d { s += w[o * d + i] * a[i * b + j] }
                        next[o * b + j] = DenseReference.f(activation, s)
                    }
                }
                a = next
                size = k
            case .batchNorm(let gamma, let beta):
                for k in 0..<size {
                    let row = (0..<b).map { a[k * b + $0] }
                    let mean = row.reduce(0, +) / Double(b)
                    let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(b)
                    for j in 0..<b { a[k * b + j] = gamma[k] * (row[j] - mean) / (variance + 1e-5).squareRoot() + beta[k] }
                }
            case .dropout(let mask):
                for i in a.indices { a[i] *= mask[i] }
            case .srelu(let al, let tl, let ar, let tr):
                for k in 0..<size {
                    for j in 0..<b {
                        let x = a[k * b + j]
                        a[k * b + j] = x <= tl[k] ? tl[k] + al[k] * (x - tl[k]) : (x >= tr[k] ? tr[k] + ar[k] * (x - tr[k]) : x)
                    }
                }
            case .softmax, .logSoftmax:
                for j in 0..<b {
                    let column = (0..<size).map { a[$0 * b + j] }
                    let m = column.max()!
                    let total = column.map { Foundation.exp($0 - m) }.reduce(0, +)
                    for c in 0..<size {
                        if case .softmax = step { a[c * b + j] = Foundation.exp(column[c] - m) / total }
                        else { a[c * b + j] = column[c] - m - Foundation.log(total) }
                    }
                }
            }
        }
        return a
    }

    /// Mean loss over the batch (divided by `globalBatch`, as the library's losses).
    func loss(_ kind: LossKind, x: [Double], labels: [Int32], batch b: Int) -> Double {
        let y = output(x, batch: b), classes = y.count / b
        var total = 0.0
        for j in 0..<b {
            let label = Int(labels[j])
            let column = (0..<classes).map { y[$0 * b + j] }
            switch kind {
            case .softmaxCrossEntropy:
                let m = column.max()!
                total += Foundation.log(column.map { Foundation.exp($0 - m) }.reduce(0, +)) + m - column[label]
            case .negativeLogLikelihood: total -= column[label]
            case .crossEntropy: total -= Foundation.log(column[label])
            default: fatalError("not used by these tests")
            }
        }
        return total / Double(b)
    }
}
