import Foundation
import XCTest
@testable import Sprig

/// `sprig challenge run` and `generate` on hostile input, through the real executable: absurd
/// image indices, non-finite numbers, sizes beyond the machine, negative numbers after a space,
/// more inputs than the data set has, and ranks that disagree under real `mpirun`.
final class ChallengeHardeningTests: XCTestCase {
    /// Runs `sprig` (under `timeout`, so a hang fails the test instead of stalling it).
    func sprig(_ arguments: [String], timeout: Int = 60) throws -> TestFiles.ProcessResult {
        try CommandLineTests.sprig(arguments, timeout: timeout)
    }

    /// Expects exit `status` and exactly one `error:` line on stderr mentioning every string.
    func assertFails(_ result: TestFiles.ProcessResult, status: Int32, mentions: [String],
                     file: StaticString = #filePath, line: UInt = #line) {
        assertOneErrorLine(result, status: status, mentions: mentions, file: file, line: line)
    }

    /// A generated RadiX-Net network of `neurons` and `layers` in a new directory.
    func network(neurons: Int, layers: Int) throws -> String {
        let dir = try TestFiles.makeDirectory(self)
        let result = try sprig(["challenge", "generate", "--neurons", "\(neurons)", "--layers", "\(layers)", "--inputs", "0",
                                "--output", dir])
        XCTAssertEqual(result.status, 0, result.errors)
        return dir
    }

    /// An image that survives a RadiX-Net network at bias −0.3: every pixel 1.
    func lines(image m: Int, neurons: Int) -> String {
        (1...neurons).map { "\(m)\t\($0)\t1\n" }.joined()
    }

    func run(_ network: String, neurons: Int, layers: Int, inputs: String, _ extra: [String] = []) throws -> TestFiles.ProcessResult {
        try sprig(["challenge", "run", "--network", network, "--neurons", "\(neurons)", "--layers", "\(layers)",
                   "--inputs", inputs, "--no-cache", "--threads", "1"] + extra)
    }

    // Item 2: an absurd image index is an error naming the line (it used to walk through empty
    // batches forever); a large but valid one is reached at once, without a buffer for the
    // images skipped.
    func testHugeImageIndexIsRefusedNamingTheLine() throws {
        let net = try network(neurons: 32, layers: 2)
        let dir = try TestFiles.makeDirectory(self)
        try (lines(image: 1, neurons: 32) + "99999999999999999\t5\t1\n").write(toFile: "\(dir)/in.tsv", atomically: true, encoding: .utf8)
        let result = try run(net, neurons: 32, layers: 2, inputs: "\(dir)/in.tsv", ["--bias", "-0.3"])
        assertFails(result, status: 1, mentions: ["in.tsv: line 33", "image index 99999999999999999", "2147483647"])
    }

    func testFarImageIndexIsReachedAtOnceWithoutABufferForTheSkippedImages() throws {
        let net = try network(neurons: 1024, layers: 2)
        let dir = try TestFiles.makeDirectory(self)
        // Image 1, then image 200 000: with the default --memory (2048 MiB) both fall in one batch of
        // up to 262 144 images, whose activations for every position between would take 1.6 GB.
        try (lines(image: 1, neurons: 1024) + lines(image: 200_000, neurons: 1024))
            .write(toFile: "\(dir)/in.tsv", atomically: true, encoding: .utf8)
        let arguments = [CommandLineTests.binary, "challenge", "run", "--network", net, "--neurons", "1024", "--layers", "2",
                         "--inputs", "\(dir)/in.tsv", "--no-cache", "--threads", "1",
                         "--categories-out", "\(dir)/c.tsv"]
        // Peak memory of the run, measured by the kernel (ru_maxrss of the only child, in KiB).
        let script = """
            import resource, subprocess, sys
            r = subprocess.run([\(arguments.map { "'\($0)'" }.joined(separator: ", "))], timeout=60)
            print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
            """
        // The last line is the script's (sprig's own output comes before it).
        let output = try TestFiles.python(script).split(separator: "\n").last?.split(separator: " ").compactMap { Int($0) } ?? []
        XCTAssertEqual(output.first, 0)
        XCTAssertLessThan(output.last ?? .max, 400 << 10, "peak memory in KiB")
        XCTAssertEqual(try String(contentsOfFile: "\(dir)/c.tsv", encoding: .utf8), "1\n200000\n")
        // 2 000 000 000 images: reached at once.
        try (lines(image: 1, neurons: 1024) + lines(image: 2_000_000_000, neurons: 1024))
            .write(toFile: "\(dir)/far.tsv", atomically: true, encoding: .utf8)
        let far = try run(net, neurons: 1024, layers: 2, inputs: "\(dir)/far.tsv", ["--categories-out", "\(dir)/far-c.tsv"])
        XCTAssertEqual(far.status, 0, far.errors)
        XCTAssertTrue(far.output.contains("2000000000 inputs"), far.output)
        XCTAssertEqual(try String(contentsOfFile: "\(dir)/far-c.tsv", encoding: .utf8), "1\n2000000000\n")
    }

    // Item 9: non-finite numbers in the files and in --bias are refused, naming file and line.
    func testNonFiniteNumbersAreRefused() throws {
        let net = try network(neurons: 32, layers: 2)
        let dir = try TestFiles.makeDirectory(self)
        for (value, words) in [("1e300", "not finite as a 32-bit float"), ("nan", "not a finite number"), ("-inf", "not a finite number"),
                               ("4e38", "not finite as a 32-bit float")] {
            try (lines(image: 1, neurons: 32) + "2\t3\t\(value)\n").write(toFile: "\(dir)/in.tsv", atomically: true, encoding: .utf8)
            assertFails(try run(net, neurons: 32, layers: 2, inputs: "\(dir)/in.tsv", ["--bias", "-0.3"]), status: 1,
                        mentions: ["in.tsv: line 33", "value \(value)", words])
            // The same value in a layer file: its line is named too.
            let layers = try TestFiles.makeDirectory(self)
            try FileManager.default.copyItem(atPath: "\(net)/n32-l1.tsv", toPath: "\(layers)/n32-l1.tsv")
            var text = try String(contentsOfFile: "\(net)/n32-l2.tsv", encoding: .utf8).split(separator: "\n").map(String.init)
            text[4] = text[4].split(separator: "\t").prefix(2).joined(separator: "\t") + "\t" + value
            try (text.joined(separator: "\n") + "\n").write(toFile: "\(layers)/n32-l2.tsv", atomically: true, encoding: .utf8)
            try (lines(image: 1, neurons: 32)).write(toFile: "\(dir)/good.tsv", atomically: true, encoding: .utf8)
            assertFails(try run(layers, neurons: 32, layers: 2, inputs: "\(dir)/good.tsv", ["--bias", "-0.3"]), status: 1,
                        mentions: ["n32-l2.tsv: line 5", "value \(value)", words])
        }
        try lines(image: 1, neurons: 32).write(toFile: "\(dir)/in.tsv", atomically: true, encoding: .utf8)
        for bias in ["nan", "inf", "-inf", "1e300"] {
            assertFails(try run(net, neurons: 32, layers: 2, inputs: "\(dir)/in.tsv", ["--bias", bias]), status: 64,
                        mentions: ["--bias", "not a finite number"])
        }
        // A positive bias would revive the inputs the engine drops: refused too.
        assertFails(try run(net, neurons: 32, layers: 2, inputs: "\(dir)/in.tsv", ["--bias", "0.5"]), status: 64,
                    mentions: ["--bias 0.5", "b ≤ 0"])
    }

    // Item 13: `--bias -0.3` (a negative number after a space) parses, and means what `--bias=-0.3` means.
    func testNegativeBiasAfterASpaceParses() throws {
        let net = try network(neurons: 32, layers: 3)
        let dir = try TestFiles.makeDirectory(self)
        // Image 1 survives (all pixels), image 2 (two pixels) dies at bias −0.3 but not at 0.
        try (lines(image: 1, neurons: 32) + "2\t1\t1\n2\t2\t1\n").write(toFile: "\(dir)/in.tsv", atomically: true, encoding: .utf8)
        let spaced = try run(net, neurons: 32, layers: 3, inputs: "\(dir)/in.tsv", ["--bias", "-0.3", "--categories-out", "\(dir)/a.tsv"])
        XCTAssertEqual(spaced.status, 0, spaced.errors)
        let joined = try run(net, neurons: 32, layers: 3, inputs: "\(dir)/in.tsv", ["--bias=-0.3", "--categories-out", "\(dir)/b.tsv"])
        XCTAssertEqual(joined.status, 0, joined.errors)
        XCTAssertEqual(try String(contentsOfFile: "\(dir)/a.tsv", encoding: .utf8), "1\n")
        XCTAssertEqual(try String(contentsOfFile: "\(dir)/b.tsv", encoding: .utf8), "1\n")
        let zero = try run(net, neurons: 32, layers: 3, inputs: "\(dir)/in.tsv", ["--bias", "-0", "--categories-out", "\(dir)/z.tsv"])
        XCTAssertEqual(zero.status, 0, zero.errors)
        XCTAssertEqual(try String(contentsOfFile: "\(dir)/z.tsv", encoding: .utf8), "1\n2\n")
        // Other numeric flags given a negative number get a message about the value, not "Missing value".
        assertFails(try run(net, neurons: 32, layers: 3, inputs: "\(dir)/in.tsv", ["--bias", "-0.3", "--memory", "-5"]), status: 64,
                    mentions: ["--memory -5 is not positive"])
        for passes in ["0", "-2", "1001"] {
            assertFails(try run(net, neurons: 32, layers: 3, inputs: "\(dir)/in.tsv", ["--repeat", passes]), status: 64,
                        mentions: ["--repeat \(passes) is not in 1…1000"])
        }
        // Repeated passes find the same categories and say which time counts.
        let repeated = try run(net, neurons: 32, layers: 3, inputs: "\(dir)/in.tsv", ["--bias", "-0", "--repeat", "3", "--profile",
                                                                                   "--categories-out", "\(dir)/r.tsv"])
        XCTAssertEqual(repeated.status, 0, repeated.errors)
        XCTAssertTrue(repeated.output.contains("(fastest of 3)") && repeated.output.contains("profile, fastest pass:"), repeated.output)
        XCTAssertEqual(try String(contentsOfFile: "\(dir)/r.tsv", encoding: .utf8), "1\n2\n")
    }

    // Issue 25: `--repeat` on a FIFO reads the inputs once (the second pass used to block forever
    // on the FIFO, which its writer had closed).
    func testRepeatedPassesOverAFIFOReadTheInputsOnce() throws {
        let net = try network(neurons: 32, layers: 3)
        let dir = try TestFiles.makeDirectory(self)
        try (lines(image: 1, neurons: 32) + "2\t1\t1\n2\t2\t1\n").write(toFile: "\(dir)/in.tsv", atomically: true, encoding: .utf8)
        XCTAssertEqual(mkfifo("\(dir)/fifo", 0o600), 0)
        let writer = Process()
        writer.executableURL = URL(fileURLWithPath: "/bin/sh")
        writer.arguments = ["-c", "cat '\(dir)/in.tsv' > '\(dir)/fifo'"]
        try writer.run()
        defer { if writer.isRunning { writer.terminate() } }
        let repeated = try sprig(["challenge", "run", "--network", net, "--neurons", "32", "--layers", "3", "--inputs", "\(dir)/fifo",
                                  "--no-cache", "--threads", "1", "--bias", "-0", "--repeat", "2", "--categories-out", "\(dir)/r.tsv"],
                                 timeout: 60)
        XCTAssertEqual(repeated.status, 0, repeated.errors)   // 124: the second pass waited on the FIFO
        XCTAssertEqual(try String(contentsOfFile: "\(dir)/r.tsv", encoding: .utf8), "1\n2\n")
        let left = try FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory()).filter { $0.hasPrefix("sprig-inputs-") }
        XCTAssertEqual(left, [], "the copy of the inputs is removed")
    }

    // Items 6 and 16: sizes beyond the machine are refused up front, saying what is needed and what there is.
    func testSizesBeyondTheMachineAreRefusedUpFront() throws {
        let dir = try TestFiles.makeDirectory(self)
        try "1\t1\t1\n".write(toFile: "\(dir)/in.tsv", atomically: true, encoding: .utf8)
        func run(_ extra: [String]) throws -> TestFiles.ProcessResult {
            try sprig(["challenge", "run", "--network", dir, "--inputs", "\(dir)/in.tsv", "--bias", "-0.3"] + extra)
        }
        assertFails(try run(["--neurons", "1000000000000", "--layers", "120"]), status: 64,
                    mentions: ["--neurons 1000000000000", "needs", "GiB", "this machine has"])
        assertFails(try run(["--neurons", "1024", "--layers", "1000000000000"]), status: 64,
                    mentions: ["--layers 1000000000000", "needs", "this machine has"])
        assertFails(try run(["--neurons", "1024", "--layers", "1", "--threads", "9223372036854775807"]), status: 64,
                    mentions: ["--threads 9223372036854775807", "cores"])
        assertFails(try run(["--neurons", "1024", "--layers", "1", "--memory", "9223372036854775807"]), status: 64,
                    mentions: ["--memory 9223372036854775807", "overflows"])
        assertFails(try run(["--neurons", "1024", "--layers", "1", "--memory", "1000000000"]), status: 64,
                    mentions: ["--memory 1000000000", "needs", "this machine has"])
        // generate: absurd sizes against memory and disk, before anything is written.
        let output = "\(dir)/out"
        assertFails(try sprig(["challenge", "generate", "--neurons", "\(16 << 40)", "--layers", "1", "--output", output]), status: 64,
                    mentions: ["--neurons \(16 << 40)", "needs", "this machine has"])
        assertFails(try sprig(["challenge", "generate", "--neurons", "65536", "--layers", "1000000000", "--output", output]), status: 64,
                    mentions: ["--layers 1000000000", "on disk", "free"])
        for threshold in ["1", "-0.5", "nan", "inf"] {
            assertFails(try sprig(["challenge", "generate", "--neurons", "1024", "--layers", "1", "--threshold", threshold, "--output", output]),
                        status: 64, mentions: ["--threshold", "[0, 1)"])
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: output))
    }

    // Item 16: more inputs than the data set has are refused, before anything is written.
    func testGenerateRefusesMoreInputsThanTheDataSetHas() throws {
        let data = try TestFiles.makeDirectory(self)
        func idx(_ dims: [Int], _ data: [UInt8]) -> [UInt8] {
            var bytes: [UInt8] = [0, 0, 0x08, UInt8(dims.count)]
            for d in dims { bytes += [UInt8(d >> 24 & 255), UInt8(d >> 16 & 255), UInt8(d >> 8 & 255), UInt8(d & 255)] }
            return bytes + data
        }
        for (prefix, n) in [("train", 30), ("t10k", 5)] {
            try TestFiles.write(idx([n, 28, 28], (0..<(n * 784)).map { UInt8($0 % 251) }), to: "\(data)/\(prefix)-images-idx3-ubyte")
            try TestFiles.write(idx([n], (0..<n).map { UInt8($0 % 10) }), to: "\(data)/\(prefix)-labels-idx1-ubyte")
        }
        let output = try TestFiles.makeDirectory(self) + "/net"
        let refused = try sprig(["challenge", "generate", "--neurons", "1024", "--layers", "2", "--inputs", "31",
                                 "--data-dir", data, "--output", output])
        assertFails(refused, status: 64, mentions: ["--inputs", "31", "30 images"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: output), "nothing is written")
        let accepted = try sprig(["challenge", "generate", "--neurons", "1024", "--layers", "2", "--inputs", "30",
                                  "--data-dir", data, "--output", output])
        XCTAssertEqual(accepted.status, 0, accepted.errors)
        XCTAssertTrue(accepted.output.contains("wrote 30 inputs"), accepted.output)
    }

    // Item 12: an output directory that cannot be made is named with the cause in words.
    func testGenerateIntoAPathUnderAFileNamesTheCause() throws {
        let dir = try TestFiles.makeDirectory(self)
        FileManager.default.createFile(atPath: dir + "/file", contents: Data("keep".utf8))
        let result = try sprig(["challenge", "generate", "--neurons", "1024", "--layers", "1", "--inputs", "0",
                                "--output", dir + "/file/nets"])
        assertFails(result, status: 1, mentions: [dir + "/file/nets", "cannot create the output directory: Not a directory"])
        XCTAssertFalse(result.errors.contains("NSCocoaErrorDomain"), result.errors)
        // --categories-out where no file can be written is refused before the network is read.
        let net = try network(neurons: 32, layers: 1)
        let inputs = dir + "/in.tsv"
        try "1\t1\t1\n".write(toFile: inputs, atomically: true, encoding: .utf8)
        let out = try sprig(["challenge", "run", "--network", net, "--neurons", "32", "--layers", "1", "--inputs", inputs,
                             "--bias", "-0.3", "--categories-out", dir + "/file/c.tsv"])
        assertFails(out, status: 1, mentions: [dir + "/file/c.tsv", "Not a directory"])
        XCTAssertFalse(out.output.contains("sprig challenge:"), out.output)
    }

    // Item 4: ranks that run another bias, network or inputs are named under real mpirun (MPMD).
    func testRanksThatDisagreeAreNamedUnderMPIRun() throws {
        try TestFiles.requireTool(["mpirun", "--version"])
        let net = try network(neurons: 32, layers: 3)
        let other = try network(neurons: 32, layers: 4)   // layers 1–3 equal to net's
        let dir = try TestFiles.makeDirectory(self)
        try (lines(image: 1, neurons: 32) + lines(image: 2, neurons: 32)).write(toFile: "\(dir)/in.tsv", atomically: true, encoding: .utf8)
        try (lines(image: 1, neurons: 32) + lines(image: 3, neurons: 32)).write(toFile: "\(dir)/in2.tsv", atomically: true, encoding: .utf8)
        // Layer 2 of `changed` has one value changed: the same pattern, another network.
        let changed = try TestFiles.makeDirectory(self)
        for k in 1...3 { try FileManager.default.copyItem(atPath: "\(net)/n32-l\(k).tsv", toPath: "\(changed)/n32-l\(k).tsv") }
        let layer2 = try String(contentsOfFile: "\(net)/n32-l2.tsv", encoding: .utf8)
        try layer2.replacingOccurrences(of: "6.250000e-02\n", with: "6.250001e-02\n", options: [], range: layer2.range(of: "6.250000e-02\n"))
            .write(toFile: "\(changed)/n32-l2.tsv", atomically: true, encoding: .utf8)
        func command(network: String = net, layers: Int = 3, inputs: String = "\(dir)/in.tsv", bias: String = "-0.3") -> [String] {
            [CommandLineTests.binary, "challenge", "run", "--network", network, "--neurons", "32", "--layers", "\(layers)",
             "--inputs", inputs, "--bias", bias, "--no-cache", "--threads", "1"]
        }
        func mpirun(_ rank0: [String], _ rank1: [String]) throws -> TestFiles.ProcessResult {
            try TestFiles.run(["timeout", "120", "mpirun", "--oversubscribe", "--bind-to", "none", "--allow-run-as-root",
                               "-np", "1"] + rank0 + [":", "-np", "1"] + rank1)
        }
        let same = try mpirun(command(), command())
        XCTAssertEqual(same.status, 0, same.errors)
        XCTAssertTrue(same.output.contains("2 inputs"), same.output)
        for (name, rank1) in [("bias", command(bias: "-0.31")), ("network", command(network: changed)),
                              ("inputs", command(inputs: "\(dir)/in2.tsv")), ("layers", command(network: other, layers: 4))] {
            let result = try mpirun(command(), rank1)
            XCTAssertNotEqual(result.status, 0, "another \(name) on rank 1 was accepted: \(result.output)")
            XCTAssertTrue(result.errors.contains("error: rank 1 differs from rank 0"), "another \(name): \(result.errors)")
            XCTAssertFalse(result.output.contains("categories"), "another \(name): results printed: \(result.output)")
        }
    }

    // One CSR builder: random coordinates in any order, and grouped by row, against a dense
    // reference; a repeated entry is reported by the two entry numbers that repeat.
    func testCSRBuilderAgainstADenseReference() throws {
        var g = RandomGenerator(seed: 4)
        for (rows, columns, grouped) in [(7, 5, false), (7, 5, true), (40, 33, false), (40, 33, true), (3, 1, false)] {
            // Distinct coordinates, each with its entry number as the value; shuffled unless grouped.
            var entries = (0..<rows * columns).filter { _ in g.below(3) == 0 }.map { (row: $0 / columns, column: $0 % columns) }
            g.shuffle(&entries)
            if grouped { entries = entries.enumerated().sorted { ($0.element.row, $0.offset) < ($1.element.row, $1.offset) }.map(\.element) }
            var dense = [Int](repeating: -1, count: rows * columns)   // entry number at (r, c), or −1
            var builder = CSRBuilder(columns: columns)
            for (e, entry) in entries.enumerated() {
                dense[entry.row * columns + entry.column] = e
                builder.append(row: Int32(entry.row), column: Int32(entry.column))
            }
            let (pattern, entryOfSlot) = try builder.build(rows: rows) { _, _, _, _ in SprigError.invalidArgument("repeat") }
            XCTAssertNil(SparsityPattern.invariantViolation(rows: rows, columns: columns, rowOffsets: pattern.rowOffsets,
                                                            columnIndices: pattern.columnIndices))
            var rebuilt = [Int](repeating: -1, count: rows * columns)
            for r in 0..<rows {
                for q in pattern.rowOffsets[r]..<pattern.rowOffsets[r + 1] {
                    rebuilt[r * columns + Int(pattern.columnIndices[q])] = entryOfSlot.map { Int($0[q]) } ?? q
                }
            }
            XCTAssertEqual(rebuilt, dense, "\(rows)×\(columns), grouped \(grouped)")
            XCTAssertEqual(pattern.nonzeroCount, entries.count)
        }
        // Repeats of (2, 1), found whether the entries come grouped or not, named by their entry numbers.
        for coordinates in [[(0, 0), (2, 1), (2, 4), (2, 1)], [(2, 1), (2, 1), (0, 0)], [(2, 1), (0, 3), (1, 1), (2, 1)]] {
            var builder = CSRBuilder(columns: 5)
            for (r, c) in coordinates { builder.append(row: Int32(r), column: Int32(c)) }
            let first = coordinates.firstIndex { $0 == (2, 1) }!, second = coordinates.lastIndex { $0 == (2, 1) }!
            XCTAssertThrowsError(try builder.build(rows: 3) { row, column, earlier, later in
                SprigError.invalidArgument("\(row) \(column) \(earlier) \(later)")
            }) { error in
                XCTAssertEqual(error as? SprigError, .invalidArgument("2 1 \(first) \(second)"), "\(coordinates)")
            }
        }
    }
}
