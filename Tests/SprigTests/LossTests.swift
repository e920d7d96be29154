import Foundation
import XCTest
@testable import Sprig

/// The per-example losses (logistic cross-entropy, negative log-likelihood, plain cross-entropy)
/// against an independent double-precision reference and its central finite differences.
final class LossTests: XCTestCase {

    // MARK: Independent double reference (ℓ for one example column y, label)

    static func referenceLoss(_ kind: LossKind, _ y: [Double], _ label: Int) -> Double {
        switch kind {
        case .logisticCrossEntropy:
            // Nerva: −Σ_c t_c log σ(y_c), with log σ(v) = −log(1 + e^{−v}) written directly.
            let v = y[label]
            return v >= 0 ? Foundation.log(1 + Foundation.exp(-v)) : -v + Foundation.log(1 + Foundation.exp(v))
        case .negativeLogLikelihood:
            return -y[label]
        case .crossEntropy:
            return -Foundation.log(max(y[label], Double(Float.leastNormalMagnitude)))
        case .softmaxCrossEntropy:
            let m = y.max()!
            return Foundation.log(y.map { Foundation.exp($0 - m) }.reduce(0, +)) + m - y[label]
        case .squaredError:
            return y.indices.map { c in 0.5 * (y[c] - (c == label ? 1 : 0)) * (y[c] - (c == label ? 1 : 0)) }.reduce(0, +)
        }
    }

    static func referenceGradient(_ kind: LossKind, _ y: [Double], _ label: Int) -> [Double] {
        var g = [Double](repeating: 0, count: y.count)
        switch kind {
        case .logisticCrossEntropy: g[label] = 1 / (1 + Foundation.exp(-y[label])) - 1
        case .negativeLogLikelihood: g[label] = -1
        case .crossEntropy: g[label] = -1 / y[label]
        default: fatalError("not used")
        }
        return g
    }

    /// Runs the library loss (float) on a C×B feature-major output.
    static func evaluate(_ kind: LossKind, _ y: [Float], labels: [Int32], classes: Int, batch: Int,
                         globalBatch: Int) -> (loss: Double, gradient: [Float]) {
        var dy = [Float](repeating: .nan, count: classes * batch)   // every entry must be written
        let loss = y.withUnsafeBufferPointer { yp in
            labels.withUnsafeBufferPointer { lp in
                dy.withUnsafeMutableBufferPointer { dp in
                    kind.loss.evaluate(output: yp.baseAddress!, labels: lp.baseAddress!, classes: classes, batch: batch,
                                       globalBatch: globalBatch, gradient: dp.baseAddress!)
                }
            }
        }
        return (loss, dy)
    }

    static func column(_ y: [Float], _ j: Int, classes: Int, batch: Int) -> [Double] {
        (0..<classes).map { Double(y[$0 * batch + j]) }
    }

    /// Random outputs suited to each loss: logits, log-probabilities, or probabilities.
    static func randomOutput(_ kind: LossKind, classes: Int, batch: Int, seed: UInt64) -> [Float] {
        var g = RandomGenerator(seed: seed)
        var y = [Float](repeating: 0, count: classes * batch)
        for j in 0..<batch {
            let logits = (0..<classes).map { _ in Double(g.uniform(-3, 3)) }
            let m = logits.max()!
            let s = logits.map { Foundation.exp($0 - m) }.reduce(0, +)
            for c in 0..<classes {
                switch kind {
                case .crossEntropy: y[c * batch + j] = Float(Foundation.exp(logits[c] - m) / s)
                case .negativeLogLikelihood: y[c * batch + j] = Float(logits[c] - m - Foundation.log(s))
                default: y[c * batch + j] = Float(logits[c])
                }
            }
        }
        return y
    }

    // MARK: Values and gradients

    func checkAgainstReference(_ kind: LossKind, file: StaticString = #filePath, line: UInt = #line) {
        for (classes, batch, globalBatch) in [(3, 1, 1), (4, 5, 5), (10, 7, 20), (6, 16, 64), (2, 3, 11)] {
            let seed = UInt64(classes * 100 + batch)
            let y = Self.randomOutput(kind, classes: classes, batch: batch, seed: seed)
            var g = RandomGenerator(seed: seed + 1)
            let labels = (0..<batch).map { _ in Int32(g.below(classes)) }
            let (loss, dy) = Self.evaluate(kind, y, labels: labels, classes: classes, batch: batch, globalBatch: globalBatch)

            var expected = 0.0
            let h = 1e-6
            for j in 0..<batch {
                let column = Self.column(y, j, classes: classes, batch: batch)
                let label = Int(labels[j])
                expected += Self.referenceLoss(kind, column, label)
                let analytic = Self.referenceGradient(kind, column, label)
                for c in 0..<classes {
                    var plus = column, minus = column
                    plus[c] += h
                    minus[c] -= h
                    let numeric = (Self.referenceLoss(kind, plus, label) - Self.referenceLoss(kind, minus, label)) / (2 * h)
                    // The reference's analytic gradient agrees with its finite differences...
                    XCTAssertLessThan(relativeDifference(analytic[c], numeric), 1e-5,
                                      "\(kind) reference ∂ℓ/∂y[\(c),\(j)]", file: file, line: line)
                    // ...and the library's (divided by the global batch) with both.
                    let library = Double(dy[c * batch + j]) * Double(globalBatch)
                    XCTAssertLessThan(relativeDifference(library, numeric), 1e-4,
                                      "\(kind) ∂L/∂y[\(c),\(j)] B=\(batch) global=\(globalBatch)", file: file, line: line)
                    XCTAssertLessThan(relativeDifference(library, analytic[c]), 1e-5, file: file, line: line)
                    if c != label { XCTAssertEqual(dy[c * batch + j], 0, file: file, line: line) }
                }
            }
            XCTAssertLessThan(relativeDifference(loss, expected), 1e-5, "\(kind) Σℓ B=\(batch)", file: file, line: line)
        }
    }

    func testLogisticCrossEntropyMatchesReference() { checkAgainstReference(.logisticCrossEntropy) }
    func testNegativeLogLikelihoodMatchesReference() { checkAgainstReference(.negativeLogLikelihood) }
    func testCrossEntropyMatchesReference() { checkAgainstReference(.crossEntropy) }

    /// Shards of a data-parallel batch, each divided by the global batch, sum to the whole batch's loss and gradient.
    func testShardsSumToTheGlobalBatch() {
        for kind in [LossKind.logisticCrossEntropy, .negativeLogLikelihood, .crossEntropy] {
            let classes = 5, batch = 12
            let y = Self.randomOutput(kind, classes: classes, batch: batch, seed: 42)
            let labels = (0..<batch).map { Int32($0 % classes) }
            let whole = Self.evaluate(kind, y, labels: labels, classes: classes, batch: batch, globalBatch: batch)
            var shardLoss = 0.0
            for (start, count) in [(0, 5), (5, 7)] {
                let shard = (0..<classes * count).map { i in y[(i / count) * batch + start + i % count] }
                let part = Self.evaluate(kind, shard, labels: Array(labels[start..<start + count]), classes: classes,
                                         batch: count, globalBatch: batch)
                shardLoss += part.loss
                for c in 0..<classes {
                    for j in 0..<count {
                        XCTAssertEqual(part.gradient[c * count + j], whole.gradient[c * batch + start + j], accuracy: 1e-7)
                    }
                }
            }
            XCTAssertEqual(shardLoss, whole.loss, accuracy: 1e-9 * max(1, abs(whole.loss)))
        }
    }

    // MARK: Stability

    func testLogisticCrossEntropyIsStableForLargeLogits() {
        let classes = 3, batch = 4
        // Columns: label logit huge positive, huge negative, ±Float.greatestFiniteMagnitude.
        let y: [Float] = [1e4, -1e4, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
                          -1e4, 1e4, -3e38, 3e38,
                          80, -80, 0, 1]
        let labels: [Int32] = [0, 0, 0, 0]
        let (loss, dy) = Self.evaluate(.logisticCrossEntropy, y, labels: labels, classes: classes, batch: batch, globalBatch: batch)
        XCTAssertTrue(loss.isFinite)
        XCTAssertTrue(dy.allSatisfy(\.isFinite))
        // ℓ = softplus(−v): ≈ 0 for v = 1e4, ≈ 1e4 for v = −1e4.
        let expected = 0 + 1e4 + 0 + Double(Float.greatestFiniteMagnitude)
        XCTAssertEqual(loss, expected, accuracy: 1e-6 * expected)
        XCTAssertEqual(dy[0], 0, accuracy: 1e-12)              // σ(1e4) − 1 → 0
        XCTAssertEqual(dy[1], -1 / Float(batch), accuracy: 1e-7) // σ(−1e4) − 1 → −1
        XCTAssertEqual(dy[2], 0, accuracy: 1e-12)
        XCTAssertEqual(dy[3], -1 / Float(batch), accuracy: 1e-7)
    }

    func testCrossEntropyWithZeroProbabilityStaysFinite() {
        let classes = 3, batch = 3
        // Label probabilities 0, −0 and a tiny negative (from rounding upstream) in the three columns.
        let y: [Float] = [0, -0.0, -1e-30,
                          0.5, 0.5, 0.5,
                          0.5, 0.5, 0.5]
        let labels: [Int32] = [0, 0, 0]
        let (loss, dy) = Self.evaluate(.crossEntropy, y, labels: labels, classes: classes, batch: batch, globalBatch: batch)
        let clamped = -Foundation.log(Double(Float.leastNormalMagnitude))   // ≈ 87.34
        XCTAssertTrue(loss.isFinite)
        XCTAssertEqual(loss, 3 * clamped, accuracy: 1e-4)
        XCTAssertTrue(dy.allSatisfy(\.isFinite))
        for j in 0..<batch {
            XCTAssertEqual(dy[j], -(1 / Float.leastNormalMagnitude) / 3, accuracy: 1e31)
            XCTAssertEqual(dy[batch + j], 0)
            XCTAssertEqual(dy[2 * batch + j], 0)
        }
    }

    // MARK: Cross-check

    /// Log-softmax (computed here) followed by negative-log-likelihood equals softmax-cross-entropy on the logits.
    func testNegativeLogLikelihoodOfLogSoftmaxEqualsSoftmaxCrossEntropy() {
        for (classes, batch) in [(10, 8), (3, 1), (7, 13)] {
            let logits = randomFloats(classes * batch, seed: UInt64(classes + batch)).map { $0 * 6 }
            var g = RandomGenerator(seed: 9)
            let labels = (0..<batch).map { _ in Int32(g.below(classes)) }
            var logProbabilities = [Float](repeating: 0, count: classes * batch)
            for j in 0..<batch {
                let column = Self.column(logits, j, classes: classes, batch: batch)
                let m = column.max()!
                let lse = m + Foundation.log(column.map { Foundation.exp($0 - m) }.reduce(0, +))
                for c in 0..<classes { logProbabilities[c * batch + j] = Float(column[c] - lse) }
            }
            let nll = Self.evaluate(.negativeLogLikelihood, logProbabilities, labels: labels, classes: classes,
                                    batch: batch, globalBatch: 2 * batch)
            let softmax = Self.evaluate(.softmaxCrossEntropy, logits, labels: labels, classes: classes,
                                        batch: batch, globalBatch: 2 * batch)
            XCTAssertEqual(nll.loss, softmax.loss, accuracy: 1e-5 * max(1, abs(softmax.loss)))

            // Chain rule through the log-softmax: ∂L/∂z = J_logsoftmaxᵀ · ∂L/∂(log p) gives softmax − onehot.
            for j in 0..<batch {
                var sum = 0.0
                for c in 0..<classes { sum += Double(nll.gradient[c * batch + j]) }
                for c in 0..<classes {
                    let p = Foundation.exp(Double(logProbabilities[c * batch + j]))
                    let chained = Double(nll.gradient[c * batch + j]) - p * sum
                    XCTAssertEqual(chained, Double(softmax.gradient[c * batch + j]), accuracy: 1e-6)
                }
            }
        }
    }

    // MARK: Parsing

    func testParsingEveryName() throws {
        let names: [(String, LossKind)] = [
            ("softmax-cross-entropy", .softmaxCrossEntropy), ("softmax_cross_entropy", .softmaxCrossEntropy),
            ("SoftmaxCrossEntropy", .softmaxCrossEntropy), ("ce", .softmaxCrossEntropy), ("softmax", .softmaxCrossEntropy),
            ("squared-error", .squaredError), ("SquaredError", .squaredError), ("mse", .squaredError), ("se", .squaredError),
            ("logistic-cross-entropy", .logisticCrossEntropy), ("LogisticCrossEntropy", .logisticCrossEntropy),
            ("logistic_cross_entropy", .logisticCrossEntropy),
            ("negative-log-likelihood", .negativeLogLikelihood), ("NegativeLogLikelihood", .negativeLogLikelihood),
            ("nll", .negativeLogLikelihood),
            ("cross-entropy", .crossEntropy), ("CrossEntropy", .crossEntropy), ("CROSS_ENTROPY", .crossEntropy),
        ]
        for (name, kind) in names { XCTAssertEqual(try LossKind(parsing: name), kind, name) }
        for kind in LossKind.allCases { XCTAssertEqual(try LossKind(parsing: kind.rawValue), kind) }
        XCTAssertEqual(LossKind.allCases.count, 5)

        XCTAssertThrowsError(try LossKind(parsing: "hinge")) { error in
            XCTAssertTrue("\(error)".contains("hinge"), "\(error)")
        }
        XCTAssertThrowsError(try LossKind(parsing: ""))
    }

    func testExpectedOutputKinds() {
        for kind in LossKind.allCases {
            XCTAssertEqual(kind.expectsProbabilities, kind == .crossEntropy, "\(kind)")
            XCTAssertEqual(kind.expectsLogProbabilities, kind == .negativeLogLikelihood, "\(kind)")
        }
    }
}
