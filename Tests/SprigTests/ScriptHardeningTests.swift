import Foundation
import XCTest

/// The shell scripts against a user's mistakes (issue 25): cluster/slurm/local-down.sh removes
/// only a state directory local-up.sh made, and only what the cluster made in it, quietly;
/// local-up.sh refuses a directory it did not make and numbers out of range with one error line;
/// `launch.sh --test` runs the tests only and `--test --dry-run` runs nothing; launch.sh refuses
/// a huge rank count and a directory as hostfile, and takes a relative hostfile from where its
/// caller stands; the batch scripts run outside Slurm say so in one line. Nothing here starts a
/// daemon, builds or trains: launch.sh's test path runs in a scratch copy whose every program is a stub.
final class ScriptHardeningTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let huge = "99999999999999999999"

    private func writeScript(_ text: String, to path: String) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
    }

    /// Makes the folders of `path` and writes `text` there.
    private func write(_ text: String, to path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    private func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    /// A state directory as local-up.sh leaves it (its marker, configuration, logs, spool, the
    /// database's files), without pid files or a netns record: local-down.sh must not stop a
    /// process or a namespace of anyone's here.
    private func clusterState() throws -> String {
        let state = try TestFiles.makeDirectory(self)
        for file in [".sprig-local-slurm", "slurm.conf", "slurmdbd.conf", "env", "log/slurmctld.log", "log/daemons.out",
                     "spool/sprig-h1/cred_state", "tmp/sprig-h1/x", "ctld/node_state", "db/ibdata1", "munge/munged.seed"] {
            try write("made by the cluster\n", to: "\(state)/\(file)")
        }
        return state
    }

    private func localDown(_ state: String) throws -> TestFiles.ProcessResult {
        try TestFiles.run(["env", "SPRIG_SLURM_STATE=\(state)", "\(Self.root)/cluster/slurm/local-down.sh"])
    }

    /// SPRIG_SLURM_STATE naming a directory local-up.sh did not make (no marker): one error
    /// line, status 64, and the user's files are all still there.
    func testLocalDownRefusesADirectoryItDidNotMake() throws {
        let dir = try TestFiles.makeDirectory(self)
        try write("epoch,accuracy\n1,0.85\n", to: "\(dir)/my-results/run.csv")
        let result = try localDown(dir)
        assertOneErrorLine(result, status: 64, mentions: [dir, ".sprig-local-slurm"])
        XCTAssertTrue(exists("\(dir)/my-results/run.csv"), "local-down.sh removed a directory local-up.sh did not make")
    }

    /// The cluster's own directory goes entirely, with nothing on stderr (no `/proc/N/environ:
    /// No such process` from processes that end while it looks); then there is nothing to do:
    /// status 0, quietly.
    func testLocalDownRemovesTheClustersDirectoryQuietly() throws {
        let state = try clusterState()
        let result = try localDown(state)
        XCTAssertEqual(result.status, 0, result.errors)
        XCTAssertFalse(result.errors.contains("No such process"), result.errors)
        XCTAssertEqual(result.errors, "", "stderr")
        XCTAssertFalse(exists(state), "the cluster's state directory is still there")
        let again = try localDown(state)
        XCTAssertEqual(again.status, 0, again.errors)
        XCTAssertEqual(again.errors, "", "stderr with nothing up")
    }

    /// In the cluster's own directory, a file the cluster did not make stays (and the marker
    /// with it, the directory remaining the cluster's); what the cluster made goes.
    func testLocalDownLeavesWhatTheClusterDidNotMake() throws {
        let state = try clusterState()
        try write("epoch,accuracy\n1,0.85\n", to: "\(state)/my-results/run.csv")
        let result = try localDown(state)
        XCTAssertEqual(result.status, 0, result.errors)
        XCTAssertTrue(exists("\(state)/my-results/run.csv"), "local-down.sh removed a file the cluster did not make")
        XCTAssertTrue(exists("\(state)/.sprig-local-slurm"))
        for made in ["slurm.conf", "env", "log", "spool", "tmp", "ctld", "db", "munge"] {
            XCTAssertFalse(exists("\(state)/\(made)"), "\(made) was left")
        }
        XCTAssertTrue(result.errors.contains("my-results"), "stderr should name what it kept: \(result.errors)")
    }

    /// local-up.sh refuses, before anything else, a state directory that is not empty and not
    /// its own. (The port is out of range too, so that no version of the script gets further.)
    func testLocalUpRefusesADirectoryItDidNotMake() throws {
        let dir = try TestFiles.makeDirectory(self)
        try write("epoch,accuracy\n1,0.85\n", to: "\(dir)/run.csv")
        let result = try TestFiles.run(["env", "SPRIG_SLURM_STATE=\(dir)", "SPRIG_SLURM_PORT=1", "\(Self.root)/cluster/slurm/local-up.sh", "1"])
        assertOneErrorLine(result, status: 64, mentions: [dir, ".sprig-local-slurm"])
        XCTAssertTrue(exists("\(dir)/run.csv"))
    }

    /// A node count, --cpus or SPRIG_SLURM_PORT too large for bash's integers: one error line
    /// naming the value (not bash's `integer expression expected`).
    func testLocalUpRefusesHugeNumbersInOneLine() throws {
        let state = try TestFiles.makeDirectory(self) + "/state"
        let script = "\(Self.root)/cluster/slurm/local-up.sh"
        let cases: [(environment: [String], arguments: [String])] = [([], [Self.huge]), ([], ["1", "--cpus", Self.huge]),
                                                                     (["SPRIG_SLURM_PORT=\(Self.huge)"], ["1"])]
        for (environment, arguments) in cases {
            let result = try TestFiles.run(["env", "SPRIG_SLURM_STATE=\(state)"] + environment + [script] + arguments)
            assertOneErrorLine(result, status: 64, mentions: [Self.huge], context: "\(environment) \(arguments)")
        }
        XCTAssertFalse(exists(state))
    }

    /// A scratch copy of launch.sh in which every program its --test path runs is a stub that
    /// appends its name and arguments to `log` and succeeds (`swift test` exits with
    /// SPRIG_STUB_TEST_STATUS): swift, mpirun and python3 first on PATH; the copy's
    /// tools/install-packages.sh, gpu/ scripts and Python virtual environment. The script's own
    /// control flow runs; nothing is installed, built, tested or trained.
    private func stubbedLaunch() throws -> (launch: String, log: String, environment: [String]) {
        let tree = try TestFiles.makeDirectory(self)
        let stub = #"""
            #!/bin/sh
            echo "${0##*/} $*" >> "$SPRIG_STUB_LOG"
            case "${0##*/} $1" in "swift test") exit "${SPRIG_STUB_TEST_STATUS:-0}" ;; esac
            exit 0

            """#
        for folder in ["bin", "tools", "gpu", ".build-test/python-venv/bin"] {
            try FileManager.default.createDirectory(atPath: "\(tree)/\(folder)", withIntermediateDirectories: true)
        }
        for program in ["bin/swift", "bin/mpirun", "bin/python3", "tools/install-packages.sh", "gpu/bundle.sh", "gpu/bundle-test.sh",
                        ".build-test/python-venv/bin/python", ".build-test/python-venv/bin/pip"] {
            try writeScript(stub, to: "\(tree)/\(program)")
        }
        try writeScript(try String(contentsOfFile: "\(Self.root)/launch.sh", encoding: .utf8), to: "\(tree)/launch.sh")
        let log = "\(tree)/stub.log"
        try "".write(toFile: log, atomically: true, encoding: .utf8)
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return ("\(tree)/launch.sh", log,
                ["PATH=\(tree)/bin:\(path)", "SPRIG_STUB_LOG=\(log)", "SPRIG_CUDA_LIBRARY_PATH=\(tree)/no-nvrtc"])
    }

    /// The stubs' calls, one line each (a multi-line argument spans lines).
    private func calls(_ log: String) throws -> [String] {
        try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    /// `launch.sh --test` runs the tests and stops there, with their status: no training build,
    /// no mpirun, after passing or failing tests.
    func testLaunchTestRunsTheTestsOnlyWithTheirStatus() throws {
        let stubbed = try stubbedLaunch()
        let passed = try TestFiles.run(["env"] + stubbed.environment + [stubbed.launch, "--test"])
        XCTAssertEqual(passed.status, 0, passed.errors)
        let ran = try calls(stubbed.log)
        XCTAssertTrue(ran.contains { $0.hasPrefix("swift test ") }, "\(ran)")
        XCTAssertTrue(ran.contains { $0.hasPrefix("python -m pytest") }, "\(ran)")
        XCTAssertFalse(ran.contains { $0.hasPrefix("mpirun") }, "--test went on to train: \(ran)")
        XCTAssertFalse(ran.contains("swift build -c release"), "--test went on to build for training: \(ran)")

        try "".write(toFile: stubbed.log, atomically: true, encoding: .utf8)
        let failed = try TestFiles.run(["env"] + stubbed.environment + ["SPRIG_STUB_TEST_STATUS=3", stubbed.launch, "--test"])
        XCTAssertEqual(failed.status, 3, "the status of the failed tests; stderr: \(failed.errors)")
        let ranAfterFailure = try calls(stubbed.log)
        XCTAssertFalse(ranAfterFailure.contains { $0.hasPrefix("mpirun") || $0.hasPrefix("python -m pytest") }, "\(ranAfterFailure)")
    }

    /// `launch.sh --test --dry-run` prints the install, build and test commands, runs none of
    /// them (only python3's probe for NumPy, which decides the package list) and exits 0.
    func testLaunchTestDryRunPrintsAndRunsNothing() throws {
        let stubbed = try stubbedLaunch()
        let result = try TestFiles.run(["env"] + stubbed.environment + [stubbed.launch, "--test", "--dry-run"])
        XCTAssertEqual(result.status, 0, result.errors)
        for line in ["# install: tools/install-packages.sh --as launch.sh ",
                     "# build: swift build -c release -Xswiftc -enable-testing --build-tests --scratch-path .build-test",
                     "# test: swift test -c release -Xswiftc -enable-testing --skip-build --scratch-path .build-test",
                     "-m pytest -q python/tests"] {
            XCTAssertTrue(result.output.contains(line), "should print '\(line)': \(result.output)")
        }
        XCTAssertFalse(result.output.contains("mpirun"), "a test run trains nothing: \(result.output)")
        let ran = try calls(stubbed.log).filter { !$0.hasPrefix("python3 -c import numpy") }
        XCTAssertEqual(ran, [], "a dry run ran these")
    }

    /// -np beyond 1000000 (and far beyond bash's integers): status 64, one line naming it.
    func testLaunchRefusesAHugeRankCount() throws {
        for ranks in [Self.huge, "1000001"] {
            let result = try TestFiles.run(["\(Self.root)/launch.sh", "--dry-run", "-np", ranks])
            assertOneErrorLine(result, status: 64, mentions: ["-np", "'\(ranks)'"], context: "-np \(ranks)")
        }
    }

    /// A directory as hostfile, and a hostfile with a slots count beyond bash's integers: one
    /// error line each (no awk warnings, no `integer expression expected`).
    func testLaunchRefusesABadHostfileInOneLine() throws {
        let dir = try TestFiles.makeDirectory(self)
        let folder = try TestFiles.run(["\(Self.root)/launch.sh", "--dry-run", "--hostfile", dir])
        assertOneErrorLine(folder, status: 64, mentions: [dir, "directory"], context: "a directory")
        try write("localhost slots=\(Self.huge)\n", to: "\(dir)/hosts")
        let slots = try TestFiles.run(["\(Self.root)/launch.sh", "--dry-run", "--hostfile", "\(dir)/hosts"])
        assertOneErrorLine(slots, status: 64, mentions: ["\(dir)/hosts", "slots=\(Self.huge)"], context: "huge slots")
    }

    /// A relative --hostfile is the caller's: launch.sh (which changes to the repository) passes
    /// mpirun the file in the caller's directory, by its absolute path.
    func testLaunchTakesARelativeHostfileFromTheCallersDirectory() throws {
        let dir = try TestFiles.makeDirectory(self)
        try write("localhost slots=4\n", to: "\(dir)/hf")
        let result = try TestFiles.run(["env", "-C", dir, "\(Self.root)/launch.sh", "--dry-run", "-np", "4", "--hostfile", "hf", "--", "train"])
        XCTAssertEqual(result.status, 0, result.errors)
        let resolved = URL(fileURLWithPath: dir).resolvingSymlinksInPath().path   // the shell's own spelling of its directory
        XCTAssertTrue(result.output.contains(" --hostfile \(dir)/hf ") || result.output.contains(" --hostfile \(resolved)/hf "), result.output)
    }

    /// The batch scripts run with bash instead of sbatch: one error line saying to use sbatch
    /// (not `SLURM_JOB_ID: unbound variable`), status 64.
    func testBatchScriptsOutsideSlurmSayToUseSbatch() throws {
        let dir = try TestFiles.makeDirectory(self)
        for script in ["train.sbatch", "train-mpirun.sbatch", "scaling-array.sbatch"] {
            let result = try TestFiles.run(["env", "-u", "SLURM_JOB_ID", "-u", "SLURM_ARRAY_JOB_ID", "-C", dir,
                                            "bash", "\(Self.root)/cluster/slurm/\(script)"])
            XCTAssertFalse(result.errors.contains("unbound variable"), result.errors)
            assertOneErrorLine(result, status: 64, mentions: [script, "sbatch", "SLURM_JOB_ID"], context: script)
        }
    }
}
