// swift-tools-version:5.9
import PackageDescription

// Hot kernels are compiled without bounds checks in release builds (measured: see bench/README.md).
// SPRIG_TARGET_CPU picks the instruction set the kernels are compiled for ("native" by default:
// build on the machine that runs it, as launch.sh does; set e.g. "x86-64-v3" for a portable binary).
let targetCPU = Context.environment["SPRIG_TARGET_CPU"] ?? "native"
let fastMath: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked", "-wmo", "-Xcc", "-march=\(targetCPU)", "-target-cpu", targetCPU],
                 .when(configuration: .release)),
]

let package = Package(
    name: "Sprig",
    products: [
        .library(name: "Sprig", targets: ["Sprig"]),
        .executable(name: "sprig", targets: ["sprig"]),
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
        .target(name: "CPUControl", path: "Sources/CPUControl"),
        .target(
            name: "Sprig",
            dependencies: ["CBLAS", "MPIShim", "ZlibC", "CPUControl",
                           .product(name: "ZIPFoundation", package: "ZIPFoundation")],
            path: "Sources/Sprig",
            swiftSettings: fastMath),
        .executableTarget(
            name: "sprig",
            dependencies: ["Sprig", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/sprig",
            swiftSettings: fastMath),
        .testTarget(name: "SprigTests", dependencies: ["Sprig", "sprig"], path: "Tests/SprigTests"),
    ]
)
