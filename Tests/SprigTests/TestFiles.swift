import Foundation
import Sprig
import XCTest

/// Helpers shared by the file-reading tests: scratch directories, the repository's fixtures and
/// external processes (the `gzip` tool, Python with NumPy and SciPy, `mpirun`) used as
/// independent references. A missing fixture or tool fails the test that needs it (only the
/// GPU tests skip): `./launch.sh --test` installs every tool.
enum TestFiles {
    /// Something a test needs is not there; thrown, it fails the test with this message.
    struct MissingRequirement: Error, CustomStringConvertible {
        var description: String
    }

    /// The path of `name` under Tests/Fixtures.
    static func fixture(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures").appendingPathComponent(name).path
    }

    /// Fails the test when the fixture `name` (under Tests/Fixtures) is missing.
    static func requireFixture(_ name: String) throws {
        let path = fixture(name)
        guard FileManager.default.fileExists(atPath: path) else {
            throw MissingRequirement(description: "the test fixture \(path) is missing (it is part of the repository)")
        }
    }

    /// Fails the test when `command` (a tool's probe, e.g. `["mpirun", "--version"]`) does not succeed.
    static func requireTool(_ command: [String]) throws {
        guard (try? run(command))?.status == 0 else {
            throw MissingRequirement(description: "'\(command.joined(separator: " "))' failed: \(command[0]) is needed (./launch.sh --test installs it)")
        }
    }

    /// Fails the test when the directory `path` of an installed data set is missing.
    static func requireDirectory(_ path: String, package: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw MissingRequirement(description: "\(path) is missing (Debian package \(package); ./launch.sh --test installs it)")
        }
    }

    /// A new empty directory under the system temporary directory; removed by `addTeardownBlock`.
    static func makeDirectory(_ test: XCTestCase) throws -> String {
        let path = (NSTemporaryDirectory() as NSString)
            .appendingPathComponent("sprig-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    static func write(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// The result of running a program to completion.
    struct ProcessResult {
        var status: Int32
        var output: String
        var errors: String
    }

    /// Runs `arguments[0]` (looked up on PATH) with the rest as arguments.
    static func run(_ arguments: [String]) throws -> ProcessResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        // Standard error goes to a file so that neither stream can fill up and block the child.
        let errorPath = (NSTemporaryDirectory() as NSString).appendingPathComponent("sprig-stderr-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: errorPath) }
        let errorFile = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath))
        let outputPipe = Pipe()
        process.standardOutput = outputPipe
        process.standardError = errorFile
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let output = outputPipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try errorFile.close()
        let errors = FileManager.default.contents(atPath: errorPath) ?? Data()
        return ProcessResult(status: process.terminationStatus,
                             output: String(decoding: output, as: UTF8.self),
                             errors: String(decoding: errors, as: UTF8.self))
    }

    /// Compresses `path` into `path.gz` with the system `gzip` tool, keeping the original.
    static func gzip(_ path: String) throws -> String {
        let result = try run(["gzip", "-kf", path])
        guard result.status == 0 else { throw MissingRequirement(description: "the gzip tool failed: \(result.errors)") }
        return path + ".gz"
    }

    /// Runs a Python script with NumPy (and SciPy when `needsSciPy`); fails the test when
    /// python3 or the modules are missing or the script fails.
    static func python(_ script: String, needsSciPy: Bool = false,
                       file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let probe = try? run(["python3", "-c", needsSciPy ? "import numpy, scipy.sparse" : "import numpy"])
        guard let probe, probe.status == 0 else {
            throw MissingRequirement(description: "python3 with numpy\(needsSciPy ? " and scipy" : "") is needed (Debian: python3-numpy python3-scipy; ./launch.sh --test installs them)")
        }
        let result = try run(["python3", "-c", script])
        XCTAssertEqual(result.status, 0, "python failed:\n\(result.errors)", file: file, line: line)
        return result.output
    }
}

/// Asserts that a run of `sprig` failed as a user's mistake must: exit `status` (any non-zero
/// status below 128 when nil: no signal, no trap) and exactly one stderr line, `error: …`,
/// containing each of `mentions`.
func assertOneErrorLine(_ result: TestFiles.ProcessResult, status: Int32? = nil, mentions: [String], context: String = "",
                        file: StaticString = #filePath, line: UInt = #line) {
    let about = context.isEmpty ? "stderr: \(result.errors)" : "stderr for \(context): \(result.errors)"
    if let status { XCTAssertEqual(result.status, status, "exit status; " + about, file: file, line: line) }
    XCTAssertNotEqual(result.status, 0, "exit status; " + about, file: file, line: line)
    XCTAssertLessThan(result.status, 128, "killed by a signal (trap?); " + about, file: file, line: line)
    XCTAssertEqual(result.errors.split(separator: "\n").count, 1, about, file: file, line: line)
    XCTAssertTrue(result.errors.hasPrefix("error: "), about, file: file, line: line)
    for text in mentions {
        XCTAssertTrue(result.errors.contains(text), "should mention '\(text)'; " + about, file: file, line: line)
    }
}

/// Asserts that `body` throws a `SprigError` of the given kind whose description contains
/// every string in `mentions`.
func assertSprigError<T>(_ body: @autoclosure () throws -> T, kind: SprigErrorKind, mentions: [String],
                         file: StaticString = #filePath, line: UInt = #line) {
    do {
        _ = try body()
        XCTFail("expected a SprigError.\(kind) mentioning \(mentions), but nothing was thrown", file: file, line: line)
    } catch let error as SprigError {
        switch (kind, error) {
        case (.io, .io), (.format, .format), (.invalidArgument, .invalidArgument), (.invalidField, .invalidField): break
        default: XCTFail("expected SprigError.\(kind), got \(error)", file: file, line: line)
        }
        for mention in mentions {
            XCTAssertTrue(error.description.contains(mention),
                          "\"\(error.description)\" does not mention \"\(mention)\"", file: file, line: line)
        }
    } catch {
        XCTFail("expected a SprigError, got \(error)", file: file, line: line)
    }
}

/// The values and the sparse layers' patterns of a network saved with `--save-weights`.
func savedNetwork(_ path: String, layerSizes: [Int]) throws -> (values: [Float], patterns: [SparsityPattern?]) {
    let configuration = NetworkConfiguration(layerSizes: layerSizes, densities: [Double](repeating: 1, count: layerSizes.count - 1))
    let network = try WeightsFile.load(path: path, configuration: configuration)
    return (network.parameters.values.array, network.linearLayers.map(\.sparsity))
}

/// Which case of `SprigError` a test expects.
enum SprigErrorKind {
    case io, format, invalidArgument, invalidField
}

extension XCTestCase {
    /// Runs `program` (the sprig binary by default) on `ranks` ranks under real `mpirun`
    /// (oversubscribed, as root), with extra `mca` arguments and `-x` environment variables,
    /// killed after `timeout` seconds; fails when mpirun or the binary is missing.
    func mpirun(_ ranks: Int, _ arguments: [String], mca: [String] = [], environment: [String] = [], program: String? = nil,
                timeout: Int = 300) throws -> TestFiles.ProcessResult {
        try TestFiles.requireTool(["mpirun", "--version"])
        try CommandLineTests.requireBinary()
        return try TestFiles.run(["timeout", "\(timeout)", "mpirun", "-np", "\(ranks)", "--oversubscribe", "--bind-to", "none",
                                  "--allow-run-as-root"] + mca + environment.flatMap { ["-x", $0] }
                                 + [program ?? CommandLineTests.binary] + arguments)
    }
}
