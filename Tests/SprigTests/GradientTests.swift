import XCTest
@testable import Sprig

/// Backpropagation (float kernels) against central finite differences of the independent
/// double-precision dense reference, for every layer type, activation and loss.
final class GradientTests: XCTestCase {

    /// Checks ∂L/∂θ for every parameter θ of a network with the given layer settings.
    func check(sizes: [Int], densities: [Double], hidden: Activation, output: Activation = .identity,
               loss: LossKind, batch: Int = 5, seed: UInt64 = 7, file: StaticString = #filePath, line: UInt = #line) throws {
        let configuration = NetworkConfiguration(layerSizes: sizes, densities: densities, hiddenActivation: hidden,
                                                 outputActivation: output, initializer: .xavierNormalized, seed: seed)
        let network = try Network(configuration)
        // Non-zero biases so every code path sees them.
        for layer in network.linearLayers {
            let b = network.values(of: layer.bias)
            for i in b.indices { b[i] = Float(i % 3) * 0.1 - 0.05 }   // never exactly at a kink
        }
        try Self.assertGradientsMatchFiniteDifferences(network, loss: loss, batch: batch, seed: seed, file: file, line: line)
    }

    /// ∂L/∂θ of the float kernels on `backend` against central finite differences of the
    /// double reference, for every stored parameter θ of `network` (any patterns, e.g. after
    /// topology changes).
    static func assertGradientsMatchFiniteDifferences(_ network: Network, loss: LossKind, batch: Int = 5, seed: UInt64 = 7,
                                                      backend: any ComputeBackend = CPUBackend(pool: ThreadPool(threads: 2)),
                                                      file: StaticString = #filePath, line: UInt = #line) throws {
        let sizes = network.configuration.layerSizes
        let classes = sizes.last!
        let x = randomFloats(sizes[0] * batch, seed: seed + 1)
        var g = RandomGenerator(seed: seed + 2)
        let labels = (0..<batch).map { _ in Int32(g.below(classes)) }

        // Analytic gradient with the backend's kernels (float), in its memory.
        _ = try forwardAndBackward(network, x: x, labels: labels, loss: loss, batch: batch, backend: backend)

        // Finite differences on the double reference.
        let reference = DenseReference(network)
        let xd = x.map(Double.init)
        let h = 1e-6
        var worst = 0.0
        for (l, layer) in network.linearLayers.enumerated() {
            var positions: [(weights: Bool, index: Int, slot: Int)] = []
            if let sparse = layer as? SparseLinear {
                for r in 0..<sparse.pattern.rows {
                    for q in sparse.pattern.rowOffsets[r]..<sparse.pattern.rowOffsets[r + 1] {
                        positions.append((true, r * layer.inputSize + Int(sparse.pattern.columnIndices[q]), layer.weights.offset + q))
                    }
                }
            } else {
                for i in 0..<layer.weightCount { positions.append((true, i, layer.weights.offset + i)) }
            }
            for o in 0..<layer.outputSize { positions.append((false, o, layer.bias.offset + o)) }
            for position in positions {
                var plus = reference, minus = reference
                if position.weights {
                    plus.weights[l][position.index] += h
                    minus.weights[l][position.index] -= h
                } else {
                    plus.biases[l][position.index] += h
                    minus.biases[l][position.index] -= h
                }
                let numeric = (plus.loss(loss, x: xd, labels: labels, batch: batch)
                               - minus.loss(loss, x: xd, labels: labels, batch: batch)) / (2 * h)
                let analytic = Double(network.parameters.gradients[position.slot])
                let error = relativeDifference(analytic, numeric, floor: 1e-2)
                worst = max(worst, error)
                XCTAssertLessThan(error, 2e-3, "layer \(l + 1) \(position.weights ? "W" : "b")[\(position.index)]: analytic \(analytic) numeric \(numeric)",
                                  file: file, line: line)
            }
        }
        XCTAssertGreaterThan(worst, 0, "no parameter was checked", file: file, line: line)
    }

    func testSparseLayersEveryActivationCrossEntropy() throws {
        for activation in [Activation.relu, .leakyReLU(0.1), .allReLU(-0.3), .clippedReLU(0.4), .tanh, .sigmoid, .identity] {
            try check(sizes: [8, 7, 6, 4], densities: [0.5, 0.4, 0.6], hidden: activation, loss: .softmaxCrossEntropy)
        }
    }

    func testDenseLayersAndMixedNetwork() throws {
        try check(sizes: [6, 5, 3], densities: [1, 1], hidden: .tanh, loss: .softmaxCrossEntropy)
        try check(sizes: [9, 8, 7, 3], densities: [0.3, 1, 0.5], hidden: .relu, loss: .softmaxCrossEntropy)
    }

    func testSquaredErrorAndOutputActivation() throws {
        try check(sizes: [6, 5, 4], densities: [0.6, 0.7], hidden: .sigmoid, output: .tanh, loss: .squaredError)
        try check(sizes: [6, 5, 4], densities: [1, 0.5], hidden: .relu, output: .sigmoid, loss: .softmaxCrossEntropy)
    }

    func testBatchOfOneAndEmptyRows() throws {
        // Density 0.1 on 10×10 leaves most rows empty.
        try check(sizes: [10, 10, 3], densities: [0.1, 0.5], hidden: .leakyReLU(0.2), loss: .softmaxCrossEntropy, batch: 1)
    }

    /// A stable softmax: huge logits do not overflow.
    func testSoftmaxCrossEntropyIsStableForLargeLogits() {
        let y: [Float] = [1000, 0, -1000]   // classes×1
        var dy = [Float](repeating: 0, count: 3)
        let l = SoftmaxCrossEntropy().evaluate(output: y, labels: [1], classes: 3, batch: 1, globalBatch: 1, gradient: &dy)
        XCTAssertEqual(l, 1000, accuracy: 1e-3)
        XCTAssertEqual(dy[0], 1, accuracy: 1e-6)
        XCTAssertEqual(dy[1], -1, accuracy: 1e-6)
        XCTAssertTrue(dy.allSatisfy(\.isFinite))
    }
}
