import XCTest
@testable import Sprig

final class TrainingTests: XCTestCase {
    /// A short deterministic run on a Fashion-MNIST subset must beat a stated accuracy
    /// (chance is 10 %; this run measured 78.6 %, so 76 % leaves room for float summation order).
    func testFashionMNISTSubsetLearns() throws {
        let directory = DatasetKind.fashionMNISTDirectory
        try TestFiles.requireDirectory(directory, package: "dataset-fashion-mnist")
        var (train, test) = try MNISTLoader.load(directory: directory, name: "fashion-mnist")
        train = train.subset(12000)
        test = test.subset(2000)
        let normalization = Normalization.fit(train)
        normalization.apply(to: &train)
        normalization.apply(to: &test)
        let sizes = [784, 512, 256, 10]
        let network = try Network(NetworkConfiguration(layerSizes: sizes,
                                                       densities: try ErdosRenyi.densities(layerSizes: sizes, overall: 0.1), seed: 1))
        XCTAssertTrue(network.linearLayers[0] is SparseLinear)
        let trainer = try Trainer(network: network, configuration: TrainingConfiguration(epochs: 5, batchSize: 100, learningRate: 0.01,
                                                                                         optimizer: .nesterov(0.9), seed: 1),
                                  pool: ThreadPool(threads: 2))
        let before = try trainer.evaluate(test)
        for epoch in 0..<5 { _ = try trainer.trainEpoch(epoch, data: train) }
        let after = try trainer.evaluate(test)
        XCTAssertLessThan(before.accuracy, 0.25)
        XCTAssertGreaterThan(after.accuracy, 0.76, "test accuracy after 5 epochs on 12000 examples")
        XCTAssertLessThan(after.loss, before.loss)
    }

    /// Saving and loading weights restores patterns and values exactly (same outputs).
    func testWeightsRoundTrip() throws {
        let dir = try TestFiles.makeDirectory(self)
        let configuration = NetworkConfiguration(layerSizes: [12, 9, 7, 4], densities: [0.3, 1, 0.5], seed: 5)
        let network = try Network(configuration)
        try WeightsFile.save(network, path: dir + "/w.npz")
        let loaded = try WeightsFile.load(path: dir + "/w.npz", configuration: configuration)
        XCTAssertEqual(loaded.parameters.values.array, network.parameters.values.array)
        XCTAssertEqual(loaded.structureHash, network.structureHash)
        XCTAssertTrue(loaded.linearLayers[1] is DenseLinear)
    }

    /// A dense W from NumPy (Nerva / PyTorch-with-masks style): its zeros become the pattern,
    /// and the loaded network computes what NumPy computes.
    func testDenseNumPyWeightsBecomeSparseLayers() throws {
        let dir = try TestFiles.makeDirectory(self)
        let output = try TestFiles.python("""
            import numpy as np
            rng = np.random.default_rng(3)
            W1 = rng.standard_normal((6, 5)).astype(np.float32); W1[rng.random((6, 5)) < 0.6] = 0
            W2 = rng.standard_normal((3, 6)).astype(np.float32)
            b1 = rng.standard_normal(6).astype(np.float32); b2 = rng.standard_normal(3).astype(np.float32)
            np.savez('\(dir)/dense.npz', W1=W1, b1=b1, W2=W2, b2=b2)
            x = np.linspace(-1, 1, 5).astype(np.float64)
            y = W2.astype(np.float64) @ np.maximum(W1.astype(np.float64) @ x + b1, 0) + b2
            print(int((W1 != 0).sum()), *y)
            """)
        let fields = output.split(separator: " ").map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) }
        let nnz = Int(fields[0])!, expected = fields[1...].map { Double($0)! }
        let network = try WeightsFile.load(path: dir + "/dense.npz",
                                           configuration: NetworkConfiguration(layerSizes: [5, 6, 3], densities: [1, 1]))
        let first = try XCTUnwrap(network.linearLayers[0] as? SparseLinear)
        XCTAssertEqual(first.pattern.nonzeroCount, nnz)
        XCTAssertTrue(network.linearLayers[1] is DenseLinear)
        let ws = try Workspace(network: network, capacity: 1)
        for i in 0..<5 { ws.input[i] = Float(-1 + 0.5 * Double(i)) }
        try network.forward(ws, batch: 1, pool: .single)
        for c in 0..<3 { XCTAssertEqual(Double(ws.output[c]), expected[c], accuracy: 1e-4) }
    }
}
