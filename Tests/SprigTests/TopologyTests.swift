import XCTest
import Foundation
@testable import Sprig

/// The dynamic-sparse-training algorithms (prune rules, random and gradient regrow, the new
/// pattern, the schedule) against naive references: full sorts of (key, slot) pairs, dense
/// matrices walked position by position, hand-computed values.
final class TopologyTests: XCTestCase {
    // MARK: helpers

    func makePattern(_ k: Int, _ d: Int, _ density: Double, seed: UInt64) -> SparsityPattern {
        var g = RandomGenerator(seed: seed)
        return SparsityPattern.random(rows: k, columns: d, density: density, generator: &g)
    }

    /// Values in {-1, -7/8, …, 7/8, 1} (so many ties), and some zeros.
    func tiedValues(_ n: Int, seed: UInt64) -> [Float] {
        var g = RandomGenerator(seed: seed)
        return (0..<n).map { _ in Float(g.below(17) - 8) / 8 }
    }

    func survivors(_ rule: PruneRule, _ values: [Float], fraction: Double) -> [Bool] {
        values.withUnsafeBufferPointer { rule.survivors(of: $0, fraction: fraction) }
    }

    /// Slots dropped by the reference: sort (magnitude, slot) of the candidates, take the first `count`.
    func referenceDrop(_ values: [Float], candidates: (Float) -> Bool, count: Int) -> Set<Int> {
        let order = values.indices.filter { candidates(values[$0]) }
            .sorted { (abs(values[$0]), $0) < (abs(values[$1]), $1) }
        return Set(order.prefix(count))
    }

    func dropped(_ keep: [Bool]) -> Set<Int> { Set(keep.indices.filter { !keep[$0] }) }

    /// Position (row, column) of every slot.
    func positions(_ p: SparsityPattern) -> [[Int32]] {
        (0..<p.rows).flatMap { r in (p.rowOffsets[r]..<p.rowOffsets[r + 1]).map { [Int32(r), p.columnIndices[$0]] } }
    }

    func flat(_ list: [(row: Int32, column: Int32)], columns: Int) -> [Int] {
        list.map { Int($0.row) * columns + Int($0.column) }
    }

    /// Flat positions held by surviving slots.
    func occupied(_ p: SparsityPattern, _ keep: [Bool]) -> Set<Int> {
        var set = Set<Int>()
        for r in 0..<p.rows { for q in p.rowOffsets[r]..<p.rowOffsets[r + 1] where keep[q] { set.insert(r * p.columns + Int(p.columnIndices[q])) } }
        return set
    }

    func assertThrows(_ expression: @autoclosure () throws -> Any, mentions words: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try expression(), file: file, line: line) { error in
            let message = "\(error)"
            for word in words { XCTAssertTrue(message.contains(word), "'\(message)' lacks '\(word)'", file: file, line: line) }
        }
    }

    // MARK: prune rules

    func testMagnitudePruneDropsSmallestByMagnitudeThenSlot() {
        for (n, seed) in [(1, 1), (10, 2), (101, 3), (1000, 4)] as [(Int, UInt64)] {
            let values = tiedValues(n, seed: seed)
            for fraction in [0.0, 0.01, 0.25, 0.3, 0.5, 0.99, 1.0] {
                let keep = survivors(.magnitude(0.3), values, fraction: fraction)
                let count = min(n, Int((fraction * Double(n)).rounded()))
                XCTAssertEqual(dropped(keep), referenceDrop(values, candidates: { _ in true }, count: count), "n \(n) F \(fraction)")
            }
        }
        // Hand case: ties at |w| = 0.5 go by slot; round(0.5·5) = 3 (half away from zero).
        let keep = survivors(.magnitude(0.5), [0.5, -0.5, 0.1, 2, 0.5], fraction: 0.5)
        XCTAssertEqual(keep, [false, false, false, true, true])
    }

    func testSETPruneDropsFractionOfEachSignClosestToZero() {
        func reference(_ values: [Float], _ f: Double) -> Set<Int> {
            let positives = values.filter { $0 > 0 }.count, negatives = values.filter { $0 < 0 }.count
            return referenceDrop(values, candidates: { $0 > 0 }, count: Int((f * Double(positives)).rounded()))
                .union(referenceDrop(values, candidates: { $0 < 0 }, count: Int((f * Double(negatives)).rounded())))
        }
        let allPositive = randomFloats(200, seed: 5).map { abs($0) + 0.01 }
        let allNegative = allPositive.map { -$0 }
        for values in [tiedValues(333, seed: 6), tiedValues(50, seed: 7), allPositive, allNegative, randomFloats(500, seed: 8)] {
            for f in [0.1, 0.3, 0.5, 0.75] {
                let keep = survivors(.set(f), values, fraction: f)
                let gone = dropped(keep)
                XCTAssertEqual(gone, reference(values, f), "F \(f)")
                XCTAssertTrue(gone.allSatisfy { values[$0] != 0 }, "zeros are never pruned by SET")
            }
        }
        // Hand case: positives 0.2, 0.4, 0.9 → round(1.5) = 2 go (0.2, 0.4); negatives −0.3, −0.1 → round(1) = 1 goes (−0.1).
        XCTAssertEqual(survivors(.set(0.5), [0.9, -0.3, 0.2, 0, -0.1, 0.4], fraction: 0.5), [true, true, false, true, false, false])
        // All negative, F = 0.5 of 4: the two closest to zero.
        XCTAssertEqual(survivors(.set(0.5), [-1, -0.2, -3, -0.4], fraction: 0.5), [true, false, true, false])
    }

    func testThresholdKeepsExactlyMagnitudesAtLeastV() {
        let values = tiedValues(400, seed: 9) + [0.25, -0.25, 0.2499999, -0.2500001]
        for v: Float in [0, 0.125, 0.25, 0.9, 2] {
            let keep = survivors(.threshold(v), values, fraction: 0.7)
            XCTAssertEqual(keep, values.map { abs($0) >= v }, "V \(v)")
        }
        XCTAssertEqual(survivors(.threshold(0.25), [0.25, -0.25, 0.2499999, -0.2500001], fraction: 0), [true, true, false, true])
    }

    func testPruneRuleParsingRoundTripsAndNamesTheFlag() throws {
        for text in ["set:0.3", "magnitude:0.05", "threshold:0.001", "threshold:0.0"] {
            let rule = try PruneRule(parsing: text)
            XCTAssertEqual(rule.description, text)
            XCTAssertEqual(try PruneRule(parsing: rule.description), rule)
        }
        XCTAssertEqual(try PruneRule(parsing: "SET:0.2"), .set(0.2))
        XCTAssertEqual(try PruneRule(parsing: "set:0.3").fraction, 0.3)
        XCTAssertNil(try PruneRule(parsing: "threshold:1").fraction)
        for bad in ["set:1.5", "set:0", "set:1", "magnitude:-0.1", "magnitude:nan", "set", "set:0.3:1", "threshold:-1",
                    "threshold:inf", "threshold:1e39", "random:0.3", ""] {
            assertThrows(try PruneRule(parsing: bad), mentions: ["--prune", "'\(bad)'"])
        }
        assertThrows(try PruneRule(parsing: "set:2", flag: "--prune-2"), mentions: ["--prune-2 'set:2'"])
        let encoded = try JSONEncoder().encode(PruneRule.set(0.3))
        XCTAssertEqual(try JSONDecoder().decode(PruneRule.self, from: encoded), .set(0.3))
    }

    func testGrowRuleAndGrowWeightsParsing() throws {
        XCTAssertEqual(try GrowRule(parsing: "random"), .random)
        XCTAssertEqual(try GrowRule(parsing: "Gradient"), .gradient)
        for bad in ["magnitude", "random:1", ""] { assertThrows(try GrowRule(parsing: bad), mentions: ["--grow", "'\(bad)'"]) }
        for weights in GrowWeights.allCases { XCTAssertEqual(try GrowWeights(parsing: weights.rawValue), weights) }
        XCTAssertEqual(try GrowWeights(parsing: "xavier_normalized"), .xavierNormalized)
        for bad in ["uniform", "he:2"] { assertThrows(try GrowWeights(parsing: bad), mentions: ["--grow-weights", "'\(bad)'"]) }
    }

    func testGrowWeightsFollowInitializerFormulas() {
        func draws(_ w: GrowWeights, _ n: Double, _ m: Double) -> [Float] {
            var g = RandomGenerator(seed: 11)
            return (0..<2000).map { _ in w.value(fanIn: n, fanOut: m, generator: &g) }
        }
        XCTAssertEqual(Set(draws(.zero, 10, 10)), [0])
        for (n, m) in [(16.0, 9.0), (0.2, 0.5), (400, 100)] {
            let a = 1 / max(n, 1).squareRoot(), b = (6 / (max(n, 1) + max(m, 1))).squareRoot()
            // Same draws as the generator's own uniform / normal, scaled by the formula.
            var g = RandomGenerator(seed: 11)
            XCTAssertEqual(draws(.xavier, n, m), (0..<2000).map { _ in g.uniform(-Float(a), Float(a)) })
            XCTAssertEqual(draws(.pytorch, n, m), draws(.xavier, n, m))
            g = RandomGenerator(seed: 11)
            XCTAssertEqual(draws(.xavierNormalized, n, m), (0..<2000).map { _ in g.uniform(-Float(b), Float(b)) })
            let he = draws(.he, n, m).map(Double.init)
            let variance = he.map { $0 * $0 }.reduce(0, +) / Double(he.count)
            XCTAssertEqual(variance, 2 / max(n, 1), accuracy: 0.15 * 2 / max(n, 1), "He variance 2/n for n = \(n)")
            XCTAssertTrue(draws(.xavier, n, m).allSatisfy { abs(Double($0)) <= a })
        }
    }

    // MARK: combining

    func testCombiningKeepsSurvivorsAddsGrownAndStaysValid() {
        for (k, d, density, seed) in [(7, 5, 0.3, 1), (30, 40, 0.1, 2), (20, 10, 0.8, 3), (5, 1, 1.0, 4), (6, 6, 0.0, 5)] as [(Int, Int, Double, UInt64)] {
            let old = makePattern(k, d, density, seed: seed)
            let keep = survivors(.magnitude(0.4), randomFloats(old.nonzeroCount, seed: seed + 100), fraction: 0.4)
            var g = RandomGenerator(seed: seed + 200)
            let empty = k * d - keep.filter { $0 }.count
            let grown = RandomGrowth.positions(in: old, survivors: keep, count: min(empty, 7), generator: &g).shuffled()
            let change = TopologyChange.combining(old: old, survivors: keep, grown: grown)
            let new = change.pattern
            XCTAssertNil(SparsityPattern.invariantViolation(rows: new.rows, columns: new.columns,
                                                             rowOffsets: new.rowOffsets, columnIndices: new.columnIndices))
            XCTAssertEqual(new.rows, k)
            XCTAssertEqual(new.columns, d)
            XCTAssertEqual(new.nonzeroCount, keep.filter { $0 }.count + grown.count)
            XCTAssertEqual(change.sourceSlot.count, new.nonzeroCount)
            XCTAssertEqual(change.grown, grown.count)
            XCTAssertEqual(change.sourceSlot.filter { $0 < 0 }.count, grown.count)
            let oldPositions = positions(old), newPositions = positions(new)
            var grownFound = Set<[Int32]>(), sourcesSeen = Set<Int32>()
            for (q, source) in change.sourceSlot.enumerated() {
                if source >= 0 {
                    XCTAssertEqual(newPositions[q], oldPositions[Int(source)])
                    XCTAssertTrue(keep[Int(source)], "only surviving slots carry over")
                    sourcesSeen.insert(source)
                } else {
                    grownFound.insert(newPositions[q])
                }
            }
            XCTAssertEqual(grownFound, Set(grown.map { [$0.row, $0.column] }))
            XCTAssertEqual(sourcesSeen, Set(keep.indices.filter { keep[$0] }.map { Int32($0) }), "every survivor carried over once")
        }
    }

    // MARK: random regrow

    func testRandomGrowthKeepsNonzerosAndAvoidsSurvivorsInBothBranches() {
        // (K, D, density, prune fraction): sparse (rejection), dense (enumeration), and a count above half the empties.
        for (k, d, density, fraction) in [(50, 60, 0.1, 0.3), (40, 30, 0.8, 0.3), (64, 64, 0.02, 0.5), (10, 10, 0.5, 0.9), (3, 4, 1.0, 0.5)] {
            let old = makePattern(k, d, density, seed: 21)
            let keep = survivors(.magnitude(fraction), randomFloats(old.nonzeroCount, seed: 22), fraction: fraction)
            let prunedCount = keep.filter { !$0 }.count
            var g = RandomGenerator(seed: 23), again = RandomGenerator(seed: 23)
            let grown = RandomGrowth.positions(in: old, survivors: keep, count: prunedCount, generator: &g)
            let flatGrown = flat(grown, columns: d)
            XCTAssertEqual(flatGrown.count, prunedCount)
            XCTAssertEqual(Set(flatGrown).count, prunedCount, "distinct")
            XCTAssertEqual(flatGrown, flatGrown.sorted(), "sorted by (row, column)")
            XCTAssertTrue(grown.allSatisfy { $0.row >= 0 && Int($0.row) < k && $0.column >= 0 && Int($0.column) < d })
            XCTAssertTrue(Set(flatGrown).isDisjoint(with: occupied(old, keep)), "never a surviving position")
            XCTAssertEqual(flat(RandomGrowth.positions(in: old, survivors: keep, count: prunedCount, generator: &again), columns: d), flatGrown,
                           "deterministic for one generator state")
            let change = TopologyChange.combining(old: old, survivors: keep, grown: grown)
            XCTAssertEqual(change.pattern.nonzeroCount, old.nonzeroCount, "prune k, grow k keeps nnz")
        }
        // Every empty position when count = empties.
        let old = makePattern(6, 7, 0.6, seed: 24)
        let keep = [Bool](repeating: true, count: old.nonzeroCount)
        var g = RandomGenerator(seed: 25)
        let all = RandomGrowth.positions(in: old, survivors: keep, count: 42 - old.nonzeroCount, generator: &g)
        XCTAssertEqual(Set(flat(all, columns: 7)), Set(0..<42).subtracting(occupied(old, keep)))
    }

    func testRandomGrowthIsUniformOverEmptyPositions() throws {
        // 4×5: a sparse case (rejection branch) and a dense one (enumeration); some slots pruned, and they are eligible again.
        let sparse = try SparsityPattern(rows: 4, columns: 5, rowOffsets: [0, 2, 3, 3, 5], columnIndices: [0, 3, 2, 1, 4])
        let sparseKeep = [true, false, true, true, false]                       // 3 survivors, 17 empty
        let dense = try SparsityPattern(rows: 4, columns: 5, rowOffsets: [0, 4, 7, 10, 14],
                                        columnIndices: [0, 1, 2, 3, 0, 2, 4, 1, 2, 3, 0, 1, 3, 4])
        let denseKeep = [true, true, true, true, true, false, true, true, true, true, true, true, true, true]   // 13 survivors, 7 empty
        for (pattern, keep) in [(sparse, sparseKeep), (dense, denseKeep)] {
            let empty = Set(0..<20).subtracting(occupied(pattern, keep))
            var counts = [Int](repeating: 0, count: 20)
            var g = RandomGenerator(seed: 31)
            let draws = 20_000
            for _ in 0..<draws {
                let p = RandomGrowth.positions(in: pattern, survivors: keep, count: 1, generator: &g)
                counts[Int(p[0].row) * 5 + Int(p[0].column)] += 1
            }
            let expected = Double(draws) / Double(empty.count)
            for position in 0..<20 {
                if empty.contains(position) {
                    XCTAssertEqual(Double(counts[position]), expected, accuracy: 0.3 * expected, "position \(position)")
                } else {
                    XCTAssertEqual(counts[position], 0, "surviving position \(position) drawn")
                }
            }
        }
    }

    // MARK: gradient regrow

    func testGradientGrowthPicksTopEmptyMagnitudesWhateverTheBlocks() {
        for (k, d, density, count, seed) in [(9, 7, 0.3, 10, 41), (20, 13, 0.7, 25, 42), (1, 10, 0.5, 5, 43), (12, 12, 0.05, 136, 44)] as [(Int, Int, Double, Int, UInt64)] {
            let old = makePattern(k, d, density, seed: seed)
            let keep = survivors(.set(0.3), randomFloats(old.nonzeroCount, seed: seed + 1), fraction: 0.3)
            let gradient = tiedValues(k * d, seed: seed + 2)            // many ties in |g|
            let taken = occupied(old, keep)
            // Reference: all empty positions sorted by (−|g|, flat), the first `count`, then by position.
            let reference = (0..<(k * d)).filter { !taken.contains($0) }
                .sorted { (-abs(gradient[$0]), $0) < (-abs(gradient[$1]), $1) }
                .prefix(count).sorted()
            for blockRows in [1, 3, k, k + 5] {
                var requested: [Range<Int>] = []
                let grown = GradientGrowth.positions(in: old, survivors: keep, count: count, blockRows: blockRows) { rows, block in
                    requested.append(rows)
                    XCTAssertLessThanOrEqual(rows.count, blockRows)
                    for (i, r) in rows.enumerated() { for c in 0..<d { block[i * d + c] = gradient[r * d + c] } }
                }
                XCTAssertEqual(flat(grown, columns: d), Array(reference), "\(k)×\(d) blockRows \(blockRows)")
                XCTAssertEqual(requested.flatMap { Array($0) }, Array(0..<k), "every row once, in order")
            }
        }
        XCTAssertEqual(GradientGrowth.blockRows(columns: 1000, budgetBytes: 64_000), 16)
        XCTAssertEqual(GradientGrowth.blockRows(columns: 1000, budgetBytes: 100), 1)
    }

    func testGradientGrowthPropagatesTheCallersError() {
        let old = makePattern(4, 4, 0.25, seed: 51)
        let keep = [Bool](repeating: true, count: old.nonzeroCount)
        struct Failure: Error {}
        XCTAssertThrowsError(try GradientGrowth.positions(in: old, survivors: keep, count: 2, blockRows: 2) { _, _ in throw Failure() })
    }

    // MARK: schedule

    func testRegrowScheduleDueStepsAndFractions() throws {
        let perEpoch = try RegrowSchedule()
        let due = (1...50).filter { perEpoch.isDue(afterStep: $0, stepsPerEpoch: 10, totalSteps: 50) }
        XCTAssertEqual(due, [10, 20, 30, 40], "before each epoch after the first, not after the last step")
        let everyThree = try RegrowSchedule(every: 3, decay: .cosine, until: 0.5)
        XCTAssertEqual((1...20).filter { everyThree.isDue(afterStep: $0, stepsPerEpoch: 7, totalSteps: 20) }, [3, 6, 9])
        XCTAssertEqual(perEpoch.fraction(0.3, afterStep: 40, totalSteps: 50), 0.3)
        let cosine = try RegrowSchedule(decay: .cosine)
        XCTAssertEqual(cosine.fraction(0.4, afterStep: 0, totalSteps: 100), 0.4, accuracy: 1e-12)
        XCTAssertEqual(cosine.fraction(0.4, afterStep: 50, totalSteps: 100), 0.2, accuracy: 1e-12)
        XCTAssertEqual(cosine.fraction(0.4, afterStep: 100, totalSteps: 100), 0, accuracy: 1e-12)
        XCTAssertEqual(cosine.fraction(0.4, afterStep: 25, totalSteps: 100), 0.2 * (1 + 0.5.squareRoot()), accuracy: 1e-12)
        XCTAssertEqual(everyThree.fraction(0.4, afterStep: 5, totalSteps: 20), 0.2, accuracy: 1e-12, "until·T = 10 is the horizon")
    }

    func testRegrowScheduleRejectsBadValues() throws {
        assertThrows(try RegrowSchedule(every: 0), mentions: ["schedule.every"])
        assertThrows(try RegrowSchedule(every: -5), mentions: ["schedule.every"])
        for until in [0, -0.5, 1.5, .nan, .infinity] { assertThrows(try RegrowSchedule(until: until), mentions: ["schedule.until"]) }
        XCTAssertEqual(try RegrowSchedule.Decay(parsing: "Cosine"), .cosine)
        for bad in ["linear", "cosine:1"] { assertThrows(try RegrowSchedule.Decay(parsing: bad), mentions: ["--regrow-schedule", "'\(bad)'"]) }
        var schedule = try RegrowSchedule(every: 5, until: 1)
        XCTAssertNoThrow(try schedule.validate())
        schedule.until = 2
        assertThrows(try schedule.validate(), mentions: ["schedule.until"])
        let decoded = try JSONDecoder().decode(RegrowSchedule.self, from: JSONEncoder().encode(try RegrowSchedule(every: 7, decay: .cosine, until: 0.75)))
        XCTAssertEqual(decoded, try RegrowSchedule(every: 7, decay: .cosine, until: 0.75))
    }
}
