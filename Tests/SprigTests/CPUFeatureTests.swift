import CPUControl
import Foundation
import XCTest

/// The start-up check that refuses, with one error line, a CPU lacking an instruction the
/// build was compiled for (instead of SIGILL), against the kernel's own list of CPU flags; and
/// launch.sh building a portable binary for a hostfile naming other hosts.
final class CPUFeatureTests: XCTestCase {
    /// Each feature name of `sprig_cpu_supports`, as /proc/cpuinfo spells the flag.
    #if arch(x86_64)
    let kernelNames = ["sse3": "pni", "ssse3": "ssse3", "sse4.1": "sse4_1", "sse4.2": "sse4_2", "popcnt": "popcnt", "avx": "avx",
                       "avx2": "avx2", "fma": "fma", "bmi": "bmi1", "bmi2": "bmi2", "f16c": "f16c", "movbe": "movbe", "lzcnt": "abm",
                       "gfni": "gfni", "vaes": "vaes", "vpclmulqdq": "vpclmulqdq", "avxvnni": "avx_vnni", "avx512f": "avx512f",
                       "avx512dq": "avx512dq", "avx512cd": "avx512cd", "avx512bw": "avx512bw", "avx512vl": "avx512vl",
                       "avx512vnni": "avx512_vnni", "avx512ifma": "avx512ifma", "avx512vbmi": "avx512vbmi",
                       "avx512vbmi2": "avx512_vbmi2", "avx512bitalg": "avx512_bitalg", "avx512vpopcntdq": "avx512_vpopcntdq",
                       "avx512bf16": "avx512_bf16", "avx512fp16": "avx512_fp16"]
    let flagsKey = "flags"
    #else
    let kernelNames = ["asimd": "asimd", "lse": "atomics", "fp16": "asimdhp", "dotprod": "asimddp", "sve": "sve", "sve2": "sve2",
                       "i8mm": "i8mm", "bf16": "bf16"]
    let flagsKey = "Features"
    #endif

    /// The CPU flags the kernel reports for the first processor.
    func kernelFlags() throws -> Set<String> {
        let text = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let line = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix(flagsKey) }, "no \(flagsKey) line in /proc/cpuinfo")
        return Set(line.split(separator: ":", maxSplits: 1)[1].split(separator: " ").map(String.init))
    }

    func supports(_ feature: String) -> Int32 { feature.withCString { sprig_cpu_supports($0) } }

    func testFeatureDetectionAgreesWithTheKernel() throws {
        let flags = try kernelFlags()
        for (feature, flag) in kernelNames {
            XCTAssertEqual(supports(feature), flags.contains(flag) ? 1 : 0, "\(feature) (/proc/cpuinfo: \(flag))")
        }
        XCTAssertEqual(supports("no-such-feature"), -1)
    }

    /// The build's features (release: this machine's, -march=native) are known names this CPU has.
    func testTheBuildsFeaturesAreThisCPUs() throws {
        let built = String(cString: sprig_build_cpu_features()).split(separator: " ").map(String.init)
        #if arch(x86_64)
        XCTAssertTrue(built.contains("sse4.2") && built.contains("popcnt"), "a release build for this CPU: \(built)")
        #endif
        let flags = try kernelFlags()
        for feature in built {
            let flag = try XCTUnwrap(kernelNames[feature], "unknown build feature \(feature)")
            XCTAssertTrue(flags.contains(flag), "built for \(feature), which /proc/cpuinfo does not list")
        }
        var message = [CChar](repeating: 0, count: 1024)
        XCTAssertEqual(sprig_check_cpu_features(sprig_build_cpu_features(), "here", &message, 1024), 0)
    }

    /// A requirement this CPU lacks: 1 and the error line naming the host and the feature.
    func testAMissingFeatureIsNamedWithTheHost() throws {
        let flags = try kernelFlags()
        let present = try XCTUnwrap(kernelNames.keys.sorted().first { flags.contains(kernelNames[$0]!) })
        let missing = try XCTUnwrap(kernelNames.keys.sorted().first { !flags.contains(kernelNames[$0]!) },
                                    "this CPU has every feature the check knows")
        var message = [CChar](repeating: 0, count: 1024)
        let required = "\(present) \(missing)"
        XCTAssertEqual(sprig_check_cpu_features(required, "node07", &message, 1024), 1)
        let text = String(cString: message)
        XCTAssertTrue(text.hasPrefix("error: this sprig was built for \(required) but host node07 lacks \(missing); rebuild with SPRIG_TARGET_CPU="),
                      text)
        XCTAssertEqual(sprig_check_cpu_features(present, "node07", &message, 1024), 0)
    }

    #if arch(x86_64)
    /// A program built with CPUControl for a feature this CPU lacks stops before main with the
    /// one error line and status 1 (not SIGILL); built without it, main runs.
    func testAProgramBuiltForAMissingFeatureStopsBeforeMain() throws {
        try TestFiles.requireTool(["clang", "--version"])
        let flags = try kernelFlags()
        let missing = try XCTUnwrap(kernelNames.keys.sorted().first { !flags.contains(kernelNames[$0]!) },
                                    "this CPU has every feature the check knows")
        let control = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/CPUControl").path
        let dir = try TestFiles.makeDirectory(self)
        try "#include <stdio.h>\nint main(void) { puts(\"main ran\"); return 0; }\n"
            .write(toFile: "\(dir)/main.c", atomically: true, encoding: .utf8)
        let host = try XCTUnwrap(ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init))
        for (name, extra) in [("plain", [String]()), ("foreign", ["-m\(missing)"])] {
            let build = try TestFiles.run(["clang", "-O2", "-I\(control)/include"] + extra
                                          + ["\(control)/CPUControl.c", "\(dir)/main.c", "-o", "\(dir)/\(name)"])
            XCTAssertEqual(build.status, 0, build.errors)
        }
        let plain = try TestFiles.run(["\(dir)/plain"])
        XCTAssertEqual(plain.status, 0, plain.errors)
        XCTAssertEqual(plain.output, "main ran\n")
        let foreign = try TestFiles.run(["\(dir)/foreign"])
        XCTAssertEqual(foreign.status, 1, foreign.errors)
        XCTAssertEqual(foreign.output, "", "main ran on a CPU lacking \(missing)")
        XCTAssertEqual(foreign.errors.split(separator: "\n").count, 1, foreign.errors)
        XCTAssertTrue(foreign.errors.hasPrefix("error: this sprig was built for ") && foreign.errors.contains(" \(missing) but host \(host)")
                      && foreign.errors.contains("; rebuild with SPRIG_TARGET_CPU=x86-64-v3"), foreign.errors)
        // The feature it names (the first of the build's that this CPU lacks; -mX may imply others) is one the kernel does not list.
        let named = try XCTUnwrap(foreign.errors.components(separatedBy: " lacks ").last?.split(separator: ";").first.map(String.init))
        XCTAssertFalse(flags.contains(try XCTUnwrap(kernelNames[named], named)), "\(named) is listed in /proc/cpuinfo")
    }
    #endif

    /// launch.sh with a hostfile naming another host builds and runs the portable binary; with
    /// this host only, the native one.
    func testLaunchBuildsPortablyForOtherHosts() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let dir = try TestFiles.makeDirectory(self)
        try "# two nodes\nnode-elsewhere-7 slots=2\nlocalhost slots=2\n".write(toFile: "\(dir)/remote", atomically: true, encoding: .utf8)
        try "localhost slots=2\n127.0.0.1 slots=2\n".write(toFile: "\(dir)/local", atomically: true, encoding: .utf8)
        let remote = try TestFiles.run(["\(root)/launch.sh", "--dry-run", "-np", "4", "--hostfile", "\(dir)/remote", "--", "train"])
        XCTAssertEqual(remote.status, 0, remote.errors)
        #if arch(x86_64)
        XCTAssertTrue(remote.output.contains("# build: env SPRIG_TARGET_CPU=x86-64-v3 swift build -c release --scratch-path \(root)/.build-portable"),
                      remote.output)
        #endif
        XCTAssertTrue(remote.output.contains(" \(root)/.build-portable/release/sprig train"), remote.output)
        let local = try TestFiles.run(["\(root)/launch.sh", "--dry-run", "-np", "4", "--hostfile", "\(dir)/local", "--", "train"])
        XCTAssertEqual(local.status, 0, local.errors)
        XCTAssertTrue(local.output.contains("# build: swift build -c release \n"), local.output)
        XCTAssertTrue(local.output.contains(" \(root)/.build/release/sprig train") && !local.output.contains("portable"), local.output)
    }
}
