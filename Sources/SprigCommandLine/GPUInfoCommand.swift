import ArgumentParser
import Foundation
import Sprig

/// `sprig gpu-info`: what a GPU rank on this machine would use — the CUDA libraries found,
/// the devices, NVRTC, and whether MPI is CUDA-aware. Exits 1 when no GPU can be used.
struct GPUInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gpu-info", abstract: "Show the GPUs and CUDA libraries a GPU rank would use.")

    func run() throws {
        print("CUDA-aware MPI: \(CUDAAwareMPI.isSupported ? "yes" : "no")")
        let directories = CUDALibraryPath.directories()
        print("searched: \(directories.isEmpty ? "(none)" : directories.joined(separator: ":")) and the loader path")
        do {
            let driver = try CUDADriver(directories: directories)
            let count = try driver.deviceCount()
            print("driver: \(driver.library.path), \(count) GPU\(count == 1 ? "" : "s")")
            for k in 0..<count {
                let (name, capability) = try driver.describe(device: k)
                print("  GPU \(k): \(name), sm_\(capability)")
            }
            guard count > 0 else { throw ExitCode(1) }
            let context = try GPUContext(driver: driver, localRank: Launcher.localRank, directories: directories)
            print("NVRTC \(context.compilerVersion): \(context.compilerPath); kernels compiled for sm_\(context.computeCapability)")
            print("local rank \(Launcher.localRank) uses GPU \(context.ordinal); cuSPARSE: \(context.sparseLibraryPath)")
        } catch let error as GPUError {
            printError("no GPU can be used: \(error)")
            throw ExitCode(1)
        }
    }
}
