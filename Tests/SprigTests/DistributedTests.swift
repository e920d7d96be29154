import Foundation
import XCTest
@testable import Sprig

/// Data-parallel training under real `mpirun` (oversubscribed on this machine): P ranks
/// against the single-process trainer, the collectives, the namespace cluster, checkpoints
/// and resume, and failures.
final class DistributedTests: XCTestCase {
    var binary: String { CommandLineTests.binary }

    /// A tiny synthetic job: 103 examples in batches of 10 (the last batch has 3, so with 4
    /// ranks one shard is empty), sparse-dense-sparse layers.
    func job(_ directory: String, _ name: String, _ extra: [String] = []) -> [String] {
        ["train", "--dataset", "synthetic", "--layer-sizes", "30,24,16,5", "--densities", "0.4,1,0.6",
         "--train-size", "103", "--test-size", "20", "--batch-size", "10", "--epochs", "2", "--seed", "3",
         "--threads", "1", "--optimizer", "nesterov:0.9", "--learning-rate", "0.05",
         "--save-weights", "\(directory)/\(name).npz"] + extra
    }


    func weights(_ path: String) throws -> [Float] {
        try WeightsFile.load(path: path, configuration: NetworkConfiguration(layerSizes: [30, 24, 16, 5], densities: [1, 1, 1]))
            .parameters.values.array
    }

    func testRanksFollowTheSingleProcessTrajectory() throws {
        let dir = try TestFiles.makeDirectory(self)
        let single = try TestFiles.run([binary] + job(dir, "single"))
        XCTAssertEqual(single.status, 0, single.errors)
        let reference = try weights("\(dir)/single.npz")
        for ranks in 1...4 {
            for exchange in ["fused", "per-layer"] {
                let name = "p\(ranks)-\(exchange)"
                let result = try mpirun(ranks, job(dir, name, ["--allreduce", exchange]))
                XCTAssertEqual(result.status, 0, "\(name): \(result.errors)")
                let difference = relativeDifference(try weights("\(dir)/\(name).npz"), reference)
                XCTAssertLessThanOrEqual(difference, 1e-5, "\(name) differs from one process by \(difference)")
            }
        }
        // The comparison above means something only if training moved the weights: against the
        // initial state the same flags give after no step, the trained weights differ clearly.
        let initial = try TestFiles.run([binary] + job(dir, "initial", ["--max-steps", "0"]))
        XCTAssertEqual(initial.status, 0, initial.errors)
        XCTAssertGreaterThan(relativeDifference(reference, try weights("\(dir)/initial.npz")), 1e-2, "training did not move the weights")
    }

    /// Ranks whose parameters live in another memory (the CPU backend with separate memory,
    /// standing in for GPU ranks: every gradient crosses to the host for the allreduce and back)
    /// give the same weights as ranks that all train in host memory, bit for bit.
    func testRanksOnAnotherMemoryGiveTheSameWeights() throws {
        let dir = try TestFiles.makeDirectory(self)
        for exchange in ["fused", "per-layer"] {
            let host = try mpirun(2, job(dir, "host-\(exchange)", ["--allreduce", exchange, "--optimizer", "adam"]))
            XCTAssertEqual(host.status, 0, host.errors)
            for ranks in ["1", "0,1"] {
                let name = "separate-\(ranks)-\(exchange)"
                let result = try mpirun(2, job(dir, name, ["--allreduce", exchange, "--optimizer", "adam"]),
                                        environment: ["\(TrainingRun.separateMemoryVariable)=\(ranks)"])
                XCTAssertEqual(result.status, 0, "\(name): \(result.errors)")
                let separate = try weights("\(dir)/\(name).npz"), host = try weights("\(dir)/host-\(exchange).npz")
                XCTAssertTrue(separate == host, "\(name): the weights differ from host memory's by up to \(relativeDifference(separate, host))")
            }
        }
    }

    func testCollectivesAgreeWithIndependentSums() throws {
        for ranks in 1...4 {
            let result = try mpirun(ranks, ["mpi-selftest", "--count", "300007"])
            XCTAssertEqual(result.status, 0, result.errors)
            XCTAssertTrue(result.output.contains("\(ranks) ranks: allreduce, non-blocking allreduce, max, broadcast, allgather agree"),
                          result.output)
        }
    }

    /// 2 namespace "hosts" × 2 ranks over TCP on the cluster's own subnet.
    func testNamespaceClusterMatchesSingleProcess() throws {
        let cluster = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("cluster").path
        guard getuid() == 0 else {
            throw TestFiles.MissingRequirement(description: "the namespace cluster needs root (ip netns); run the tests as root, as CI does")
        }
        let probe = try TestFiles.run(["ip", "netns", "add", "sprig-probe"])
        _ = try? TestFiles.run(["ip", "netns", "del", "sprig-probe"])
        guard probe.status == 0 else {
            throw TestFiles.MissingRequirement(description: "network namespaces are not permitted here: \(probe.errors)")
        }
        let up = try TestFiles.run(["\(cluster)/netns-up.sh", "2"])
        XCTAssertEqual(up.status, 0, up.errors)
        addTeardownBlock { _ = try? TestFiles.run(["\(cluster)/netns-down.sh"]) }

        let dir = try TestFiles.makeDirectory(self)
        XCTAssertEqual(try TestFiles.run([binary] + job(dir, "single")).status, 0)
        let mca = ["--hostfile", "/run/sprig-netns/hostfile", "--mca", "plm_rsh_agent", "\(cluster)/netns-rsh",
                   "--mca", "btl", "tcp,self", "--mca", "btl_tcp_if_include", "10.213.47.0/24",
                   "--mca", "oob_tcp_if_include", "10.213.47.0/24"]
        let hosts = try mpirun(4, [], mca: mca, program: "hostname", timeout: 60)
        XCTAssertEqual(Set(hosts.output.split(separator: "\n").map(String.init)), ["sprig-h1", "sprig-h2"], hosts.errors)
        let result = try mpirun(4, job(dir, "cluster"), mca: mca)
        XCTAssertEqual(result.status, 0, result.errors)
        XCTAssertLessThanOrEqual(relativeDifference(try weights("\(dir)/cluster.npz"), try weights("\(dir)/single.npz")), 1e-5)
    }

    /// Stopped mid-epoch at a checkpoint and resumed: bitwise the weights of a run never stopped
    /// (same rank count), within 1e-5 with another rank count.
    func testResumeEqualsUninterrupted() throws {
        let dir = try TestFiles.makeDirectory(self)
        let full = try mpirun(2, job(dir, "full", ["--epochs", "3"]))
        XCTAssertEqual(full.status, 0, full.errors)
        let stopped = try mpirun(2, job(dir, "stopped", ["--epochs", "3", "--max-steps", "17", "--checkpoint-every-steps", "17",
                                                         "--checkpoint-dir", "\(dir)/ck"]))
        XCTAssertEqual(stopped.status, 0, stopped.errors)
        XCTAssertNotEqual(try weights("\(dir)/stopped.npz"), try weights("\(dir)/full.npz"))
        let resumed = try mpirun(2, job(dir, "resumed", ["--epochs", "3", "--resume", "--checkpoint-dir", "\(dir)/ck"]))
        XCTAssertEqual(resumed.status, 0, resumed.errors)
        XCTAssertTrue(resumed.output.contains("resuming from"), resumed.output)
        XCTAssertEqual(try weights("\(dir)/resumed.npz"), try weights("\(dir)/full.npz"), "resume is not bitwise uninterrupted")
        let other = try mpirun(3, job(dir, "resumed3", ["--epochs", "3", "--resume", "--checkpoint-dir", "\(dir)/ck"]))
        XCTAssertEqual(other.status, 0, other.errors)
        XCTAssertLessThanOrEqual(relativeDifference(try weights("\(dir)/resumed3.npz"), try weights("\(dir)/full.npz")), 1e-5)
    }

    /// The newest checkpoint corrupted: refused with its name, the previous one used; all
    /// corrupted: a clear error.
    func testCorruptedCheckpointIsRefused() throws {
        let dir = try TestFiles.makeDirectory(self)
        let first = try TestFiles.run([binary] + job(dir, "a", ["--epochs", "3", "--checkpoint-every", "1", "--checkpoint-dir", "\(dir)/ck"]))
        XCTAssertEqual(first.status, 0, first.errors)
        let files = try CheckpointFile.list(directory: "\(dir)/ck")
        XCTAssertEqual(files.count, 2, "the newest two are kept: \(files)")
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: files[1])))
        bytes[bytes.count / 2] ^= 0x40
        try TestFiles.write(bytes, to: files[1])
        let resumed = try TestFiles.run([binary] + job(dir, "b", ["--epochs", "3", "--resume", "--checkpoint-dir", "\(dir)/ck"]))
        XCTAssertEqual(resumed.status, 0, resumed.errors)
        XCTAssertTrue(resumed.output.contains("skipping \(files[1])") && resumed.output.contains("checksum mismatch"), resumed.output)
        XCTAssertTrue(resumed.output.contains("resuming from \(files[0])"), resumed.output)
        // Truncate the other one too: nothing valid is left.
        let other = try [UInt8](Data(contentsOf: URL(fileURLWithPath: files[0])))
        try TestFiles.write(Array(other.prefix(other.count - 10)), to: files[0])
        let refused = try TestFiles.run([binary] + job(dir, "c", ["--resume", "--checkpoint-dir", "\(dir)/ck"]))
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.errors.hasPrefix("error: ") && refused.errors.contains("no valid checkpoint"), refused.errors)
        XCTAssertEqual(refused.errors.split(separator: "\n").count, 1, refused.errors)
    }

    func testMismatchedRanksAreNamed() throws {
        let dir = try TestFiles.makeDirectory(self)
        try TestFiles.requireTool(["mpirun", "--version"])
        // MPMD: rank 1 gets another learning rate.
        let result = try TestFiles.run(["timeout", "60", "mpirun", "--oversubscribe", "--allow-run-as-root",
                                        "-np", "1", binary] + job(dir, "m") + [":", "-np", "1", binary] + job(dir, "m", ["--learning-rate", "0.1"]))
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.errors.contains("error: rank 1 differs from rank 0"), result.errors)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(dir)/m.npz"))
    }

    /// An error on one rank only (its weights file is missing) ends the whole job at once,
    /// non-zero, with a message naming that rank — while rank 0 already waits in a collective.
    func testAnErrorOnOneRankEndsTheJobAndNamesIt() throws {
        try TestFiles.requireTool(["mpirun", "--version"])
        let dir = try TestFiles.makeDirectory(self)
        let start = Date()
        let result = try TestFiles.run(["timeout", "60", "mpirun", "--oversubscribe", "--allow-run-as-root",
                                        "-np", "1", binary] + job(dir, "e")
                                       + [":", "-np", "1", binary] + job(dir, "e", ["--load-weights", "/nonexistent-sprig/w.npz"]))
        XCTAssertNotEqual(result.status, 0)
        XCTAssertNotEqual(result.status, 124, "the job hung until the timeout")
        XCTAssertLessThan(Date().timeIntervalSince(start), 30)
        XCTAssertTrue(result.errors.contains("error: rank 1 of 2: /nonexistent-sprig"), result.errors)
    }

    /// SIGKILL on one rank mid-epoch ends the job, non-zero, within 30 s.
    func testKillingARankEndsTheJob() throws {
        try TestFiles.requireTool(["mpirun", "--version"])
        let dir = try TestFiles.makeDirectory(self)
        let marker = "\(dir)/long.npz"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["mpirun", "-np", "2", "--oversubscribe", "--bind-to", "none", "--allow-run-as-root", binary, "train",
                             "--dataset", "synthetic", "--layer-sizes", "200,100,10", "--train-size", "20000", "--epochs", "10000",
                             "--threads", "1", "--save-weights", marker]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        // Wait for both ranks to be training, then kill rank 1's process.
        var victim: Int32?
        let start = Date()
        while victim == nil && Date().timeIntervalSince(start) < 30 {
            usleep(200_000)
            let pids = try TestFiles.run(["pgrep", "-f", marker]).output.split(separator: "\n").compactMap { Int32($0) }
                .filter { $0 != process.processIdentifier }
            let ranks = pids.filter { pid in
                (try? String(contentsOfFile: "/proc/\(pid)/environ", encoding: .utf8))?.contains("OMPI_COMM_WORLD_RANK=1") == true
            }
            if let pid = ranks.first, Date().timeIntervalSince(start) > 2 { victim = pid }
        }
        let pid = try XCTUnwrap(victim, "rank 1 never started")
        kill(pid, SIGKILL)
        let killed = Date()
        while process.isRunning && Date().timeIntervalSince(killed) < 40 { usleep(100_000) }
        XCTAssertFalse(process.isRunning, "the job still runs 40 s after a rank was killed")
        XCTAssertLessThan(Date().timeIntervalSince(killed), 30)
        XCTAssertNotEqual(process.terminationStatus, 0)
        _ = try? TestFiles.run(["pkill", "-9", "-f", marker])
    }

    func testShardsCoverTheBatchAndDifferByAtMostOne() {
        for count in [0, 1, 3, 10, 103] {
            for ranks in 1...5 {
                let shards = (0..<ranks).map { Shard.range(of: count, rank: $0, ranks: ranks) }
                XCTAssertEqual(shards.first?.lowerBound, 0)
                XCTAssertEqual(shards.last?.upperBound, count)
                for r in 1..<ranks { XCTAssertEqual(shards[r - 1].upperBound, shards[r].lowerBound) }
                XCTAssertLessThanOrEqual(shards.map(\.count).max()! - shards.map(\.count).min()!, 1)
            }
        }
    }
}
