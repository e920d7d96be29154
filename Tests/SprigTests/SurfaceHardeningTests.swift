import Foundation
import XCTest
@testable import Sprig

/// The command line's side of issue 25, through the real binary where a user would meet it:
/// malformed SReLU parameters, impossible batch-norm statistics, per-epoch metrics of dynamic
/// sparse training, resuming on other data, arrays a weights file holds for no layer, the
/// compaction record of a shrunk network, and the optimizer's messages.
final class SurfaceHardeningTests: XCTestCase {
    /// A tiny synthetic run (200 examples, 20-…-3) plus `extra`.
    func tiny(_ extra: [String], sizes: String = "20,16,3") -> [String] {
        ["train", "--dataset", "synthetic", "--layer-sizes", sizes, "--train-size", "200", "--test-size", "100",
         "--threads", "1"] + extra
    }

    func sprig(_ arguments: [String], timeout: Int = 120) throws -> TestFiles.ProcessResult {
        try CommandLineTests.sprig(arguments, timeout: timeout)
    }

    func metricsLines(_ path: String) throws -> [[String: Any]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    // Item 10: every part of SReLU(al,tl,ar,tr) must be a number; none is skipped.
    func testMalformedSReLUParametersAreRefused() throws {
        for entry in ["SReLU(0,abc,0,0,1)", "SReLU(0,,0,0,1)", "SReLU(0,0,0,1,)", "SReLU(0,0,0)", "SReLU(0,0,0,nan)"] {
            let result = try sprig(tiny(["--layers", "\(entry);ReLU;Linear", "--layer-sizes", "20,16,8,3", "--epochs", "1"]))
            assertOneErrorLine(result, status: 64, mentions: [entry, "four finite numbers"], context: entry)
        }
        let good = try sprig(tiny(["--layers", "SReLU(0, 0.1, 0, 1);ReLU;Linear", "--layer-sizes", "20,16,8,3", "--epochs", "1"]))
        XCTAssertEqual(good.status, 0, good.errors)
    }

    // Item 7: a negative running variance is refused naming the array; statistics that make
    // the test loss overflow stop the run as a non-finite training loss does.
    func testImpossibleBatchNormStatisticsAreRefusedAndAnOverflowingEvaluationStopsTheRun() throws {
        let dir = try TestFiles.makeDirectory(self)
        let layers = ["--layers", "ReLU;BatchNorm;SReLU;Linear", "--layer-sizes", "20,16,8,3"]
        let made = try sprig(tiny(layers + ["--epochs", "1", "--save-weights", dir + "/w.npz"]))
        XCTAssertEqual(made.status, 0, made.errors)
        var arrays = try NPZArchive.read(path: dir + "/w.npz")
        func write(_ name: String) throws -> String {
            try NPZArchive.write(arrays.map { (name: $0.key, array: $0.value) }, to: dir + "/" + name)
            return dir + "/" + name
        }
        arrays["bn1.var"] = NPYArray(.float32([Float](repeating: -1, count: 16)))
        let negative = try sprig(tiny(layers + ["--epochs", "1", "--load-weights", try write("negative.npz"),
                                                "--metrics", dir + "/negative.jsonl"]))
        assertOneErrorLine(negative, status: 1, mentions: ["negative.npz", "bn1.var[0]", "-1", "cannot be negative"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/negative.jsonl"))

        arrays["bn1.var"] = NPYArray(.float32([Float](repeating: 0, count: 16)))
        arrays["bn1.mean"] = NPYArray(.float32([Float](repeating: 3e38, count: 16)))
        let overflow = try sprig(tiny(layers + ["--epochs", "1", "--load-weights", try write("overflow.npz"),
                                                "--metrics", dir + "/overflow.jsonl"]))
        assertOneErrorLine(overflow, status: 1, mentions: ["test loss became non-finite", "epoch 1"])
        XCTAssertFalse(overflow.errors.contains("EncodingError"), overflow.errors)
    }

    // Item 12: an epoch's test metrics are those of the network it trained: with the same seed,
    // epoch 1 trains alike with and without a prune rule, so its evaluation must agree; the
    // regrow before epoch 2 is counted on epoch 2's line.
    func testEachEpochIsEvaluatedOnTheNetworkItTrained() throws {
        let dir = try TestFiles.makeDirectory(self)
        let common = tiny(["--epochs", "3", "--densities", "0.5,0.5", "--learning-rate", "0.1"], sizes: "20,64,3")
        let staticRun = try sprig(common + ["--metrics", dir + "/static.jsonl"])
        XCTAssertEqual(staticRun.status, 0, staticRun.errors)
        for grow in ["random", "gradient"] {
            let pruned = try sprig(common + ["--prune", "magnitude:0.9", "--grow", grow, "--metrics", dir + "/\(grow).jsonl"])
            XCTAssertEqual(pruned.status, 0, pruned.errors)
            let a = try metricsLines(dir + "/static.jsonl"), b = try metricsLines(dir + "/\(grow).jsonl")
            XCTAssertEqual(a[0]["loss"] as? Double, b[0]["loss"] as? Double, "epoch 1 trains alike")
            XCTAssertEqual(a[0]["test_loss"] as? Double, b[0]["test_loss"] as? Double, "epoch 1 is evaluated on what it trained")
            XCTAssertEqual(a[0]["test_accuracy"] as? Double, b[0]["test_accuracy"] as? Double)
            XCTAssertEqual(b[0]["regrown"] as? Int ?? 0, 0, "no regrow happens in epoch 1")
            XCTAssertGreaterThan(b[1]["regrown"] as? Int ?? 0, 0, "the regrow before epoch 2 is epoch 2's")
            XCTAssertNotEqual(a[1]["test_loss"] as? Double, b[1]["test_loss"] as? Double)
        }
    }

    // Item 12: the checkpoint of an epoch's end holds the topology step taken after its
    // evaluation, so a run resumed there continues bitwise.
    func testResumingAtAnEpochsEndAfterItsRegrowIsBitwise() throws {
        let dir = try TestFiles.makeDirectory(self)
        let common = tiny(["--densities", "0.5,0.5", "--prune", "magnitude:0.3", "--grow", "gradient"], sizes: "20,64,3")
        let whole = try sprig(common + ["--epochs", "3", "--save-weights", dir + "/whole.npz"])
        XCTAssertEqual(whole.status, 0, whole.errors)
        let first = try sprig(common + ["--epochs", "3", "--max-steps", "4", "--checkpoint-dir", dir + "/ck", "--checkpoint-every", "1"])
        XCTAssertEqual(first.status, 0, first.errors)   // 2 epochs of 2 steps
        let resumed = try sprig(common + ["--resume", "--checkpoint-dir", dir + "/ck", "--save-weights", dir + "/resumed.npz"])
        XCTAssertEqual(resumed.status, 0, resumed.errors)
        let a = try NPZArchive.read(path: dir + "/whole.npz"), b = try NPZArchive.read(path: dir + "/resumed.npz")
        XCTAssertEqual(a.keys.sorted(), b.keys.sorted())
        for name in a.keys { XCTAssertEqual(a[name], b[name], name) }
    }

    // Item 14: a run resumed on other data is refused, naming both.
    func testResumingOnOtherDataIsRefusedNamingBoth() throws {
        let dir = try TestFiles.makeDirectory(self)
        let first = try sprig(tiny(["--epochs", "1", "--checkpoint-dir", dir + "/ck", "--checkpoint-every", "1"]))
        XCTAssertEqual(first.status, 0, first.errors)
        var other = tiny(["--epochs", "2", "--resume", "--checkpoint-dir", dir + "/ck"])
        other[other.firstIndex(of: "200")!] = "150"
        let refused = try sprig(other)
        assertOneErrorLine(refused, status: 64, mentions: ["--resume", "150 examples", "200 examples", "differ"])
        let same = try sprig(tiny(["--epochs", "2", "--resume", "--checkpoint-dir", dir + "/ck"]))
        XCTAssertEqual(same.status, 0, same.errors)
    }

    // Smaller: arrays a weights file holds for no layer are refused, not ignored.
    func testArraysForLayersTheNetworkLacksAreRefused() throws {
        let dir = try TestFiles.makeDirectory(self)
        let made = try sprig(tiny(["--layers", "ReLU;BatchNorm;Linear", "--epochs", "1", "--save-weights", dir + "/bn.npz"]))
        XCTAssertEqual(made.status, 0, made.errors)
        // The file describes its layers: other --layers beside it are refused naming both.
        let other = try sprig(tiny(["--epochs", "1", "--load-weights", dir + "/bn.npz", "--layers", "ReLU;Linear"]))
        assertOneErrorLine(other, status: 64, mentions: ["--layers", "differs from the model file's", "batch-norm", "bn.npz"])
        // A file without its description (an older sprig's): the flags give the layers, and
        // arrays for a layer they lack are refused.
        var arrays = try NPZArchive.read(path: dir + "/bn.npz")
        arrays[ModelDescription.arrayName] = nil
        try NPZArchive.write(arrays.map { (name: $0.key, array: $0.value) }, to: dir + "/old.npz")
        let result = try sprig(tiny(["--epochs", "1", "--load-weights", dir + "/old.npz"]))   // --layers left out: no batch norm
        assertOneErrorLine(result, status: 1, mentions: ["old.npz", "array beta1 belongs to no layer"])
    }

    // Smaller: the compaction record of a shrunk network survives saving and loading, so a
    // loaded network shrunk again still maps back to the original; a record with a density
    // of 0 is refused.
    func testTheCompactionRecordRoundTripsAndIsChecked() throws {
        let dir = try TestFiles.makeDirectory(self)
        var configuration = NetworkConfiguration(layerSizes: [6, 3, 2, 4], densities: [0.5, 1, 1], seed: 2)
        configuration.compaction = Compaction(originalLayerSizes: [6, 8, 5, 4], originalDensities: [0.25, 0.5, 1],
                                              kept: [[1, 4, 7], [0, 3]])
        let network = try Network(configuration)
        try WeightsFile.save(network, path: dir + "/w.npz")
        var given = configuration
        given.compaction = nil   // the user gives the compact sizes only
        let loaded = try WeightsFile.load(path: dir + "/w.npz", configuration: given)
        XCTAssertEqual(loaded.configuration.compaction, configuration.compaction)
        XCTAssertEqual(loaded.configuration.originalLayerSizes, [6, 8, 5, 4])

        var zero = configuration
        zero.compaction?.originalDensities = [0, 0.5, 1]
        assertSprigError(try zero.validate(), kind: .invalidField, mentions: ["original density 0"])
        var arrays = try NPZArchive.read(path: dir + "/w.npz")
        arrays["kept1"] = NPYArray(.int32([1, 9, 7]))   // beyond the original 8, and not ascending
        try NPZArchive.write(arrays.map { (name: $0.key, array: $0.value) }, to: dir + "/bad.npz")
        assertSprigError(try WeightsFile.load(path: dir + "/bad.npz", configuration: given), kind: .format, mentions: ["kept", "hidden layer 1"])
    }

    // Issue 26: an error every rank meets at once (a model file that is not there, a flag
    // that disagrees with it) is printed once, by rank 0, without MPI_ABORT; an error of one
    // rank alone still names its rank and ends the job.
    func testAnErrorOfEveryRankIsPrintedOnceUnderMPI() throws {
        let everyRank = try mpirun(2, ["evaluate", "--model", "/nonexistent/model.npz", "--threads", "1"], timeout: 60)
        XCTAssertNotEqual(everyRank.status, 0)
        let lines = everyRank.errors.split(separator: "\n").filter { $0.hasPrefix("error:") }
        XCTAssertEqual(lines.count, 1, everyRank.errors)
        XCTAssertTrue(lines.first?.contains("/nonexistent/model.npz") == true, everyRank.errors)
        XCTAssertFalse(everyRank.errors.contains("MPI_ABORT"), everyRank.errors)
        XCTAssertFalse(everyRank.errors.contains("rank 0 of 2"), everyRank.errors)
    }

    // Issue 26: a model file defines the network, so flags beside --load-weights are judged
    // against it, not against the default sizes: other densities are refused naming both, and a
    // loss that needs the file's Softmax is accepted without --layers.
    func testFlagsBesideAModelFileAreJudgedAgainstIt() throws {
        let dir = try TestFiles.makeDirectory(self)
        let made = try sprig(tiny(["--densities", "0.5,1", "--layers", "ReLU;Softmax", "--loss", "cross-entropy", "--epochs", "1",
                                   "--save-weights", dir + "/w.npz"]))
        XCTAssertEqual(made.status, 0, made.errors)
        func beside(_ extra: [String]) throws -> TestFiles.ProcessResult {
            try sprig(["train", "--dataset", "synthetic", "--train-size", "200", "--test-size", "100", "--threads", "1", "--epochs", "1",
                       "--load-weights", dir + "/w.npz"] + extra)
        }
        assertOneErrorLine(try beside(["--densities", "0.25,1"]), status: 64, mentions: ["--densities 0.25,1", "differs from the model file's 0.5,1"])
        let softmax = try beside(["--loss", "cross-entropy"])
        XCTAssertEqual(softmax.status, 0, softmax.errors)
    }

    // Issue 26: a model description that is damaged or disagrees with the arrays is refused in
    // one line naming the file, by every command that reads a model.
    func testADamagedModelDescriptionIsRefused() throws {
        let dir = try TestFiles.makeDirectory(self)
        let made = try sprig(tiny(["--epochs", "1", "--save-weights", dir + "/w.npz"]))
        XCTAssertEqual(made.status, 0, made.errors)
        let arrays = try NPZArchive.read(path: dir + "/w.npz")
        let json = String(decoding: try XCTUnwrap(arrays[ModelDescription.arrayName]).bytes(), as: UTF8.self)
        let cases: [(String, String, String)] = [
            ("sizes", json.replacingOccurrences(of: "\"layerSizes\":[20,16,3]", with: "\"layerSizes\":[20,17,3]"), "describes the layer sizes 20,17,3"),
            ("corrupt", "{not json", "is not a model description"),
            ("version", json.replacingOccurrences(of: "\"version\":1", with: "\"version\":99"), "version 99"),
        ]
        for (name, text, mention) in cases {
            XCTAssertNotEqual(text, json, name)
            var damaged = arrays
            damaged[ModelDescription.arrayName] = NPYArray(.uint8(Array(text.utf8)))
            try NPZArchive.write(damaged.map { (name: $0.key, array: $0.value) }, to: dir + "/\(name).npz")
            for command in [["evaluate", "--model", dir + "/\(name).npz", "--dataset", "synthetic"],
                            tiny(["--epochs", "1", "--load-weights", dir + "/\(name).npz"])] {
                assertOneErrorLine(try sprig(command), status: 1, mentions: ["\(name).npz", mention], context: command.joined(separator: " "))
            }
        }
    }

    // Smaller: the optimizer's messages name what was typed and the part that is wrong.
    func testAdamMessagesNameWhatWasTyped() throws {
        let rounded = try sprig(tiny(["--optimizer", "adam:0.9,0.999999999,1e-8", "--epochs", "1"]))
        assertOneErrorLine(rounded, status: 64, mentions: ["B2 0.999999999", "rounds to 1"])
        let infinite = try sprig(tiny(["--optimizer", "adam:0.9,0.999,inf", "--epochs", "1"]))
        assertOneErrorLine(infinite, status: 64, mentions: ["EPS 'inf'", "not a finite number"])
        let negative = try sprig(tiny(["--optimizer", "adamw:0.9,0.999,1e-8,-inf", "--epochs", "1"]))
        assertOneErrorLine(negative, status: 64, mentions: ["WD '-inf'", "not a finite number"])
    }
}
