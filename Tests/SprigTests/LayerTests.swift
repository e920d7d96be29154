import Foundation
import XCTest
@testable import Sprig

/// The open layer list: batch norm, dropout, softmax and log-softmax against an independent
/// double-precision reference (values and finite-difference gradients), dropout's masks,
/// batch norm's running statistics, P ranks against one process, resume, and bad lists.
final class LayerTests: XCTestCase {

    func checkGradients(_ layers: [LayerSpecification], sizes: [Int], densities: [Double], loss: LossKind,
                        batch: Int = 6, file: StaticString = #filePath, line: UInt = #line) throws {
        try Self.checkGradients(layers, sizes: sizes, densities: densities, loss: loss, batch: batch, file: file, line: line)
    }

    /// Forward and every parameter's gradient (linear weights and biases, γ, β) on `backend`
    /// against central finite differences of `LayerReference`, for a layer list and its loss.
    static func checkGradients(_ layers: [LayerSpecification], sizes: [Int], densities: [Double], loss: LossKind,
                               batch: Int = 6, backend: any ComputeBackend = CPUBackend(pool: ThreadPool(threads: 2)),
                               file: StaticString = #filePath, line: UInt = #line) throws {
        let configuration = NetworkConfiguration(layerSizes: sizes, densities: densities, initializer: .xavierNormalized,
                                                 seed: 3, layers: layers)
        let network = try Network(configuration)
        var g = RandomGenerator(seed: 17)
        for group in network.parameters.groups where ["bias", "gamma", "beta"].contains(group.name) {   // away from 0 and 1
            for i in group.range { network.parameters.values[i] = g.uniform(0.5, 1.5) * (group.name == "beta" || group.name == "bias" ? 0.2 : 1) }
        }
        let x = randomFloats(sizes[0] * batch, seed: 21)
        let labels = (0..<batch).map { _ in Int32(g.below(sizes.last!)) }
        let (ws, output) = try forwardAndBackward(network, x: x, labels: labels, loss: loss, batch: batch, backend: backend)

        var masks: [Int: [Double]] = [:]
        for (i, layer) in network.layers.enumerated() where layer is Dropout {
            masks[i] = try ws.scratch[i].download(count: layer.outputSize * batch).map(Double.init)
        }
        let reference = LayerReference(network, masks: masks)
        let xd = x.map(Double.init)
        let expected = reference.output(xd, batch: batch)
        for i in expected.indices {
            XCTAssertEqual(Double(output[i]), expected[i], accuracy: 1e-4 * max(1, abs(expected[i])), "\(backend.name) output \(i)",
                           file: file, line: line)
        }
        let h = 1e-6
        var checked = 0
        for (i, layer) in network.layers.enumerated() {
            for group in layer.parameterGroups {
                for slot in 0..<group.count {
                    func perturbed(_ delta: Double) -> Double {
                        var r = reference
                        switch r.steps[i] {
                        case .linear(var w, var b, let d, let k, let activation):
                            if group.name == "bias" { b[slot] += delta }
                            else if let pattern = (layer as? any LinearLayer)?.sparsity {
                                let row = pattern.rowOffsets.lastIndex { $0 <= slot }!
                                w[row * d + Int(pattern.columnIndices[slot])] += delta
                            } else { w[slot] += delta }
                            r.steps[i] = .linear(w: w, b: b, inputs: d, outputs: k, activation: activation)
                        case .batchNorm(var gamma, var beta):
                            if group.name == "gamma" { gamma[slot] += delta } else { beta[slot] += delta }
                            r.steps[i] = .batchNorm(gamma: gamma, beta: beta)
                        case .srelu(var al, var tl, var ar, var tr):
                            switch group.name {
                            case "al": al[slot] += delta
                            case "tl": tl[slot] += delta
                            case "ar": ar[slot] += delta
                            default: tr[slot] += delta
                            }
                            r.steps[i] = .srelu(al: al, tl: tl, ar: ar, tr: tr)
                        default: XCTFail("layer \(i) has no parameters")
                        }
                        return r.loss(loss, x: xd, labels: labels, batch: batch)
                    }
                    let numeric = (perturbed(h) - perturbed(-h)) / (2 * h)
                    let analytic = Double(network.parameters.gradients[group.offset + slot])
                    XCTAssertLessThan(SprigTests.relativeDifference(analytic, numeric, floor: 1e-2), 3e-3,
                                      "\(backend.name) layer \(i + 1) \(group.name)[\(slot)]: analytic \(analytic), numeric \(numeric)",
                                      file: file, line: line)
                    checked += 1
                }
            }
        }
        XCTAssertGreaterThan(checked, 0, file: file, line: line)
    }

    func testBatchNormAndDropoutGradients() throws {
        try checkGradients([.linear(.relu), .batchNorm, .dropout(0.3), .linear(.tanh), .batchNorm, .linear(.identity)],
                           sizes: [7, 6, 5, 4], densities: [0.6, 1, 0.8], loss: .softmaxCrossEntropy)
    }

    func testSoftmaxWithCrossEntropyAndLogSoftmaxWithNegativeLogLikelihood() throws {
        try checkGradients([.linear(.sigmoid), .linear(.identity), .softmax], sizes: [6, 5, 4], densities: [0.7, 1], loss: .crossEntropy)
        try checkGradients([.dropout(0.2), .linear(.leakyReLU(0.1)), .batchNorm, .linear(.identity), .logSoftmax],
                           sizes: [6, 5, 4], densities: [0.7, 0.9], loss: .negativeLogLikelihood)
    }

    /// SReLU's four parameters per neuron; its initial values put inputs on all three pieces.
    func testSReLUAndTReLUGradients() throws {
        try checkGradients([.linear(.identity), .srelu(al: 0.2, tl: -0.3, ar: 0.5, tr: 0.4), .linear(.identity)],
                           sizes: [6, 5, 4], densities: [0.8, 1], loss: .softmaxCrossEntropy, batch: 8)
        // TReLU(ε) is a fused activation: z < ε ? 0 : z.
        try checkGradients([.linear(.truncatedReLU(0.05)), .linear(.identity)], sizes: [6, 5, 4], densities: [0.8, 1],
                           loss: .softmaxCrossEntropy, batch: 8)
        XCTAssertEqual(try LayerSpecification.parse("TReLU(0.1);SReLU;Linear"),
                       [.linear(.truncatedReLU(0.1)), .linear(.identity), .srelu(al: 0, tl: 0, ar: 0, tr: 1), .linear(.identity)])
    }

    /// The mask of (seed, step, example, unit) is the same wherever the example sits in the
    /// batch; about the rate is dropped; kept units are scaled by 1/(1−p); evaluation is the identity.
    func testDropoutMasksDependOnlyOnSeedStepExampleAndUnit() throws {
        let network = try Network(NetworkConfiguration(layerSizes: [50, 3], densities: [1], seed: 2, layers: [.dropout(0.25), .linear(.identity)]))
        func mask(examples: [Int], step: Int, mode: LayerContext.Mode = .training) throws -> [[Float]] {
            let ws = try Workspace(network: network, capacity: examples.count)
            for i in 0..<(50 * examples.count) { ws.input[i] = 1 }
            var context = network.context(batch: examples.count, pool: .single, mode: mode)
            context.examples = examples[...]
            context.step = step
            try network.forward(ws, context: context)
            return examples.indices.map { j in (0..<50).map { ws.outputs[0][$0 * examples.count + j] } }
        }
        let a = try mask(examples: [5, 9], step: 3), b = try mask(examples: [9, 7, 5], step: 3)
        XCTAssertEqual(a[0], b[2], "example 5")
        XCTAssertEqual(a[1], b[0], "example 9")
        XCTAssertNotEqual(a[0], a[1], "two examples, two masks")
        XCTAssertNotEqual(try mask(examples: [5], step: 4)[0], a[0], "another step, another mask")
        XCTAssertEqual(Set(a.flatMap { $0 }), [0, 1 / 0.75])
        let many = try mask(examples: Array(0..<400), step: 1).flatMap { $0 }
        let dropped = Double(many.filter { $0 == 0 }.count) / Double(many.count)
        XCTAssertEqual(dropped, 0.25, accuracy: 0.01)
        XCTAssertEqual(try mask(examples: [5, 9], step: 3, mode: .evaluation).flatMap { $0 }, [Float](repeating: 1, count: 100))
    }

    /// Running mean ← 0.9·0 + 0.1·μ, running variance ← 0.9·1 + 0.1·σ²·B/(B−1) after one training
    /// batch; evaluation normalises with them, not with the batch's statistics.
    func testBatchNormEvaluationUsesTheRunningStatistics() throws {
        let network = try Network(NetworkConfiguration(layerSizes: [2, 2], densities: [1], seed: 1, layers: [.linear(.identity), .batchNorm]))
        let linear = network.linearLayers[0]
        _ = network.values(of: linear.weights).update(fromContentsOf: [1, 0, 0, 1])   // identity
        network.values(of: linear.bias).update(repeating: 0)
        let norm = try XCTUnwrap(network.layers[1] as? BatchNorm)
        _ = network.values(of: norm.gamma).update(fromContentsOf: [2, 1])
        _ = network.values(of: norm.beta).update(fromContentsOf: [0.5, 0])
        let x: [Float] = [1, 2, 3, 6,   -1, -1, -1, -1]   // feature 0: 1, 2, 3, 6; feature 1 constant
        let ws = try Workspace(network: network, capacity: 4)
        ws.input.buffer.baseAddress!.update(from: x, count: 8)
        try network.forward(ws, context: network.context(batch: 4, pool: .single))
        // Feature 0: μ = 3, σ² = (4 + 1 + 0 + 9)/4 = 3.5, unbiased 14/3.
        XCTAssertEqual(norm.runningMean.values[0], 0.3, accuracy: 1e-6)
        XCTAssertEqual(norm.runningVariance.values[0], 0.9 + 0.1 * 14 / 3, accuracy: 1e-6)
        XCTAssertEqual(norm.runningMean.values[1], -0.1, accuracy: 1e-6)
        XCTAssertEqual(norm.runningVariance.values[1], 0.9, accuracy: 1e-6)
        let expectedFirst: Double = 2 * (1 - 3) / (3.5 + 1e-5).squareRoot() + 0.5
        XCTAssertEqual(Double(ws.output[0]), expectedFirst, accuracy: 1e-5)
        try network.forward(ws, context: network.context(batch: 4, pool: .single, mode: .evaluation))
        let rm = Double(norm.runningMean.values[0]), rv = Double(norm.runningVariance.values[0])
        for j in 0..<4 {
            XCTAssertEqual(Double(ws.output[j]), 2 * (Double(x[j]) - rm) / (rv + 1e-5).squareRoot() + 0.5, accuracy: 1e-5)
        }
    }

    // MARK: Whole jobs

    func job(_ directory: String, _ name: String, _ extra: [String]) -> [String] {
        ["train", "--dataset", "synthetic", "--layer-sizes", "30,24,16,5", "--densities", "0.4,1,0.6",
         "--train-size", "103", "--test-size", "20", "--batch-size", "10", "--epochs", "2", "--seed", "3",
         "--threads", "1", "--optimizer", "nesterov:0.9", "--learning-rate", "0.05",
         "--layers", "ReLU;BatchNorm;ReLU;BatchNorm;Linear", "--dropouts", "0.2,0.1,0",
         "--save-weights", "\(directory)/\(name).npz"] + extra
    }


    /// Every array of the saved network (weights, biases, γ, β, running statistics) as floats.
    func saved(_ path: String) throws -> [String: [Float]] {
        var result: [String: [Float]] = [:]
        for (name, array) in try NPZArchive.read(path: path) {
            if let floats = try? array.floats() { result[name] = floats }
        }
        return result
    }

    func relativeDifference(_ a: [Float], _ b: [Float]) -> Float {
        guard a.count == b.count, !a.isEmpty else { return .infinity }
        let scale = max(a.map(abs).max() ?? 0, 1e-12)
        return zip(a, b).map { abs($0 - $1) }.max()! / scale
    }

    /// 1, 2, 3 and 4 ranks (with 4, one shard of the last batch of 3 is empty) against one
    /// process over an epoch of 11 steps: synchronised batch norm and rank-independent dropout
    /// give the same weights, γ, β and running statistics within 3e-5 (each rank's SDDMM sums its
    /// shard of 25–26 examples in vector lanes, then the ranks' sums are added: float rounding
    /// in another order, carried through 11 steps of batch norm; a wrong shard is off by ~1e-1).
    func testRanksFollowTheSingleProcessWithBatchNormAndDropout() throws {
        let dir = try TestFiles.makeDirectory(self)
        let single = try CommandLineTests.sprig(job(dir, "single", ["--epochs", "1"]))
        XCTAssertEqual(single.status, 0, single.errors)
        let reference = try saved("\(dir)/single.npz")
        for name in ["gamma1", "beta2", "bn1.mean", "bn2.var", "W1.data", "W2", "b3"] {
            XCTAssertNotNil(reference[name], "the .npz lacks \(name): \(reference.keys.sorted())")
        }
        XCTAssertNotEqual(reference["bn1.mean"], [Float](repeating: 0, count: 24), "running statistics were never updated")
        for ranks in [1, 2, 3, 4] {
            let result = try mpirun(ranks, job(dir, "p\(ranks)", ["--epochs", "1"]))
            XCTAssertEqual(result.status, 0, "\(ranks) ranks: \(result.errors)")
            let mine = try saved("\(dir)/p\(ranks).npz")
            for (name, values) in reference {
                let difference = relativeDifference(mine[name] ?? [], values)
                XCTAssertLessThanOrEqual(difference, 3e-5, "\(ranks) ranks: \(name) differs from one process by \(difference)")
            }
        }
        // Adam on every layer, and per-layer optimizers (a batch norm follows its linear layer's).
        for (name, optimizer) in [("adam", "adam:0.9,0.999,1e-8"), ("mixed", "sgd,adam,nesterov:0.9")] {
            let alone = try CommandLineTests.sprig(job(dir, "\(name)-1", ["--epochs", "1", "--optimizer", optimizer, "--learning-rate", "0.01"]))
            XCTAssertEqual(alone.status, 0, alone.errors)
            let result = try mpirun(3, job(dir, "\(name)-3", ["--epochs", "1", "--optimizer", optimizer, "--learning-rate", "0.01"]))
            XCTAssertEqual(result.status, 0, "\(name): \(result.errors)")
            let one = try saved("\(dir)/\(name)-1.npz"), three = try saved("\(dir)/\(name)-3.npz")
            XCTAssertNotEqual(one["W1.data"], reference["W1.data"], "\(name): the optimizer made no difference")
            for (array, values) in one {
                let difference = relativeDifference(three[array] ?? [], values)
                XCTAssertLessThanOrEqual(difference, 1e-5, "\(name), 3 ranks: \(array) differs from one process by \(difference)")
            }
        }
    }

    /// Stopped after 7 steps and resumed: bitwise the weights and running statistics of the
    /// run never stopped (dropout's masks follow from the step, batch norm's state is checkpointed).
    func testResumeWithBatchNormAndDropoutIsBitwiseEqual() throws {
        let dir = try TestFiles.makeDirectory(self)
        XCTAssertEqual(try CommandLineTests.sprig(job(dir, "straight", [])).status, 0)
        let checkpoints = ["--checkpoint-dir", "\(dir)/ck", "--checkpoint-every-steps", "7"]
        let stopped = try CommandLineTests.sprig(job(dir, "stopped", checkpoints + ["--max-steps", "7"]))
        XCTAssertEqual(stopped.status, 0, stopped.errors)
        let resumed = try CommandLineTests.sprig(job(dir, "resumed", checkpoints + ["--resume"]))
        XCTAssertEqual(resumed.status, 0, resumed.errors)
        let a = try saved("\(dir)/straight.npz"), b = try saved("\(dir)/resumed.npz")
        XCTAssertEqual(Set(a.keys), Set(b.keys))
        for (name, values) in a { XCTAssertEqual(b[name]?.map(\.bitPattern), values.map(\.bitPattern), name) }
    }

    /// Dynamic sparse training with batch norm and dropout between the linear layers: gradient
    /// regrow reads each linear layer's own input and ΔZ, and 2 ranks follow one process.
    func testTopologyChangesWithBatchNormAndDropout() throws {
        let dir = try TestFiles.makeDirectory(self)
        let rule = ["--epochs", "1", "--prune", "magnitude:0.3", "--grow", "gradient", "--regrow-every", "4"]
        let single = try CommandLineTests.sprig(job(dir, "single", rule))
        XCTAssertEqual(single.status, 0, single.errors)
        let result = try mpirun(2, job(dir, "two", rule))
        XCTAssertEqual(result.status, 0, result.errors)
        let static_ = try CommandLineTests.sprig(job(dir, "static", ["--epochs", "1"]))
        XCTAssertEqual(static_.status, 0, static_.errors)
        let one = try saved("\(dir)/single.npz"), two = try saved("\(dir)/two.npz"), fixed = try saved("\(dir)/static.npz")
        let indices = try NPZArchive.read(path: "\(dir)/single.npz")["W1.indices"]?.integers()
        let indicesTwo = try NPZArchive.read(path: "\(dir)/two.npz")["W1.indices"]?.integers()
        let indicesStatic = try NPZArchive.read(path: "\(dir)/static.npz")["W1.indices"]?.integers()
        XCTAssertEqual(indices, indicesTwo, "the patterns differ between 1 and 2 ranks")
        XCTAssertNotEqual(indices, indicesStatic, "the topology never changed")
        XCTAssertNotEqual(one["W1.data"], fixed["W1.data"])
        for (name, values) in one {
            let difference = relativeDifference(two[name] ?? [], values)
            XCTAssertLessThanOrEqual(difference, 1e-5, "2 ranks: \(name) differs from one process by \(difference)")
        }
    }

    /// Weights saved with batch norm (γ, β, running statistics) and SReLU load back exactly.
    func testBatchNormAndSReLUWeightsRoundTrip() throws {
        let dir = try TestFiles.makeDirectory(self)
        let layers = ["--layers", "SReLU;BatchNorm;ReLU;BatchNorm;Linear"]
        XCTAssertEqual(try CommandLineTests.sprig(job(dir, "trained", layers + ["--max-steps", "5"])).status, 0)
        let again = try CommandLineTests.sprig(job(dir, "again", layers + ["--load-weights", "\(dir)/trained.npz", "--max-steps", "0"]))
        XCTAssertEqual(again.status, 0, again.errors)
        let a = try saved("\(dir)/trained.npz"), b = try saved("\(dir)/again.npz")
        XCTAssertEqual(Set(a.keys), Set(b.keys))
        for (name, values) in a { XCTAssertEqual(b[name]?.map(\.bitPattern), values.map(\.bitPattern), name) }
        XCTAssertNotEqual(a["gamma1"], [Float](repeating: 1, count: 24), "γ never trained")
        XCTAssertNotEqual(a["srelu1.tr"], [Float](repeating: 1, count: 24), "SReLU's t_r never trained")
    }

    func testBadLayerListsGiveOneErrorLine() throws {
        let base = ["train", "--dataset", "synthetic", "--layer-sizes", "20,8,3", "--train-size", "50", "--test-size", "10",
                    "--epochs", "1", "--threads", "1"]
        let cases: [([String], [String])] = [
            (["--layers", "ReLU;Swish"], ["--layers", "unknown layer 'Swish'"]),
            (["--layers", "AllReLU(x);Linear"], ["--layers", "AllReLU(x)", "finite number"]),
            (["--layers", "ReLU(0.1);Linear"], ["--layers", "takes no parameter"]),
            (["--layers", "SReLU(1,2);Linear"], ["--layers", "four finite numbers"]),
            (["--layers", "BatchNorm;ReLU;Linear"], ["--layers", "BatchNorm comes first"]),
            (["--layers", "ReLU;ReLU;Linear"], ["--layers", "3 linear layers", "make 2"]),
            (["--layers", "ReLU;Linear", "--activation", "tanh"], ["--layers", "--activation"]),
            (["--dropouts", "0.2"], ["--dropouts", "1 rates", "2 linear layers"]),
            (["--dropouts", "0.2,1"], ["--dropouts", "rate 1.0"]),
            (["--dropouts", "0.2,nan"], ["--dropouts"]),
            (["--loss", "cross-entropy"], ["--loss", "Softmax"]),
            (["--loss", "negative-log-likelihood", "--layers", "ReLU;Softmax"], ["--loss", "LogSoftmax"]),
        ]
        for (flags, mentions) in cases {
            assertOneErrorLine(try CommandLineTests.sprig(base + flags), status: 64, mentions: mentions, context: "\(flags)")
        }
    }
}
