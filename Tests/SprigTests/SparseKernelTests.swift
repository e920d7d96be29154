import XCTest
@testable import Sprig

/// The CSR kernels against dense double-precision products on random shapes and densities,
/// including empty rows, 1×1 matrices, density 1 and batch 1.
final class SparseKernelTests: XCTestCase {
    /// (K, D, density, B) cases.
    let cases: [(Int, Int, Double, Int)] = [
        (1, 1, 1, 1), (1, 1, 1, 7), (7, 5, 0.3, 1), (13, 17, 0.1, 33), (64, 48, 0.05, 100),
        (40, 30, 1, 17), (25, 9, 0.0, 4), (100, 3, 0.02, 16), (3, 200, 0.5, 35), (50, 50, 0.01, 64),
        // Batches around the C kernels' tiles (64, 48, 32, 16 columns, then 4, then single
        // columns), a gathered matrix beyond L2 (3000×100 floats: the prefetching path) and
        // rows of Wᵀ longer than the transposed product's staging array (4096 values).
        (20, 30, 0.3, 129), (9, 11, 0.5, 48), (5, 70, 0.2, 15), (12, 8, 0.9, 65), (6, 40, 0.6, 3), (4, 3000, 0.1, 100),
        (5000, 3, 0.9, 20), (7, 20, 0.4, 120), (6, 25, 0.5, 273),
    ]

    func makePattern(_ k: Int, _ d: Int, _ density: Double, seed: UInt64) -> SparsityPattern {
        var g = RandomGenerator(seed: seed)
        return SparsityPattern.random(rows: k, columns: d, density: density, generator: &g)
    }

    func dense(_ p: SparsityPattern, _ values: [Float]) -> [Double] {
        var w = [Double](repeating: 0, count: p.rows * p.columns)
        for r in 0..<p.rows { for q in p.rowOffsets[r]..<p.rowOffsets[r + 1] { w[r * p.columns + Int(p.columnIndices[q])] = Double(values[q]) } }
        return w
    }

    func testRandomPatternHasRequestedCountAndValidStructure() throws {
        for (k, d, density, _) in cases {
            let p = makePattern(k, d, density, seed: 3)
            XCTAssertEqual(p.nonzeroCount, Int((density * Double(k * d)).rounded()), "\(k)×\(d) at \(density)")
            XCTAssertNil(SparsityPattern.invariantViolation(rows: k, columns: d, rowOffsets: p.rowOffsets, columnIndices: p.columnIndices))
        }
        // The complement branch (density > 0.5) and a seed change.
        let a = makePattern(30, 40, 0.8, seed: 1), b = makePattern(30, 40, 0.8, seed: 2)
        XCTAssertEqual(a.nonzeroCount, 960)
        XCTAssertNotEqual(a, b)
    }

    func testInvariantCheckRejectsBrokenPatterns() {
        func violation(_ rows: Int, _ cols: Int, _ offsets: [Int], _ indices: [Int32]) -> String? {
            SparsityPattern.invariantViolation(rows: rows, columns: cols, rowOffsets: offsets, columnIndices: indices)
        }
        XCTAssertNil(violation(2, 3, [0, 2, 3], [0, 2, 1]))
        XCTAssertNotNil(violation(2, 3, [0, 2, 1], [0, 2, 1]))      // offsets not monotone
        XCTAssertNotNil(violation(2, 3, [0, 2, 3], [0, 3, 1]))      // column out of range
        XCTAssertNotNil(violation(2, 3, [0, 2, 3], [2, 0, 1]))      // unsorted
        XCTAssertNotNil(violation(2, 3, [0, 2, 3], [1, 1, 1]))      // duplicate
        XCTAssertNotNil(violation(2, 3, [0, 2], [0, 2]))            // wrong offsets length
        XCTAssertNotNil(violation(2, 3, [0, 2, 4], [0, 2, 1]))      // last offset ≠ nnz
        XCTAssertThrowsError(try SparsityPattern(rows: 1, columns: 2, rowOffsets: [0, 1], columnIndices: [-1]))
    }

    func testForwardMatchesDenseProductWithBiasAndActivation() {
        for (n, (k, d, density, b)) in cases.enumerated() {
            let p = makePattern(k, d, density, seed: UInt64(n))
            let values = randomFloats(p.nonzeroCount, seed: 10 + UInt64(n))
            let bias = randomFloats(k, seed: 20 + UInt64(n))
            let x = randomFloats(d * b, seed: 30 + UInt64(n))
            let w = dense(p, values)
            for activation in [Activation.identity, .relu, .tanh, .leakyReLU(0.2)] {
                // Row parts (every element must be written: NaN otherwise).
                for parts in [1, 3, 2] {
                    var z = [Float](repeating: .nan, count: k * b), y = [Float](repeating: .nan, count: k * b)
                    let partition = RowPartition(p, parts: parts)
                    for part in 0..<partition.parts {
                        SparseKernels.forward(pattern: p, values: values, bias: bias, input: x, preActivation: &z, output: &y,
                                              batch: b, activation: activation, rows: partition.rows(ofPart: part))
                    }
                    for o in 0..<k { for j in 0..<b {
                        var s = Double(bias[o])
                        for i in 0..<d { s += w[o * d + i] * Double(x[i * b + j]) }
                        XCTAssertEqual(Double(z[o * b + j]), s, accuracy: 1e-5 * (1 + abs(s)), "Z \(k)×\(d)×\(b)")
                        XCTAssertEqual(Double(y[o * b + j]), DenseReference.f(activation, s), accuracy: 1e-5 * (1 + abs(s)))
                    } }
                }
            }
        }
    }

    /// The ReLU and identity epilogues of the C kernel give Swift's `Activation.apply` bit for bit,
    /// NaN and −0 included (ReLU: +0 for both).
    func testTheFusedEpiloguesAgreeWithTheActivationsBitForBit() throws {
        let p = try SparsityPattern(rows: 1, columns: 1, rowOffsets: [0, 1], columnIndices: [0])
        let x: [Float] = [.nan, -0.0, 0, -1, 2, .infinity, -.infinity, 1e-40] + (0..<60).map { Float($0) - 30 }
        let b = x.count
        for activation in [Activation.identity, .relu] {
            var z = [Float](repeating: 7, count: b), y = [Float](repeating: 7, count: b)
            SparseKernels.forward(pattern: p, values: [1], bias: [0], input: x, preActivation: &z, output: &y,
                                  batch: b, activation: activation, rows: 0..<1)
            for j in 0..<b {
                let expected = activation.apply(x[j] * 1 + 0)
                XCTAssertEqual(y[j].bitPattern, expected.bitPattern, "\(activation)(\(x[j])): \(y[j]) vs \(expected)")
            }
        }
    }

    func testTransposedProductMatchesDense() {
        for (n, (k, d, density, b)) in cases.enumerated() {
            let p = makePattern(k, d, density, seed: UInt64(n))
            let plan = TransposePlan(of: p)
            XCTAssertNil(SparsityPattern.invariantViolation(rows: d, columns: k, rowOffsets: plan.pattern.rowOffsets,
                                                             columnIndices: plan.pattern.columnIndices))
            let values = randomFloats(p.nonzeroCount, seed: 40 + UInt64(n))
            let dz = randomFloats(k * b, seed: 50 + UInt64(n))
            let w = dense(p, values)
            var dx = [Float](repeating: .nan, count: d * b)
            let partition = RowPartition(plan.pattern, parts: 2)
            for part in 0..<partition.parts {
                SparseKernels.multiplyTransposed(plan: plan, values: values, gradient: dz, into: &dx, batch: b,
                                                 rows: partition.rows(ofPart: part))
            }
            for i in 0..<d { for j in 0..<b {
                var s = 0.0
                for o in 0..<k { s += w[o * d + i] * Double(dz[o * b + j]) }
                XCTAssertEqual(Double(dx[i * b + j]), s, accuracy: 1e-5 * (1 + abs(s)), "DX \(k)×\(d)×\(b)")
            } }
        }
    }

    func testSDDMMMatchesDenseProductOnPattern() {
        for (n, (k, d, density, b)) in cases.enumerated() {
            let p = makePattern(k, d, density, seed: UInt64(n))
            let dz = randomFloats(k * b, seed: 60 + UInt64(n))
            let x = randomFloats(d * b, seed: 70 + UInt64(n))
            var dw = [Float](repeating: .nan, count: p.nonzeroCount)
            SparseKernels.weightGradient(pattern: p, gradient: dz, input: x, into: &dw, batch: b, rows: 0..<k)
            for o in 0..<k {
                for q in p.rowOffsets[o]..<p.rowOffsets[o + 1] {
                    let i = Int(p.columnIndices[q])
                    var s = 0.0
                    for j in 0..<b { s += Double(dz[o * b + j]) * Double(x[i * b + j]) }
                    XCTAssertEqual(Double(dw[q]), s, accuracy: 1e-5 * (1 + abs(s)), "DW \(k)×\(d)×\(b)")
                }
            }
        }
    }

    func testRowPartitionCoversRowsAndBalancesNonzeros() {
        // Rows 0..<10 hold 100 nonzeros each, rows 10..<100 hold one each.
        var offsets = [0], indices: [Int32] = []
        for r in 0..<100 {
            let n = r < 10 ? 100 : 1
            indices += (0..<n).map { Int32($0) }
            offsets.append(indices.count)
        }
        let p = try! SparsityPattern(rows: 100, columns: 100, rowOffsets: offsets, columnIndices: indices)
        let partition = RowPartition(p, parts: 2, rowCost: 0)
        XCTAssertEqual(partition.bounds.first, 0)
        XCTAssertEqual(partition.bounds.last, 100)
        let work = (0..<2).map { k in partition.rows(ofPart: k).reduce(0) { $0 + p.count(ofRow: $1) } }
        XCTAssertLessThanOrEqual(abs(work[0] - work[1]), 100, "parts by row count would give 1000 vs 90: \(work)")
    }
}
