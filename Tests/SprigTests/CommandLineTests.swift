import Foundation
import XCTest
@testable import Sprig

/// The `sprig` executable on bad input: one `error:` line naming the problem, a non-zero
/// exit, no trap, nothing half-written.
final class CommandLineTests: XCTestCase {
    /// The `sprig` built beside the test bundle.
    static var binary: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("sprig").path
    }

    /// Fails the test when `sprig` was not built beside the test bundle.
    static func requireBinary() throws {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw TestFiles.MissingRequirement(description: "sprig is not built at \(binary) (build with --build-tests)")
        }
    }

    /// Runs the `sprig` built beside the test bundle under `timeout` (exit 124 when it hangs).
    static func sprig(_ arguments: [String], timeout: Int = 300) throws -> TestFiles.ProcessResult {
        try requireBinary()
        return try TestFiles.run(["timeout", "\(timeout)", binary] + arguments)
    }

    func sprig(_ arguments: [String]) throws -> TestFiles.ProcessResult { try Self.sprig(arguments) }

    /// `sprig train` with `train` plus `--metrics` and `--save-weights` in `dir` (w.npz), then
    /// `sprig evaluate --model` of it with `evaluate` plus `--json`: the last epoch's metrics and
    /// the evaluation, as JSON objects. Fails the test when either command fails.
    static func trainThenEvaluate(_ dir: String, train: [String], evaluate: [String]) throws -> (metrics: [String: Any], evaluation: [String: Any]) {
        let trained = try sprig(["train"] + train + ["--metrics", dir + "/m.jsonl", "--save-weights", dir + "/w.npz"])
        XCTAssertEqual(trained.status, 0, trained.errors)
        let evaluated = try sprig(["evaluate", "--model", dir + "/w.npz"] + evaluate + ["--json", dir + "/e.json"])
        XCTAssertEqual(evaluated.status, 0, evaluated.errors)
        func object(_ name: String) throws -> [String: Any] {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/" + name))) as? [String: Any])
        }
        return (try object("m.jsonl"), try object("e.json"))
    }

    /// Runs `train` with tiny synthetic defaults plus `arguments`, expecting one error line containing `mentions`.
    func assertFails(_ arguments: [String], mentions: [String], synthetic: Bool = true,
                     file: StaticString = #filePath, line: UInt = #line) throws {
        let base = synthetic ? ["train", "--dataset", "synthetic", "--layer-sizes", "20,8,3", "--train-size", "50",
                                "--test-size", "10", "--epochs", "1", "--threads", "1"] : ["train", "--threads", "1", "--epochs", "1"]
        let result = try sprig(base + arguments)
        assertOneErrorLine(result, mentions: mentions, context: "\(arguments)", file: file, line: line)
    }

    func testNonsenseFlags() throws {
        try assertFails(["--overall-density", "-0.1"], mentions: ["density"])
        try assertFails(["--overall-density", "1.5"], mentions: ["density"])
        try assertFails(["--densities", "0.5,2"], mentions: ["density 2.0", "layer 2"])
        try assertFails(["--densities", "0.5"], mentions: ["1 values", "2 layers"])
        try assertFails(["--densities", "0.5,x"], mentions: ["--densities", "'x'"])
        try assertFails(["--densities", "0.5,0.5", "--overall-density", "0.1"], mentions: ["not both"])
        try assertFails(["--optimizer", "adagrad"], mentions: ["adagrad"])
        try assertFails(["--optimizer", "nesterov:1.2"], mentions: ["nesterov"])
        try assertFails(["--activation", "swish"], mentions: ["swish"])
        try assertFails(["--loss", "hinge"], mentions: ["hinge"])
        try assertFails(["--lr-schedule", "warmup"], mentions: ["warmup"])
        try assertFails(["--initializer", "orthogonal"], mentions: ["orthogonal"])
        try assertFails(["--batch-size", "0"], mentions: ["--batch-size"])
        try assertFails(["--epochs", "-1"], mentions: ["--epochs"])
        try assertFails(["--threads", "0"], mentions: ["--threads"])
        try assertFails(["--learning-rate", "-1"], mentions: ["--learning-rate"])
        try assertFails(["--layer-sizes", "20,abc,3"], mentions: ["'abc'"])
        try assertFails(["--layer-sizes", "20"], mentions: ["two sizes"])
        try assertFails(["--layer-sizes", "20,0,3"], mentions: ["0"])
        try assertFails(["--dataset", "imagenet"], mentions: ["imagenet"])
        try assertFails(["--bogus"], mentions: ["--bogus"])
    }

    func testLayerSizesThatDoNotMatchTheData() throws {
        let data = try makeFashionLikeDirectory()
        try assertFails(["--data-dir", data, "--layer-sizes", "100,10"], mentions: ["100", "784"], synthetic: false)
        try assertFails(["--data-dir", data, "--layer-sizes", "784,32,7"], mentions: ["7", "10 classes"], synthetic: false)
    }

    func testBadDataFiles() throws {
        try assertFails(["--data-dir", "/nonexistent/sprig-data"], mentions: ["/nonexistent/sprig-data"], synthetic: false)
        let data = try makeFashionLikeDirectory()
        // Wrong magic in the training images.
        var images = try [UInt8](Data(contentsOf: URL(fileURLWithPath: data + "/train-images-idx3-ubyte")))
        images[2] = 0x09
        try TestFiles.write(images, to: data + "/train-images-idx3-ubyte")
        try assertFails(["--data-dir", data], mentions: ["train-images-idx3-ubyte"], synthetic: false)
        // CIFAR file of the wrong size.
        let cifar = try TestFiles.makeDirectory(self)
        for name in ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"] {
            try TestFiles.write([UInt8](repeating: 1, count: name == "data_batch_3.bin" ? 3073 * 2 + 5 : 3073 * 2), to: cifar + "/" + name)
        }
        try assertFails(["--dataset", "cifar10", "--data-dir", cifar, "--layer-sizes", "3072,10"], mentions: ["data_batch_3.bin"], synthetic: false)
    }

    func testBadWeightFiles() throws {
        let dir = try TestFiles.makeDirectory(self)
        try assertFails(["--load-weights", dir + "/missing.npz"], mentions: ["missing.npz"])
        try TestFiles.write(Array("not a zip".utf8), to: dir + "/junk.npz")
        try assertFails(["--load-weights", dir + "/junk.npz"], mentions: ["junk.npz"])
        // Mis-shaped dense W1 (layer 1 is 8×20).
        try NPZArchive.write([("W1", try NPYArray(shape: [8, 19], elements: .float32(.init(repeating: 1, count: 152)))),
                              ("b1", NPYArray(.float32(.init(repeating: 0, count: 8))))], to: dir + "/shape.npz")
        try assertFails(["--load-weights", dir + "/shape.npz"], mentions: ["shape.npz", "W1", "[8, 20]"])
        // Missing layer 2.
        try NPZArchive.write([("W1", try NPYArray(shape: [8, 20], elements: .float32(.init(repeating: 1, count: 160)))),
                              ("b1", NPYArray(.float32(.init(repeating: 0, count: 8))))], to: dir + "/short.npz")
        try assertFails(["--load-weights", dir + "/short.npz"], mentions: ["short.npz", "W2"])
        // A CSR layer whose indices are out of range.
        try NPZArchive.write([("W1.data", NPYArray(.float32([1, 2]))), ("W1.indices", NPYArray(.int32([3, 25]))),
                              ("W1.indptr", NPYArray(.int64([0, 2, 2, 2, 2, 2, 2, 2, 2]))), ("W1.shape", NPYArray(.int64([8, 20]))),
                              ("b1", NPYArray(.float32(.init(repeating: 0, count: 8))))], to: dir + "/range.npz")
        try assertFails(["--load-weights", dir + "/range.npz"], mentions: ["range.npz", "25"])
    }

    /// A save into a missing directory is refused before training starts, and a run that fails
    /// where the file could be written leaves nothing behind (no weights, no temporary file).
    func testSaveWeightsToMissingDirectoryFailsEarly() throws {
        let dir = try TestFiles.makeDirectory(self)
        try assertFails(["--save-weights", "\(dir)/missing/w.npz"], mentions: ["\(dir)/missing"])
        let early = try sprig(["train", "--dataset", "synthetic", "--layer-sizes", "20,8,3", "--train-size", "50", "--test-size", "10",
                               "--epochs", "1", "--threads", "1", "--save-weights", "\(dir)/missing/w.npz"])
        XCTAssertFalse(early.output.contains("epoch 1/1"), "trained before refusing the save: \(early.output)")
        try TestFiles.write(Array("not a zip".utf8), to: dir + "/junk.npz")
        try assertFails(["--load-weights", dir + "/junk.npz", "--save-weights", dir + "/w.npz"], mentions: ["junk.npz"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["junk.npz"])
    }

    func testHelpAndASuccessfulRunWithMetrics() throws {
        let help = try sprig(["train", "--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.output.contains("--overall-density"))
        let dir = try TestFiles.makeDirectory(self)
        let run = try sprig(["train", "--dataset", "synthetic", "--layer-sizes", "20,16,3", "--train-size", "200", "--test-size", "50",
                             "--epochs", "2", "--threads", "1", "--metrics", dir + "/m.jsonl", "--save-weights", dir + "/w.npz"])
        XCTAssertEqual(run.status, 0, run.errors)
        let lines = try String(contentsOfFile: dir + "/m.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
        for (i, line) in lines.enumerated() {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            XCTAssertEqual(object["epoch"] as? Int, i + 1)
            for key in ["loss", "train_accuracy", "test_accuracy", "seconds", "examples_per_second"] {
                XCTAssertNotNil(object[key] as? Double, "metrics line lacks \(key)")
            }
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/w.npz"))
        // Plain lines, not a progress bar, when stdout is not a terminal.
        XCTAssertFalse(run.output.contains("\r"))
        XCTAssertTrue(run.output.contains("epoch 2/2"))
    }

    /// A directory with small valid Fashion-MNIST-format files (60 train, 20 test examples).
    func makeFashionLikeDirectory() throws -> String {
        let dir = try TestFiles.makeDirectory(self)
        func idx(_ dims: [Int], _ data: [UInt8]) -> [UInt8] {
            var bytes: [UInt8] = [0, 0, 0x08, UInt8(dims.count)]
            for d in dims { bytes += [UInt8(d >> 24 & 255), UInt8(d >> 16 & 255), UInt8(d >> 8 & 255), UInt8(d & 255)] }
            return bytes + data
        }
        for (prefix, n) in [("train", 60), ("t10k", 20)] {
            try TestFiles.write(idx([n, 28, 28], (0..<(n * 784)).map { UInt8($0 % 251) }), to: "\(dir)/\(prefix)-images-idx3-ubyte")
            try TestFiles.write(idx([n], (0..<n).map { UInt8($0 % 10) }), to: "\(dir)/\(prefix)-labels-idx1-ubyte")
        }
        return dir
    }
}
