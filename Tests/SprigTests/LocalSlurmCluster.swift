import Foundation
import XCTest

/// The real Slurm cluster of cluster/slurm/local-up.sh (munged, slurmdbd on MariaDB, slurmctld,
/// one slurmd per namespace node), driven through Slurm's own commands: sbatch, squeue, sacct,
/// scancel, scontrol. Two nodes where the machine allows network namespaces, else one.
struct LocalSlurmCluster {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let state = "/run/sprig-slurm"

    /// The nodes the cluster has (2, or 1 without network namespaces).
    let nodes: Int
    /// What local-up.sh printed.
    let banner: String

    /// Brings the cluster up (tearing down any earlier one first).
    static func up() throws -> LocalSlurmCluster {
        guard getuid() == 0 else {
            throw TestFiles.MissingRequirement(description: "the local Slurm cluster needs root (its daemons, ip netns); run the tests as root, as CI does")
        }
        let probe = try TestFiles.run(["ip", "netns", "add", "sprig-probe"])
        _ = try? TestFiles.run(["ip", "netns", "del", "sprig-probe"])
        let nodes = probe.status == 0 ? 2 : 1
        if nodes == 1 { print("note: network namespaces are not permitted here: the Slurm tests run on one node (\(probe.errors))") }
        let result = try TestFiles.run(["timeout", "300", "\(repository)/cluster/slurm/local-up.sh", "\(nodes)"])
        guard result.status == 0 else {
            let logs = (try? TestFiles.run(["sh", "-c", "tail -n 5 \(state)/log/*.log"]).output) ?? ""
            throw TestFiles.MissingRequirement(description: "cluster/slurm/local-up.sh \(nodes) failed (\(result.status)): \(result.errors)\n\(logs)")
        }
        return LocalSlurmCluster(nodes: nodes, banner: result.output)
    }

    static func down() {
        _ = try? TestFiles.run(["\(repository)/cluster/slurm/local-down.sh"])
    }

    /// Runs a Slurm client command against this cluster.
    func slurm(_ arguments: [String], environment: [String] = []) throws -> TestFiles.ProcessResult {
        try TestFiles.run(["env", "SLURM_CONF=\(Self.state)/slurm.conf"] + environment + ["timeout", "120"] + arguments)
    }

    /// Submits `script` (a path) from `directory` with these sbatch options, the script's own
    /// `arguments` (sprig's, for the training scripts) and environment variables (NAME=value;
    /// sbatch exports the whole environment); returns the job id.
    func submit(_ script: String, in directory: String, options: [String], arguments: [String] = [],
                environment: [String] = []) throws -> String {
        let result = try slurm(["sbatch", "--parsable", "-D", directory] + options + [script] + arguments, environment: environment)
        guard result.status == 0, let id = result.output.split(separator: ";").first.map({ $0.trimmingCharacters(in: .whitespacesAndNewlines) }),
              !id.isEmpty else {
            throw TestFiles.MissingRequirement(description: "sbatch \(script) failed (\(result.status)): \(result.errors)")
        }
        return id
    }

    /// Waits until `job` has left the queue and the accounting records of the job (or of each
    /// of the `records` tasks of an array) are final; returns sacct's rows
    /// (JobID|State|ExitCode), steps and requeues included.
    @discardableResult
    func wait(for job: String, records: Int = 1, timeout: TimeInterval = 120,
              file: StaticString = #filePath, line: UInt = #line) throws -> [[String]] {
        let start = Date()
        while Date().timeIntervalSince(start) < timeout {
            let queued = try slurm(["squeue", "-h", "-j", job, "-o", "%i"])
            if queued.status == 0 && queued.output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                // Final when the newest record of the job (of each task of an array) is.
                let rows = try accounting(job)
                var newest: [String: String] = [:]
                for row in rows where row.count == 3 && !row[0].contains(".") { newest[row[0]] = row[1] }
                let active: Set = ["PENDING", "RUNNING", "COMPLETING", "REQUEUED", "SUSPENDED"]
                if newest.count >= records && !newest.values.contains(where: active.contains) { return rows }
            }
            usleep(200_000)
        }
        XCTFail("job \(job) did not finish within \(Int(timeout)) s: \((try? slurm(["squeue", "-j", job]).output) ?? "")", file: file, line: line)
        _ = try? slurm(["scancel", job])
        return try accounting(job)
    }

    /// sacct's rows for `job`: [JobID, State, ExitCode], every attempt (-D) and step.
    func accounting(_ job: String) throws -> [[String]] {
        let result = try slurm(["sacct", "-n", "-P", "-D", "-j", job, "-o", "JobID,State,ExitCode"])
        return result.output.split(separator: "\n").map { $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init) }
    }

    /// The job's state in the queue (PENDING, RUNNING, …), or nil once it has left it.
    func queueState(_ job: String) throws -> String? {
        let state = try slurm(["squeue", "-h", "-j", job, "-o", "%T"]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        return state.isEmpty ? nil : state
    }
}
