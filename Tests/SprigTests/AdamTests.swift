import Foundation
import XCTest
@testable import Sprig

/// Adam and AdamW (torch.optim.Adam / AdamW): exact first and second steps computed by hand,
/// their state buffers m and v through a topology change, per-layer optimizers, `--optimizer`
/// parsing, the command line and a checkpoint round trip.
final class AdamTests: XCTestCase {
    /// The gradients of the two steps: g1 = [0.5, 0.25], then g2 = [0.25, 0.5].
    let gradients: [[Float]] = [[0.5, 0.25], [0.25, 0.5]]

    /// Runs `steps` updates (η = 0.1, t = 1, 2, …) from w = [1, −2] with `gradients` and returns w.
    func run(_ kind: OptimizerKind, steps: Int, decay: Float = 0) -> [Float] {
        let store = ParameterStore(count: 2)
        store.values[0] = 1; store.values[1] = -2
        let optimizer = Optimizer(kind: kind, weightDecay: decay, parameters: store)
        for t in 1...steps {
            store.gradients[0] = gradients[t - 1][0]; store.gradients[1] = gradients[t - 1][1]
            optimizer.step(learningRate: 0.1, update: t, pool: .single)
        }
        return store.values.array
    }

    func assertEqual(_ w: [Float], _ expected: [Double], accuracy: Float = 2e-6, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(w.count, expected.count, file: file, line: line)
        for (a, b) in zip(w, expected) { XCTAssertEqual(a, Float(b), accuracy: accuracy, file: file, line: line) }
    }

    /// Expects `SprigError.invalidField(.optimizer, …)` whose text contains `mentions`.
    func assertInvalidOptimizer(_ body: @autoclosure () throws -> Void, mentions: [String], file: StaticString = #filePath, line: UInt = #line) {
        do {
            try body()
            XCTFail("expected an invalid training.optimizer", file: file, line: line)
        } catch SprigError.invalidField(let field, let reason) {
            XCTAssertEqual(field, .optimizer, file: file, line: line)
            for mention in mentions { XCTAssertTrue(reason.contains(mention), "\"\(reason)\" lacks \"\(mention)\"", file: file, line: line) }
        } catch {
            XCTFail("expected SprigError.invalidField, got \(error)", file: file, line: line)
        }
    }

    /// β1 = 0.9, β2 = 0.999, ε = 1e-8, η = 0.1.
    func testAdamFirstAndSecondStep() {
        // t = 1: m = 0.1·g1 = [0.05, 0.025], v = 0.001·g1² = [0.00025, 0.0000625];
        // m̂ = m/0.1 = g1, v̂ = v/0.001 = g1², so w ← w − 0.1·g1/(|g1| + 1e-8) = w − 0.1·sign(g1)
        // (up to 2e-9): [0.9, −2.1].
        assertEqual(run(.defaultAdam, steps: 1), [0.9, -2.1])
        // t = 2: 1−β1² = 0.19, 1−β2² = 0.001999.
        // w[0]: m = 0.9·0.05 + 0.1·0.25 = 0.07, v = 0.999·0.00025 + 0.001·0.0625 = 0.00031225;
        //       m̂ = 0.07/0.19 = 0.3684211, v̂ = 0.00031225/0.001999 = 0.1562031, √v̂ = 0.3952254;
        //       w = 0.9 − 0.1·0.3684211/0.3952254 = 0.9 − 0.0932180 = 0.8067820.
        // w[1]: m = 0.9·0.025 + 0.1·0.5 = 0.0725, v = 0.999·0.0000625 + 0.001·0.25 = 0.0003124375;
        //       m̂ = 0.0725/0.19 = 0.3815789, v̂ = 0.0003124375/0.001999 = 0.1562969, √v̂ = 0.3953441;
        //       w = −2.1 − 0.1·0.3815789/0.3953441 = −2.1 − 0.0965182 = −2.1965182.
        assertEqual(run(.defaultAdam, steps: 2), [0.8067820, -2.1965182])
    }

    /// The run's weight decay λ = 0.1 is added to Adam's gradient (PyTorch's Adam weight_decay).
    func testAdamWithWeightDecay() {
        // t = 1: g = [0.5 + 0.1·1, 0.25 + 0.1·(−2)] = [0.6, 0.05]: again w − 0.1·sign(g) = [0.9, −2.1];
        //        m = [0.06, 0.005], v = [0.00036, 0.0000025].
        assertEqual(run(.defaultAdam, steps: 1, decay: 0.1), [0.9, -2.1])
        // t = 2: g = [0.25 + 0.09, 0.5 − 0.21] = [0.34, 0.29].
        // w[0]: m = 0.054 + 0.034 = 0.088, v = 0.00035964 + 0.0001156 = 0.00047524;
        //       m̂ = 0.4631579, v̂ = 0.2377389, √v̂ = 0.4875848; w = 0.9 − 0.0949902 = 0.8050098.
        // w[1]: m = 0.0045 + 0.029 = 0.0335, v = 0.0000024975 + 0.0000841 = 0.0000865975;
        //       m̂ = 0.1763158, v̂ = 0.0433204, √v̂ = 0.2081356; w = −2.1 − 0.0847120 = −2.1847120.
        assertEqual(run(.defaultAdam, steps: 2, decay: 0.1), [0.8050098, -2.1847120])
    }

    /// AdamW(0.9, 0.999, 1e-8, wd = 0.1): w ← w·(1 − 0.1·0.1) = 0.99·w first, then Adam's step
    /// on ∇L alone (the same m, v and step as `testAdamFirstAndSecondStep`).
    func testAdamW() {
        let adamW = OptimizerKind.adamW(beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.1)
        // t = 1: [0.99, −1.98] − 0.1·sign(g1) = [0.89, −2.08].
        assertEqual(run(adamW, steps: 1), [0.89, -2.08])
        // t = 2: 0.99·[0.89, −2.08] = [0.8811, −2.0592]; minus [0.0932180, 0.0965182] = [0.7878820, −2.1557182].
        assertEqual(run(adamW, steps: 2), [0.7878820, -2.1557182])
        // The run's λ is not added to AdamW's gradient: its decay is its own.
        XCTAssertEqual(run(adamW, steps: 2, decay: 0.5), run(adamW, steps: 2))
        // wd = 0 is Adam.
        XCTAssertEqual(run(.adamW(beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0), steps: 2), run(.defaultAdam, steps: 2))
    }

    /// m and v live in the store; after a remap (a topology change, here one that grows the
    /// first group and so moves the second) stepping gives bitwise what stepping a store built
    /// directly in the new layout with the moved state gives.
    func testStateFollowsARemap() {
        func makeStore(_ counts: [Int]) -> ParameterStore {
            ParameterStore(groups: [ParameterGroup(layer: 0, name: "weights", count: counts[0]),
                                    ParameterGroup(layer: 0, name: "bias", count: counts[1])])
        }
        let store = makeStore([3, 1])
        let optimizer = Optimizer(kind: .defaultAdam, parameters: store)
        XCTAssertEqual(store.states.map(\.name), ["m", "v"])
        XCTAssertNil(optimizer.velocity)
        _ = store.values.buffer.update(fromContentsOf: [1, -2, 0.5, 3])
        _ = store.gradients.buffer.update(fromContentsOf: [0.5, 0.25, -1, 2])
        optimizer.step(learningRate: 0.1, update: 1, pool: .single)
        let m = optimizer.firstMoment!.array, v = optimizer.secondMoment!.array, w = store.values.array
        XCTAssertEqual(m, [0.5, 0.25, -1, 2].map { (1 - Float(0.9)) * $0 }, "m = (1−β1)·g")

        // New slots: [old 2, new (value 7), old 0, old 1]; the bias moves from offset 3 to 4.
        store.remap(store.groups[0], sourceSlot: [2, -1, 0, 1]) { _ in 7 }
        let secondGradients: [Float] = [0.3, -0.2, 0.1, 0.4, -0.5]
        _ = store.gradients.buffer.update(fromContentsOf: secondGradients)
        optimizer.step(learningRate: 0.1, update: 2, pool: .single)

        let direct = makeStore([4, 1])
        let directOptimizer = Optimizer(kind: .defaultAdam, parameters: direct)
        _ = direct.values.buffer.update(fromContentsOf: [w[2], 7, w[0], w[1], w[3]])
        _ = directOptimizer.firstMoment!.buffer.update(fromContentsOf: [m[2], 0, m[0], m[1], m[3]])
        _ = directOptimizer.secondMoment!.buffer.update(fromContentsOf: [v[2], 0, v[0], v[1], v[3]])
        _ = direct.gradients.buffer.update(fromContentsOf: secondGradients)
        directOptimizer.step(learningRate: 0.1, update: 2, pool: .single)

        XCTAssertEqual(store.values.array.map(\.bitPattern), direct.values.array.map(\.bitPattern))
        XCTAssertEqual(optimizer.firstMoment!.array.map(\.bitPattern), directOptimizer.firstMoment!.array.map(\.bitPattern))
        XCTAssertEqual(optimizer.secondMoment!.array.map(\.bitPattern), directOptimizer.secondMoment!.array.map(\.bitPattern))
    }

    /// Layer 1 (store layer 0) uses sgd, layer 2 Adam: each range follows its own rule.
    func testPerLayerOptimizers() {
        let store = ParameterStore(groups: [ParameterGroup(layer: 0, name: "weights", count: 2),
                                            ParameterGroup(layer: 1, name: "weights", count: 2)])
        let optimizer = Optimizer(layerKinds: [.sgd, .defaultAdam], parameters: store)
        XCTAssertEqual(store.states.map(\.name), ["m", "v"])
        _ = store.values.buffer.update(fromContentsOf: [1, -2, 1, -2])
        _ = store.gradients.buffer.update(fromContentsOf: [0.5, 0.25, 0.5, 0.25])
        optimizer.step(learningRate: 0.1, update: 1, pool: .single)
        // sgd: [1 − 0.05, −2 − 0.025]; Adam's first step: w − 0.1·sign(g).
        assertEqual(store.values.array, [0.95, -2.025, 0.9, -2.1])
        XCTAssertEqual(optimizer.firstMoment!.array, [0, 0, 0.5, 0.25].map { (1 - Float(0.9)) * $0 }, "sgd's layer keeps no moments")

        // Nesterov, then sgd: velocity only; the union of state names in the fixed order.
        XCTAssertEqual(OptimizerKind.stateNames(of: [.defaultAdam, .nesterov(0.9)]), ["velocity", "m", "v"])
        XCTAssertEqual(OptimizerKind.stateNames(of: [.sgd, .sgd]), [])
        let training = TrainingConfiguration(optimizer: .sgd, layerOptimizers: [.sgd, .defaultAdamW])
        XCTAssertEqual(training.optimizerStateNames, ["m", "v"])
        XCTAssertEqual(training.optimizerDescription, "sgd,adamw:0.9,0.999,1e-08,0.01")
        XCTAssertNoThrow(try training.checkOptimizers(layerCount: 2))
        assertInvalidOptimizer(try training.checkOptimizers(layerCount: 3), mentions: ["2 optimizers", "3 layers"])
    }

    func testParsing() throws {
        XCTAssertEqual(try OptimizerKind(parsing: "adam"), .adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8))
        XCTAssertEqual(try OptimizerKind(parsing: "adamw"), .adamW(beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01))
        XCTAssertEqual(try OptimizerKind(parsing: "Adam:0.8,0.99,1e-6"), .adam(beta1: 0.8, beta2: 0.99, epsilon: 1e-6))
        XCTAssertEqual(try OptimizerKind(parsing: "adamw:0,0.5,0.001,0"), .adamW(beta1: 0, beta2: 0.5, epsilon: 0.001, weightDecay: 0))
        for kind in [OptimizerKind.defaultAdam, .defaultAdamW, .adam(beta1: 0.5, beta2: 0.75, epsilon: 1e-3)] {
            XCTAssertEqual(try OptimizerKind(parsing: kind.description), kind, "\(kind) reads back")
        }
        XCTAssertEqual(OptimizerKind.specifications(in: "nesterov:0.9,adam:0.9,0.999,1e-8,sgd"),
                       ["nesterov:0.9", "adam:0.9,0.999,1e-8", "sgd"])
        XCTAssertEqual(OptimizerKind.specifications(in: "adamw:0.9,0.999,1e-8,0.01"), ["adamw:0.9,0.999,1e-8,0.01"])
        XCTAssertEqual(try OptimizerKind.parsingList("nesterov:0.9,adam:0.9,0.999,1e-8,sgd"),
                       [.nesterov(0.9), .defaultAdam, .sgd])
        XCTAssertEqual(try OptimizerKind.parsingList("adam,adamw"), [.defaultAdam, .defaultAdamW])
        for bad in ["adam:1.5,0.9,1e-8", "adam:0.9,0.999,0", "adamw:0.9,0.999,1e-8,-1", "adam:0.9", "adam:0.9,0.999,1e-8,0.1",
                    "adam:0.9,1,1e-8", "adam:0.9,0.999,inf", "adam:0.9,x,1e-8", "adamw:0.9,0.999,1e-8"] {
            assertSprigError(try OptimizerKind.parsingList(bad), kind: .invalidArgument, mentions: ["--optimizer"])
        }
        assertSprigError(try OptimizerKind(parsing: "adam:1.5,0.9,1e-8"), kind: .invalidArgument,
                         mentions: ["--optimizer 'adam:1.5,0.9,1e-8'", "B1 1.5"])
        assertSprigError(try OptimizerKind.parsingList("sgd,adamax"), kind: .invalidArgument, mentions: ["--optimizer 'adamax'"])
        // A decoded configuration is checked too.
        assertInvalidOptimizer(try TrainingConfiguration(optimizer: .adam(beta1: 1, beta2: 0.9, epsilon: 1e-8)).validate(),
                               mentions: ["B1 1.0"])
    }

    /// The real `sprig`: Adam trains; a per-layer list trains; a list of the wrong length is
    /// one `error:` line naming --optimizer.
    func testCommandLine() throws {
        let base = ["train", "--dataset", "synthetic", "--layer-sizes", "20,8,3", "--train-size", "50", "--test-size", "10",
                    "--epochs", "2", "--threads", "1", "--learning-rate", "0.01"]
        for optimizer in ["adam:0.9,0.999,1e-8", "sgd,adamw:0.9,0.999,1e-8,0.01"] {
            let result = try CommandLineTests.sprig(base + ["--optimizer", optimizer])
            XCTAssertEqual(result.status, 0, "\(optimizer): \(result.errors)")
        }
        let mismatch = try CommandLineTests.sprig(base + ["--optimizer", "sgd,adam:0.9,0.999,1e-8,nesterov:0.9"])
        assertOneErrorLine(mismatch, status: 64, mentions: ["--optimizer", "3 optimizers", "2 layers"])
    }

    func testCheckpointRoundTrip() throws {
        let configuration = NetworkConfiguration(layerSizes: [9, 7, 3], densities: [0.4, 1], seed: 8)
        let network = try Network(configuration)
        let count = network.parameters.count
        for training in [TrainingConfiguration(epochs: 3, batchSize: 5, optimizer: .defaultAdamW),
                         TrainingConfiguration(epochs: 3, batchSize: 5, optimizer: .nesterov(0.9),
                                               layerOptimizers: [.nesterov(0.9), .adam(beta1: 0.8, beta2: 0.99, epsilon: 1e-6)])] {
            let states = training.optimizerStateNames.enumerated().map { k, name in   // Adam's v, a second moment, is never negative
                Checkpoint.State(name: name, values: randomFloats(count, seed: UInt64(3 + k)).map { name == "v" ? abs($0) : $0 })
            }
            let checkpoint = Checkpoint(network: network.configuration, training: training, epoch: 1, step: 2,
                                        patterns: network.layers.map { ($0 as? SparseLinear)?.pattern },
                                        values: network.parameters.values.array, optimizerState: states)
            let decoded = try CheckpointFile.decode(try CheckpointFile.encode(checkpoint), path: "x")
            XCTAssertEqual(decoded, checkpoint)
            // A negative second moment is refused by name (it would make the first step NaN,
            // blamed on the learning rate).
            var negative = checkpoint
            negative.optimizerState[negative.optimizerState.firstIndex { $0.name == "v" }!].values[1] = -0.5
            assertSprigError(try CheckpointFile.decode(try CheckpointFile.encode(negative), path: "x"), kind: .format,
                             mentions: ["v[1]", "-0.5", "negative"])
            // The state list must be the optimizers' union, in its order.
            var reordered = checkpoint
            reordered.optimizerState.reverse()
            assertSprigError(try CheckpointFile.decode(try CheckpointFile.encode(reordered), path: "x"), kind: .format,
                             mentions: ["optimizer state"])
        }
        // A per-layer list whose length is not the network's is refused on reading.
        let wrong = TrainingConfiguration(epochs: 3, batchSize: 5, optimizer: .sgd, layerOptimizers: [.sgd])
        let checkpoint = Checkpoint(network: network.configuration, training: wrong, epoch: 1, step: 2,
                                    patterns: network.layers.map { ($0 as? SparseLinear)?.pattern },
                                    values: network.parameters.values.array, optimizerState: [])
        assertSprigError(try CheckpointFile.decode(try CheckpointFile.encode(checkpoint), path: "x"), kind: .format,
                         mentions: ["1 optimizers", "2 layers"])
    }
}
