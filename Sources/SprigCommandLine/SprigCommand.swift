import ArgumentParser
import Foundation
import Sprig
import SprigArguments

/// `sprig`: the root command. Errors from flags or input become one `error:` line on stderr
/// and a non-zero exit; help and version go to stdout.
@main
struct SprigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sprig",
        abstract: "Truly sparse neural networks: CSR training on one process or many, and the Sparse DNN Graph Challenge.",
        version: "0.1.0",
        subcommands: [TrainCommand.self, EvaluateCommand.self, PredictCommand.self, ChallengeCommand.self, CacheCommand.self, GPUInfoCommand.self, MPISelfTestCommand.self, MPIBenchCommand.self, KernelBenchCommand.self])

    static func main() {
        BLASKernelCheck.reexecuteWithBetterKernelsIfNeeded()
        ThreadPool.bindsThreads = true
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if exitCode(for: error) == .success { exit(withError: error) }   // --help, --version
            if let code = error as? ExitCode { Foundation.exit(code.rawValue) }   // a result already reported
            // Under mpirun every rank parses the same flags: only rank 0 prints the error.
            if Launcher.rank == 0 {
                printError(errorMessage(for: error, fallback: SprigCommand.message(for: error)))
            }
            Foundation.exit(exitStatus(for: error))
        }
    }
}
