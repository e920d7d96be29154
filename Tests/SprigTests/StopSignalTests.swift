import Foundation
import XCTest
@testable import Sprig
import SprigArguments

/// SIGTERM (scancel, a time limit, a kill) to a training run: it finishes its step, every rank
/// stops after the same one, rank 0 writes a final checkpoint, and --resume from it ends with
/// bitwise the weights of a run never stopped. Without checkpoints it says nothing was kept.
/// (Under Slurm: SlurmTests.)
final class StopSignalTests: XCTestCase {
    private func job(_ dir: String, _ name: String, _ extra: [String] = []) -> [String] {
        ["train", "--dataset", "synthetic", "--layer-sizes", "30,24,16,5", "--densities", "0.4,1,0.6",
         "--train-size", "2000", "--test-size", "20", "--batch-size", "10", "--epochs", "300", "--seed", "4",
         "--threads", "1", "--learning-rate", "0.05", "--save-weights", "\(dir)/\(name).npz"] + extra
    }

    private func weights(_ path: String) throws -> [Float] {
        try WeightsFile.load(path: path, configuration: NetworkConfiguration(layerSizes: [30, 24, 16, 5], densities: [1, 1, 1]))
            .parameters.values.array
    }

    /// Starts `arguments` (under `/usr/bin/env`), waits until `ready()` holds (up to 60 s),
    /// sends `signal` and waits for the exit; returns the exit status and standard output.
    private func terminate(_ arguments: [String], signal: Int32 = SIGTERM, when ready: () -> Bool) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let output = (NSTemporaryDirectory() as NSString).appendingPathComponent("sprig-stop-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: output) }
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        process.standardError = FileHandle.nullDevice
        try process.run()
        let start = Date()
        while !ready() && process.isRunning && Date().timeIntervalSince(start) < 60 { usleep(5_000) }
        XCTAssertTrue(process.isRunning, "the run ended before it could be stopped")
        kill(process.processIdentifier, signal)
        let signalled = Date()
        while process.isRunning && Date().timeIntervalSince(signalled) < 30 { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL); XCTFail("still running 30 s after signal \(signal)") }
        process.waitUntilExit()
        return (process.terminationStatus, try String(contentsOfFile: output, encoding: .utf8))
    }

    private func hasCheckpoint(_ directory: String) -> Bool {
        !((try? CheckpointFile.list(directory: directory)) ?? []).isEmpty
    }

    /// Records the epochs a run reports, and asks it to stop before step `stopAt` (0-based
    /// epoch and step), as a signal or Ctrl-C in Python does.
    private final class StoppingReporter: TrainingReporter {
        let stopAt: (epoch: Int, step: Int)?
        private(set) var epochsReported: [Int] = []
        private var next = (epoch: 0, step: 0)
        init(stopAt: (epoch: Int, step: Int)? = nil) { self.stopAt = stopAt }
        func started(_ summary: RunSummary) throws {}
        func progress(epoch: Int, done: Int, total: Int) { next = (epoch, done) }
        func finished(_ metrics: EpochMetrics) throws { epochsReported.append(metrics.epoch) }
        func note(_ text: String) {}
        func stopRequested() -> Bool { stopAt.map { $0 == next } ?? false }
    }

    /// A stop asked for at an epoch's last step ends that epoch first — its evaluation and its
    /// metrics line — and the checkpoint is of the epoch's end: over the stopped and the resumed
    /// run every epoch is reported exactly once, and the weights are bitwise those of a run never
    /// stopped. (It stopped at the step itself, with a checkpoint saying the epoch was done, and
    /// the epoch's line was never written: a requeued Slurm job's metrics lacked it.)
    func testAStopAtAnEpochsLastStepReportsThatEpochOnce() throws {
        let dir = try TestFiles.makeDirectory(self)
        func options(_ name: String, _ extra: [String] = []) throws -> TrainingRun.Options {
            // 200 examples in batches of 10: 20 steps an epoch.
            try TrainArguments.parse(["--dataset", "synthetic", "--layer-sizes", "30,24,16,5", "--densities", "0.4,1,0.6",
                                      "--train-size", "200", "--test-size", "20", "--batch-size", "10", "--epochs", "4",
                                      "--seed", "4", "--threads", "1", "--learning-rate", "0.05",
                                      "--save-weights", "\(dir)/\(name).npz"] + extra).options()
        }
        let checkpoints = ["--checkpoint-dir", "\(dir)/ck", "--checkpoint-every", "1"]
        let stopped = StoppingReporter(stopAt: (epoch: 1, step: 19))
        XCTAssertThrowsError(try TrainingRun(options("stopped", checkpoints)).run(reporter: stopped)) { error in
            let stop = error as? TrainingInterrupted
            XCTAssertEqual(stop?.epoch, 2, "\(error)")
            XCTAssertEqual(stop?.step, 20, "\(error)")
            XCTAssertNotNil(stop?.checkpoint, "\(error)")
        }
        XCTAssertEqual(stopped.epochsReported, [1, 2], "the stopped epoch's metrics line")
        let resumed = StoppingReporter()
        try TrainingRun(options("resumed", checkpoints + ["--resume"])).run(reporter: resumed)
        XCTAssertEqual(resumed.epochsReported, [3, 4], "each epoch once over the two runs")
        try TrainingRun(options("full")).run(reporter: StoppingReporter())
        XCTAssertEqual(try weights("\(dir)/resumed.npz"), try weights("\(dir)/full.npz"))
    }

    func testSIGTERMWritesAFinalCheckpointThatResumesBitwise() throws {
        try CommandLineTests.requireBinary()
        let dir = try TestFiles.makeDirectory(self)
        let checkpoints = "\(dir)/ck"
        let stopped = try terminate([CommandLineTests.binary] + job(dir, "stopped", ["--checkpoint-dir", checkpoints, "--checkpoint-every", "1"])) {
            hasCheckpoint(checkpoints)
        }
        XCTAssertEqual(stopped.status, 128 + SIGTERM, stopped.output)
        XCTAssertTrue(stopped.output.contains("stopped by SIGTERM after step"), stopped.output)
        let newest = try CheckpointFile.newestValid(in: checkpoints)
        XCTAssertTrue(stopped.output.contains("checkpoint written to \(newest.path)"), stopped.output)
        XCTAssertLessThan(newest.checkpoint.epoch, 300)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(dir)/stopped.npz"), "a stopped run wrote its final weights")

        let full = try CommandLineTests.sprig(job(dir, "full"))
        XCTAssertEqual(full.status, 0, full.errors)
        let resumed = try CommandLineTests.sprig(job(dir, "resumed", ["--checkpoint-dir", checkpoints, "--resume"]))
        XCTAssertEqual(resumed.status, 0, resumed.errors)
        XCTAssertEqual(try weights("\(dir)/resumed.npz"), try weights("\(dir)/full.npz"))
    }

    /// mpirun forwards SIGUSR1 to its ranks (SIGTERM it answers with its own kill sequence,
    /// after it has stopped relaying their output): both stop after the same step, one
    /// checkpoint, and the resumed run ends bitwise where a run never stopped ends.
    func testSIGUSR1ToMpirunStopsEveryRankWithACheckpoint() throws {
        try TestFiles.requireTool(["mpirun", "--version"])
        try CommandLineTests.requireBinary()
        let dir = try TestFiles.makeDirectory(self)
        let checkpoints = "\(dir)/ck"
        let stopped = try terminate(["mpirun", "-np", "2", "--oversubscribe", "--bind-to", "none", "--allow-run-as-root",
                                     CommandLineTests.binary] + job(dir, "stopped", ["--checkpoint-dir", checkpoints, "--checkpoint-every", "1"]),
                                    signal: SIGUSR1) {
            hasCheckpoint(checkpoints)
        }
        XCTAssertNotEqual(stopped.status, 0)
        XCTAssertNotNil(stopped.output.range(of: "stopped by (SIGUSR1|a signal to another rank) after step", options: .regularExpression),
                        stopped.output)
        let newest = try CheckpointFile.newestValid(in: checkpoints)
        XCTAssertTrue(stopped.output.contains("checkpoint written to \(newest.path)"), stopped.output)
        let full = try mpirun(2, job(dir, "full"))
        XCTAssertEqual(full.status, 0, full.errors)
        let resumed = try mpirun(2, job(dir, "resumed", ["--checkpoint-dir", checkpoints, "--resume"]))
        XCTAssertEqual(resumed.status, 0, resumed.errors)
        XCTAssertEqual(try weights("\(dir)/resumed.npz"), try weights("\(dir)/full.npz"))
    }

    func testSIGTERMWithoutCheckpointsSaysNothingWasKept() throws {
        try CommandLineTests.requireBinary()
        let dir = try TestFiles.makeDirectory(self)
        let metrics = "\(dir)/m.jsonl"
        let stopped = try terminate([CommandLineTests.binary] + job(dir, "stopped", ["--metrics", metrics])) {
            ((try? String(contentsOfFile: metrics, encoding: .utf8)) ?? "").contains("\n")
        }
        XCTAssertEqual(stopped.status, 128 + SIGTERM, stopped.output)
        XCTAssertTrue(stopped.output.contains("no checkpoint written (give --checkpoint-dir"), stopped.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(dir)/stopped.npz"))
    }
}
