// swift-tools-version:5.9
import PackageDescription

// Hot kernels are compiled without bounds checks in release builds (measured: see bench/README.md).
// SPRIG_TARGET_CPU picks the instruction set the kernels are compiled for ("native" by default:
// build on the machine that runs it, as launch.sh does; "x86-64-v3" or, on AArch64, "generic" for
// a portable binary, as launch.sh builds for a hostfile naming other hosts). CPUControl is compiled
// for the same target, so its start-up check knows the features the build needs.
let targetCPU = Context.environment["SPRIG_TARGET_CPU"] ?? "native"
#if arch(arm64)
let clangTarget = "-mcpu=\(targetCPU)"   // AArch64 names CPUs
#else
let clangTarget = "-march=\(targetCPU)"  // x86 names instruction-set levels
#endif
// Instruction-set levels (x86-64-v2, -v3, -v4) are not CPUs to the Swift compiler's -target-cpu:
// Swift code then takes its features from the C importer's -march.
let swiftTargetCPU = targetCPU.hasPrefix("x86-64-v") ? [] : ["-target-cpu", targetCPU]
let fastMath: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked", "-wmo", "-Xcc", clangTarget] + swiftTargetCPU,
                 .when(configuration: .release)),
]

let package = Package(
    name: "Sprig",
    products: [
        .library(name: "Sprig", targets: ["Sprig"]),
        .executable(name: "sprig", targets: ["SprigCommandLine"]),
        // The C interface the Python package loads with ctypes (libSprigC.so).
        .library(name: "SprigC", type: .dynamic, targets: ["SprigC"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libopenmpi-dev"])]),
        .systemLibrary(name: "ZlibC", path: "Sources/ZlibC", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        .target(name: "MPIShim", dependencies: ["CMPI"], path: "Sources/MPIShim"),
        .target(name: "CPUControl", path: "Sources/CPUControl",
                cSettings: [.unsafeFlags([clangTarget], .when(configuration: .release))]),
        .target(name: "StopSignals", path: "Sources/StopSignals"),
        // The Graph Challenge's layer kernel on panels of 16 inputs (C vector extensions).
        .target(name: "PanelKernels", path: "Sources/PanelKernels",
                cSettings: [.unsafeFlags([clangTarget, "-O3"], .when(configuration: .release))]),
        // The CSR kernels of training: SpMM and SDDMM tiled in vector registers (C vector extensions).
        .target(name: "TrainingKernels", path: "Sources/TrainingKernels",
                cSettings: [.unsafeFlags([clangTarget, "-O3"], .when(configuration: .release))]),
        .target(
            name: "Sprig",
            dependencies: ["CBLAS", "MPIShim", "ZlibC", "CPUControl", "PanelKernels", "TrainingKernels",
                           .product(name: "ZIPFoundation", package: "ZIPFoundation")],
            path: "Sources/Sprig",
            swiftSettings: fastMath),
        .target(
            // The flags of a training run and their parsing, shared by the CLI and the C interface.
            name: "SprigArguments",
            dependencies: ["Sprig", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/SprigArguments"),
        .target(
            name: "SprigC",
            dependencies: ["Sprig", "SprigArguments", "CBLAS", "CMPI", "CPUControl", "StopSignals", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/SprigC",
            swiftSettings: fastMath),
        .executableTarget(
            // The `sprig` executable; its folder is not named `sprig`, which would collide with
            // `Sprig` on case-insensitive file systems.
            name: "SprigCommandLine",
            dependencies: ["Sprig", "SprigArguments", "CBLAS", "StopSignals", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/SprigCommandLine",
            swiftSettings: fastMath),
        .testTarget(name: "SprigTests", dependencies: ["Sprig", "SprigArguments", "SprigCommandLine"], path: "Tests/SprigTests"),
    ]
)
