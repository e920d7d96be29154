import Foundation
import XCTest
@testable import Sprig

/// Dynamic sparse training: topology steps in process against the dense reference, and whole
/// jobs under real `mpirun` against one process, resume, the cross-rank pattern check and bad flags.
final class DynamicSparsityTests: XCTestCase {
    var binary: String { CommandLineTests.binary }

    /// Network 12-10-8-4 (sparse, sparse, sparse) and its trainer on synthetic data.
    func smallRun(_ dynamic: DynamicSparsity) throws -> (Trainer, Dataset) {
        let configuration = NetworkConfiguration(layerSizes: [12, 10, 8, 4], densities: [0.4, 0.5, 0.6],
                                                 initializer: .xavierNormalized, seed: 5)
        let (train, _) = try DatasetKind.synthetic.load(directory: nil, trainSize: 60, testSize: 0, layerSizes: configuration.layerSizes, seed: 5)
        let training = TrainingConfiguration(epochs: 4, batchSize: 10, learningRate: 0.05, dynamicSparsity: dynamic)
        return (try Trainer(network: try Network(configuration), configuration: training, pool: ThreadPool(threads: 2)), train)
    }

    /// Positions (r·D + c) → entry of sparse layer l in `buffer` (the store's values by default,
    /// or a state buffer laid out like them).
    func entries(_ network: Network, layer l: Int, of buffer: FloatBuffer? = nil) -> [Int: Float] {
        let sparse = network.linearLayers[l] as! SparseLinear
        let source = (buffer ?? network.parameters.values).pointer + sparse.weights.offset
        var result: [Int: Float] = [:]
        for r in 0..<sparse.pattern.rows {
            for p in sparse.pattern.rowOffsets[r]..<sparse.pattern.rowOffsets[r + 1] {
                result[r * sparse.inputSize + Int(sparse.pattern.columnIndices[p])] = source[p]
            }
        }
        return result
    }

    /// The positions of sparse layer l that `rule` keeps at `fraction`.
    func survivingPositions(_ network: Network, layer l: Int, rule: PruneRule, fraction: Double) -> Set<Int> {
        let sparse = network.linearLayers[l] as! SparseLinear
        let kept = rule.survivors(of: UnsafeBufferPointer(network.values(of: sparse.weights)), fraction: fraction)
        var positions = Set<Int>()
        for r in 0..<sparse.pattern.rows {
            for p in sparse.pattern.rowOffsets[r]..<sparse.pattern.rowOffsets[r + 1] where kept[p] {
                positions.insert(r * sparse.inputSize + Int(sparse.pattern.columnIndices[p]))
            }
        }
        return positions
    }

    /// After each SET step: CSR invariants, nonzeros kept, survivors keep their value and
    /// velocity at their position, grown weights start at zero with zero velocity, the pattern
    /// really changed; and the kernels' gradients still match finite differences of the dense
    /// reference on the new patterns.
    func testTopologyStepsKeepTheInvariantsAndTheKernelsMatchTheDenseReference() throws {
        let dynamic = try DynamicSparsity(prune: .set(0.3), grow: .random)
        let (trainer, data) = try smallRun(dynamic)
        let network = trainer.network
        let updater = TopologyUpdater(settings: dynamic, communicator: SingleProcessCommunicator(),
                                      backend: trainer.backend, seed: 5)
        let velocity = try XCTUnwrap(network.parameters.state(named: "velocity"))
        for change in 1...4 {
            _ = try trainer.trainEpoch(change - 1, data: data)
            let before = (0..<3).map { entries(network, layer: $0) }
            let velocityBefore = (0..<3).map { entries(network, layer: $0, of: velocity) }
            let survivors = (0..<3).map { survivingPositions(network, layer: $0, rule: dynamic.prune, fraction: 0.3) }
            let grown = try updater.update(network, afterStep: change * 6, totalSteps: 100, workspace: trainer.workspace, shardSize: trainer.lastShardSize)
            XCTAssertGreaterThan(grown, 0)
            for l in 0..<3 {
                let sparse = network.linearLayers[l] as! SparseLinear
                let p = sparse.pattern
                XCTAssertNil(SparsityPattern.invariantViolation(rows: p.rows, columns: p.columns, rowOffsets: p.rowOffsets,
                                                               columnIndices: p.columnIndices), "change \(change), layer \(l + 1)")
                XCTAssertEqual(p.nonzeroCount, before[l].count, "nonzeros kept")
                XCTAssertEqual(sparse.weights.count, p.nonzeroCount)
                XCTAssertEqual(sparse.transpose.pattern, TransposePlan(of: p).pattern)
                let after = entries(network, layer: l)
                XCTAssertNotEqual(Set(after.keys), Set(before[l].keys), "change \(change), layer \(l + 1): the pattern did not change")
                XCTAssertTrue(survivors[l].isSubset(of: Set(after.keys)))
                XCTAssertLessThan(survivors[l].count, before[l].count, "SET pruned something")
                for r in 0..<p.rows {
                    for q in p.rowOffsets[r]..<p.rowOffsets[r + 1] {
                        let position = r * p.columns + Int(p.columnIndices[q])
                        if survivors[l].contains(position), let old = before[l][position] {
                            XCTAssertEqual(after[position], old, "a survivor keeps its value")
                            XCTAssertEqual(velocity[sparse.weights.offset + q], velocityBefore[l][position], "and its velocity")
                        } else {
                            XCTAssertEqual(after[position], 0, "grown weights (a just-pruned position too) start at zero (--grow-weights zero)")
                            XCTAssertEqual(velocity[sparse.weights.offset + q], 0, "with zero velocity")
                        }
                    }
                }
            }
            try GradientTests.assertGradientsMatchFiniteDifferences(network, loss: .softmaxCrossEntropy, seed: UInt64(change))
        }
    }

    /// RigL: the grown positions are exactly the empty positions (after pruning) with the
    /// largest |∂L/∂W| of the step's batch, where ∂L/∂W is the finite difference of the double
    /// dense reference at every position (W there is dense, zero off the pattern).
    func testGradientRegrowPicksTheLargestEmptyPositionsOfTheDenseGradient() throws {
        let dynamic = try DynamicSparsity(prune: .magnitude(0.25), grow: .gradient)
        let (trainer, _) = try smallRun(dynamic)
        let network = trainer.network
        let batch = 7
        let sizes = network.configuration.layerSizes
        let x = randomFloats(sizes[0] * batch, seed: 31)
        var g = RandomGenerator(seed: 32)
        let labels = (0..<batch).map { _ in Int32(g.below(sizes.last!)) }
        let ws = try Workspace(network: network, capacity: batch)
        ws.input.buffer.baseAddress!.update(from: x, count: x.count)
        try network.forward(ws, batch: batch, pool: .single)
        _ = LossKind.softmaxCrossEntropy.loss.evaluate(output: ws.output.pointer, labels: labels, classes: sizes.last!, batch: batch,
                                                       globalBatch: batch, gradient: ws.outputGradient.pointer)
        try network.backward(ws, batch: batch, pool: .single)
        let reference = DenseReference(network)
        let before = (0..<3).map { entries(network, layer: $0) }
        let survivors = (0..<3).map { survivingPositions(network, layer: $0, rule: dynamic.prune, fraction: 0.25) }
        let updater = TopologyUpdater(settings: dynamic, communicator: SingleProcessCommunicator(), backend: CPUBackend.host, seed: 5)
        try updater.update(network, afterStep: 1, totalSteps: 10, workspace: ws, shardSize: batch)
        let xd = x.map(Double.init), h = 1e-6
        for l in 0..<3 {
            let after = Set(entries(network, layer: l).keys)
            XCTAssertTrue(survivors[l].isSubset(of: after))
            let grown = after.subtracting(survivors[l])
            XCTAssertEqual(grown.count, before[l].count - survivors[l].count)
            // |∂L/∂W| at every empty position, by central differences of the reference.
            var scores: [(Double, Int)] = []
            for position in 0..<(sizes[l] * sizes[l + 1]) where !survivors[l].contains(position) {
                var plus = reference, minus = reference
                plus.weights[l][position] += h
                minus.weights[l][position] -= h
                let gradient = (plus.loss(.softmaxCrossEntropy, x: xd, labels: labels, batch: batch)
                                - minus.loss(.softmaxCrossEntropy, x: xd, labels: labels, batch: batch)) / (2 * h)
                scores.append((abs(gradient), position))
            }
            scores.sort { $0.0 > $1.0 }
            let expected = Set(scores.prefix(grown.count).map(\.1))
            // Where the k-th and (k+1)-th scores are too close for finite differences, either may be chosen.
            let boundary = grown.count < scores.count ? scores[grown.count].0 : -1
            let sure = Set(scores.prefix(grown.count).filter { $0.0 > boundary * (1 + 1e-3) + 1e-9 }.map(\.1))
            XCTAssertTrue(sure.isSubset(of: grown), "layer \(l + 1): grown \(grown.sorted()), expected \(expected.sorted())")
            XCTAssertGreaterThanOrEqual(sure.count, grown.count - 1, "layer \(l + 1): too many near-ties to judge")
        }
    }

    // MARK: Whole jobs

    /// The DistributedTests job (30-24-16-5, sparse-dense-sparse, 103 examples in batches of 10,
    /// 2 epochs = 22 steps) with a topology step every 5 steps.
    func job(_ directory: String, _ name: String, _ extra: [String]) -> [String] {
        ["train", "--dataset", "synthetic", "--layer-sizes", "30,24,16,5", "--densities", "0.4,1,0.6",
         "--train-size", "103", "--test-size", "20", "--batch-size", "10", "--epochs", "2", "--seed", "3",
         "--threads", "1", "--optimizer", "nesterov:0.9", "--learning-rate", "0.05", "--regrow-every", "5",
         "--save-weights", "\(directory)/\(name).npz", "--metrics", "\(directory)/\(name).jsonl"] + extra
    }


    /// The saved network: values and the sparse layers' patterns.
    func saved(_ path: String) throws -> (values: [Float], patterns: [SparsityPattern?]) {
        try savedNetwork(path, layerSizes: [30, 24, 16, 5])
    }


    /// 1, 2 and 3 ranks follow the one-process trajectory through four topology steps, for SET
    /// with random regrow and for gradient regrow: the same patterns and weights within 1e-5.
    /// The patterns differ from the static run's, and the metrics count what was regrown.
    func testRanksFollowTheSingleProcessThroughTopologyChanges() throws {
        let dir = try TestFiles.makeDirectory(self)
        let initial = try CommandLineTests.sprig(job(dir, "initial", ["--max-steps", "0"]).filter { $0 != "--regrow-every" && $0 != "5" })
        XCTAssertEqual(initial.status, 0, initial.errors)
        let start = try saved("\(dir)/initial.npz")
        for (name, rule) in [("set", ["--prune", "set:0.3", "--grow", "random"]),
                             ("rigl", ["--prune", "magnitude:0.3", "--grow", "gradient", "--regrow-schedule", "cosine"])] {
            let single = try CommandLineTests.sprig(job(dir, "\(name)-single", rule))
            XCTAssertEqual(single.status, 0, single.errors)
            let reference = try saved("\(dir)/\(name)-single.npz")
            XCTAssertNotEqual(reference.patterns[0], start.patterns[0], "\(name): the first layer's pattern never changed")
            XCTAssertNotEqual(reference.patterns[2], start.patterns[2], "\(name): the last layer's pattern never changed")
            XCTAssertEqual(reference.patterns[0]?.nonzeroCount, start.patterns[0]?.nonzeroCount)
            let metrics = try String(contentsOfFile: "\(dir)/\(name)-single.jsonl", encoding: .utf8).split(separator: "\n")
            let epochs = try metrics.map { try JSONDecoder().decode(EpochMetrics.self, from: Data($0.utf8)) }
            XCTAssertEqual(epochs.count, 2)
            XCTAssertGreaterThan(epochs[0].regrown, 0, "\(name): regrown in epoch 1")
            XCTAssertTrue(metrics[0].contains("\"topology_seconds\""))
            for ranks in 1...3 {
                let result = try mpirun(ranks, job(dir, "\(name)-p\(ranks)", rule))
                XCTAssertEqual(result.status, 0, "\(name), \(ranks) ranks: \(result.errors)")
                let mine = try saved("\(dir)/\(name)-p\(ranks).npz")
                XCTAssertEqual(mine.patterns, reference.patterns, "\(name), \(ranks) ranks: the patterns differ from one process's")
                let difference = relativeDifference(mine.values, reference.values)
                XCTAssertLessThanOrEqual(difference, 1e-5, "\(name), \(ranks) ranks differ from one process by \(difference)")
            }
        }
    }

    /// Ranks hold bitwise-identical values and optimizer state after every step, topology steps
    /// included (the replica check after each step), with SET and with gradient regrow.
    func testRanksStayBitwiseIdenticalThroughTopologyChanges() throws {
        let dir = try TestFiles.makeDirectory(self)
        for rule in [["--prune", "set:0.3"], ["--prune", "magnitude:0.3", "--grow", "gradient"]] {
            for ranks in [2, 3] {
                let result = try mpirun(ranks, job(dir, "replicas", rule + ["--check-replicas", "1", "--allreduce", "per-layer"]))
                XCTAssertEqual(result.status, 0, "\(rule), \(ranks) ranks: \(result.errors)")
                XCTAssertTrue(result.output.contains("replicas: all \(ranks) ranks held bitwise-identical values and optimizer state at all 22 checks"),
                              result.output)
            }
        }
    }

    /// A run stopped by --max-steps after topology changes and resumed from its checkpoint ends
    /// bitwise equal to the run never stopped (values and patterns), on 1 process and on 2 ranks.
    func testResumeAfterTopologyChangesIsBitwiseEqual() throws {
        let dir = try TestFiles.makeDirectory(self)
        let rule = ["--prune", "set:0.3", "--grow", "gradient", "--grow-weights", "xavier"]
        for ranks in [1, 2] {
            func run(_ name: String, _ extra: [String]) throws {
                let arguments = job(dir, "\(name)-\(ranks)", rule + extra)
                let result = ranks == 1 ? try CommandLineTests.sprig(arguments) : try mpirun(ranks, arguments)
                XCTAssertEqual(result.status, 0, "\(name), \(ranks) ranks: \(result.errors)")
            }
            try run("straight", [])
            let checkpoints = "\(dir)/ck-\(ranks)"
            try run("stopped", ["--checkpoint-dir", checkpoints, "--checkpoint-every-steps", "7", "--max-steps", "14"])
            try run("resumed", ["--checkpoint-dir", checkpoints, "--checkpoint-every-steps", "7", "--resume"])
            let straight = try saved("\(dir)/straight-\(ranks).npz"), resumed = try saved("\(dir)/resumed-\(ranks).npz")
            XCTAssertEqual(resumed.patterns, straight.patterns, "\(ranks) ranks: patterns after resume")
            XCTAssertEqual(resumed.values.map(\.bitPattern), straight.values.map(\.bitPattern), "\(ranks) ranks: values after resume")
            let stopped = try saved("\(dir)/stopped-\(ranks).npz")
            XCTAssertNotEqual(stopped.patterns, straight.patterns, "the comparison means something only if the topology moved on after the stop")
        }
    }

    /// A rank whose random choices differ (test-only variable) is caught by the pattern check at
    /// the first topology step: one error line naming the rank, exit 1, no weights written.
    func testRanksWhosePatternsDifferStopTheJob() throws {
        let dir = try TestFiles.makeDirectory(self)
        let result = try mpirun(2, job(dir, "diverged", ["--prune", "set:0.3"]), environment: ["\(TopologyUpdater.perturbVariable)=1"], timeout: 60)
        XCTAssertEqual(result.status, 1, result.errors)
        let errors = result.errors.split(separator: "\n").filter { $0.hasPrefix("error:") }
        XCTAssertEqual(errors.count, 1, result.errors)
        XCTAssertTrue(errors.first?.hasPrefix("error: rank 1's sparsity patterns differ from rank 0's after the topology step at step 5") ?? false,
                      result.errors)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(dir)/diverged.npz"))
    }

    func testBadDynamicSparsityFlagsGiveOneErrorLine() throws {
        let base = ["train", "--dataset", "synthetic", "--layer-sizes", "20,8,3", "--densities", "0.5,0.5", "--train-size", "50",
                    "--test-size", "10", "--epochs", "1", "--threads", "1"]
        let cases: [([String], [String])] = [
            (["--prune", "set:1.5"], ["--prune", "set:1.5"]),
            (["--prune", "magnitude:0"], ["--prune", "magnitude:0"]),
            (["--prune", "set:nan"], ["--prune", "not a finite number"]),
            (["--prune", "threshold:-1"], ["--prune", "threshold:-1"]),
            (["--prune", "biggest:0.3"], ["--prune", "biggest"]),
            (["--prune", "set"], ["--prune", "set"]),
            (["--grow", "random"], ["--grow needs --prune"]),
            (["--regrow-every", "10"], ["--regrow-every needs --prune"]),
            (["--prune", "set:0.3", "--grow", "sideways"], ["--grow", "sideways"]),
            (["--prune", "set:0.3", "--grow-weights", "huge"], ["--grow-weights", "huge"]),
            (["--prune", "set:0.3", "--regrow-every", "0"], ["--regrow-every 0"]),
            (["--prune", "set:0.3", "--regrow-until", "1.5"], ["--regrow-until 1.5"]),
            (["--prune", "set:0.3", "--regrow-until", "nan"], ["--regrow-until"]),
            (["--prune", "set:0.3", "--regrow-schedule", "linear"], ["--regrow-schedule", "linear"]),
            (["--prune", "set:0.3", "--densities", "1,1"], ["--prune", "every layer is dense"]),
        ]
        for (flags, mentions) in cases {
            let result = try CommandLineTests.sprig(base + flags)
            assertOneErrorLine(result, status: 64, mentions: mentions, context: "\(flags)")
        }
    }
}
