import Foundation
import XCTest
@testable import Sprig

/// The GPU backend's host side, which needs no GPU: device assignment, the library search, the
/// error when CUDA is missing, the kernels compiled by NVRTC (where NVRTC is installed), the
/// CUDA-aware MPI query. What needs a GPU skips with the reason where there is none.
final class GPUTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    func testLocalRanksTakeTheVisibleDevicesInTurn() {
        XCTAssertEqual((0..<6).map { GPUContext.device(forLocalRank: $0, deviceCount: 2) }, [0, 1, 0, 1, 0, 1])
        XCTAssertEqual((0..<5).map { GPUContext.device(forLocalRank: $0, deviceCount: 4) }, [0, 1, 2, 3, 0])
        XCTAssertEqual(GPUContext.device(forLocalRank: 7, deviceCount: 1), 0)
    }

    func testSearchPathComesFromTheEnvironmentThenCUDAThenPythonWheels() throws {
        let venv = try TestFiles.makeDirectory(self)
        let wheel = "\(venv)/lib/python3.11/site-packages/nvidia/cu13/lib"
        try FileManager.default.createDirectory(atPath: wheel, withIntermediateDirectories: true)
        let directories = CUDALibraryPath.directories(environment: ["SPRIG_CUDA_LIBRARY_PATH": "/opt/a:/opt/b", "CUDA_HOME": "/opt/cuda",
                                                                    "VIRTUAL_ENV": venv])
        XCTAssertEqual(Array(directories.prefix(3)), ["/opt/a", "/opt/b", "/opt/cuda/lib64"])
        XCTAssertTrue(directories.contains("/usr/local/cuda/lib64"))
        XCTAssertEqual(directories.last, wheel)
    }

    func testAMissingLibraryIsOneClearError() {
        XCTAssertThrowsError(try DynamicLibrary(names: ["libsprig-none.so.1", "libsprig-none.so"], directories: ["/nonexistent"])) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("cannot open libsprig-none.so.1 (looked for libsprig-none.so.1, libsprig-none.so;"), text)
            XCTAssertTrue(text.contains("SPRIG_CUDA_LIBRARY_PATH"), text)
            XCTAssertFalse(text.contains("\n"))
        }
    }

    /// NVRTC from SPRIG_CUDA_LIBRARY_PATH, the system, or the benchmark's virtual environment
    /// (PyTorch's CUDA wheels); skipped where there is none.
    func compiler() throws -> NVRTC {
        let environment = ProcessInfo.processInfo.environment.merging(["VIRTUAL_ENV": "\(Self.repository)/bench/.venv"]) { a, _ in a }
        do { return try NVRTC(directories: CUDALibraryPath.directories(environment: environment)) }
        catch { throw XCTSkip("NVRTC is not installed here (\(error)): the kernels' compile check is skipped") }
    }

    func testKernelsCompileForHopperAndAmpere() throws {
        let nvrtc = try compiler()
        for architecture in [80, 90] {
            let image = try nvrtc.compile(source: GPUKernelSource.challenge, name: GPUKernelSource.name, architecture: architecture)
            XCTAssertEqual(Array(image.prefix(4)), [0x7F, 0x45, 0x4C, 0x46], "sm_\(architecture): not an ELF CUBIN")
            for kernel in ["sprig_challenge_epilogue", "sprig_gather_columns"] {
                XCTAssertNotNil(image.firstRange(of: Array(kernel.utf8)), "sm_\(architecture) lacks \(kernel)")
            }
        }
        // A kernel that does not compile: the compiler's log, naming the line.
        XCTAssertThrowsError(try nvrtc.compile(source: "extern \"C\" __global__ void k() { undefined_name(); }", name: "bad.cu",
                                               architecture: 90)) { error in
            XCTAssertTrue("\(error)".contains("bad.cu(1)"), "\(error)")
        }
    }

    func testCUDAAwareMPIIsAskedOfTheLibrary() throws {
        try TestFiles.requireTool(["ompi_info", "--version"])
        let info = try TestFiles.run(["ompi_info", "--parsable", "--all"])
        XCTAssertEqual(info.status, 0, info.errors)
        let built = info.output.contains("opal_built_with_cuda_support:value:true")
        XCTAssertEqual(CUDAAwareMPI.isSupported, built)
    }

    /// Where there is no GPU: `--device gpu` is one error line; `--device auto` runs on the CPU.
    func testDeviceFlagWithoutAGPU() throws {
        if (try? CUDADriver()) != nil { throw XCTSkip("this machine has a CUDA driver") }
        let data = try ChallengeTests.realData()
        let arguments = [CommandLineTests.binary, "challenge", "run", "--network", "\(data)/neuron1024", "--neurons", "1024",
                         "--layers", "120", "--inputs", "\(data)/sparse-images-1024-first1200.tsv.gz",
                         "--truth", "\(data)/neuron1024-l120-categories-first1200.tsv", "--no-cache", "--device"]
        let gpu = try TestFiles.run(arguments + ["gpu"])
        XCTAssertNotEqual(gpu.status, 0)
        let lines = gpu.errors.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, gpu.errors)
        XCTAssertTrue(lines.first?.hasPrefix("error: --device gpu: cannot open libcuda.so.1") == true, gpu.errors)
        let auto = try TestFiles.run(arguments + ["auto"])
        XCTAssertEqual(auto.status, 0, auto.errors)
        XCTAssertTrue(auto.output.contains("--device auto: no GPU") && auto.output.contains("PASS: 19 categories"), auto.output)
    }

    /// On a GPU: the challenge's 19 categories, and a generated network against the CPU engine.
    func testGPUInferenceGivesTheTruthCategories() throws {
        let context: GPUContext
        do { context = try GPUContext(localRank: 0) } catch { throw XCTSkip("no GPU can be used here: \(error)") }
        let data = try ChallengeTests.realData()
        let pool = ThreadPool(threads: 2)
        let layers = try ChallengeFiles.readNetwork(directory: "\(data)/neuron1024", neurons: 1024, layers: 120, pool: pool)
        let engine = try GPUInferenceEngine(layers: layers, neurons: 1024, bias: -0.3, context: context)
        let stream = try ChallengeInputStream(path: "\(data)/sparse-images-1024-first1200.tsv.gz", neurons: 1024)
        let truth = try ChallengeFiles.readCategories(path: "\(data)/neuron1024-l120-categories-first1200.tsv")
        XCTAssertEqual(try engine.run(stream, batchSize: 500).categories, truth)
    }
}
