import Foundation
import XCTest
@testable import Sprig

/// The backend conformance suite: every backend present runs each operation against an
/// independent double-precision reference, the network's gradients against finite
/// differences, and training steps against the CPU's. Present here: the CPU on one and on
/// three threads, and the CPU with separate memory, whose buffers are reached only through
/// upload and download as a device's are (so every transfer the training loop needs is made
/// and checked). A GPU backend joins `backends` where one exists.
final class BackendConformanceTests: XCTestCase {
    static var backends: [any ComputeBackend] {
        [CPUBackend(pool: .single), CPUBackend(pool: ThreadPool(threads: 3)),
         CPUBackend(pool: ThreadPool(threads: 2), memory: .separate)]
    }

    static let activations: [Activation] = [.identity, .relu, .leakyReLU(0.1), .allReLU(-0.3), .clippedReLU(0.5),
                                            .truncatedReLU(0.05), .tanh, .sigmoid]

    // MARK: helpers

    /// Every buffer a test made, kept until it ends: the operations take bare addresses, and
    /// Swift may free an object right after its last use, which reading `pointer` can be.
    private var buffers: [BackendBuffer] = []

    override func tearDown() {
        buffers.removeAll()
        super.tearDown()
    }

    /// `count` zeroed floats in `backend`'s memory.
    func zeros(_ count: Int, on backend: any ComputeBackend) throws -> BackendBuffer {
        let buffer = try backend.allocate(count: count)
        buffers.append(buffer)
        return buffer
    }

    /// `values` in `backend`'s memory.
    func buffer(_ values: [Float], on backend: any ComputeBackend) throws -> BackendBuffer {
        let buffer = try zeros(values.count, on: backend)
        try values.withUnsafeBufferPointer { try buffer.upload($0) }
        return buffer
    }

    /// A K×D pattern with an empty row (row 1) and an empty column (column 2).
    func pattern(rows k: Int, columns d: Int, seed: UInt64) -> SparsityPattern {
        var g = RandomGenerator(seed: seed)
        var builder = CSRBuilder(columns: d, capacity: k * d)
        for r in 0..<k where r != 1 {
            for c in 0..<d where c != 2 && g.uniform(0, 1) < 0.35 { builder.append(row: Int32(r), column: Int32(c)) }
        }
        return builder.buildDistinct(rows: k).0
    }

    /// W as a dense row-major K×D matrix in Double (zeros off the pattern).
    func dense(_ pattern: SparsityPattern, _ values: [Float]) -> [Double] {
        var w = [Double](repeating: 0, count: pattern.rows * pattern.columns)
        for r in 0..<pattern.rows {
            for p in pattern.rowOffsets[r]..<pattern.rowOffsets[r + 1] {
                w[r * pattern.columns + Int(pattern.columnIndices[p])] = Double(values[p])
            }
        }
        return w
    }

    /// C = A·B in Double: A m×k, B k×n, row-major.
    func product(_ a: [Double], _ b: [Double], m: Int, k: Int, n: Int) -> [Double] {
        var c = [Double](repeating: 0, count: m * n)
        for i in 0..<m { for l in 0..<k { for j in 0..<n { c[i * n + j] += a[i * k + l] * b[l * n + j] } } }
        return c
    }

    func transposed(_ a: [Double], rows: Int, columns: Int) -> [Double] {
        var t = [Double](repeating: 0, count: a.count)
        for i in 0..<rows { for j in 0..<columns { t[j * rows + i] = a[i * columns + j] } }
        return t
    }

    /// f'(z) by central differences of the reference activation, away from kinks.
    func derivative(_ a: Activation, _ z: Double) -> Double {
        let h = 1e-6
        return (DenseReference.f(a, z + h) - DenseReference.f(a, z - h)) / (2 * h)
    }

    func assertClose(_ actual: [Float], _ expected: [Double], tolerance: Double = 1e-5, floor: Double = 1e-3, _ what: String,
                     file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, what, file: file, line: line)
        var worst = 0.0, at = 0
        for i in 0..<min(actual.count, expected.count) {
            let e = relativeDifference(Double(actual[i]), expected[i], floor: floor)
            if e > worst { worst = e; at = i }
        }
        XCTAssertLessThanOrEqual(worst, tolerance, "\(what): worst at \(at): \(actual[at]) vs \(expected[at])", file: file, line: line)
    }

    /// Random values avoiding a band around the activations' kinks (0, 0.05, 0.5).
    func preActivations(_ n: Int, seed: UInt64) -> [Float] {
        randomFloats(n, seed: seed).map { v in
            for kink: Float in [0, 0.05, 0.5] where abs(v - kink) < 0.01 { return v + 0.03 }
            return v
        }
    }

    // MARK: sparse operations

    func testSparseForwardMatchesDenseReference() throws {
        let k = 13, d = 17, b = 21
        let p = pattern(rows: k, columns: d, seed: 3)
        let w = randomFloats(p.nonzeroCount, seed: 4), bias = randomFloats(k, seed: 5), x = randomFloats(d * b, seed: 6)
        let z = zip(product(dense(p, w), x.map(Double.init), m: k, k: d, n: b).indices, product(dense(p, w), x.map(Double.init), m: k, k: d, n: b))
            .map { i, v in v + Double(bias[i / b]) }
        for backend in Self.backends {
            for kernel in SparseLayerKernel.allCases {   // CSR kernels, and GEMM on the masked matrix
                let operand = try backend.prepare(p, transpose: TransposePlan(of: p), kernel: kernel)
                for activation in Self.activations {
                    let wb = try buffer(w, on: backend), bb = try buffer(bias, on: backend), xb = try buffer(x, on: backend)
                    let zb = try zeros(k * b, on: backend), yb = try zeros(k * b, on: backend)
                    try backend.sparseForward(operand, values: wb.pointer, bias: bb.pointer, input: xb.pointer, preActivation: zb.pointer,
                                              output: yb.pointer, batch: b, activation: activation)
                    assertClose(try zb.download(), z, "\(backend.name) \(kernel) Z")
                    assertClose(try yb.download(), z.map { DenseReference.f(activation, $0) }, "\(backend.name) \(kernel) Y = \(activation)(Z)")
                }
                // Z and Y in one buffer (a ReLU layer keeps Y alone): it ends as Y.
                let wb = try buffer(w, on: backend), bb = try buffer(bias, on: backend), xb = try buffer(x, on: backend)
                let yb = try zeros(k * b, on: backend)
                try backend.sparseForward(operand, values: wb.pointer, bias: bb.pointer, input: xb.pointer, preActivation: yb.pointer,
                                          output: yb.pointer, batch: b, activation: .relu)
                assertClose(try yb.download(), z.map { DenseReference.f(.relu, $0) }, "\(backend.name) \(kernel) Y = relu(Z) over Z")
            }
        }
    }

    func testSparseGradientsMatchDenseReference() throws {
        let k = 11, d = 19, b = 18
        let p = pattern(rows: k, columns: d, seed: 7)
        let w = randomFloats(p.nonzeroCount, seed: 8), z = preActivations(k * b, seed: 9)
        let dy = randomFloats(k * b, seed: 10), x = randomFloats(d * b, seed: 11)
        for backend in Self.backends {
            for kernel in SparseLayerKernel.allCases {   // CSR kernels, and GEMM on the masked matrix
                let operand = try backend.prepare(p, transpose: TransposePlan(of: p), kernel: kernel)
                for activation in Self.activations {
                    let dz = (0..<(k * b)).map { Double(dy[$0]) * derivative(activation, Double(z[$0])) }
                    let dbExpected = (0..<k).map { o in (0..<b).reduce(0.0) { $0 + dz[o * b + $1] } }
                    let full = product(dz, transposed(x.map(Double.init), rows: d, columns: b), m: k, k: b, n: d)   // DZ·Xᵀ
                    var dwExpected = [Double]()
                    for r in 0..<k { for q in p.rowOffsets[r]..<p.rowOffsets[r + 1] { dwExpected.append(full[r * d + Int(p.columnIndices[q])]) } }
                    let dxExpected = product(transposed(dense(p, w), rows: k, columns: d), dz, m: d, k: k, n: b)   // Wᵀ·DZ

                    let zb = try buffer(z, on: backend), dyb = try buffer(dy, on: backend), xb = try buffer(x, on: backend)
                    let wb = try buffer(w, on: backend)
                    let dbb = try zeros(k, on: backend), dwb = try zeros(p.nonzeroCount, on: backend)
                    let dxb = try zeros(d * b, on: backend)
                    try backend.sparseWeightGradient(operand, preActivation: zb.pointer, activation: activation, outputGradient: dyb.pointer,
                                                     biasGradient: dbb.pointer, input: xb.pointer, weightGradient: dwb.pointer, batch: b)
                    try backend.sparseInputGradient(operand, values: wb.pointer, outputGradient: dyb.pointer, inputGradient: dxb.pointer, batch: b)
                    assertClose(try dyb.download(), dz, tolerance: 1e-4, "\(backend.name) \(kernel) DZ, \(activation)")
                    assertClose(try dbb.download(), dbExpected, tolerance: 1e-4, "\(backend.name) \(kernel) Db, \(activation)")
                    // A DW sums b products of unit-sized values: float rounding is ~b·ε in absolute
                    // terms, so a DW that cancels to ~1e-5 is compared absolutely (floor 1e-2).
                    assertClose(try dwb.download(), dwExpected, tolerance: 1e-4, floor: 1e-2, "\(backend.name) \(kernel) DW (SDDMM), \(activation)")
                    assertClose(try dxb.download(), dxExpected, tolerance: 1e-4, "\(backend.name) \(kernel) DX = Wᵀ·DZ, \(activation)")
                }
            }
        }
    }

    // MARK: dense operations and GEMM

    func testDenseOperationsMatchReference() throws {
        let k = 9, d = 23, b = 17
        let w = randomFloats(k * d, seed: 12), bias = randomFloats(k, seed: 13), x = randomFloats(d * b, seed: 14)
        let dy = randomFloats(k * b, seed: 15)
        let wd = w.map(Double.init), xd = x.map(Double.init)
        let z = product(wd, xd, m: k, k: d, n: b).enumerated().map { $1 + Double(bias[$0 / b]) }
        for backend in Self.backends {
            for activation in [Activation.relu, .tanh, .leakyReLU(0.2)] {
                let wb = try buffer(w, on: backend), bb = try buffer(bias, on: backend), xb = try buffer(x, on: backend)
                let zb = try zeros(k * b, on: backend), yb = try zeros(k * b, on: backend)
                try backend.denseForward(rows: k, columns: d, values: wb.pointer, bias: bb.pointer, input: xb.pointer,
                                         preActivation: zb.pointer, output: yb.pointer, batch: b, activation: activation)
                assertClose(try zb.download(), z, "\(backend.name) dense Z")
                assertClose(try yb.download(), z.map { DenseReference.f(activation, $0) }, "\(backend.name) dense Y")

                let zs = try zb.download().map(Double.init)
                let dz = (0..<(k * b)).map { Double(dy[$0]) * derivative(activation, zs[$0]) }
                let dyb = try buffer(dy, on: backend), dbb = try zeros(k, on: backend)
                let dwb = try zeros(k * d, on: backend), dxb = try zeros(d * b, on: backend)
                try backend.denseWeightGradient(rows: k, columns: d, preActivation: zb.pointer, activation: activation,
                                                outputGradient: dyb.pointer, biasGradient: dbb.pointer, input: xb.pointer,
                                                weightGradient: dwb.pointer, batch: b)
                try backend.denseInputGradient(rows: k, columns: d, values: wb.pointer, outputGradient: dyb.pointer,
                                               inputGradient: dxb.pointer, batch: b)
                assertClose(try dbb.download(), (0..<k).map { o in (0..<b).reduce(0.0) { $0 + dz[o * b + $1] } }, tolerance: 1e-4,
                            "\(backend.name) dense Db")
                assertClose(try dwb.download(), product(dz, transposed(xd, rows: d, columns: b), m: k, k: b, n: d), tolerance: 1e-4,
                            "\(backend.name) dense DW = DZ·Xᵀ")
                assertClose(try dxb.download(), product(transposed(wd, rows: k, columns: d), dz, m: d, k: k, n: b), tolerance: 1e-4,
                            "\(backend.name) dense DX = Wᵀ·DZ")
            }
            // C = A·Bᵀ, and C = 0 for k = 0 (a rank without examples).
            let a = randomFloats(7 * 5, seed: 16), bt = randomFloats(6 * 5, seed: 17)
            let ab = try buffer(a, on: backend), btb = try buffer(bt, on: backend), cb = try buffer([Float](repeating: 9, count: 42), on: backend)
            try backend.multiplyTransposed(ab.pointer, btb.pointer, into: cb.pointer, m: 7, n: 6, k: 5)
            assertClose(try cb.download(), product(a.map(Double.init), transposed(bt.map(Double.init), rows: 6, columns: 5), m: 7, k: 5, n: 6),
                        "\(backend.name) A·Bᵀ")
            try backend.multiplyTransposed(ab.pointer, btb.pointer, into: cb.pointer, m: 7, n: 6, k: 0)
            XCTAssertEqual(try cb.download(), [Float](repeating: 0, count: 42), "\(backend.name) A·Bᵀ with k = 0")
        }
    }

    // MARK: losses and reductions

    /// ℓ of one example's outputs y (C values) with `label`, as each loss defines it.
    func referenceLoss(_ kind: LossKind, _ y: [Double], label: Int) -> Double {
        switch kind {
        case .softmaxCrossEntropy:
            let m = y.max()!
            return Foundation.log(y.map { Foundation.exp($0 - m) }.reduce(0, +)) + m - y[label]
        case .squaredError:
            return y.enumerated().map { c, v in let t = v - (c == label ? 1 : 0); return 0.5 * t * t }.reduce(0, +)
        case .logisticCrossEntropy:
            return max(-y[label], 0) + Foundation.log1p(Foundation.exp(-abs(y[label])))
        case .negativeLogLikelihood:
            return -y[label]
        case .crossEntropy:
            return -Foundation.log(y[label])
        }
    }

    func testLossesMatchReferenceAndFiniteDifferences() throws {
        let classes = 5, b = 7, globalBatch = 20
        var g = RandomGenerator(seed: 18)
        let labels = (0..<b).map { _ in Int32(g.below(classes)) }
        for kind in LossKind.allCases {
            // Probabilities for the plain cross-entropy; any values otherwise.
            let y = randomFloats(classes * b, seed: 19).map { kind.expectsProbabilities ? 0.1 + 0.8 * ($0 + 1) / 2 : 3 * $0 }
            let column = { (y: [Double], j: Int) in (0..<classes).map { y[$0 * b + j] } }
            let yd = y.map(Double.init)
            let expected = (0..<b).reduce(0.0) { $0 + referenceLoss(kind, column(yd, $1), label: Int(labels[$1])) }
            var gradient = [Double](repeating: 0, count: classes * b)
            let h = 1e-6
            for i in 0..<(classes * b) {
                var plus = yd, minus = yd
                plus[i] += h
                minus[i] -= h
                let j = i % b
                gradient[i] = (referenceLoss(kind, column(plus, j), label: Int(labels[j]))
                               - referenceLoss(kind, column(minus, j), label: Int(labels[j]))) / (2 * h) / Double(globalBatch)
            }
            for backend in Self.backends {
                let yb = try buffer(y, on: backend), dyb = try zeros(classes * b, on: backend)
                let total = try labels.withUnsafeBufferPointer {
                    try backend.loss(kind, output: yb.pointer, labels: $0.baseAddress!, classes: classes, batch: b,
                                     globalBatch: globalBatch, gradient: dyb.pointer)
                }
                XCTAssertLessThan(relativeDifference(total, expected), 1e-5, "\(backend.name) \(kind): Σℓ \(total) vs \(expected)")
                assertClose(try dyb.download(), gradient, tolerance: 1e-3, "\(backend.name) \(kind): ∂L/∂Y")
            }
        }
    }

    func testCorrectCountTakesTheFirstLargestClass() throws {
        // 3 classes × 4 examples: argmax 2, 0 (a tie of 0 and 1: the first), 1, 2.
        let y: [Float] = [0, 5, 1, 0,
                          1, 5, 7, 0,
                          3, 1, 2, 4]
        for backend in Self.backends {
            let yb = try buffer(y, on: backend)
            let count = { (labels: [Int32]) in
                try labels.withUnsafeBufferPointer { try backend.correctCount(output: yb.pointer, labels: $0.baseAddress!, classes: 3, batch: 4) }
            }
            XCTAssertEqual(try count([2, 0, 1, 2]), 4, backend.name)
            XCTAssertEqual(try count([2, 1, 1, 0]), 2, backend.name)
            XCTAssertEqual(try count([0, 1, 0, 0]), 0, backend.name)
        }
    }

    // MARK: optimizers

    func testOptimizersMatchTheirFormulas() throws {
        let n = 300_001   // more than one thread's share
        let kinds: [OptimizerKind] = [.sgd, .momentum(0.9), .nesterov(0.8), .adam(beta1: 0.9, beta2: 0.99, epsilon: 1e-6),
                                      .adamW(beta1: 0.8, beta2: 0.95, epsilon: 1e-5, weightDecay: 0.05)]
        let eta: Float = 0.05, lambda: Float = 0.01
        for kind in kinds {
            // The reference, in Double, three updates with the same gradients each time.
            let w0 = randomFloats(n, seed: 20), g = randomFloats(n, seed: 21)
            var w = w0.map(Double.init), v = [Double](repeating: 0, count: n), m = v, s = v
            let e = Double(eta)
            for t in 1...3 {
                for i in 0..<n {
                    let gi = Double(g[i])
                    switch kind {
                    case .sgd: w[i] -= e * (gi + Double(lambda) * w[i])
                    case .momentum(let mu):
                        v[i] = Double(mu) * v[i] - e * (gi + Double(lambda) * w[i]); w[i] += v[i]
                    case .nesterov(let mu):
                        let step = e * (gi + Double(lambda) * w[i])
                        v[i] = Double(mu) * v[i] - step; w[i] += Double(mu) * v[i] - step
                    case .adam(let b1, let b2, let eps):
                        let gd = gi + Double(lambda) * w[i]
                        m[i] = Double(b1) * m[i] + (1 - Double(b1)) * gd
                        s[i] = Double(b2) * s[i] + (1 - Double(b2)) * gd * gd
                        let mHat = m[i] / (1 - pow(Double(b1), Double(t))), sHat = s[i] / (1 - pow(Double(b2), Double(t)))
                        w[i] -= e * mHat / (sHat.squareRoot() + Double(eps))
                    case .adamW(let b1, let b2, let eps, let wd):
                        w[i] *= 1 - e * Double(wd)
                        m[i] = Double(b1) * m[i] + (1 - Double(b1)) * gi
                        s[i] = Double(b2) * s[i] + (1 - Double(b2)) * gi * gi
                        let mHat = m[i] / (1 - pow(Double(b1), Double(t))), sHat = s[i] / (1 - pow(Double(b2), Double(t)))
                        w[i] -= e * mHat / (sHat.squareRoot() + Double(eps))
                    }
                }
            }
            for backend in Self.backends {
                let wb = try buffer(w0, on: backend), gb = try buffer(g, on: backend)
                let states = try (0..<3).map { _ in try zeros(n, on: backend) }
                let names = kind.stateNames
                let buffers = OptimizerBuffers(values: wb.pointer, gradients: gb.pointer,
                                               velocity: names.contains("velocity") ? states[0].pointer : nil,
                                               firstMoment: names.contains("m") ? states[1].pointer : nil,
                                               secondMoment: names.contains("v") ? states[2].pointer : nil)
                for t in 1...3 {
                    try backend.optimizerStep(kind, buffers, count: n, weightDecay: lambda, learningRate: eta, update: t)
                }
                assertClose(try wb.download(), w, tolerance: 1e-4, "\(backend.name) \(kind)")
            }
        }
    }

    // MARK: the network on a backend

    /// A network with sparse and dense layers and non-zero biases.
    func mixedNetwork(seed: UInt64 = 7) throws -> Network {
        let configuration = NetworkConfiguration(layerSizes: [10, 9, 8, 4], densities: [0.5, 1, 0.6], hiddenActivation: .tanh,
                                                 initializer: .xavierNormalized, seed: seed)
        let network = try Network(configuration)
        for layer in network.linearLayers {
            let b = network.values(of: layer.bias)
            for i in b.indices { b[i] = Float(i % 3) * 0.1 - 0.05 }
        }
        return network
    }

    func testGradientsOnEveryBackendMatchFiniteDifferences() throws {
        for backend in Self.backends {
            for loss in [LossKind.softmaxCrossEntropy, .squaredError] {
                try GradientTests.assertGradientsMatchFiniteDifferences(try mixedNetwork(), loss: loss, batch: 6, backend: backend)
            }
        }
    }

    /// Every layer kind's output and parameter gradients (batch norm, dropout, softmax,
    /// log-softmax, SReLU) against finite differences of the layer reference.
    func testEveryLayerKindMatchesFiniteDifferences() throws {
        for backend in Self.backends {
            try LayerTests.checkGradients([.linear(.relu), .batchNorm, .dropout(0.3), .linear(.tanh), .batchNorm, .linear(.identity)],
                                          sizes: [7, 6, 5, 4], densities: [0.6, 1, 0.8], loss: .softmaxCrossEntropy, backend: backend)
            try LayerTests.checkGradients([.linear(.sigmoid), .linear(.identity), .softmax], sizes: [6, 5, 4], densities: [0.7, 1],
                                          loss: .crossEntropy, backend: backend)
            try LayerTests.checkGradients([.dropout(0.2), .linear(.leakyReLU(0.1)), .batchNorm, .linear(.identity), .logSoftmax],
                                          sizes: [6, 5, 4], densities: [0.7, 0.9], loss: .negativeLogLikelihood, backend: backend)
            try LayerTests.checkGradients([.linear(.identity), .srelu(al: 0.2, tl: -0.3, ar: 0.5, tr: 0.4), .linear(.identity)],
                                          sizes: [6, 5, 4], densities: [0.8, 1], loss: .softmaxCrossEntropy, batch: 8, backend: backend)
        }
    }

    func testFeatureSumsAndBatchNormInferenceMatchTheirFormulas() throws {
        let k = 70, b = 13   // more features than one thread's share
        let x = randomFloats(k * b, seed: 50), y = randomFloats(k * b, seed: 51)
        let mean = randomFloats(k, seed: 52), variance = randomFloats(k, seed: 53).map { abs($0) + 0.1 }
        let gamma = randomFloats(k, seed: 54), beta = randomFloats(k, seed: 55)
        var expected = [Double](repeating: 0, count: 2 * k), inference = [Double](repeating: 0, count: k * b)
        for f in 0..<k {
            for j in 0..<b {
                expected[f] += Double(x[f * b + j])
                expected[k + f] += Double(x[f * b + j]) * Double(y[f * b + j])
                inference[f * b + j] = Double(gamma[f]) * (Double(x[f * b + j]) - Double(mean[f]))
                    / (Double(variance[f]) + 1e-5).squareRoot() + Double(beta[f])
            }
        }
        for backend in Self.backends {
            let xb = try buffer(x, on: backend), yb = try buffer(y, on: backend)
            var sums = [Double](repeating: .nan, count: 2 * k)
            try sums.withUnsafeMutableBufferPointer {
                try backend.featureSums(xb.pointer, yb.pointer, features: k, batch: b, into: $0.baseAddress!)
            }
            for i in 0..<(2 * k) { XCTAssertEqual(sums[i], expected[i], accuracy: 1e-12, "\(backend.name) sum \(i)") }
            let gb = try buffer(gamma, on: backend), bb = try buffer(beta, on: backend), out = try zeros(k * b, on: backend)
            try backend.batchNormInference(input: xb.pointer, hostMean: mean, hostVariance: variance, epsilon: 1e-5, gamma: gb.pointer,
                                           beta: bb.pointer, output: out.pointer, features: k, batch: b)
            assertClose(try out.download(), inference, "\(backend.name) batch norm inference")
        }
    }

    /// A network with every layer kind: dropout, batch norm, SReLU, log-softmax.
    func layeredNetwork() throws -> Network {
        try Network(NetworkConfiguration(layerSizes: [10, 9, 8, 4], densities: [0.5, 1, 0.6], initializer: .xavierNormalized, seed: 9,
                                         layers: [.dropout(0.1), .linear(.relu), .batchNorm, .linear(.identity),
                                                  .srelu(al: 0.1, tl: -0.2, ar: 0.3, tr: 0.5), .dropout(0.2), .linear(.identity), .logSoftmax]))
    }

    func testTrainingEveryLayerKindOnEveryBackendMatchesTheCPU() throws {
        let data = dataset(count: 64, features: 10, classes: 4, seed: 42)
        let configuration = TrainingConfiguration(batchSize: 16, learningRate: 0.05, optimizer: .momentum(0.9),
                                                  loss: .negativeLogLikelihood, seed: 4)
        func train(_ backend: (any ComputeBackend)?) throws -> (values: [Float], running: [Float], loss: Double) {
            let trainer = try Trainer(network: try layeredNetwork(), configuration: configuration, pool: .single, backend: backend)
            _ = try trainer.trainEpoch(0, data: data)
            let evaluation = try trainer.evaluate(data)
            return (trainer.network.parameters.values.array, trainer.network.states.flatMap(\.values.array), evaluation.loss)
        }
        let cpu = try train(nil)
        for backend in Self.backends {
            let other = try train(backend)
            var worst = 0.0
            for (a, b) in zip(other.values + other.running, cpu.values + cpu.running) {
                worst = max(worst, relativeDifference(Double(a), Double(b), floor: 1e-2))
            }
            XCTAssertLessThanOrEqual(worst, 1e-4, "\(backend.name): values or running statistics after an epoch")
            XCTAssertLessThan(relativeDifference(other.loss, cpu.loss), 1e-4, "\(backend.name): evaluation loss")
        }
        let separate = try train(CPUBackend(pool: .single, memory: .separate))
        XCTAssertEqual(separate.values, cpu.values)
        XCTAssertEqual(separate.running, cpu.running)
        XCTAssertEqual(separate.loss, cpu.loss)
        XCTAssertNotEqual(cpu.values, try layeredNetwork().parameters.values.array, "training moved the values")
    }

    /// Synthetic classes: a fixed random pattern per class plus noise.
    func dataset(count: Int, features: Int, classes: Int, seed: UInt64) -> Dataset {
        var g = RandomGenerator(seed: seed)
        let centres = (0..<(classes * features)).map { _ in g.uniform(-1, 1) }
        var values = [Float](), labels = [Int32]()
        for _ in 0..<count {
            let c = g.below(classes)
            labels.append(Int32(c))
            for f in 0..<features { values.append(centres[c * features + f] + 0.3 * g.uniform(-1, 1)) }
        }
        return Dataset(name: "synthetic", featureCount: features, classCount: classes, features: values, labels: labels)
    }

    /// Trains `steps` steps of one epoch on `backend` (the CPU's own when nil) with RigL's
    /// topology step after step 2; returns the values, Adam's moments and the patterns.
    func train(backend: (any ComputeBackend)?, steps: Int = 4) throws -> (values: [Float], moments: [Float], patterns: [SparsityPattern]) {
        let network = try mixedNetwork(seed: 9)
        let data = dataset(count: 64, features: 10, classes: 4, seed: 40)
        let configuration = TrainingConfiguration(batchSize: 16, learningRate: 0.02, optimizer: .adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8),
                                                  weightDecay: 1e-3, seed: 3)
        let trainer = try Trainer(network: network, configuration: configuration, pool: .single, backend: backend)
        let updater = TopologyUpdater(settings: try DynamicSparsity(prune: .magnitude(0.3), grow: .gradient),
                                      communicator: SingleProcessCommunicator(), backend: trainer.backend, seed: 3)
        let order = trainer.order(epoch: 0, count: data.count)
        for s in 0..<steps {
            try trainer.step(data, indices: order[(s * 16)..<(s * 16 + 16)], learningRate: 0.02, update: s + 1)
            if s == 1 {
                try updater.update(trainer.network, afterStep: s + 1, totalSteps: steps, workspace: trainer.workspace,
                                   shardSize: trainer.lastShardSize)
            }
        }
        let store = trainer.network.parameters
        return (store.values.array, store.state(named: "m")!.array, trainer.network.linearLayers.compactMap(\.sparsity))
    }

    func testTrainingStepsOnEveryBackendMatchTheCPU() throws {
        let cpu = try train(backend: nil)
        for backend in Self.backends {
            let other = try train(backend: backend)
            XCTAssertEqual(other.patterns, cpu.patterns, "\(backend.name): the topology step chose other weights")
            var worst = 0.0
            for (a, b) in zip(other.values, cpu.values) { worst = max(worst, relativeDifference(Double(a), Double(b), floor: 1e-2)) }
            for (a, b) in zip(other.moments, cpu.moments) { worst = max(worst, relativeDifference(Double(a), Double(b), floor: 1e-4)) }
            XCTAssertLessThanOrEqual(worst, 1e-4, "\(backend.name): values or moments after 4 steps")
        }
        // The CPU with separate memory computes exactly what the CPU does in place.
        let separate = try train(backend: CPUBackend(pool: .single, memory: .separate))
        XCTAssertEqual(separate.values, cpu.values)
        XCTAssertEqual(separate.moments, cpu.moments)
        // And training moved the values at all.
        XCTAssertNotEqual(cpu.values, try mixedNetwork(seed: 9).parameters.values.array)
    }

    func testEvaluationOnEveryBackendMatchesTheDenseReference() throws {
        let data = dataset(count: 37, features: 10, classes: 4, seed: 41)
        let network = try mixedNetwork(seed: 11)
        let reference = DenseReference(network)
        var expectedLoss = 0.0, expectedRight = 0
        guard case .floats(let features) = data.storage else { return XCTFail("float features") }
        for j in 0..<data.count {
            let y = reference.output((0..<10).map { Double(features[j * 10 + $0]) })
            expectedLoss += referenceLoss(.softmaxCrossEntropy, y, label: Int(data.labels[j]))
            if y.firstIndex(of: y.max()!) == Int(data.labels[j]) { expectedRight += 1 }
        }
        for backend in Self.backends {
            let trainer = try Trainer(network: try mixedNetwork(seed: 11), configuration: TrainingConfiguration(), pool: .single, backend: backend)
            let (loss, accuracy) = try trainer.evaluate(data)
            XCTAssertLessThan(relativeDifference(loss, expectedLoss / 37), 1e-5, backend.name)
            XCTAssertEqual(accuracy, Double(expectedRight) / 37, backend.name)
        }
    }

    // MARK: the store's mirror

    func testTheStoreMirrorCarriesEachSectionBothWays() throws {
        let backend = CPUBackend(pool: .single, memory: .separate)
        let store = ParameterStore(count: 5)
        store.values.buffer.update(fromContentsOf: [1, 2, 3, 4, 5] as [Float])
        try store.place(on: backend)
        let device = try store.device(.values)
        XCTAssertNotEqual(device, store.values.pointer, "the mirror is a memory of its own")
        XCTAssertEqual(Array(UnsafeBufferPointer(start: try store.device(.values), count: 5)), [1, 2, 3, 4, 5], "uploaded at first use")
        try store.device(.values)[2] = 30           // the backend writes
        XCTAssertEqual(store.values.array, [1, 2, 30, 4, 5], "downloaded at the next host access")
        store.values[4] = 50                        // the host writes
        XCTAssertEqual(try store.device(.values)[4], 50, "uploaded at the next device use")
        // A state added later keeps every section's contents.
        try store.device(.gradients)[0] = 7
        let velocity = store.addState(named: "velocity")
        velocity[1] = 8
        XCTAssertEqual(store.gradients[0], 7)
        XCTAssertEqual(try store.device(.state("velocity"))[1], 8)
        XCTAssertEqual(try store.device(.values)[2], 30)
        XCTAssertThrowsError(try store.device(.state("m")))
        // Back on the CPU: the host holds the newest contents again.
        try store.device(.values)[0] = 10
        try store.place(on: CPUBackend.host)
        XCTAssertEqual(store.values.array, [10, 2, 30, 4, 50])
    }

    func testRemapWithAMirrorMovesTheDevicesContents() throws {
        let backend = CPUBackend(pool: .single, memory: .separate)
        let a = ParameterGroup(layer: 0, name: "weights", count: 3), b = ParameterGroup(layer: 0, name: "bias", count: 2)
        let store = ParameterStore(groups: [a, b])
        store.addState(named: "velocity")
        try store.place(on: backend)
        let values = try store.device(.values), velocity = try store.device(.state("velocity"))
        for i in 0..<5 { values[i] = Float(i + 1); velocity[i] = Float(10 * (i + 1)) }
        // The weights group shrinks to 2 slots: old slot 2, then a new one.
        store.remap(a, sourceSlot: [2, -1], initialValue: { _ in 0.5 })
        XCTAssertEqual(store.values.array, [3, 0.5, 4, 5])
        XCTAssertEqual(store.state(named: "velocity")!.array, [30, 0, 40, 50])
        XCTAssertEqual(Array(UnsafeBufferPointer(start: try store.device(.values), count: 4)), [3, 0.5, 4, 5])
    }
}
