import Foundation
import XCTest
@testable import Sprig

/// `sprig train` (and the MPI commands) on the inputs and faults of issue 16, through the real
/// binary: the exit status (64 usage, 1 bad input file or failed run), one `error:` line naming
/// the problem, nothing half-written, no hang, and no lost work.
final class TrainHardeningTests: XCTestCase {
    var binary: String { CommandLineTests.binary }

    /// A tiny synthetic run (50 examples, 20-8-3) plus `extra`.
    func tiny(_ extra: [String]) -> [String] {
        ["train", "--dataset", "synthetic", "--layer-sizes", "20,8,3", "--train-size", "50", "--test-size", "10",
         "--threads", "1"] + extra
    }

    /// Runs the binary under `timeout` (exit 124 when it hangs).
    func sprig(_ arguments: [String], timeout: Int = 120) throws -> TestFiles.ProcessResult {
        try CommandLineTests.sprig(arguments, timeout: timeout)
    }

    /// Expects exit `status` and exactly one stderr line, `error: …`, containing each of `mentions`.
    func assertError(_ result: TestFiles.ProcessResult, status: Int32, mentions: [String],
                     file: StaticString = #filePath, line: UInt = #line) {
        assertOneErrorLine(result, status: status, mentions: mentions, file: file, line: line)
    }

    func metricsLines(_ path: String) throws -> [[String: Any]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    /// The parameters in a weights file of the tiny network (the file's bytes hold a time stamp).
    func parameters(_ path: String) throws -> [Float] {
        try WeightsFile.load(path: path, configuration: NetworkConfiguration(layerSizes: [20, 8, 3], densities: [1, 1])).parameters.values.array
    }

    func checkpoints(_ directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".sprig") }.sorted()
    }

    // MARK: 1. resuming a finished run

    func testResumingAFinishedRunWritesItsWeightsAndSaysSo() throws {
        let dir = try TestFiles.makeDirectory(self)
        let first = try sprig(tiny(["--epochs", "2", "--checkpoint-dir", dir + "/ck", "--checkpoint-every", "1",
                                    "--save-weights", dir + "/first.npz"]))
        XCTAssertEqual(first.status, 0, first.errors)
        // --epochs left out: the checkpoint's 2 epochs stand, all done.
        let resumed = try sprig(tiny(["--resume", "--checkpoint-dir", dir + "/ck", "--save-weights", dir + "/resumed.npz"]), timeout: 60)
        XCTAssertEqual(resumed.status, 0, resumed.errors)
        XCTAssertTrue(resumed.output.contains("nothing left to train"), resumed.output)
        XCTAssertFalse(resumed.output.contains("epoch 3/"), resumed.output)
        XCTAssertEqual(try parameters(dir + "/resumed.npz"), try parameters(dir + "/first.npz"))
        // The same with --epochs equal to the checkpoint's.
        let equal = try sprig(tiny(["--resume", "--checkpoint-dir", dir + "/ck", "--epochs", "2", "--save-weights", dir + "/equal.npz"]),
                              timeout: 60)
        XCTAssertEqual(equal.status, 0, equal.errors)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/equal.npz"))
        // Fewer epochs than the checkpoint has finished: refused.
        let fewer = try sprig(tiny(["--resume", "--checkpoint-dir", dir + "/ck", "--epochs", "1"]), timeout: 60)
        assertError(fewer, status: 64, mentions: ["--epochs 1", "2 epochs"])
    }

    // MARK: 3. a full disk under the metrics file

    func testAFullDiskForTheMetricsEndsTheRunWithAnErrorAndKeepsTheWork() throws {
        guard FileManager.default.fileExists(atPath: "/dev/full") else {
            throw TestFiles.MissingRequirement(description: "/dev/full is missing: the full-disk test needs it")
        }
        let dir = try TestFiles.makeDirectory(self)
        let result = try sprig(tiny(["--epochs", "3", "--metrics", "/dev/full", "--checkpoint-dir", dir + "/ck",
                                     "--checkpoint-every", "1", "--save-weights", dir + "/w.npz"]))
        assertError(result, status: 1, mentions: ["/dev/full", "No space left on device"])
        XCTAssertEqual(checkpoints(dir + "/ck").count, 1, "the checkpoint of epoch 1 is kept")
        XCTAssertTrue(result.output.contains("weights trained so far (epoch 1)"), result.output)
        XCTAssertTrue(try parameters(dir + "/w.npz").allSatisfy(\.isFinite))
    }

    // MARK: 4. ranks that differ

    /// Runs rank 0 with `first` and rank 1 with `second` (MPMD) and expects the mismatch error naming rank 1.
    func assertRanksDiffer(_ first: [String], _ second: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        try TestFiles.requireTool(["mpirun", "--version"])
        try CommandLineTests.requireBinary()
        let result = try TestFiles.run(["timeout", "60", "mpirun", "--oversubscribe", "--bind-to", "none", "--allow-run-as-root",
                                        "-np", "1", binary] + first + [":", "-np", "1", binary] + second)
        XCTAssertNotEqual(result.status, 124, "the job hung", file: file, line: line)
        XCTAssertEqual(result.status, 64, result.errors, file: file, line: line)
        XCTAssertTrue(result.errors.contains("error: rank 1 differs from rank 0"), result.errors, file: file, line: line)
    }

    func testRanksWithAnotherTestSizeOrStepLimitAreNamed() throws {
        let job = ["train", "--dataset", "synthetic", "--layer-sizes", "30,24,5", "--train-size", "103", "--test-size", "20",
                   "--batch-size", "10", "--epochs", "2", "--threads", "1"]
        try assertRanksDiffer(job, job + ["--test-size", "21"])
        try assertRanksDiffer(job, job + ["--max-steps", "5"])
    }

    /// A directory of Fashion-MNIST-format files: 60 training and 20 test images of 28×28.
    func makeImages(changing change: (inout [UInt8], inout [UInt8]) -> Void = { _, _ in }) throws -> String {
        let dir = try TestFiles.makeDirectory(self)
        func idx(_ dims: [Int], _ data: [UInt8]) -> [UInt8] {
            var bytes: [UInt8] = [0, 0, 0x08, UInt8(dims.count)]
            for d in dims { bytes += [UInt8(d >> 24 & 255), UInt8(d >> 16 & 255), UInt8(d >> 8 & 255), UInt8(d & 255)] }
            return bytes + data
        }
        var train = (0..<(60 * 784)).map { UInt8($0 % 251) }
        var test = (0..<(20 * 784)).map { UInt8($0 % 247) }
        change(&train, &test)
        try TestFiles.write(idx([60, 28, 28], train), to: dir + "/train-images-idx3-ubyte")
        try TestFiles.write(idx([20, 28, 28], test), to: dir + "/t10k-images-idx3-ubyte")
        for (prefix, n) in [("train", 60), ("t10k", 20)] {
            try TestFiles.write(idx([n], (0..<n).map { UInt8($0 % 10) }), to: "\(dir)/\(prefix)-labels-idx1-ubyte")
        }
        return dir
    }

    func testRanksWithOnePixelChangedInTrainingOrTestDataAreNamed() throws {
        let same = try makeImages()
        // One pixel of training example 37 and one of test example 13: neither is sampled by a stride of examples.
        let trainPixel = try makeImages { train, _ in train[37 * 784 + 400] &+= 1 }
        let testPixel = try makeImages { _, test in test[13 * 784 + 5] &+= 1 }
        let job = ["train", "--layer-sizes", "784,10", "--batch-size", "10", "--epochs", "1", "--threads", "1", "--data-dir"]
        try assertRanksDiffer(job + [same], job + [trainPixel])
        try assertRanksDiffer(job + [same], job + [testPixel])
    }

    /// The data fingerprint covers every byte and label (and says how long Fashion-MNIST takes).
    func testTheDataFingerprintCoversEveryExample() throws {
        let data = SyntheticDataset.make(featureCount: 30, classCount: 4, trainCount: 500, testCount: 0, seed: 2).train
        guard case .bytes(let storage, let values) = data.storage else { return XCTFail("synthetic data is stored as bytes") }
        let bytes = storage.withUnsafeBufferPointer { Array($0) }
        for position in [0, 4321, bytes.count - 1] {
            var changed = bytes
            changed[position] &+= 1
            let other = Dataset(name: data.name, featureCount: 30, classCount: 4, bytes: changed, values: values, labels: data.labels)
            XCTAssertNotEqual(other.fingerprint, data.fingerprint, "byte \(position)")
        }
        var relabelled = data
        relabelled.labels[321] = (relabelled.labels[321] + 1) % 4
        XCTAssertNotEqual(relabelled.fingerprint, data.fingerprint)
        if let fashion = try? MNISTLoader.load(directory: DatasetKind.fashionMNISTDirectory, name: "fashion-mnist") {
            let clock = Stopwatch()
            _ = fashion.train.fingerprint ^ fashion.test.fingerprint
            print("fingerprint of Fashion-MNIST (train and test): \(clock.seconds) s")
        }
    }

    // MARK: 5, 6. sizes from users

    func testAHugeBatchTrainsOnTheWholeSet() throws {
        for batch in ["9223372036854775807", "100000000"] {
            let result = try sprig(tiny(["--epochs", "1", "--batch-size", batch]))
            XCTAssertEqual(result.status, 0, "--batch-size \(batch): \(result.errors)")
            XCTAssertTrue(result.output.contains("epoch 1/1"), result.output)
        }
        XCTAssertEqual(Trainer.workspaceCapacity(batchSize: .max, trainingExamples: 50, ranks: 2), 25)
        XCTAssertEqual(Trainer.workspaceCapacity(batchSize: 100, trainingExamples: 60_000, ranks: 3), 34)
    }

    func testSizesThatCannotFitAreRefusedWithTheMemoryNeeded() throws {
        let wide = try sprig(tiny(["--layer-sizes", "20,100000000000,3"]))
        assertError(wide, status: 64, mentions: ["20,100000000000,3", "needs", "GiB", "this machine has"])
        let overflow = try sprig(tiny(["--layer-sizes", "20,9223372036854775807,3", "--densities", "1,1"]))
        assertError(overflow, status: 64, mentions: ["too large"])
        let data = try sprig(tiny(["--train-size", "100000000000000"]))
        assertError(data, status: 64, mentions: ["--train-size", "needs", "this machine has"])
        let threads = try sprig(tiny(["--threads", "9223372036854775807"]))
        assertError(threads, status: 64, mentions: ["--threads 9223372036854775807", "4096"])
    }

    // MARK: 8, 19. the metrics file and the checkpoint directory

    func testResumingAppendsToTheMetricsFile() throws {
        let dir = try TestFiles.makeDirectory(self)
        let common = ["--checkpoint-dir", dir + "/ck", "--checkpoint-every", "1", "--metrics", dir + "/m.jsonl"]
        XCTAssertEqual(try sprig(tiny(common + ["--epochs", "2"])).status, 0)
        let resumed = try sprig(tiny(common + ["--epochs", "3", "--resume"]))
        XCTAssertEqual(resumed.status, 0, resumed.errors)
        XCTAssertEqual(try metricsLines(dir + "/m.jsonl").map { $0["epoch"] as? Int }, [1, 2, 3])
        // A fresh run starts a new file.
        XCTAssertEqual(try sprig(tiny(["--epochs", "1", "--metrics", dir + "/m.jsonl"])).status, 0)
        XCTAssertEqual(try metricsLines(dir + "/m.jsonl").map { $0["epoch"] as? Int }, [1])
    }

    func testAFailedStartLeavesNoMetricsFileOrCheckpointDirectory() throws {
        let dir = try TestFiles.makeDirectory(self)
        let leftovers = ["--metrics", dir + "/m.jsonl", "--checkpoint-dir", dir + "/ck", "--checkpoint-every", "1"]
        let missing = try sprig(tiny(leftovers + ["--load-weights", dir + "/missing.npz"]))
        assertError(missing, status: 1, mentions: ["missing.npz"])
        let shape = try sprig(["train", "--threads", "1", "--data-dir", try makeImages(), "--layer-sizes", "100,10"] + leftovers)
        assertError(shape, status: 64, mentions: ["100", "784"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/m.jsonl"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/ck"))
    }

    /// A checkpoint directory that is a file is refused before training, not after the first epoch.
    func testACheckpointDirectoryThatIsAFileIsRefusedBeforeTraining() throws {
        let dir = try TestFiles.makeDirectory(self)
        FileManager.default.createFile(atPath: dir + "/file", contents: Data("keep".utf8))
        let result = try sprig(tiny(["--epochs", "1", "--checkpoint-dir", dir + "/file", "--checkpoint-every", "1"]))
        assertError(result, status: 1, mentions: [dir + "/file", "Not a directory"])
        XCTAssertFalse(result.output.contains("epoch 1/1"), result.output)
        XCTAssertEqual(try String(contentsOfFile: dir + "/file", encoding: .utf8), "keep")
    }

    // MARK: 9. non-finite numbers

    func testANonFiniteLossStopsTheRunAndKeepsTheLastGoodCheckpoint() throws {
        let dir = try TestFiles.makeDirectory(self)
        let result = try sprig(tiny(["--epochs", "3", "--learning-rate", "1e30", "--batch-size", "10", "--checkpoint-dir", dir + "/ck",
                                     "--checkpoint-every-steps", "1", "--save-weights", dir + "/w.npz"]))
        assertError(result, status: 1, mentions: ["loss became non-finite at epoch 1, step 2"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/w.npz"))
        let kept = checkpoints(dir + "/ck")
        XCTAssertFalse(kept.isEmpty)
        for name in kept {
            let checkpoint = try CheckpointFile.decode(try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/ck/" + name))), path: name)
            XCTAssertTrue(checkpoint.values.allSatisfy(\.isFinite), "\(name) holds non-finite values")
        }
    }

    func testNonFiniteFlagsAreRefused() throws {
        let cases: [([String], String)] = [
            (["--learning-rate", "nan"], "--learning-rate"), (["--learning-rate", "inf"], "--learning-rate"),
            (["--weight-decay", "nan"], "--weight-decay"), (["--overall-density", "nan"], "density"),
            (["--densities", "nan,0.5"], "density"), (["--activation", "leaky_relu:nan"], "leaky_relu:nan"),
            (["--lr-schedule", "exponential:inf"], "exponential:inf"), (["--optimizer", "momentum:nan"], "momentum:nan"),
        ]
        for (flags, mention) in cases { assertError(try sprig(tiny(flags)), status: 64, mentions: [mention]) }
    }

    // MARK: 13, 14. negative numbers and exit codes

    func testNegativeNumbersReachTheirChecks() throws {
        let cases: [([String], String)] = [
            (["--batch-size", "-1"], "--batch-size -1 is not positive"), (["--epochs", "-2"], "--epochs -2"),
            (["--learning-rate", "-0.5"], "--learning-rate -0.5"), (["--weight-decay", "-1"], "--weight-decay -1.0"),
            (["--train-size", "-5"], "--train-size -5"), (["--test-size", "-1"], "--test-size -1"),
            (["--max-steps", "-1"], "--max-steps -1"), (["--threads", "-1"], "--threads -1"),
            (["--overall-density", "-0.1"], "-0.1"), (["--densities", "-0.5,0.5"], "-0.5"), (["--seed", "-1"], "-1"),
            (["--checkpoint-every", "-1", "--checkpoint-dir", "/tmp"], "--checkpoint-every -1"),
        ]
        for (flags, mention) in cases { assertError(try sprig(tiny(flags)), status: 64, mentions: [mention]) }
        assertError(try sprig(["mpi-bench", "--repetitions", "-1"]), status: 64, mentions: ["--repetitions -1"])
        assertError(try sprig(["mpi-selftest", "--count", "-1"]), status: 64, mentions: ["--count -1"])
    }

    func testExitStatusOfABadFlagABadValueAndABadDataFile() throws {
        assertError(try sprig(tiny(["--no-such-flag"])), status: 64, mentions: ["--no-such-flag"])
        assertError(try sprig(tiny(["--optimizer", "adagrad"])), status: 64, mentions: ["adagrad"])
        assertError(try sprig(tiny(["--densities", "0.5,0.5", "--overall-density", "0.1"])), status: 64, mentions: ["not both"])
        let data = try makeImages()
        var images = try [UInt8](Data(contentsOf: URL(fileURLWithPath: data + "/train-images-idx3-ubyte")))
        images[2] = 0x09
        try TestFiles.write(images, to: data + "/train-images-idx3-ubyte")
        assertError(try sprig(["train", "--threads", "1", "--data-dir", data, "--layer-sizes", "784,10"]), status: 1,
                    mentions: ["train-images-idx3-ubyte"])
    }

    func testExitStatusUnderMPI() throws {
        try TestFiles.requireTool(["mpirun", "--version"])
        let mpirun = ["timeout", "60", "mpirun", "-np", "2", "--oversubscribe", "--bind-to", "none", "--allow-run-as-root", binary]
        let value = try TestFiles.run(mpirun + tiny(["--batch-size", "-3"]))
        XCTAssertEqual(value.status, 64, value.errors)
        XCTAssertTrue(value.errors.contains("error: --batch-size -3 is not positive"), value.errors)
        let file = try TestFiles.run(mpirun + ["train", "--threads", "1", "--data-dir", "/nonexistent-sprig", "--layer-sizes", "784,10"])
        XCTAssertEqual(file.status, 1, file.errors)
        XCTAssertTrue(file.errors.contains("/nonexistent-sprig"), file.errors)
        let loss = try TestFiles.run(mpirun + tiny(["--epochs", "2", "--batch-size", "10", "--learning-rate", "1e30"]))
        XCTAssertEqual(loss.status, 1, loss.errors)
        XCTAssertEqual(loss.errors.components(separatedBy: "error: loss became non-finite").count, 2, "printed once: \(loss.errors)")
    }

    // MARK: 15. flags that conflict with the checkpoint

    func testResumeRefusesFlagsThatDifferFromTheCheckpoint() throws {
        let dir = try TestFiles.makeDirectory(self)
        let ck = ["--checkpoint-dir", dir + "/ck", "--checkpoint-every", "1"]
        XCTAssertEqual(try sprig(tiny(ck + ["--epochs", "1", "--learning-rate", "0.02"])).status, 0)
        let cases: [([String], [String])] = [
            (["--learning-rate", "0.1"], ["--learning-rate 0.1", "0.02"]),
            (["--batch-size", "7"], ["--batch-size 7", "100"]),
            (["--overall-density", "0.5"], ["--overall-density 0.5", "0.05"]),
            (["--fan-in", "dense"], ["--fan-in dense", "per-row"]),
            (["--seed", "9"], ["--seed 9", "1"]),
        ]
        for (flags, mentions) in cases {
            assertError(try sprig(tiny(ck + ["--resume", "--epochs", "2"] + flags)), status: 64, mentions: ["--resume"] + mentions)
        }
        // The same values, given again, and --epochs extending the run are accepted.
        let agreeing = try sprig(tiny(ck + ["--resume", "--epochs", "2", "--learning-rate", "0.02", "--overall-density", "0.05"]))
        XCTAssertEqual(agreeing.status, 0, agreeing.errors)
        XCTAssertTrue(agreeing.output.contains("epoch 2/2"), agreeing.output)
    }

    // MARK: 16. degenerate inputs

    func testLayersWithoutWeightsAreRefused() throws {
        assertError(try sprig(tiny(["--overall-density", "1e-12"])), status: 64, mentions: ["layer 1", "no weights", "at least"])
    }

    func testAnEmptyTestSetIsReportedAsNone() throws {
        let dir = try TestFiles.makeDirectory(self)
        let result = try sprig(tiny(["--epochs", "1", "--test-size", "0", "--metrics", dir + "/m.jsonl"]))
        XCTAssertEqual(result.status, 0, result.errors)
        XCTAssertTrue(result.output.contains("test —"), result.output)
        XCTAssertFalse(result.output.contains("test 0.00"), result.output)
        let line = try XCTUnwrap(try metricsLines(dir + "/m.jsonl").first)
        XCTAssertTrue(line["test_accuracy"] is NSNull, "\(line)")
        XCTAssertTrue(line["test_loss"] is NSNull, "\(line)")
    }

    // MARK: 18. per-row fan-in, the default

    /// Per-row: weight (i, j) and bias i ~ U(±1/√nnz(row i)) under the pytorch initializer.
    func testPerRowFanInScalesEachRowByItsOwnNonzeros() throws {
        var configuration = NetworkConfiguration(layerSizes: [400, 300, 10], densities: [0.05, 1], fanIn: .perRow, seed: 4)
        let network = try Network(configuration)
        let layer = try XCTUnwrap(network.linearLayers[0] as? SparseLinear)
        let weights = network.values(of: layer.weights), bias = network.values(of: layer.bias)
        var largestRatio: Float = 0
        for i in 0..<layer.pattern.rows {
            let range = layer.pattern.rowOffsets[i]..<layer.pattern.rowOffsets[i + 1]
            let bound = 1 / Float(max(range.count, 1)).squareRoot()
            for k in range { largestRatio = max(largestRatio, abs(weights[k]) / bound) }
            XCTAssertLessThanOrEqual(abs(bias[i]), bound)
        }
        XCTAssertLessThanOrEqual(largestRatio, 1)
        XCTAssertGreaterThan(largestRatio, 0.9)
        // The same draws as dense fan-in, scaled: row i by √(D/nnz_i).
        configuration.fanIn = .dense
        let dense = try Network(configuration)
        let denseWeights = dense.values(of: dense.linearLayers[0].weights)
        for i in [0, 17, 299] {
            let range = layer.pattern.rowOffsets[i]..<layer.pattern.rowOffsets[i + 1]
            for k in range {
                XCTAssertEqual(weights[k], denseWeights[k] * (400 / Float(range.count)).squareRoot(), accuracy: 1e-5)
            }
        }
    }

    func testTheDefaultFanInIsPerRow() throws {
        let dir = try TestFiles.makeDirectory(self)
        for fanIn in ["default", "per-row", "dense"] {
            let flags = fanIn == "default" ? [] : ["--fan-in", fanIn]
            XCTAssertEqual(try sprig(tiny(["--epochs", "0", "--save-weights", "\(dir)/\(fanIn).npz"] + flags)).status, 0)
        }
        let values = try ["default", "per-row", "dense"].map { try parameters("\(dir)/\($0).npz") }
        XCTAssertEqual(values[0], values[1])
        XCTAssertNotEqual(values[0], values[2])
    }

    // MARK: the launcher's variables

    func testTheLauncherReadsItsVariables() {
        let names = ["OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_SIZE"]
        let saved = names.map { ProcessInfo.processInfo.environment[$0] }
        defer { for (name, value) in zip(names, saved) { if let value { setenv(name, value, 1) } else { unsetenv(name) } } }
        setenv("OMPI_COMM_WORLD_RANK", "3", 1)
        setenv("OMPI_COMM_WORLD_LOCAL_RANK", "1", 1)
        setenv("OMPI_COMM_WORLD_LOCAL_SIZE", "2", 1)
        XCTAssertEqual(Launcher.rank, 3)
        XCTAssertEqual(Launcher.localRank, 1)
        XCTAssertEqual(Launcher.localSize, 2)
        XCTAssertEqual(Launcher.defaultThreads, max(1, ProcessInfo.processInfo.activeProcessorCount / 2))
        for name in names { unsetenv(name) }
        XCTAssertEqual(Launcher.rank, 0)
        XCTAssertEqual(Launcher.localSize, 1)
    }
}
