import Foundation
import XCTest
@testable import Sprig

/// Structured sparsity (FSSL): the group lasso's proximal step against a direct dense
/// computation, neuron removal against the unshrunk network with the neuron zeroed (forward
/// and gradients), the removal rules, and whole jobs under real `mpirun`, resumed across a
/// shrink, with the compact weights file and bad flags.
final class StructuredSparsityTests: XCTestCase {
    /// Linear layer l of `network` as a dense K×D matrix (Double) read from `buffer` (the
    /// store's values by default; its gradients or a state buffer are laid out alike).
    func dense(_ network: Network, layer l: Int, of buffer: FloatBuffer? = nil) -> [[Double]] {
        let layer = network.linearLayers[l]
        let source = (buffer ?? network.parameters.values).pointer + layer.weights.offset
        var matrix = [[Double]](repeating: [Double](repeating: 0, count: layer.inputSize), count: layer.outputSize)
        if let pattern = layer.sparsity {
            for r in 0..<pattern.rows {
                for p in pattern.rowOffsets[r]..<pattern.rowOffsets[r + 1] { matrix[r][Int(pattern.columnIndices[p])] = Double(source[p]) }
            }
        } else {
            for r in 0..<layer.outputSize { for c in 0..<layer.inputSize { matrix[r][c] = Double(source[r * layer.inputSize + c]) } }
        }
        return matrix
    }

    /// Sets entry (r, c) of linear layer l (which must hold it) to `value`.
    func set(_ network: Network, layer l: Int, row r: Int, column c: Int, to value: Float) {
        let layer = network.linearLayers[l]
        let w = network.values(of: layer.weights)
        if let pattern = layer.sparsity {
            for p in pattern.rowOffsets[r]..<pattern.rowOffsets[r + 1] where Int(pattern.columnIndices[p]) == c { w[p] = value }
        } else {
            w[r * layer.inputSize + c] = value
        }
    }

    /// Zeroes every outgoing weight of neuron i of hidden layer h (column i of W_{h+1}).
    func zeroOutgoing(_ network: Network, hidden h: Int, neuron i: Int) {
        for r in 0..<network.linearLayers[h + 1].outputSize { set(network, layer: h + 1, row: r, column: i, to: 0) }
    }

    // MARK: The proximal step

    /// One proximal step equals the direct computation on dense matrices: per hidden neuron the
    /// norm of its row of W_l and column of W_{l+1}, per input feature its column of W_1, each
    /// entry scaled by max(0, 1 − t/‖g‖) of the groups it lies in. A small group becomes exactly zero.
    func testProximalStepMatchesTheDirectComputation() throws {
        let configuration = NetworkConfiguration(layerSizes: [6, 5, 4, 3], densities: [0.6, 1, 0.7], initializer: .xavierNormalized, seed: 4)
        let network = try Network(configuration)
        // Neuron 0 of hidden layer 0 gets a small group: it must be thresholded to zero.
        for c in 0..<6 { set(network, layer: 0, row: 0, column: c, to: Float(dense(network, layer: 0)[0][c]) * 0.01) }
        for r in 0..<4 { set(network, layer: 1, row: r, column: 0, to: Float(dense(network, layer: 1)[r][0]) * 0.01) }
        let before = (0..<3).map { dense(network, layer: $0) }
        let t = 0.05, tInput = 0.03

        func factor(_ squares: Double, _ t: Double) -> Double { squares.squareRoot() > t ? 1 - t / squares.squareRoot() : 0 }
        let hiddenSizes = [5, 4]
        let hidden = (0..<2).map { h in
            (0..<hiddenSizes[h]).map { i in
                let incoming = before[h][i].reduce(0) { $0 + $1 * $1 }
                let outgoing = before[h + 1].reduce(0) { $0 + $1[i] * $1[i] }
                return factor(incoming + outgoing, t)
            }
        }
        let inputs = (0..<6).map { c in factor(before[0].reduce(0) { $0 + $1[c] * $1[c] }, tInput) }
        XCTAssertEqual(hidden[0][0], 0, "the test needs a group below the threshold")
        XCTAssertTrue(hidden[0].dropFirst().allSatisfy { $0 > 0 && $0 < 1 }, "and groups that shrink without vanishing")

        GroupLasso.proximalStep(network, threshold: t, inputThreshold: tInput)

        for l in 0..<3 {
            let after = dense(network, layer: l)
            for r in before[l].indices {
                for c in before[l][r].indices {
                    let rowFactor = l < 2 ? hidden[l][r] : 1
                    let columnFactor = l == 0 ? inputs[c] : hidden[l - 1][c]
                    let expected = before[l][r][c] * rowFactor * columnFactor
                    XCTAssertEqual(after[r][c], expected, accuracy: 1e-6 * max(1, abs(before[l][r][c])), "W\(l + 1)[\(r), \(c)]")
                }
            }
        }
        XCTAssertTrue(dense(network, layer: 0)[0].allSatisfy { $0 == 0 }, "the small group's incoming weights are exactly zero")
        XCTAssertTrue(dense(network, layer: 1).allSatisfy { $0[0] == 0 }, "and its outgoing weights")
    }

    // MARK: Removing neurons

    /// A network with batch norm and SReLU between its linear layers (sparse, dense, sparse).
    func layeredNetwork() throws -> Network {
        let configuration = NetworkConfiguration(
            layerSizes: [7, 6, 5, 3], densities: [0.7, 1, 0.8], initializer: .xavierNormalized, seed: 9,
            layers: [.linear(.relu), .batchNorm, .linear(.tanh), .srelu(al: 0.1, tl: -0.2, ar: 0.3, tr: 0.8), .linear(.identity)])
        let network = try Network(configuration)
        var g = RandomGenerator(seed: 9, stream: 77)
        for k in 0..<network.parameters.count where network.parameters.values[k] == 1 || network.parameters.values[k] == 0 {
            network.parameters.values[k] = Float(g.nextUnitDouble() * 0.5 + 0.75)   // γ, β and SReLU parameters away from their defaults
        }
        let velocity = network.parameters.addState(named: "velocity")
        for k in 0..<velocity.count { velocity[k] = Float(k % 97) * 0.01 + 0.5 }
        return network
    }

    /// Removing neurons whose outgoing weights are zero gives the same outputs as the unshrunk
    /// network, and the same gradients for every surviving parameter; values, optimizer state
    /// and batch norm's running statistics follow their neurons.
    func testRemovingZeroedNeuronsKeepsOutputsAndGradients() throws {
        let network = try layeredNetwork()
        zeroOutgoing(network, hidden: 0, neuron: 2)
        zeroOutgoing(network, hidden: 1, neuron: 1)
        let norm = network.layers[1] as! BatchNorm
        for k in 0..<6 { norm.runningMean.values[k] = Float(k) * 0.1; norm.runningVariance.values[k] = 1 + Float(k) * 0.2 }
        let kept = [[0, 1, 3, 4, 5], [0, 2, 3, 4]]
        let compact = NetworkShrinker.shrink(network, keeping: kept)
        XCTAssertEqual(compact.configuration.layerSizes, [7, 5, 4, 3])
        XCTAssertEqual(compact.configuration.compaction?.kept, kept.map { $0.map(Int32.init) })
        XCTAssertEqual(compact.configuration.compaction?.originalLayerSizes, [7, 6, 5, 3])

        let b = 5, pool = ThreadPool(threads: 2)
        var g = RandomGenerator(seed: 1, stream: 3)
        let x = (0..<(7 * b)).map { _ in Float(g.nextUnitDouble() * 2 - 1) }
        let dy = (0..<(3 * b)).map { _ in Float(g.nextUnitDouble() * 2 - 1) }
        var outputs: [[Float]] = []
        for net in [network, compact] {
            let ws = try Workspace(network: net, capacity: b)
            _ = UnsafeMutableBufferPointer(start: ws.input.pointer, count: 7 * b).update(fromContentsOf: x)
            try net.forward(ws, batch: b, pool: pool)
            outputs.append(ws.output.array)
            _ = UnsafeMutableBufferPointer(start: ws.outputGradient.pointer, count: 3 * b).update(fromContentsOf: dy)
            try net.backward(ws, batch: b, pool: pool)
        }
        for (a, c) in zip(outputs[0], outputs[1]) { XCTAssertEqual(a, c, accuracy: 1e-5, "outputs") }

        // Every group: linear weights as dense matrices restricted to the kept rows and columns,
        // every other group by its kept units; values, gradients and velocity alike.
        let units = [Array(0..<7), kept[0], kept[1], Array(0..<3)]
        let buffers: [(String, (Network) -> FloatBuffer)] = [("values", { $0.parameters.values }), ("gradients", { $0.parameters.gradients }),
                                                            ("velocity", { $0.parameters.state(named: "velocity")! })]
        for (name, buffer) in buffers {
            for l in 0..<3 {
                let full = dense(network, layer: l, of: buffer(network)), small = dense(compact, layer: l, of: buffer(compact))
                for (i, r) in units[l + 1].enumerated() {
                    for (j, c) in units[l].enumerated() {
                        XCTAssertEqual(small[i][j], full[r][c], accuracy: 1e-5 * max(1, abs(full[r][c])), "\(name) of W\(l + 1)[\(r), \(c)]")
                    }
                }
            }
            var linear = 0
            for (old, new) in zip(network.layers, compact.layers) {
                if old is any LinearLayer { linear += 1 }
                let skip = (old as? any LinearLayer)?.weights
                for (o, n) in zip(old.parameterGroups, new.parameterGroups) where o !== skip {
                    for (i, u) in units[linear].enumerated() {
                        XCTAssertEqual(buffer(compact)[n.offset + i], buffer(network)[o.offset + u], accuracy: 1e-5,
                                       "\(name) of \(o.name) of layer \(o.layer), unit \(u)")
                    }
                }
            }
        }
        let compactNorm = compact.layers[1] as! BatchNorm
        XCTAssertEqual(compactNorm.runningMean.values.array, kept[0].map { norm.runningMean.values[$0] })
        XCTAssertEqual(compactNorm.runningVariance.values.array, kept[0].map { norm.runningVariance.values[$0] })
    }

    /// The removal rules: neurons without outgoing weights go, then importance pruning removes
    /// the least important until ⌊F·K⌋ are gone (those already gone count), by Σ|in| + Σ|out|
    /// computed here from the dense matrices; and a second shrink composes the kept indices.
    func testRemovalRulesAndImportancePruning() throws {
        let configuration = NetworkConfiguration(layerSizes: [12, 10, 8, 4], densities: [0.5, 0.5, 0.6], initializer: .xavierNormalized, seed: 5)
        let network = try Network(configuration)
        zeroOutgoing(network, hidden: 0, neuron: 4)
        let structure = try StructuredSparsity(pruneNeurons: .importance(0.3))
        let trainer = try Trainer(network: network, configuration: TrainingConfiguration(structuredSparsity: structure), pool: ThreadPool(threads: 1))
        let matrices = (0..<3).map { dense(network, layer: $0) }
        func expectedKept(hidden h: Int, removing target: Int, alreadyGone: Set<Int>) -> [Int] {
            let size = matrices[h].count
            let importance = (0..<size).map { i in
                matrices[h][i].reduce(0) { $0 + abs($1) } + matrices[h + 1].reduce(0) { $0 + abs($1[i]) }
            }
            let ranked = (0..<size).filter { !alreadyGone.contains($0) }.sorted { (importance[$0], $0) < (importance[$1], $1) }
            let gone = alreadyGone.union(ranked.prefix(target - alreadyGone.count))
            return (0..<size).filter { !gone.contains($0) }
        }
        let expected = [expectedKept(hidden: 0, removing: 3, alreadyGone: [4]), expectedKept(hidden: 1, removing: 2, alreadyGone: [])]
        XCTAssertFalse(expected[0].contains(4))

        let removal = NeuronRemoval(settings: structure, communicator: SingleProcessCommunicator())
        XCTAssertEqual(try removal.shrink(trainer, epoch: 0), 5)
        XCTAssertEqual(trainer.network.configuration.layerSizes, [12, 7, 6, 4])
        XCTAssertEqual(trainer.network.configuration.compaction?.kept, expected.map { $0.map(Int32.init) })

        // A second shrink: ⌊0.3·7⌋ = 2 and ⌊0.3·6⌋ = 1 more; the record keeps original indices.
        try removal.shrink(trainer, epoch: 1)
        XCTAssertEqual(trainer.network.configuration.layerSizes, [12, 5, 5, 4])
        let kept = try XCTUnwrap(trainer.network.configuration.compaction?.kept)
        XCTAssertTrue(Set(kept[0]).isSubset(of: Set(expected[0].map(Int32.init))))
        XCTAssertTrue(Set(kept[1]).isSubset(of: Set(expected[1].map(Int32.init))))
        XCTAssertEqual(trainer.optimizer.parameters === trainer.network.parameters, true, "the optimizer follows the new store")
    }

    /// A hidden layer whose every neuron has no outgoing weight keeps one neuron: never an empty layer.
    func testALayerKeepsAtLeastOneNeuron() throws {
        let network = try Network(NetworkConfiguration(layerSizes: [6, 5, 3], densities: [1, 1], seed: 2))
        for i in 0..<5 { zeroOutgoing(network, hidden: 0, neuron: i) }
        let structure = try StructuredSparsity(groupLasso: 0.1)
        let trainer = try Trainer(network: network, configuration: TrainingConfiguration(structuredSparsity: structure), pool: ThreadPool(threads: 1))
        try NeuronRemoval(settings: structure, communicator: SingleProcessCommunicator()).shrink(trainer, epoch: 0)
        XCTAssertEqual(trainer.network.configuration.layerSizes, [6, 1, 3])
    }

    /// With an input group lasso, an input feature whose column of W_1 is all zero loses its
    /// slots (the input size stays) and batch assembly stops reading it; the outputs do not change.
    func testZeroInputFeaturesAreDroppedFromTheFirstLayer() throws {
        let network = try Network(NetworkConfiguration(layerSizes: [6, 5, 3], densities: [0.8, 1], initializer: .xavierNormalized, seed: 6))
        for r in 0..<5 { set(network, layer: 0, row: r, column: 2, to: 0) }
        XCTAssertTrue(network.linearLayers[0].sparsity!.columnIndices.contains(2), "the test needs slots in column 2")
        let structure = try StructuredSparsity(inputGroupLasso: 0.1)
        let trainer = try Trainer(network: network, configuration: TrainingConfiguration(structuredSparsity: structure), pool: ThreadPool(threads: 1))
        XCTAssertEqual(try NeuronRemoval(settings: structure, communicator: SingleProcessCommunicator()).shrink(trainer, epoch: 0), 0)
        let compact = trainer.network
        XCTAssertEqual(compact.configuration.layerSizes, [6, 5, 3])
        XCTAssertFalse(compact.linearLayers[0].sparsity!.columnIndices.contains(2))
        XCTAssertEqual(BatchAssembler(for: compact).used?.contains(2), false)
        XCTAssertEqual(dense(compact, layer: 0), dense(network, layer: 0))
        XCTAssertEqual(dense(compact, layer: 1), dense(network, layer: 1))
    }

    // MARK: Whole jobs

    /// The DistributedTests job (30-24-16-5, sparse-dense-sparse, 103 examples in batches of 10,
    /// 2 epochs = 22 steps) with a group lasso and importance pruning, shrinking after each epoch.
    func job(_ directory: String, _ name: String, _ extra: [String] = []) -> [String] {
        ["train", "--dataset", "synthetic", "--layer-sizes", "30,24,16,5", "--densities", "0.4,1,0.6",
         "--train-size", "103", "--test-size", "20", "--batch-size", "10", "--epochs", "2", "--seed", "3",
         "--threads", "1", "--optimizer", "nesterov:0.9", "--learning-rate", "0.05",
         "--group-lasso", "0.4", "--group-lasso-inputs", "0.2", "--prune-neurons", "importance:0.25",
         "--save-weights", "\(directory)/\(name).npz", "--metrics", "\(directory)/\(name).jsonl"] + extra
    }


    func floats(_ array: NPYArray?) -> [Float] {
        if case .float32(let values)? = array?.elements { return values }
        return []
    }

    /// The job's weights file, its compact shapes and `kept{k}` arrays, and its metrics.
    func checkCompactRun(_ directory: String, _ name: String) throws -> [String: NPYArray] {
        let arrays = try NPZArchive.read(path: "\(directory)/\(name).npz")
        let metrics = try String(contentsOfFile: "\(directory)/\(name).jsonl", encoding: .utf8).split(separator: "\n")
            .map { try JSONDecoder().decode(EpochMetrics.self, from: Data($0.utf8)) }
        let sizes = try XCTUnwrap(metrics.last?.layerSizes)
        XCTAssertEqual(sizes.first, 30)
        XCTAssertLessThanOrEqual(sizes[1], 14, "two shrinks of a quarter each: 24 → 18 → 14")
        XCTAssertTrue(sizes[1] < 14 || sizes[2] < 9, "the group lasso removed neurons beyond importance pruning: \(sizes)")
        XCTAssertGreaterThan(sizes[2], 1, "the network did not collapse")
        XCTAssertEqual(metrics.map { $0.neuronsRemoved ?? 0 }.reduce(0, +), 24 + 16 - sizes[1] - sizes[2])
        for (k, size) in [(1, sizes[1]), (2, sizes[2])] {
            guard case .int32(let kept)? = arrays["kept\(k)"]?.elements else { XCTFail("kept\(k) missing"); continue }
            XCTAssertEqual(kept.count, size)
            XCTAssertEqual(kept, kept.sorted())
        }
        XCTAssertEqual(arrays["W1.shape"]?.elements, .int64([Int64(sizes[1]), 30]))
        XCTAssertEqual(arrays["W2"]?.shape, [sizes[2], sizes[1]])
        XCTAssertEqual(arrays["W3.shape"]?.elements, .int64([5, Int64(sizes[2])]))
        XCTAssertEqual(metrics.last?.nonzeros?[1], sizes[1] * sizes[2])
        return arrays
    }

    /// 1, 2 and 3 ranks shrink exactly as one process does (the same kept neurons) and end
    /// with the same weights within 1e-5; and all ranks stay bitwise identical (replica check).
    func testRanksFollowTheSingleProcessThroughShrinking() throws {
        let dir = try TestFiles.makeDirectory(self)
        let single = try CommandLineTests.sprig(job(dir, "single"))
        XCTAssertEqual(single.status, 0, single.errors)
        XCTAssertTrue(single.output.contains("structured sparsity: 30-24-16-5 → 30-"), single.output)
        let reference = try checkCompactRun(dir, "single")
        for ranks in 1...3 {
            let result = try mpirun(ranks, job(dir, "p\(ranks)", ["--check-replicas", "1"]))
            XCTAssertEqual(result.status, 0, "\(ranks) ranks: \(result.errors)")
            let mine = try checkCompactRun(dir, "p\(ranks)")
            for name in ["kept1", "kept2", "W1.indices", "W1.indptr", "W3.indices", "W3.indptr"] {
                XCTAssertEqual(mine[name], reference[name], "\(ranks) ranks: \(name)")
            }
            for name in ["W1.data", "W2", "W3.data", "b1", "b2", "b3"] {
                let a = floats(mine[name]), b = floats(reference[name])
                XCTAssertEqual(a.count, b.count, name)
                let scale = max(b.map(abs).max() ?? 0, 1e-12)
                let difference = zip(a, b).map { abs($0 - $1) }.max() ?? 0
                XCTAssertLessThanOrEqual(difference / scale, 1e-5, "\(ranks) ranks: \(name)")
            }
            if ranks > 1 {
                XCTAssertTrue(result.output.contains("replicas: all \(ranks) ranks held bitwise-identical values"), result.output)
            }
        }
    }

    /// Runs stopped before and after the first shrink and resumed from their checkpoints end
    /// bitwise equal to the run never stopped.
    func testResumeAcrossAShrinkIsBitwiseEqual() throws {
        let dir = try TestFiles.makeDirectory(self)
        let straight = try CommandLineTests.sprig(job(dir, "straight"))
        XCTAssertEqual(straight.status, 0, straight.errors)
        let reference = try NPZArchive.read(path: "\(dir)/straight.npz")
        for (every, stop) in [(5, 10), (7, 14)] {   // the last checkpoint before the shrink at step 11, and after it
            let checkpoints = "\(dir)/ck-\(stop)"
            let stopped = try CommandLineTests.sprig(job(dir, "stopped-\(stop)", ["--checkpoint-dir", checkpoints,
                                                                                  "--checkpoint-every-steps", "\(every)", "--max-steps", "\(stop)"]))
            XCTAssertEqual(stopped.status, 0, stopped.errors)
            let resumed = try CommandLineTests.sprig(job(dir, "resumed-\(stop)", ["--checkpoint-dir", checkpoints,
                                                                                  "--checkpoint-every-steps", "\(every)", "--resume"]))
            XCTAssertEqual(resumed.status, 0, resumed.errors)
            let arrays = try NPZArchive.read(path: "\(dir)/resumed-\(stop).npz")
            XCTAssertEqual(Set(arrays.keys), Set(reference.keys))
            for (name, array) in reference {
                XCTAssertEqual(arrays[name]?.shape, array.shape, "\(name) after resuming from step \(stop)")
                XCTAssertEqual(floats(arrays[name]).map(\.bitPattern), floats(array).map(\.bitPattern), "\(name) after resuming from step \(stop)")
                if case .int32 = array.elements { XCTAssertEqual(arrays[name], array, name) }
            }
        }
    }

    /// The compact weights load back with the compact sizes, and a resumed run may name the
    /// original sizes (those it was created with).
    func testCompactWeightsLoadWithTheCompactSizes() throws {
        let dir = try TestFiles.makeDirectory(self)
        let run = try CommandLineTests.sprig(job(dir, "first"))
        XCTAssertEqual(run.status, 0, run.errors)
        let arrays = try NPZArchive.read(path: "\(dir)/first.npz")
        let k1 = arrays["kept1"]!.count, k2 = arrays["kept2"]!.count
        let network = try WeightsFile.load(path: "\(dir)/first.npz",
                                           configuration: NetworkConfiguration(layerSizes: [30, k1, k2, 5], densities: [1, 1, 1]))
        XCTAssertEqual(network.values(of: network.linearLayers[1].weights).count, k1 * k2)
        XCTAssertEqual(Array(network.values(of: network.linearLayers[0].bias)), floats(arrays["b1"]))
    }

    func testBadStructuredSparsityFlagsGiveOneErrorLine() throws {
        let base = ["train", "--dataset", "synthetic", "--layer-sizes", "20,8,3", "--densities", "0.5,0.5", "--train-size", "50",
                    "--test-size", "10", "--epochs", "1", "--threads", "1"]
        let cases: [([String], [String])] = [
            (["--group-lasso", "-1"], ["--group-lasso", "-1"]),
            (["--group-lasso", "nan"], ["--group-lasso"]),
            (["--group-lasso", "inf"], ["--group-lasso"]),
            (["--group-lasso-inputs", "-0.5"], ["--group-lasso-inputs"]),
            (["--prune-neurons", "importance:1.5"], ["--prune-neurons", "1.5"]),
            (["--prune-neurons", "importance:0"], ["--prune-neurons"]),
            (["--prune-neurons", "importance:nan"], ["--prune-neurons"]),
            (["--prune-neurons", "largest:0.3"], ["--prune-neurons", "largest"]),
            (["--prune-neurons", "importance"], ["--prune-neurons"]),
            (["--shrink-every", "2"], ["--shrink-every needs"]),
            (["--shrink-until", "0.5"], ["--shrink-until needs"]),
            (["--group-lasso", "0.1", "--shrink-every", "0"], ["--shrink-every", "0"]),
            (["--group-lasso", "0.1", "--shrink-until", "1.5"], ["--shrink-until", "1.5"]),
            (["--group-lasso", "0.1", "--shrink-until", "0"], ["--shrink-until"]),
            (["--group-lasso", "0.1", "--shrink-threshold", "-1"], ["--shrink-threshold"]),
        ]
        for (flags, mentions) in cases {
            let result = try CommandLineTests.sprig(base + flags)
            assertOneErrorLine(result, status: 64, mentions: mentions, context: "\(flags)")
        }
    }
}
