import Foundation
import XCTest
@testable import Sprig

/// The Graph Challenge engine: the challenge's own data and truth, an independent naive
/// reference on generated networks, and every malformed input.
final class ChallengeTests: XCTestCase {
    /// The challenge's real 1024-neuron network, first 1200 inputs and truth, in the repository.
    static var data: String { TestFiles.fixture("graph-challenge") }

    /// The fixtures' directory; fails the test (never skips it) when a file is missing.
    static func realData() throws -> String {
        for file in ["neuron1024/n1024-l1.tsv.gz", "neuron1024/n1024-l120.tsv.gz", "sparse-images-1024-first1200.tsv.gz",
                     "neuron1024-l120-categories-first1200.tsv"] {
            try TestFiles.requireFixture("graph-challenge/\(file)")
        }
        return data
    }

    /// 120 layers, the first 1200 inputs: exactly the 19 categories of the truth file.
    func testRealNetworkGivesTheTruthCategories() throws {
        let data = try Self.realData()
        let pool = ThreadPool(threads: 2)
        let layers = try ChallengeFiles.readNetwork(directory: "\(data)/neuron1024", neurons: 1024, layers: 120, pool: pool)
        XCTAssertTrue(layers.allSatisfy { layer in (0..<1024).allSatisfy { layer.transposed.count(ofRow: $0) == 32 } })
        let inputs = try ChallengeFiles.readInputs(path: "\(data)/sparse-images-1024-first1200.tsv.gz", neurons: 1024)
        XCTAssertEqual(inputs.count, 1200)
        let truth = try ChallengeFiles.readCategories(path: "\(data)/neuron1024-l120-categories-first1200.tsv")
        XCTAssertEqual(truth.count, 19)
        let engine = InferenceEngine(layers: layers, neurons: 1024, bias: -0.3, pool: pool)
        XCTAssertEqual(engine.categories(of: inputs), truth)
        // Read and run in small batches, and split over three "ranks": the same answer.
        let path = "\(data)/sparse-images-1024-first1200.tsv.gz"
        XCTAssertEqual(try engine.run(ChallengeInputStream(path: path, neurons: 1024), batchSize: 77).categories, truth)
        let split = try (0..<3).flatMap { r in
            try engine.run(ChallengeInputStream(path: path, neurons: 1024, rank: r, ranks: 3, pieceSize: 100_000), batchSize: 150).categories
        }
        XCTAssertEqual(split.sorted(), truth)
        // Too few layers give other categories (the check can fail).
        let short = InferenceEngine(layers: Array(layers.prefix(3)), neurons: 1024, bias: -0.3, pool: pool)
        XCTAssertNotEqual(short.categories(of: inputs), truth)
    }

    func testRealNetworkWithTwoRanksUnderMPIRun() throws {
        let data = try Self.realData()
        try TestFiles.requireTool(["mpirun", "--version"])
        let dir = try TestFiles.makeDirectory(self)
        let arguments = ["challenge", "run", "--network", "\(data)/neuron1024", "--neurons", "1024", "--layers", "120",
                         "--inputs", "\(data)/sparse-images-1024-first1200.tsv.gz",
                         "--truth", "\(data)/neuron1024-l120-categories-first1200.tsv", "--categories-out", "\(dir)/c.tsv"]
        let result = try TestFiles.run(["timeout", "120", "mpirun", "-np", "2", "--oversubscribe", "--bind-to", "none",
                                        "--allow-run-as-root", CommandLineTests.binary] + arguments)
        XCTAssertEqual(result.status, 0, result.errors)
        XCTAssertTrue(result.output.contains("PASS: 19 categories"), result.output)
        XCTAssertEqual(try String(contentsOfFile: "\(dir)/c.tsv", encoding: .utf8),
                       try String(contentsOfFile: "\(data)/neuron1024-l120-categories-first1200.tsv", encoding: .utf8))
        // A wrong run reports FAIL and exits 2.
        let wrong = try TestFiles.run([CommandLineTests.binary] + arguments.map { $0 == "120" ? "4" : $0 })
        XCTAssertEqual(wrong.status, 2)
        XCTAssertTrue(wrong.output.contains("FAIL"), wrong.output)
    }

    /// Generated networks (random weights, multiples of 1/16 so float and double sums are exact)
    /// written in the challenge's formats, read back and run, against naive dense loops.
    func testGeneratedNetworksMatchANaiveReference() throws {
        // N = 200: panels with spare lines after neurons 63, 127, 191 and a last line of its own.
        // N = 6: fewer rows than the 4 row pieces per thread asked for, with more panels than threads.
        for (n, layerCount, images, seed) in [(32, 5, 40, UInt64(1)), (64, 8, 100, 2), (16, 3, 10, 3), (200, 4, 70, 4), (6, 3, 90, 5)] {
            let dir = try TestFiles.makeDirectory(self)
            var g = RandomGenerator(seed: seed)
            var dense: [[Double]] = []   // W_l, n×n row-major: W(i, j)
            for l in 1...layerCount {
                var w = [Double](repeating: 0, count: n * n), lines: [String] = []
                for i in 0..<n {
                    for _ in 0..<6 {
                        let j = g.below(n)
                        guard w[i * n + j] == 0 else { continue }
                        w[i * n + j] = Double(g.below(8) + 1) / 16   // 1/16 … 8/16, never 0
                        lines.append("\(i + 1)\t\(j + 1)\t\(w[i * n + j])")
                    }
                }
                dense.append(w)
                let path = "\(dir)/n\(n)-l\(l).tsv"
                try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
                if l % 2 == 0 { _ = try TestFiles.gzip(path); try FileManager.default.removeItem(atPath: path) }
            }
            var inputs = [[Double]](repeating: [Double](repeating: 0, count: n), count: images), lines: [String] = []
            var withLines: [Int] = []
            for m in 0..<images where m % 7 != 3 {   // some images have no pixels at all
                // Pixel densities from 1/12 to 5/6: dense images survive, sparse ones die.
                for p in 0..<n where g.below(12) < 1 + 2 * (m % 5) { inputs[m][p] = 1; lines.append("\(m + 1)\t\(p + 1)\t1") }
                if inputs[m].contains(1) { withLines.append(m) }
            }
            try (lines.joined(separator: "\n")).write(toFile: "\(dir)/images.tsv", atomically: true, encoding: .utf8)

            // Naive reference: dense vectors and matrices, input by input.
            var expected: [Int] = []
            for m in 0..<images {
                var y = inputs[m]
                for w in dense {
                    var next = [Double](repeating: 0, count: n)
                    for j in 0..<n {
                        var s = -0.25
                        for i in 0..<n { s += y[i] * w[i * n + j] }
                        next[j] = min(32, max(0, s))
                    }
                    y = next
                }
                if y.contains(where: { $0 != 0 }) { expected.append(m) }
            }
            let pool = ThreadPool(threads: 2)
            let network = try ChallengeFiles.readNetwork(directory: dir, neurons: n, layers: layerCount, pool: pool)
            let read = try ChallengeFiles.readInputs(path: "\(dir)/images.tsv", neurons: n, count: images)
            XCTAssertEqual(read.ids, withLines)
            let engine = InferenceEngine(layers: network, neurons: n, bias: -0.25, pool: pool)
            XCTAssertEqual(engine.categories(of: read), expected, "N=\(n)")
            for threads in [1, 3] {
                let other = InferenceEngine(layers: network, neurons: n, bias: -0.25, pool: ThreadPool(threads: threads))
                XCTAssertEqual(other.categories(of: read), expected, "N=\(n), \(threads) threads")
            }
            // Streamed in batches of 13 through two ranks, with pieces that cut lines anywhere.
            let streamed = try (0..<2).flatMap { r in
                try engine.run(ChallengeInputStream(path: "\(dir)/images.tsv", neurons: n, rank: r, ranks: 2, pieceSize: 37), batchSize: 13).categories
            }
            XCTAssertEqual(streamed.sorted(), expected, "N=\(n) streamed")
            XCTAssertFalse(expected.isEmpty || expected.count == images,
                           "a test where nothing or everything survives proves little: \(expected.count) of \(images)")
        }
    }

    func testMalformedFilesNameTheFileAndLine() throws {
        let dir = try TestFiles.makeDirectory(self)
        func layerError(_ text: String, neurons: Int = 4) -> String {
            try? FileManager.default.removeItem(atPath: "\(dir)/n\(neurons)-l1.tsv")
            try? text.write(toFile: "\(dir)/n\(neurons)-l1.tsv", atomically: true, encoding: .utf8)
            do { _ = try ChallengeFiles.readLayer(directory: dir, neurons: neurons, layer: 1); return "accepted" }
            catch { return "\(error)" }
        }
        XCTAssertEqual(layerError("1\t2\t0.5\n3\t4\t1\n"), "accepted")
        XCTAssertTrue(layerError("1\t2\t0.5\n3\tx\t1\n").contains("line 2: expected an integer, found 'x'"))
        XCTAssertTrue(layerError("1\t2\t0.5\n3 4\t1\n").contains("line 2: expected a tab"))
        XCTAssertTrue(layerError("1\t2\t0.5\n3\t4\tabc\n").contains("line 2: expected a number"))
        XCTAssertTrue(layerError("1\t2\t0.5\t9\n").contains("line 1: expected the end of the line"))
        XCTAssertTrue(layerError("1\t2\t0.5\n5\t1\t1").contains("line 2: entry (5, 1) is outside a 4-neuron layer"))
        XCTAssertTrue(layerError("1\t2\t0.5\n0\t1\t1\n").contains("line 2: entry (0, 1)"))
        XCTAssertTrue(layerError("1\t2\t0.5\n1\t2\t0.25\n").contains("entry (1, 2) appears twice"))
        XCTAssertTrue(layerError("1\t2\t0.5\nx").contains("n4-l1.tsv: line 2"))
        do { _ = try ChallengeFiles.readLayer(directory: dir, neurons: 4, layer: 7); XCTFail("missing file accepted") }
        catch { XCTAssertTrue("\(error)".contains("n4-l7.tsv") && "\(error)".contains("missing layer file"), "\(error)") }
        // A layer of the wrong size: a 1024-neuron file read as 4 neurons.
        let other = try TestFiles.makeDirectory(self)
        try FileManager.default.copyItem(atPath: "\(try Self.realData())/neuron1024/n1024-l1.tsv.gz", toPath: "\(other)/n4-l1.tsv.gz")
        do { _ = try ChallengeFiles.readLayer(directory: other, neurons: 4, layer: 1); XCTFail("wrong size accepted") }
        catch { XCTAssertTrue("\(error)".contains("n4-l1.tsv.gz: line ") && "\(error)".contains("outside a 4-neuron layer"), "\(error)") }
        try "1\t3\t1\n2\t9\t1\n".write(toFile: "\(dir)/images.tsv", atomically: true, encoding: .utf8)
        do { _ = try ChallengeFiles.readInputs(path: "\(dir)/images.tsv", neurons: 4); XCTFail("pixel 9 accepted") }
        catch { XCTAssertTrue("\(error)".contains("images.tsv: line 2: pixel 9 is outside 1...4"), "\(error)") }
        try "3\n-1\n".write(toFile: "\(dir)/truth.tsv", atomically: true, encoding: .utf8)
        do { _ = try ChallengeFiles.readCategories(path: "\(dir)/truth.tsv"); XCTFail("bad truth accepted") }
        catch { XCTAssertTrue("\(error)".contains("truth.tsv: line 2"), "\(error)") }
    }
}

/// The RadiX-Net generator against the challenge's own 1024-neuron network.
final class RadixNetTests: XCTestCase {
    func testFirstSixLayersEqualTheChallengeNetwork() throws {
        let data = try ChallengeTests.realData()
        for k in 1...6 {
            let real = try ChallengeFiles.readLayer(directory: "\(data)/neuron1024", neurons: 1024, layer: k)
            let generated = RadixNet.layer(neurons: 1024, layer: k, seed: 1)
            XCTAssertEqual(generated.transposed, real.transposed, "layer \(k) pattern")
            XCTAssertEqual(generated.values, real.values, "layer \(k) values")
        }
        // Layer 7 on is permuted: another pattern, but the same row and column counts as the real one.
        let real7 = try ChallengeFiles.readLayer(directory: "\(data)/neuron1024", neurons: 1024, layer: 7)
        XCTAssertNotEqual(RadixNet.layer(neurons: 1024, layer: 7, seed: 1).transposed, real7.transposed)
    }

    /// 32 nonzeros in every row and column, weights 1/16, valid CSR, for several sizes and layers.
    func testEveryLayerHas32PerRowAndColumn() {
        for (n, ks) in [(1024, [1, 6, 7, 13, 120]), (4096, [1, 8, 9]), (64, [1, 2, 3])] {
            for k in ks {
                let layer = RadixNet.layer(neurons: n, layer: k, seed: 5)
                let p = layer.transposed
                XCTAssertNil(SparsityPattern.invariantViolation(rows: n, columns: n, rowOffsets: p.rowOffsets, columnIndices: p.columnIndices))
                XCTAssertTrue((0..<n).allSatisfy { p.count(ofRow: $0) == 32 }, "N=\(n) layer \(k) rows")
                var perColumn = [Int](repeating: 0, count: n)
                for c in p.columnIndices { perColumn[Int(c)] += 1 }
                XCTAssertEqual(Set(perColumn), [32], "N=\(n) layer \(k) columns")
                XCTAssertTrue(layer.values.allSatisfy { $0 == 1.0 / 16 })
            }
        }
    }
}

final class NetworkCacheTests: XCTestCase {
    /// Written on the first read, used on the second (same layers), ignored with its reason when
    /// corrupted or when a layer file changes.
    func testCacheIsUsedCheckedAndInvalidated() throws {
        let dir = try TestFiles.makeDirectory(self), cache = try TestFiles.makeDirectory(self)
        setenv("XDG_CACHE_HOME", cache, 1)
        defer { unsetenv("XDG_CACHE_HOME") }
        for k in 1...3 { try RadixNet.tsv(RadixNet.layer(neurons: 64, layer: k, seed: 2)).write(toFile: "\(dir)/n64-l\(k).tsv", atomically: true, encoding: .utf8) }
        let pool = ThreadPool(threads: 2)
        var notes: [String] = []
        let first = try NetworkCache.readNetwork(directory: dir, neurons: 64, layers: 3, pool: pool) { notes.append($0) }
        XCTAssertTrue(notes.last?.hasPrefix("network cached in \(cache)/sprig/") == true, "\(notes)")
        let second = try NetworkCache.readNetwork(directory: dir, neurons: 64, layers: 3, pool: pool) { notes.append($0) }
        XCTAssertTrue(notes.last?.hasPrefix("network read from cache") == true, "\(notes)")
        XCTAssertEqual(second.map(\.transposed), first.map(\.transposed))
        // The same directory named another way (through `.` and `..`) is the same cached network.
        let parent = (dir as NSString).deletingLastPathComponent, name = (dir as NSString).lastPathComponent
        let other = "\(parent)/./../\((parent as NSString).lastPathComponent)/\(name)"
        _ = try NetworkCache.readNetwork(directory: other, neurons: 64, layers: 3, pool: pool) { notes.append($0) }
        XCTAssertTrue(notes.last?.hasPrefix("network read from cache") == true, "\(other): \(notes)")
        XCTAssertEqual(second.map(\.values), first.map(\.values))
        XCTAssertEqual(first.map(\.transposed), (1...3).map { RadixNet.layer(neurons: 64, layer: $0, seed: 2).transposed })

        // A flipped byte: refused by the checksum, rebuilt from the text.
        let path = NetworkCache.path(network: dir, neurons: 64, layers: 3)
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count / 2] ^= 4
        try TestFiles.write(bytes, to: path)
        let third = try NetworkCache.readNetwork(directory: dir, neurons: 64, layers: 3, pool: pool) { notes.append($0) }
        XCTAssertTrue(notes.contains { $0.contains("checksum mismatch") }, "\(notes)")
        XCTAssertEqual(third.map(\.values), first.map(\.values))

        // A layer file edited after caching: the fingerprint no longer matches.
        try RadixNet.tsv(RadixNet.layer(neurons: 64, layer: 9, seed: 2)).write(toFile: "\(dir)/n64-l2.tsv", atomically: true, encoding: .utf8)
        let edited = try NetworkCache.readNetwork(directory: dir, neurons: 64, layers: 3, pool: pool) { notes.append($0) }
        XCTAssertTrue(notes.contains { $0.contains("the layer files changed") }, "\(notes)")
        XCTAssertEqual(edited[1].transposed, RadixNet.layer(neurons: 64, layer: 9, seed: 2).transposed)
    }
}
