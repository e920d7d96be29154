import ArgumentParser
import Foundation
import Sprig

/// `sprig`: the root command. Errors from flags or input become one `error:` line on stderr
/// and a non-zero exit; help and version go to stdout.
@main
struct SprigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sprig",
        abstract: "Truly sparse neural networks: CSR training on one process or many, and the Sparse DNN Graph Challenge.",
        version: "0.1.0",
        subcommands: [TrainCommand.self])

    static func main() {
        BLASKernelCheck.reexecuteWithBetterKernelsIfNeeded()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if exitCode(for: error) == .success { exit(withError: error) }   // --help, --version
            let message: String
            if let sprigError = error as? SprigError { message = sprigError.description }
            else { message = SprigCommand.message(for: error) }
            let oneLine = message.split(whereSeparator: \.isNewline).first.map(String.init) ?? "\(error)"
            FileHandle.standardError.write(Data("error: \(oneLine)\n".utf8))
            Foundation.exit(exitCode(for: error) == .validationFailure ? 64 : 1)
        }
    }
}
