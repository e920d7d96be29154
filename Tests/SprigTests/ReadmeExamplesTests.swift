import Foundation
import XCTest
@testable import Sprig

/// The README's examples run as written (issue 26): every `$B …` command of its examples block,
/// in order, in a fresh folder, with `B` the binary under test. Those that need data this
/// machine does not have (CIFAR-10) must fail with their one-line error and its hint. A model
/// saved by `train` and loaded in a fresh process predicts bitwise what the training process
/// evaluated.
final class ReadmeExamplesTests: XCTestCase {
    static var readme: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("README.md").path
    }

    /// The commands of the block after `<!-- readme-examples -->`: lines starting with `$B`,
    /// continuation lines joined, split into words (the block uses no quotes).
    static func examples() throws -> [[String]] {
        let text = try String(contentsOfFile: readme, encoding: .utf8)
        guard let marker = text.range(of: "<!-- readme-examples -->"),
              let start = text.range(of: "```sh\n", range: marker.upperBound..<text.endIndex),
              let end = text.range(of: "```", range: start.upperBound..<text.endIndex) else {
            throw TestFiles.MissingRequirement(description: "README.md has no examples block after <!-- readme-examples -->")
        }
        var commands: [String] = [], pending = ""
        for line in text[start.upperBound..<end.lowerBound].split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if !pending.isEmpty || trimmed.hasPrefix("$B ") { pending += " " + trimmed }
            if pending.hasSuffix("\\") { pending.removeLast(); continue }
            if !pending.isEmpty { commands.append(pending); pending = "" }
        }
        return commands.map { $0.split(separator: " ").map(String.init).filter { $0 != "$B" } }
    }

    func testEveryExampleRunsAsWritten() throws {
        let examples = try Self.examples()
        XCTAssertGreaterThanOrEqual(examples.count, 7, "the examples block holds the README's commands")
        let dir = try TestFiles.makeDirectory(self)
        let emptyData = dir + "/no-data"   // where CIFAR-10 is not
        for command in examples {
            let result = try TestFiles.run(["env", "SPRIG_DATA=\(emptyData)", "OMP_NUM_THREADS=1", "sh", "-c",
                                            "cd '\(dir)' && exec timeout 600 '\(CommandLineTests.binary)' \"$@\"", "sh"] + command)
            let line = command.joined(separator: " ")
            if command.contains("cifar10") {
                assertOneErrorLine(result, status: 1, mentions: ["cifar10 data directory not found", "curl -L", "cifar-10-binary.tar.gz"],
                                   context: line)
            } else {
                XCTAssertEqual(result.status, 0, "\(line): \(result.errors)")
            }
        }
        for file in ["run.jsonl", "run.npz", "labels.npy", "run2.npz"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/" + file), file)
        }
    }

    /// A model saved by `train`, loaded in a fresh process (`sprig predict`), gives bitwise the
    /// outputs an independent NumPy forward pass computes from the file's own arrays and
    /// normalisation, and `sprig evaluate` the accuracy `train` reported for it.
    func testASavedModelPredictsInAFreshProcessWhatTrainingEvaluated() throws {
        let dir = try TestFiles.makeDirectory(self)
        let (metrics, evaluation) = try CommandLineTests.trainThenEvaluate(
            dir, train: ["--layer-sizes", "784,64,10", "--densities", "0.1,1", "--layers", "AllReLU(0.6);Linear", "--epochs", "1",
                         "--train-size", "3000", "--test-size", "500", "--threads", "2"],
            evaluate: ["--size", "500", "--threads", "1"])
        XCTAssertEqual(evaluation["accuracy"] as? Double, metrics["test_accuracy"] as? Double)
        XCTAssertEqual(try XCTUnwrap(evaluation["loss"] as? Double), try XCTUnwrap(metrics["test_loss"] as? Double), accuracy: 1e-9)
        let predict = try CommandLineTests.sprig(["predict", "--model", dir + "/w.npz", "--size", "500", "--scores", "--output", dir + "/y.npy"])
        XCTAssertEqual(predict.status, 0, predict.errors)
        // Under mpirun each rank predicts a share and rank 0 gathers them in order: the same
        // outputs up to the dense layer's summation order (BLAS blocks by the share's size).
        let ranks = try mpirun(3, ["predict", "--model", dir + "/w.npz", "--size", "500", "--scores", "--threads", "1",
                                   "--output", dir + "/y3.npy"], timeout: 120)
        XCTAssertEqual(ranks.status, 0, ranks.errors)
        func scores(_ name: String) throws -> [Float] {
            try NPYArray.decode(Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/" + name))), source: name).floats()
        }
        let one = try scores("y.npy"), three = try scores("y3.npy")
        XCTAssertEqual(one.count, three.count)
        let scale = one.map(abs).max() ?? 1
        XCTAssertLessThanOrEqual(zip(one, three).map { abs($0 - $1) }.max() ?? .infinity, 1e-5 * scale)
        let evaluateRanks = try mpirun(2, ["evaluate", "--model", dir + "/w.npz", "--size", "500", "--threads", "1", "--json", dir + "/e2.json"],
                                       timeout: 120)
        XCTAssertEqual(evaluateRanks.status, 0, evaluateRanks.errors)
        let evaluation2 = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/e2.json"))) as? [String: Any])
        XCTAssertEqual(try XCTUnwrap(evaluation2["accuracy"] as? Double), try XCTUnwrap(evaluation["accuracy"] as? Double), accuracy: 0.0021,
                       "at most one near-tie may fall the other way")
        XCTAssertEqual((evaluation2["confusion"] as? [[Int]])?.joined().reduce(0, +), 500)
        // NumPy: the file's arrays, its normalisation and its activation (AllReLU 0.6: z<0 ? 0.6z : z).
        let output = try TestFiles.python("""
            import gzip, json, numpy as np, scipy.sparse
            w = np.load("\(dir)/w.npz"); y = np.load("\(dir)/y.npy")
            d = json.loads(bytes(w["sprig_model.json"]))
            n = d["normalization"]; assert d["input"] == "uint8/255", d["input"]
            with gzip.open("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", "rb") as f:
                x = np.frombuffer(f.read()[16:], dtype=np.uint8).reshape(-1, 784)[:500].astype(np.float64) / 255
            h = (x - n["mean"]) / n["standardDeviation"]
            W1 = scipy.sparse.csr_matrix((w["W1.data"], w["W1.indices"], w["W1.indptr"]), shape=tuple(w["W1.shape"])).toarray()
            z = h @ W1.T + w["b1"]; h = np.where(z < 0, 0.6 * z, z)
            out = h @ w["W2"].T.astype(np.float64) + w["b2"]
            assert y.shape == (500, 10) and y.dtype == np.float32, (y.shape, y.dtype)
            assert np.abs(out - y).max() < 1e-4 * max(1, np.abs(out).max()), np.abs(out - y).max()
            print("ok")
            """, needsSciPy: true)
        XCTAssertTrue(output.contains("ok"), output)
    }
}
