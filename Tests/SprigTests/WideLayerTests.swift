import XCTest
@testable import Sprig

/// Wide layers: the learning rate of a layer of large fan-in (`learningRateFanIn`), and a
/// network with 8192-wide layers and a dense output layer of fan-in 8192 under `mpirun`.
final class WideLayerTests: XCTestCase {
    var binary: String { CommandLineTests.binary }

    /// One SGD step with and without a fan-in limit of 10 on 40 → 30 (sparse, about 24 nonzeros
    /// per row) → 5 (dense, fan-in 30) → 5 (dense, fan-in 5): each parameter of a layer of mean
    /// fan-in n > 10 moves 10/n times as far as without the limit, the others as far.
    func testALayerBeyondTheFanInLimitTakesAProportionallySmallerStep() throws {
        let network = NetworkConfiguration(layerSizes: [40, 30, 5, 5], densities: [0.6, 1, 1], seed: 3)
        let (train, _) = try DatasetKind.synthetic.load(directory: nil, trainSize: 20, testSize: 0, layerSizes: network.layerSizes, seed: 3)
        func step(limit: Int?) throws -> (before: [Float], after: [Float], network: Network) {
            var training = TrainingConfiguration(epochs: 1, batchSize: 20, learningRate: 0.1, optimizer: .sgd)
            training.learningRateFanIn = limit
            let trainer = try Trainer(network: try Network(network), configuration: training, pool: .single)
            let before = trainer.network.parameters.values.array
            try trainer.step(train, indices: Array(0..<20)[...], learningRate: 0.1, update: 1)
            return (before, trainer.network.parameters.values.array, trainer.network)
        }
        let free = try step(limit: nil), limited = try step(limit: 10)
        XCTAssertEqual(free.before, limited.before)
        var scaled = 0
        for layer in free.network.linearLayers {
            let fanIn = Double(layer.weightCount) / Double(layer.outputSize)
            let expected = min(1, 10 / fanIn)
            if expected < 1 { scaled += 1 }
            for group in [layer.weights, layer.bias] {
                for i in group.range {
                    let full = Double(free.before[i] - free.after[i]), small = Double(limited.before[i] - limited.after[i])
                    XCTAssertEqual(small, expected * full, accuracy: 1e-7 + 1e-5 * abs(full), "fan-in \(fanIn), parameter \(i)")
                }
            }
        }
        XCTAssertEqual(scaled, 2, "two of the three layers are beyond the limit")
        XCTAssertNotEqual(free.before, free.after, "the step moved the parameters")
    }

    /// 32-8192-8192-10 with a dense output layer (fan-in 8192: learning rate × 4096/8192 by
    /// default), batches of 40 (1.3 MB of 8192-wide activations: the kernels' prefetching path):
    /// 2 ranks give the weights one process gives.
    func testAWideNetworkOnTwoRanksFollowsOneProcess() throws {
        let dir = try TestFiles.makeDirectory(self)
        func job(_ name: String) -> [String] {
            ["train", "--dataset", "synthetic", "--layer-sizes", "32,8192,8192,10", "--densities", "0.05,0.001,1",
             "--train-size", "200", "--test-size", "40", "--batch-size", "40", "--epochs", "1", "--seed", "2",
             "--threads", "1", "--save-weights", "\(dir)/\(name).npz"]
        }
        let single = try TestFiles.run([binary] + job("single"))
        XCTAssertEqual(single.status, 0, single.errors)
        let initial = try TestFiles.run([binary] + job("initial") + ["--max-steps", "0"])
        XCTAssertEqual(initial.status, 0, initial.errors)
        let two = try mpirun(2, job("two"))
        XCTAssertEqual(two.status, 0, two.errors)
        let configuration = NetworkConfiguration(layerSizes: [32, 8192, 8192, 10], densities: [1, 1, 1])
        func weights(_ name: String) throws -> [Float] {
            try WeightsFile.load(path: "\(dir)/\(name).npz", configuration: configuration).parameters.values.array
        }
        let reference = try weights("single")
        func difference(_ a: [Float]) -> Float {
            let scale = max(reference.map(abs).max() ?? 0, 1e-12)
            return zip(a, reference).map { abs($0 - $1) }.max()! / scale
        }
        XCTAssertLessThanOrEqual(difference(try weights("two")), 1e-5, "2 ranks differ from one process")
        XCTAssertGreaterThan(difference(try weights("initial")), 1e-3, "training did not move the weights")
    }
}
