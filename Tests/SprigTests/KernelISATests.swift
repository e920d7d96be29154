import Foundation
import XCTest

/// The training kernels on every instruction set this machine runs, not only the one the
/// release build targets: `Tests/KernelISA/check.c` (the kernels against naive double
/// products, every epilogue and prefetch distance, batches around each tile width) compiled by
/// the toolchain's clang once per `-march` level and run.
final class KernelISATests: XCTestCase {
    /// The targets to build for: the machine's own, and below it the paths the C code has for
    /// other machines (x86: AVX2, then plain SSE vectors; AArch64: baseline NEON).
    func targets() throws -> [String] {
        #if arch(x86_64)
        let cpu = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let avx2 = cpu.contains(" avx2") && cpu.contains(" fma")
        return ["-march=native"] + (avx2 ? ["-march=x86-64-v3"] : []) + ["-march=x86-64"]
        #else
        return ["-mcpu=native", "-march=armv8-a"]
        #endif
    }

    func testKernelsAgreeWithNaiveProductsOnEveryInstructionSet() throws {
        try TestFiles.requireTool(["clang", "--version"])
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let directory = try TestFiles.makeDirectory(self)
        for (n, flag) in try targets().enumerated() {
            let binary = "\(directory)/check-\(n)"
            let build = try TestFiles.run(["clang", "-O2", flag, "-Wno-psabi",
                                           "-I", root.appendingPathComponent("Sources/TrainingKernels/include").path,
                                           root.appendingPathComponent("Tests/KernelISA/check.c").path,
                                           root.appendingPathComponent("Sources/TrainingKernels/TrainingKernels.c").path,
                                           "-lm", "-o", binary])
            XCTAssertEqual(build.status, 0, "clang \(flag): \(build.errors)")
            guard build.status == 0 else { continue }
            let result = try TestFiles.run([binary])
            XCTAssertEqual(result.status, 0, "\(flag): \(result.output)")
            XCTAssertEqual(result.output, "ok\n", flag)
        }
    }
}
