import XCTest
@testable import Sprig

/// Exact values of single optimizer steps, computed by hand from the update rules.
final class OptimizerTests: XCTestCase {
    /// Runs `steps` updates from w = [1, -2], g = [0.5, 0.25] (g fixed) and returns w.
    func run(_ kind: OptimizerKind, steps: Int, eta: Float = 0.1, decay: Float = 0) -> [Float] {
        let arena = ParameterStore(count: 2)
        arena.values[0] = 1; arena.values[1] = -2
        let optimizer = Optimizer(kind: kind, weightDecay: decay, parameters: arena)
        for step in 1...steps {
            arena.gradients[0] = 0.5; arena.gradients[1] = 0.25
            optimizer.step(learningRate: eta, update: step, pool: .single)
        }
        return arena.values.array
    }

    func testSGD() {
        XCTAssertEqual(run(.sgd, steps: 1), [0.95, -2.025])
        // Weight decay 0.1: g = 0.5 + 0.1·1 = 0.6 and 0.25 − 0.2 = 0.05.
        let w = run(.sgd, steps: 1, decay: 0.1)
        XCTAssertEqual(w[0], 0.94, accuracy: 1e-7)
        XCTAssertEqual(w[1], -2.005, accuracy: 1e-7)
    }

    func testMomentum() {
        // v1 = −0.05, w1 = 0.95; v2 = 0.9·(−0.05) − 0.05 = −0.095, w2 = 0.855.
        XCTAssertEqual(run(.momentum(0.9), steps: 1)[0], 0.95, accuracy: 1e-7)
        XCTAssertEqual(run(.momentum(0.9), steps: 2)[0], 0.855, accuracy: 1e-6)
        XCTAssertEqual(run(.momentum(0.9), steps: 2)[1], -2 - 0.025 - 0.0475, accuracy: 1e-6)
    }

    func testNesterov() {
        // v1 = −0.05, w1 = 1 + 0.9·(−0.05) − 0.05 = 0.905;
        // v2 = −0.095, w2 = 0.905 + 0.9·(−0.095) − 0.05 = 0.7695.
        XCTAssertEqual(run(.nesterov(0.9), steps: 1)[0], 0.905, accuracy: 1e-6)
        XCTAssertEqual(run(.nesterov(0.9), steps: 2)[0], 0.7695, accuracy: 1e-6)
        // Keras' form w += −μ·v_prev + (1+μ)·v on the second coordinate.
        let v1: Float = -0.025, v2: Float = 0.9 * v1 - 0.025
        let w1: Float = -2 + (1 + 0.9) * v1, w2 = w1 - 0.9 * v1 + (1 + 0.9) * v2
        XCTAssertEqual(run(.nesterov(0.9), steps: 2)[1], w2, accuracy: 1e-6)
    }

    func testParsing() throws {
        XCTAssertEqual(try OptimizerKind(parsing: "nesterov:0.9"), .nesterov(0.9))
        XCTAssertEqual(try OptimizerKind(parsing: "momentum:0.5"), .momentum(0.5))
        XCTAssertEqual(try OptimizerKind(parsing: "SGD"), .sgd)
        for bad in ["adagrad", "nesterov", "momentum:1.5", "momentum:x", "sgd:0.1"] {
            XCTAssertThrowsError(try OptimizerKind(parsing: bad), bad)
        }
    }

    func testLearningRateSchedules() throws {
        func lr(_ text: String, _ epoch: Int, total: Int = 100) throws -> Double {
            try LearningRateSchedule(parsing: text).learningRate(initial: 0.1, epoch: epoch, totalEpochs: total)
        }
        XCTAssertEqual(try lr("constant", 50), 0.1)
        XCTAssertEqual(try lr("step:10:0.5", 9), 0.1, accuracy: 1e-12)
        XCTAssertEqual(try lr("step:10:0.5", 25), 0.025, accuracy: 1e-12)
        XCTAssertEqual(try lr("multistep:50,75:0.1", 49), 0.1, accuracy: 1e-12)
        XCTAssertEqual(try lr("multistep:50,75:0.1", 50), 0.01, accuracy: 1e-12)
        XCTAssertEqual(try lr("multistep:50,75:0.1", 80), 0.001, accuracy: 1e-12)
        XCTAssertEqual(try lr("exponential:0.9", 2), 0.081, accuracy: 1e-12)
        XCTAssertEqual(try lr("cosine", 0), 0.1, accuracy: 1e-12)
        XCTAssertEqual(try lr("cosine", 50), 0.05, accuracy: 1e-12)
        XCTAssertEqual(try lr("cosine:0.01", 100), 0.01, accuracy: 1e-12)
        for bad in ["warmup", "step:0:0.1", "multistep:75,50:0.1", "multistep::0.1", "exponential", "cosine:-1"] {
            XCTAssertThrowsError(try LearningRateSchedule(parsing: bad), bad)
        }
    }
}
