import XCTest
@testable import Sprig

final class ModelTests: XCTestCase {
    /// Nerva's logged densities for 3072-1024-512-10 at overall density 0.01.
    func testErdosRenyiMatchesNerva() throws {
        let d = try ErdosRenyi.densities(layerSizes: [3072, 1024, 512, 10], overall: 0.01)
        XCTAssertEqual(d[0], 0.0078, accuracy: 0.00005)
        XCTAssertEqual(d[1], 0.0175, accuracy: 0.00005)
        XCTAssertEqual(d[2], 0.61, accuracy: 0.005)
    }

    /// A layer that would exceed density 1 becomes dense and the rest is solved again,
    /// keeping the total number of nonzeros.
    func testErdosRenyiMakesSmallLayersDenseAndKeepsTheBudget() throws {
        let sizes = [784, 1024, 512, 10]
        let d = try ErdosRenyi.densities(layerSizes: sizes, overall: 0.2)
        XCTAssertEqual(d[2], 1)
        let shapes = zip(sizes.dropLast(), sizes.dropFirst()).map { Double($0 * $1) }
        let nnz = zip(d, shapes).map { $0 * $1 }.reduce(0, +)
        XCTAssertEqual(nnz, 0.2 * shapes.reduce(0, +), accuracy: 1e-6 * nnz)
        XCTAssertTrue(d.allSatisfy { $0 > 0 && $0 <= 1 })
        XCTAssertEqual(try ErdosRenyi.densities(layerSizes: sizes, overall: 1), [1, 1, 1])
        XCTAssertThrowsError(try ErdosRenyi.densities(layerSizes: sizes, overall: 0))
        XCTAssertThrowsError(try ErdosRenyi.densities(layerSizes: sizes, overall: 1.5))
    }

    /// Initialisers draw from their stated ranges and moments.
    func testInitializerRanges() {
        var g = RandomGenerator(seed: 1)
        var w = [Float](repeating: 0, count: 20000), b = [Float](repeating: 9, count: 100)
        w.withUnsafeMutableBufferPointer { wp in b.withUnsafeMutableBufferPointer { bp in
            Initializer.xavier.fill(weights: wp, bias: bp, fanIn: 400, fanOut: 100, generator: &g) } }
        XCTAssertLessThanOrEqual(w.map(abs).max()!, 0.05)
        XCTAssertGreaterThan(w.map(abs).max()!, 0.049)
        XCTAssertEqual(b, [Float](repeating: 0, count: 100))
        w.withUnsafeMutableBufferPointer { wp in b.withUnsafeMutableBufferPointer { bp in
            Initializer.he.fill(weights: wp, bias: bp, fanIn: 200, fanOut: 100, generator: &g) } }
        let variance = w.map { Double($0) * Double($0) }.reduce(0, +) / Double(w.count)
        XCTAssertEqual(variance, 2.0 / 200, accuracy: 0.0005)
        w.withUnsafeMutableBufferPointer { wp in b.withUnsafeMutableBufferPointer { bp in
            Initializer.xavierNormalized.fill(weights: wp, bias: bp, fanIn: 500, fanOut: 100, generator: &g) } }
        XCTAssertLessThanOrEqual(w.map(abs).max()!, 0.1)
        XCTAssertGreaterThan(w.map(abs).max()!, 0.099)
    }

    /// Threads split whole rows, so a sparse network gives bitwise the same weights with 1 or 2 threads.
    func testThreadCountDoesNotChangeSparseTraining() throws {
        let (data, _) = SyntheticDataset.make(featureCount: 50, classCount: 5, trainCount: 300, testCount: 10, seed: 3)
        func train(threads: Int) throws -> [Float] {
            let network = try Network(NetworkConfiguration(layerSizes: [50, 40, 30, 5], densities: [0.2, 0.3, 0.5], seed: 4))
            let trainer = try Trainer(network: network, configuration: TrainingConfiguration(epochs: 2, batchSize: 32),
                                      pool: ThreadPool(threads: threads))
            for e in 0..<2 { _ = try trainer.trainEpoch(e, data: data) }
            return network.parameters.values.array
        }
        let one = try train(threads: 1), two = try train(threads: 2)
        XCTAssertEqual(one, two)
        let initial = try Network(NetworkConfiguration(layerSizes: [50, 40, 30, 5], densities: [0.2, 0.3, 0.5], seed: 4))
        XCTAssertNotEqual(one, initial.parameters.values.array, "training changed nothing")
    }
}
