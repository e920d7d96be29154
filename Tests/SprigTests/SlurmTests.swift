import Foundation
import XCTest
@testable import Sprig

/// cluster/slurm's batch scripts, unchanged, on a real Slurm cluster on this machine
/// (`LocalSlurmCluster`: two namespace nodes over TCP where namespaces are allowed): the
/// README's Slurm examples run as written, the weights of plain mpirun, the scaling job array's
/// rows, scancel's final checkpoint resuming bitwise, a requeued job resuming by itself, a
/// failing rank's exit code in sacct, srun without an MPI interface refused, the binary found
/// from the script's repository (or one error line), and local-down.sh with jobs still queued.
/// sprig's arguments go to the scripts as their own (never through --export, which splits at
/// commas). The cluster comes up once for the class and is torn down after it, also when a
/// test fails.
final class SlurmTests: XCTestCase {
    nonisolated(unsafe) private static var cluster: LocalSlurmCluster?
    nonisolated(unsafe) private static var failure: Error?

    override class func setUp() {
        super.setUp()
        do { cluster = try LocalSlurmCluster.up() } catch { failure = error }
    }

    override class func tearDown() {
        LocalSlurmCluster.down()
        super.tearDown()
    }

    private func localCluster() throws -> LocalSlurmCluster {
        if let failure = Self.failure { throw failure }
        try CommandLineTests.requireBinary()
        return try XCTUnwrap(Self.cluster)
    }

    private let scripts = "\(LocalSlurmCluster.repository)/cluster/slurm"

    /// A small synthetic job; `threads` nil leaves them to Slurm (SLURM_CPUS_PER_TASK).
    private func job(_ dir: String, _ name: String, epochs: Int, threads: Int? = nil, _ extra: [String] = []) -> [String] {
        ["train", "--dataset", "synthetic", "--layer-sizes", "30,24,16,5", "--densities", "0.4,1,0.6",
         "--train-size", "400", "--test-size", "20", "--batch-size", "20", "--epochs", "\(epochs)", "--seed", "3",
         "--learning-rate", "0.05", "--save-weights", "\(dir)/\(name).npz"] + (threads.map { ["--threads", "\($0)"] } ?? []) + extra
    }

    private func weights(_ path: String) throws -> [Float] {
        try WeightsFile.load(path: path, configuration: NetworkConfiguration(layerSizes: [30, 24, 16, 5], densities: [1, 1, 1]))
            .parameters.values.array
    }

    /// The sbatch options of a job with one rank per node.
    private func perNode(_ cluster: LocalSlurmCluster) -> [String] {
        ["-N", "\(cluster.nodes)", "--ntasks-per-node=1", "--cpus-per-task=1", "--time=5"]
    }

    private func output(_ dir: String, job: String) throws -> String {
        try String(contentsOfFile: "\(dir)/slurm-\(job).out", encoding: .utf8)
    }

    /// train.sbatch (srun --mpi=pmix) and train-mpirun.sbatch (mpirun in the allocation) give
    /// bitwise the weights of the same job under plain mpirun; threads come from
    /// --cpus-per-task, checkpoints go to the job's own directory, rank 0 alone reports progress
    /// into slurm-<id>.out.
    func testBothTrainScriptsGiveTheWeightsOfPlainMpirun() throws {
        let cluster = try localCluster()
        let dir = try TestFiles.makeDirectory(self)
        let ranks = cluster.nodes
        let reference = try mpirun(ranks, job(dir, "reference", epochs: 2, threads: 1))
        XCTAssertEqual(reference.status, 0, reference.errors)
        for (script, name) in [("train.sbatch", "srun"), ("train-mpirun.sbatch", "mpirun")] {
            let id = try cluster.submit("\(scripts)/\(script)", in: dir, options: perNode(cluster),
                                        arguments: job(dir, name, epochs: 2, ["--checkpoint-every", "1"]),
                                        environment: ["SPRIG=\(CommandLineTests.binary)", "SPRIG_PROGRESS_SECONDS=0"])
            let rows = try cluster.wait(for: id)
            let log = try output(dir, job: id)
            XCTAssertEqual(rows.first?[1], "COMPLETED", "\(script): \(rows)\n\(log)")
            XCTAssertTrue(log.contains("by \(name)"), log)
            // mpirun gets -x only for variables that are set (it warns of an unset one).
            XCTAssertFalse(log.contains("LD_LIBRARY_PATH"), log)
            // Threads from --cpus-per-task=1 (otherwise each rank would take the node's cores).
            XCTAssertTrue(log.contains(ranks > 1 ? "\(ranks) ranks × 1 thread" : "1 thread"), log)
            // 20 steps per epoch, a progress line after each but the last, from rank 0 only.
            XCTAssertEqual(log.components(separatedBy: "\n").filter { $0.hasPrefix("  epoch ") && $0.contains(": step ") }.count, 2 * 19, log)
            XCTAssertEqual(try CheckpointFile.list(directory: "\(dir)/checkpoints/job-\(id)").count, 2)
            XCTAssertEqual(try weights("\(dir)/\(name).npz"), try weights("\(dir)/reference.npz"), script)
        }
    }

    /// scaling-array.sbatch as a job array over 1…nodes nodes and three densities, then
    /// `cluster/scaling.sh --gather` in a job that waits for it: one row per mode, density
    /// and rank count, each efficiency against its own 1-rank row.
    func testScalingJobArrayGathersItsRows() throws {
        let cluster = try localCluster()
        let dir = try TestFiles.makeDirectory(self)
        // One task at a time: on a CI machine, a task whose 2-rank step shared both nodes with
        // another task's hung once until its time limit (not seen here; the logs now come with a failure).
        let tasks = cluster.nodes == 2 ? "0-5%1" : "0-2%1"
        let array = try cluster.submit("\(scripts)/scaling-array.sbatch", in: LocalSlurmCluster.repository,
                                       options: ["--array=\(tasks)", "-N", "\(cluster.nodes)", "--cpus-per-task=1", "--time=5",
                                                 "-o", "\(dir)/scaling-%A-%a.out"],
                                       arguments: ["--layer-sizes", "256,64,10", "--train-size", "400", "--batch", "20", "--epochs", "2"],
                                       environment: ["SPRIG=\(CommandLineTests.binary)", "SPRIG_SCALING_DIR=\(dir)/sweep"])
        let gather = try cluster.submit("--wrap=cluster/scaling.sh --gather \(dir)/sweep --no-plots", in: LocalSlurmCluster.repository,
                                        options: ["--dependency=afterany:\(array)", "-N", "1", "--time=5", "-o", "\(dir)/gather.out"])
        let rows = try cluster.wait(for: array, records: cluster.nodes == 2 ? 6 : 3, timeout: 180)
        let logs = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasPrefix("scaling-") }.sorted()
            .map { "\($0):\n" + ((try? String(contentsOfFile: "\(dir)/\($0)", encoding: .utf8)) ?? "") }.joined(separator: "\n")
        XCTAssertEqual(rows.filter { !$0[0].contains(".") }.map { $0[1] }, Array(repeating: "COMPLETED", count: cluster.nodes == 2 ? 6 : 3),
                       "\(rows)\n\(logs)")
        XCTAssertEqual(try cluster.wait(for: gather).first?[1], "COMPLETED", (try? String(contentsOfFile: "\(dir)/gather.out", encoding: .utf8)) ?? "")
        let lines = try String(contentsOfFile: "\(dir)/sweep/scaling.csv", encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
        XCTAssertEqual(lines.first, ["mode", "ranks", "density", "examples_per_second", "compute_seconds", "communication_seconds",
                                     "bytes_per_step", "efficiency"])
        let body = lines.dropFirst()
        var expected: Set<String> = []
        for mode in ["strong", "weak"] { for density in ["0.1", "0.01", "0.001"] { for ranks in 1...cluster.nodes { expected.insert("\(mode),\(ranks),\(density)") } } }
        XCTAssertEqual(Set(body.map { "\($0[0]),\($0[1]),\($0[2])" }), expected)
        XCTAssertEqual(body.count, expected.count)
        for row in body {
            let throughput = try XCTUnwrap(Double(row[3])), efficiency = try XCTUnwrap(Double(row[7]))
            XCTAssertGreaterThan(throughput, 0, "\(row)")
            let single = try XCTUnwrap(body.first { $0[0] == row[0] && $0[2] == row[2] && $0[1] == "1" })
            XCTAssertEqual(efficiency, throughput / (Double(single[3])! * Double(row[1])!), accuracy: 0.0015, "\(row)")
            XCTAssertEqual(row[6], single[6], "bytes per step do not depend on the ranks: \(row)")
        }
    }

    /// Waits until the job's first checkpoint is written (it is training), up to 60 s.
    private func waitForCheckpoint(_ directory: String, job: String, cluster: LocalSlurmCluster) throws {
        let start = Date()
        while (try? CheckpointFile.list(directory: directory))?.isEmpty ?? true {
            guard Date().timeIntervalSince(start) < 60, try cluster.queueState(job) != nil else {
                throw TestFiles.MissingRequirement(description: "job \(job) wrote no checkpoint in \(directory): \(try cluster.accounting(job))")
            }
            usleep(100_000)
        }
    }

    /// scancel mid-run: every rank gets SIGTERM, finishes its step, rank 0 writes a final
    /// checkpoint, and --resume from it (plain mpirun) ends with bitwise the weights of a run
    /// never stopped.
    func testScancelLeavesACheckpointThatResumesBitwise() throws {
        try assertStopResumesBitwise(script: "train.sbatch", scancel: [], signal: "SIGTERM", state: "CANCELLED")
    }

    /// The same for train-mpirun.sbatch, stopped as its comment says: `scancel --signal=USR1
    /// --batch` reaches mpirun, which forwards SIGUSR1 to the ranks.
    func testScancelUSR1StopsTheMpirunScriptWithACheckpoint() throws {
        try assertStopResumesBitwise(script: "train-mpirun.sbatch", scancel: ["--signal=USR1", "--batch"], signal: "SIGUSR1", state: "FAILED")
    }

    private func assertStopResumesBitwise(script: String, scancel: [String], signal: String, state: String,
                                          file: StaticString = #filePath, line: UInt = #line) throws {
        let cluster = try localCluster()
        let dir = try TestFiles.makeDirectory(self)
        let epochs = 40
        let id = try cluster.submit("\(scripts)/\(script)", in: dir, options: perNode(cluster),
                                    arguments: job(dir, "cancelled", epochs: epochs, ["--checkpoint-every", "1"]),
                                    environment: ["SPRIG=\(CommandLineTests.binary)"])
        let checkpoints = "\(dir)/checkpoints/job-\(id)"
        try waitForCheckpoint(checkpoints, job: id, cluster: cluster)
        XCTAssertEqual(try cluster.slurm(["scancel"] + scancel + [id]).status, 0, file: file, line: line)
        let rows = try cluster.wait(for: id)
        let log = try output(dir, job: id)
        XCTAssertTrue(rows.first?[1].hasPrefix(state) == true, "\(rows)", file: file, line: line)
        // The signal reaches the ranks one by one: rank 0 may stop because another rank was signalled.
        XCTAssertNotNil(log.range(of: "stopped by (\(signal)|a signal to another rank) after step", options: .regularExpression), log,
                        file: file, line: line)
        XCTAssertTrue(log.contains("checkpoint written to checkpoints/job-\(id)/checkpoint-"), log, file: file, line: line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(dir)/cancelled.npz"), "a cancelled run wrote its final weights",
                       file: file, line: line)
        let newest = try XCTUnwrap(CheckpointFile.newestValid(in: checkpoints).checkpoint)
        XCTAssertLessThan(newest.epoch, epochs, "the job finished before it was cancelled", file: file, line: line)

        let full = try mpirun(cluster.nodes, job(dir, "full", epochs: epochs, threads: 1))
        XCTAssertEqual(full.status, 0, full.errors, file: file, line: line)
        let resumed = try mpirun(cluster.nodes, job(dir, "resumed", epochs: epochs, threads: 1, ["--resume", "--checkpoint-dir", checkpoints]))
        XCTAssertEqual(resumed.status, 0, resumed.errors, file: file, line: line)
        XCTAssertTrue(resumed.output.contains("resuming from \(checkpoints)/checkpoint-"), resumed.output, file: file, line: line)
        XCTAssertEqual(try weights("\(dir)/resumed.npz"), try weights("\(dir)/full.npz"), file: file, line: line)
    }

    /// `scontrol requeue` mid-run: the job is stopped (SIGTERM, final checkpoint), runs again
    /// with SLURM_RESTART_COUNT=1, resumes from its own checkpoint by itself and ends with
    /// bitwise the weights of a run never stopped; sacct shows the requeue.
    func testRequeuedJobResumesByItself() throws {
        let cluster = try localCluster()
        let dir = try TestFiles.makeDirectory(self)
        let epochs = 30
        let id = try cluster.submit("\(scripts)/train.sbatch", in: dir, options: perNode(cluster),
                                    arguments: job(dir, "requeued", epochs: epochs, ["--checkpoint-every", "1", "--metrics", "\(dir)/metrics.jsonl"]),
                                    environment: ["SPRIG=\(CommandLineTests.binary)"])
        try waitForCheckpoint("\(dir)/checkpoints/job-\(id)", job: id, cluster: cluster)
        XCTAssertEqual(try cluster.slurm(["scontrol", "requeue", id]).status, 0)
        // A requeued job waits before it is eligible again; let it start now.
        let start = Date()
        while try cluster.queueState(id) != "PENDING" && Date().timeIntervalSince(start) < 60 { usleep(100_000) }
        _ = try cluster.slurm(["scontrol", "update", "jobid=\(id)", "StartTime=now"])
        let rows = try cluster.wait(for: id, timeout: 180)
        let log = try output(dir, job: id)
        XCTAssertEqual(rows.filter { $0[0] == id }.map { $0[1] }, ["REQUEUED", "COMPLETED"], "\(rows)\n\(log)")
        XCTAssertNotNil(log.range(of: "stopped by (SIGTERM|a signal to another rank) after step", options: .regularExpression), log)
        XCTAssertTrue(log.contains("restart 1"), log)
        XCTAssertTrue(log.contains("resuming from checkpoints/job-\(id)/checkpoint-"), log)
        // The metrics file holds each epoch once: the second run appended the ones it trained.
        let epochsLogged = try String(contentsOfFile: "\(dir)/metrics.jsonl", encoding: .utf8).split(separator: "\n").count
        XCTAssertEqual(epochsLogged, epochs, "the first run's epochs and the resumed run's, appended")
        let full = try mpirun(cluster.nodes, job(dir, "full", epochs: epochs, threads: 1))
        XCTAssertEqual(full.status, 0, full.errors)
        XCTAssertEqual(try weights("\(dir)/requeued.npz"), try weights("\(dir)/full.npz"))
    }

    /// A rank that fails (its weights file is missing) ends the job FAILED with a non-zero
    /// exit code in sacct, and the output names the rank.
    func testAFailingRankGivesANonZeroExitCodeInSacct() throws {
        let cluster = try localCluster()
        let dir = try TestFiles.makeDirectory(self)
        let wrapper = "\(dir)/sprig-failing-on-last-rank.sh"
        try """
            #!/bin/sh
            # The last rank alone loads a weights file that does not exist.
            if [ "$SLURM_PROCID" = "$((SLURM_NTASKS - 1))" ]; then exec "\(CommandLineTests.binary)" "$@" --load-weights /nonexistent-sprig/w.npz; fi
            exec "\(CommandLineTests.binary)" "$@"
            """.write(toFile: wrapper, atomically: true, encoding: .utf8)
        chmod(wrapper, 0o755)
        // sprig's arguments the old way, SPRIG_ARGS without arguments to the script (still honoured).
        let id = try cluster.submit("\(scripts)/train.sbatch", in: dir, options: perNode(cluster), environment: [
            "SPRIG=\(wrapper)", "SPRIG_ARGS=" + job(dir, "failed", epochs: 2).joined(separator: " ")])
        let rows = try cluster.wait(for: id)
        let log = try output(dir, job: id)
        let record = try XCTUnwrap(rows.first { $0[0] == id })
        XCTAssertEqual(record[1], "FAILED", "\(rows)\n\(log)")
        XCTAssertNotEqual(record[2], "0:0", "\(rows)")
        let step = try XCTUnwrap(rows.first { $0[0] == "\(id).0" }, "\(rows)")
        XCTAssertNotEqual(step[2], "0:0", "\(rows)")
        XCTAssertTrue(log.contains("/nonexistent-sprig"), log)
        if cluster.nodes > 1 { XCTAssertTrue(log.contains("error: rank \(cluster.nodes - 1) of \(cluster.nodes)"), log) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(dir)/failed.npz"))
    }

    /// srun without an MPI interface starts independent copies: refused with one error line.
    func testSrunWithoutMPIIsRefused() throws {
        let cluster = try localCluster()
        let dir = try TestFiles.makeDirectory(self)
        let result = try cluster.slurm(["srun", "--mpi=none", "-N", "\(cluster.nodes)", "-n", "2", "--cpus-per-task=1", "-D", dir,
                                        CommandLineTests.binary] + job(dir, "alone", epochs: 1))
        XCTAssertNotEqual(result.status, 0)
        XCTAssertEqual(result.errors.components(separatedBy: "error: srun started 2 tasks but none of them is an MPI rank").count, 2,
                       result.errors)
        XCTAssertTrue(result.errors.contains("--mpi=pmix"), result.errors)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(dir)/alone.npz"))
    }

    // MARK: The README's examples, the binary, teardown

    /// The code block after `<!-- slurm-examples` in README.md's "## Slurm" section.
    private func readmeSlurmExamples() throws -> String {
        let readme = try String(contentsOfFile: "\(LocalSlurmCluster.repository)/README.md", encoding: .utf8)
        guard let section = readme.range(of: "\n## Slurm\n"),
              let marker = readme.range(of: "<!-- slurm-examples", range: section.upperBound..<readme.endIndex),
              let open = readme.range(of: "```sh\n", range: marker.upperBound..<readme.endIndex),
              let close = readme.range(of: "\n```", range: open.upperBound..<readme.endIndex) else {
            throw TestFiles.MissingRequirement(description: "README.md has no ```sh block after <!-- slurm-examples in its ## Slurm section")
        }
        return String(readme[open.upperBound..<close.lowerBound])
    }

    /// The number of tasks of `--array=A-B[%N]` (comma-separated ranges too) in `words`; 1 without it.
    private func arrayTasks(_ words: [String]) -> Int {
        guard let array = words.first(where: { $0.hasPrefix("--array=") }) else { return 1 }
        let ranges = array.dropFirst("--array=".count).split(separator: "%").first ?? ""
        return ranges.split(separator: ",").reduce(0) { count, range in
            let bounds = range.split(separator: "-").compactMap { Int($0) }
            return count + (bounds.count == 2 ? bounds[1] - bounds[0] + 1 : 1)
        }
    }

    /// README.md's Slurm examples, run as written: the block's lines, by bash, from a directory
    /// laid out like the repository (a copy of cluster/, so that no job writes into the
    /// checkout), with SPRIG naming the binary (the one thing substituted) and `sbatch` a shell
    /// function that calls the real one and records each job. Every job and array task ends
    /// COMPLETED in sacct, with the files its line promises: the ranks' report in
    /// slurm-<id>.out, the weights of --save-weights, the checkpoints of --checkpoint-every, the
    /// array's task rows and the gathered CSV (plots or the note saying how to draw them,
    /// nothing installed).
    func testReadmeSlurmExamplesRunAsWritten() throws {
        let cluster = try localCluster()
        guard cluster.nodes >= 2 else {
            throw TestFiles.MissingRequirement(description: "the README's Slurm examples ask for 2 nodes; the local cluster has 1 here (no network namespaces)")
        }
        let block = try readmeSlurmExamples()
        XCTAssertFalse(block.contains("--export") || block.contains("SPRIG_ARGS"), "sprig's arguments go to the scripts as theirs: \(block)")
        let commands = block.split(separator: "\n").map { $0.components(separatedBy: " #").first ?? "" }
        let sbatchLines = commands.map { line in line.split(whereSeparator: { c in c == " " || c == "(" }).filter { word in word == "sbatch" }.count }
            .reduce(0, +)
        XCTAssertGreaterThanOrEqual(sbatchLines, 3, block)

        let dir = try TestFiles.makeDirectory(self)
        let copy = try TestFiles.run(["cp", "-R", "\(LocalSlurmCluster.repository)/cluster", "\(dir)/cluster"])
        XCTAssertEqual(copy.status, 0, copy.errors)
        let jobs = "\(dir)/jobs.tsv"
        let script = #"""
            set -euo pipefail
            cd "$(dirname "$0")"
            # The real sbatch; each job's id (the last word it prints) and arguments recorded.
            sbatch() { local out; out=$(command sbatch "$@") || return; printf '%s\n' "$out"; printf '%s\t%s\n' "${out##* }" "$*" >> jobs.tsv; }

            """# + block + "\n"
        try script.write(toFile: "\(dir)/readme-examples.sh", atomically: true, encoding: .utf8)
        let run = try cluster.slurm(["bash", "\(dir)/readme-examples.sh"], environment: ["SPRIG=\(CommandLineTests.binary)"])
        XCTAssertEqual(run.status, 0, "the README's lines failed:\n\(run.output)\n\(run.errors)")

        let submitted = ((try? String(contentsOfFile: jobs, encoding: .utf8)) ?? "").split(separator: "\n").map { line -> (id: String, words: [String]) in
            let fields = line.split(separator: "\t", maxSplits: 1).map(String.init)
            return (String(fields[0].split(separator: ";").first ?? ""), fields.count > 1 ? fields[1].split(separator: " ").map(String.init) : [])
        }
        XCTAssertEqual(submitted.count, sbatchLines, "jobs submitted: \(submitted)\n\(run.output)\n\(run.errors)")
        func logs() -> String {
            ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".out") }.sorted()
                .map { "\($0):\n" + ((try? String(contentsOfFile: "\(dir)/\($0)", encoding: .utf8)) ?? "") }.joined(separator: "\n")
        }
        for job in submitted {
            let words = job.words
            func value(_ flag: String) -> String? {
                words.firstIndex(of: flag).flatMap { $0 + 1 < words.count ? words[$0 + 1] : nil }
            }
            let tasks = arrayTasks(words)
            let rows = try cluster.wait(for: job.id, records: tasks, timeout: 180)
            let records = rows.filter { !$0[0].contains(".") }
            XCTAssertEqual(records.map { $0[1] }, Array(repeating: "COMPLETED", count: tasks), "\(words): \(rows)\n\(logs())")
            if words.contains(where: { $0.hasSuffix("/train.sbatch") || $0.hasSuffix("/train-mpirun.sbatch") }) {
                let log = (try? output(dir, job: job.id)) ?? ""
                XCTAssertTrue(log.contains("sprig job \(job.id): \(cluster.nodes) ranks on "), log)
                if let epochs = value("--epochs") { XCTAssertTrue(log.contains("epoch \(epochs)/\(epochs) "), log) }
                XCTAssertFalse(log.contains("error:") || log.contains("LD_LIBRARY_PATH"), log)
            }
            if let weights = value("--save-weights") {
                XCTAssertTrue(FileManager.default.fileExists(atPath: "\(dir)/\(weights)"), "\(words): no \(weights)\n\(logs())")
            }
            if words.contains("--checkpoint-every") {
                XCTAssertFalse(try CheckpointFile.list(directory: "\(dir)/checkpoints/job-\(job.id)").isEmpty, "\(words)")
            }
            if words.contains(where: { $0.hasSuffix("/scaling-array.sbatch") }) {
                let files = (try? FileManager.default.contentsOfDirectory(atPath: "\(dir)/scaling-\(job.id)")) ?? []
                XCTAssertEqual(files.filter { $0.hasPrefix("task-") }.count, tasks, "\(files)\n\(logs())")
            }
            if let gathered = value("--gather") {
                let lines = try String(contentsOfFile: "\(dir)/\(gathered)/scaling.csv", encoding: .utf8).split(separator: "\n")
                XCTAssertEqual(lines.first, "mode,ranks,density,examples_per_second,compute_seconds,communication_seconds,bytes_per_step,efficiency")
                let taskRows = ((try? FileManager.default.contentsOfDirectory(atPath: "\(dir)/\(gathered)")) ?? []).filter { $0.hasPrefix("task-") }
                    .map { ((try? String(contentsOfFile: "\(dir)/\(gathered)/\($0)", encoding: .utf8)) ?? "").split(separator: "\n").count - 1 }
                XCTAssertEqual(lines.count - 1, taskRows.reduce(0, +), "\(lines)")
                XCTAssertGreaterThan(lines.count, 1)
                let log = (try? output(dir, job: job.id)) ?? ""
                XCTAssertTrue(log.contains("wrote ") || log.contains("note: scaling.sh: no plots"), log)
                XCTAssertFalse(log.contains("pip") || log.contains("installing"), "the gathering job installed something: \(log)")
            }
        }
    }

    /// Submitted from another directory with SPRIG unset, a batch script takes the sprig of the
    /// repository it is in (found from the job's command: a copy of cluster/slurm in a folder
    /// whose name has a space, named by a relative path, its .build/release/sprig a link to the
    /// binary); without one there or in the submit directory, the job ends before any rank
    /// starts with one error line naming both places and how to build, FAILED 66:0 in sacct.
    func testTrainScriptsFindTheirRepositorysSprigOrSayHowToBuildIt() throws {
        let cluster = try localCluster()
        let dir = try TestFiles.makeDirectory(self)
        let built = "\(dir)/built repo", bare = "\(dir)/bare repo", elsewhere = "\(dir)/elsewhere"
        for root in [built, bare] {
            try FileManager.default.createDirectory(atPath: "\(root)/cluster", withIntermediateDirectories: true)
            let copy = try TestFiles.run(["cp", "-R", scripts, "\(root)/cluster/slurm"])
            XCTAssertEqual(copy.status, 0, copy.errors)
        }
        try FileManager.default.createDirectory(atPath: "\(built)/.build/release", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: "\(built)/.build/release/sprig", withDestinationPath: CommandLineTests.binary)
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        for script in ["train.sbatch", "train-mpirun.sbatch"] {
            for root in [built, bare] {
                let name = (root == built ? "built-" : "bare-") + script
                // sbatch runs in `elsewhere` (the submit directory), the script named relative to it.
                let path = "../\((root as NSString).lastPathComponent)/cluster/slurm/\(script)"
                var command = ["env", "-C", elsewhere, "sbatch", "--parsable"]
                command += perNode(cluster)
                command += [path] + job(elsewhere, name, epochs: 1)
                let submitted = try cluster.slurm(command, environment: ["SPRIG="])
                XCTAssertEqual(submitted.status, 0, submitted.errors)
                let id = String(submitted.output.split(separator: ";").first ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
                let rows = try cluster.wait(for: id)
                let log = (try? output(elsewhere, job: id)) ?? ""
                let record = try XCTUnwrap(rows.first { $0[0] == id }, "\(rows)")
                if root == built {
                    XCTAssertEqual(record[1], "COMPLETED", "\(name): \(rows)\n\(log)")
                    XCTAssertTrue(FileManager.default.fileExists(atPath: "\(elsewhere)/\(name).npz"), log)
                } else {
                    XCTAssertEqual(record[1], "FAILED", "\(name): \(rows)\n\(log)")
                    XCTAssertEqual(record[2], "66:0", "\(name): \(rows)")
                    let lines = log.split(separator: "\n")
                    XCTAssertEqual(lines.count, 1, log)
                    XCTAssertTrue(log.hasPrefix("error: \(script): sprig not found at "), log)
                    XCTAssertTrue(log.contains("bare repo/.build/release/sprig or ") && log.contains("elsewhere/.build/release/sprig;"), log)
                    XCTAssertTrue(log.contains("build it with `swift build -c release` in the repository, or set SPRIG=/path/to/sprig"), log)
                    XCTAssertFalse(log.contains("execve"), log)
                }
            }
        }
    }

    /// While the local cluster's namespace hosts are up (cluster/netns-up.sh's, the Slurm
    /// nodes), launch.sh takes them for this machine: hostfiles/netns-cluster gets the native
    /// build, quietly; a hostfile that also names a host elsewhere gets the portable build, with
    /// one line naming that host.
    func testLaunchTakesTheNamespaceHostsForThisMachine() throws {
        let cluster = try localCluster()
        guard cluster.nodes >= 2 else {
            throw TestFiles.MissingRequirement(description: "network namespaces are not permitted here: \(cluster.banner)")
        }
        let root = LocalSlurmCluster.repository
        let local = try TestFiles.run(["\(root)/launch.sh", "--dry-run", "-np", "4", "--hostfile", "\(root)/hostfiles/netns-cluster", "--", "train"])
        XCTAssertEqual(local.status, 0, local.errors)
        XCTAssertTrue(local.output.contains("# build: swift build -c release \n"), local.output)
        XCTAssertTrue(local.output.contains(" \(root)/.build/release/sprig train") && !local.output.contains("portable"), local.output)
        XCTAssertFalse(local.errors.contains("portable"), local.errors)

        let dir = try TestFiles.makeDirectory(self)
        try "10.213.47.11 slots=2\nsprig-h2 slots=2\nnode-elsewhere-7 slots=2\n".write(toFile: "\(dir)/mixed", atomically: true, encoding: .utf8)
        let mixed = try TestFiles.run(["\(root)/launch.sh", "--dry-run", "-np", "4", "--hostfile", "\(dir)/mixed", "--", "train"])
        XCTAssertEqual(mixed.status, 0, mixed.errors)
        XCTAssertTrue(mixed.output.contains(" \(root)/.build-portable/release/sprig train"), mixed.output)
        let notes = mixed.errors.split(separator: "\n").filter { $0.contains("portable") }
        XCTAssertEqual(notes.count, 1, mixed.errors)
        XCTAssertTrue(notes.first?.contains("host node-elsewhere-7 of the hostfile is not this machine") == true, mixed.errors)
    }

    /// `cluster/scaling.sh --help` prints its usage, not lines of the script.
    func testScalingHelpIsItsUsage() throws {
        let help = try TestFiles.run(["\(LocalSlurmCluster.repository)/cluster/scaling.sh", "--help"])
        XCTAssertEqual(help.status, 0, help.errors)
        XCTAssertTrue(help.output.hasPrefix("usage: cluster/scaling.sh "), help.output)
        XCTAssertTrue(help.output.contains("--gather DIR"), help.output)
        XCTAssertFalse(help.output.contains("set -euo") || help.output.contains("ROOT="), help.output)
    }

    /// cluster/slurm/local-down.sh while a job runs and two wait for its nodes, run as a user
    /// who sourced the env file does (its caller, here `timeout`, carries the cluster's marker
    /// variable, which the script must not take for one of the cluster's processes): one run
    /// stops every job and daemon and removes the namespaces and the state directory, status 0,
    /// nothing on stderr. The cluster then comes up again for the other tests.
    func testLocalDownWithJobsStillQueuedLeavesNothing() throws {
        let cluster = try localCluster()
        let dir = try TestFiles.makeDirectory(self)
        var ids: [String] = []
        for name in ["running", "waiting", "waiting-too"] {
            ids.append(try cluster.submit("\(scripts)/train.sbatch", in: dir, options: perNode(cluster) + ["--exclusive"],
                                          arguments: job(dir, name, epochs: 500, ["--checkpoint-every", "1"]),
                                          environment: ["SPRIG=\(CommandLineTests.binary)"]))
        }
        let start = Date()
        while try cluster.queueState(ids[0]) != "RUNNING" && Date().timeIntervalSince(start) < 60 { usleep(100_000) }
        XCTAssertEqual(try cluster.queueState(ids[1]), "PENDING")

        // The cluster goes down here: it comes up again after the test, whatever happens in it.
        SlurmTests.cluster = nil
        addTeardownBlock {
            if SlurmTests.cluster == nil {
                do { SlurmTests.cluster = try LocalSlurmCluster.up() } catch { SlurmTests.failure = error }
            }
        }
        let marker = "SPRIG_LOCAL_SLURM=\(LocalSlurmCluster.state)"
        let down = try TestFiles.run(["env", marker, "timeout", "120", "\(LocalSlurmCluster.repository)/cluster/slurm/local-down.sh"])
        XCTAssertEqual(down.status, 0, down.errors)
        XCTAssertEqual(down.errors, "", "stderr")
        XCTAssertFalse(FileManager.default.fileExists(atPath: LocalSlurmCluster.state), "the state directory is still there")
        let namespaces = try TestFiles.run(["ip", "netns", "list"]).output
        XCTAssertFalse(namespaces.contains("sprig-h"), "namespaces left: \(namespaces)")
        // No process of the cluster (daemons, slurmstepd, ranks: all carry the marker) is left;
        // unless this test process carries it too (started from a shell that sourced the env file).
        if ProcessInfo.processInfo.environment["SPRIG_LOCAL_SLURM"] == nil {
            let left = try TestFiles.run(["sh", "-c", "grep -lxzF \"$1\" /proc/[0-9]*/environ 2>/dev/null; true", "sh", marker])
            XCTAssertEqual(left.output, "", "processes of the cluster still run")
        }
    }
}
