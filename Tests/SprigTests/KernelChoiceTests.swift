import Foundation
import XCTest
@testable import Sprig

/// A sparse layer's two kernels (CSR, and GEMM on the masked matrix: `SparseLayerKernel`) and
/// their choice (`KernelChooser`, `--layer-kernels`). Each kernel against dense math is in
/// `BackendConformanceTests`; here whole runs on one kernel are compared with runs on the other.
final class KernelChoiceTests: XCTestCase {
    /// 30-24-16-5, sparse (0.4) - dense - sparse (0.6), 103 examples in batches of 10, 2 epochs
    /// = 22 steps, 2 threads.
    func job(_ directory: String, _ name: String, _ extra: [String]) -> [String] {
        ["train", "--dataset", "synthetic", "--layer-sizes", "30,24,16,5", "--densities", "0.4,1,0.6",
         "--train-size", "103", "--test-size", "20", "--batch-size", "10", "--epochs", "2", "--seed", "3",
         "--threads", "2", "--optimizer", "nesterov:0.9", "--learning-rate", "0.05",
         "--save-weights", "\(directory)/\(name).npz"] + extra
    }

    func saved(_ path: String) throws -> (values: [Float], patterns: [SparsityPattern?]) {
        try savedNetwork(path, layerSizes: [30, 24, 16, 5])
    }


    /// With static patterns, with SET and with gradient regrow (four topology steps), every
    /// sparse layer on the dense kernel ends with the patterns and weights (within 1e-5) of the
    /// same run on CSR: the masked matrices follow the values after each update and each new
    /// pattern, and their gathered DW feeds the regrowth as the SDDMM's does.
    func testTheDenseKernelTrainsAsTheCSRKernelsDo() throws {
        let dir = try TestFiles.makeDirectory(self)
        for (name, extra) in [("static", []), ("set", ["--prune", "set:0.3", "--grow", "random", "--regrow-every", "5"]),
                              ("rigl", ["--prune", "magnitude:0.3", "--grow", "gradient", "--regrow-every", "5"])] {
            let csr = try CommandLineTests.sprig(job(dir, "\(name)-csr", extra + ["--layer-kernels", "csr"]))
            XCTAssertEqual(csr.status, 0, csr.errors)
            let dense = try CommandLineTests.sprig(job(dir, "\(name)-dense", extra + ["--layer-kernels", "dense"]))
            XCTAssertEqual(dense.status, 0, dense.errors)
            XCTAssertTrue(dense.output.contains("relu, dense kernel (given)"), dense.output)
            XCTAssertTrue(csr.output.contains("relu, csr kernel (given)"), csr.output)
            let reference = try saved("\(dir)/\(name)-csr.npz"), mine = try saved("\(dir)/\(name)-dense.npz")
            XCTAssertEqual(mine.patterns, reference.patterns, "\(name): the patterns differ")
            let difference = relativeDifference(mine.values, reference.values)
            XCTAssertLessThanOrEqual(difference, 1e-5, "\(name): the dense kernel's weights differ from CSR's by \(difference)")
        }
    }

    /// A run on the dense kernel stopped after topology changes and resumed without
    /// `--layer-kernels` runs on the kernels its checkpoint names, bitwise equal to the run
    /// never stopped.
    func testAResumedRunKeepsTheKernelsOfItsCheckpoint() throws {
        let dir = try TestFiles.makeDirectory(self)
        let rule = ["--prune", "set:0.3", "--grow", "gradient", "--regrow-every", "5"]
        let straight = try CommandLineTests.sprig(job(dir, "straight", rule + ["--layer-kernels", "dense,auto,csr"]))
        XCTAssertEqual(straight.status, 0, straight.errors)
        let checkpoints = ["--checkpoint-dir", "\(dir)/ck", "--checkpoint-every-steps", "7"]
        let stopped = try CommandLineTests.sprig(job(dir, "stopped", rule + checkpoints + ["--max-steps", "14", "--layer-kernels", "dense,auto,csr"]))
        XCTAssertEqual(stopped.status, 0, stopped.errors)
        let resumed = try CommandLineTests.sprig(job(dir, "resumed", rule + checkpoints + ["--resume"]))
        XCTAssertEqual(resumed.status, 0, resumed.errors)
        XCTAssertTrue(resumed.output.contains("dense kernel (as in the checkpoint)"), resumed.output)
        XCTAssertTrue(resumed.output.contains("csr kernel (as in the checkpoint)"), resumed.output)
        let a = try saved("\(dir)/straight.npz"), b = try saved("\(dir)/resumed.npz")
        XCTAssertEqual(b.patterns, a.patterns)
        XCTAssertEqual(b.values.map(\.bitPattern), a.values.map(\.bitPattern), "values after resume")
    }

    /// The chooser keeps what is fixed, leaves a layer below the minimum density (or too small
    /// to time) to CSR without timing, times a dense-ish layer large enough and takes the kernel
    /// its rule picks from those times; each layer then runs on what was decided.
    func testTheChooserKeepsFixedKernelsAndTimesOnlyLayersWhereGEMMMayWin() throws {
        let configuration = NetworkConfiguration(layerSizes: [600, 500, 400, 300, 10], densities: [0.01, 0.8, 0.9, 1], seed: 4)
        let network = try Network(configuration)
        let backend = CPUBackend(pool: ThreadPool(threads: 2))
        let layers = network.linearLayers.map { $0 as? SparseLinear }

        let auto = try KernelChooser.choose(for: network, fixed: nil, batch: 100, backend: backend, communicator: SingleProcessCommunicator())
        XCTAssertEqual(auto[0].kernel, .csr)
        XCTAssertNil(auto[0].csrSeconds, "density 0.01 is not timed")
        XCTAssertTrue(auto[0].reason.hasPrefix("density"), auto[0].reason)
        let timed = auto[1]
        let csr = try XCTUnwrap(timed.csrSeconds), dense = try XCTUnwrap(timed.denseSeconds)
        XCTAssertGreaterThan(csr, 0)
        XCTAssertEqual(timed.kernel, dense <= KernelChooser.denseAdvantage * csr ? .dense : .csr)
        XCTAssertEqual(layers[1]?.kernel, timed.kernel)
        XCTAssertNil(auto[3].kernel, "a dense layer has no choice")

        let small = try KernelChooser.choose(for: network, fixed: nil, batch: 1, backend: backend, communicator: SingleProcessCommunicator())
        XCTAssertEqual(small[2].reason, "too small to time", "300×400 at a batch of 1 is 0.7 Mflop a step")

        let fixed = try KernelChooser.choose(for: network, fixed: [.dense, .csr, nil, nil], batch: 100, backend: backend,
                                             communicator: SingleProcessCommunicator())
        XCTAssertEqual(fixed[0].kernel, .dense)
        XCTAssertEqual(fixed[1].kernel, .csr)
        XCTAssertNil(fixed[3].kernel)
        XCTAssertEqual(fixed[0].summary, "dense kernel (given)")
        XCTAssertEqual(layers[0]?.kernel, .dense)
        XCTAssertEqual(layers[1]?.kernel, .csr)
        XCTAssertNotNil(fixed[2].csrSeconds, "an entry left nil is timed")
    }

    /// A checkpoint names each sparse layer's kernel; one without kernels (older) reads as none.
    /// (A checkpoint that names a kernel for a dense layer: `FileHardeningTests`.)
    func testACheckpointRecordsTheKernels() throws {
        let configuration = NetworkConfiguration(layerSizes: [9, 7, 3], densities: [0.4, 1], seed: 8)
        let network = try Network(configuration)
        (network.linearLayers[0] as! SparseLinear).kernel = .dense
        let checkpoint = Checkpoint(network: network, training: TrainingConfiguration(epochs: 2, batchSize: 5, optimizer: .sgd), epoch: 1, step: 0)
        XCTAssertEqual(checkpoint.kernels, [.dense, nil])
        XCTAssertEqual(try CheckpointFile.decode(try CheckpointFile.encode(checkpoint), path: "x").kernels, [.dense, nil])
        var older = checkpoint
        older.kernels = [nil, nil]
        XCTAssertEqual(try CheckpointFile.decode(try CheckpointFile.encode(older), path: "x").kernels, [nil, nil])
    }

    /// A saved model records its layers' kernels and a loaded one evaluates on them, with
    /// training's numeric settings (OpenBLAS single-threaded within Sprig's threads): `sprig
    /// evaluate` gives bitwise the loss the training run reported. (On CSR, or with OpenBLAS's
    /// own threads, the sums run in another order and the loss differs in its eighth digit.)
    func testASavedModelEvaluatesOnItsKernelsBitwiseAsTrainingDid() throws {
        let dir = try TestFiles.makeDirectory(self)
        let (metrics, evaluation) = try CommandLineTests.trainThenEvaluate(
            dir, train: ["--layer-sizes", "784,256,10", "--densities", "0.5,1", "--layer-kernels", "dense", "--epochs", "1",
                         "--train-size", "2000", "--test-size", "500", "--threads", "2"],
            evaluate: ["--size", "500", "--threads", "2"])
        XCTAssertEqual(try WeightsFile.read(path: dir + "/w.npz").description?.kernels, [.dense, nil])
        XCTAssertEqual(try XCTUnwrap(evaluation["loss"] as? Double), try XCTUnwrap(metrics["test_loss"] as? Double))
        XCTAssertEqual(evaluation["accuracy"] as? Double, metrics["test_accuracy"] as? Double)
    }

    /// A model description whose kernels do not fit its network is refused naming them.
    func testAModelDescriptionWithWrongKernelsIsRefused() throws {
        let network = NetworkConfiguration(layerSizes: [9, 7, 3], densities: [0.4, 1], seed: 8)
        for (kernels, expected) in [([SparseLayerKernel?.some(.dense)], "kernels has 1 entries but the network has 2 linear layers"),
                                    ([.dense, .dense], "kernels[1] is \"dense\" but layer 2 is dense (null)"),
                                    ([nil, nil], "kernels[0] is null but layer 1 is sparse")] {
            let bytes = try ModelDescription(network: network, normalization: nil, input: nil, training: nil, kernels: kernels).encoded()
            XCTAssertThrowsError(try ModelDescription.decode(bytes, path: "m.npz"), "\(kernels)") { error in
                XCTAssertTrue("\(error)".contains(expected) && "\(error)".contains("m.npz"), "\(error)")
            }
        }
        let good = try ModelDescription(network: network, normalization: nil, input: nil, training: nil, kernels: [.csr, nil]).encoded()
        XCTAssertEqual(try ModelDescription.decode(good, path: "m.npz").kernels, [.csr, nil])
        let older = try ModelDescription(network: network, normalization: nil, input: nil, training: nil).encoded()
        XCTAssertNil(try ModelDescription.decode(older, path: "m.npz").kernels, "a file without kernels runs CSR")
    }

    /// A dense kernel too large for the machine is refused naming the layer, before anything is
    /// written (no metrics file).
    func testADenseKernelTooLargeIsRefusedBeforeTraining() throws {
        let dir = try TestFiles.makeDirectory(self)
        let result = try CommandLineTests.sprig(["train", "--dataset", "synthetic", "--layer-sizes", "100,200000,200000,10",
                                                 "--densities", "0.001,0.0001,1", "--layer-kernels", "dense", "--train-size", "100",
                                                 "--test-size", "10", "--epochs", "1", "--metrics", "\(dir)/m.jsonl"])
        XCTAssertNotEqual(result.status, 0, result.output)
        XCTAssertTrue(result.errors.contains("--layer-kernels: dense for layer 2"), result.errors)
        XCTAssertTrue(result.errors.contains("200000") && result.errors.contains("GiB"), result.errors)
        XCTAssertEqual(result.errors.split(separator: "\n").count, 1, result.errors)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(dir)/m.jsonl"), "the metrics file was made")
    }

    /// A wrong `--layer-kernels` gives one error line naming the flag, and nothing is trained.
    func testBadLayerKernelsGiveOneErrorLine() throws {
        let dir = try TestFiles.makeDirectory(self)
        for (value, expected) in [("gemm", "'gemm' is not csr, dense or auto"), ("csr,dense", "has 2 entries but there are 3 linear layers"),
                                  ("auto,csr,auto", "layer 2 has density 1 (a dense layer): give dense or auto for it"),
                                  ("", "'' is not csr, dense or auto")] {
            let result = try CommandLineTests.sprig(job(dir, "bad", ["--layer-kernels", value]))
            XCTAssertEqual(result.status, 64, "\(value): \(result.output)")
            XCTAssertTrue(result.errors.contains("--layer-kernels"), "\(value): \(result.errors)")
            XCTAssertTrue(result.errors.contains(expected), "\(value): \(result.errors)")
            XCTAssertEqual(result.errors.split(separator: "\n").count, 1, result.errors)
            XCTAssertFalse(FileManager.default.fileExists(atPath: "\(dir)/bad.npz"))
        }
    }
}
