import ArgumentParser
import Foundation
import Sprig
import SprigArguments

/// `sprig train`: trains a sparse MLP (Nerva's flag vocabulary).
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a sparse MLP with CSR weights.",
        discussion: """
        Sparse layers hold only their nonzeros (CSR); a layer of density 1 is dense (BLAS).
        Per-layer densities come from --densities, or from --overall-density with the
        Erdős–Rényi allocation. Example:
          sprig train --layer-sizes 784,1024,512,10 --overall-density 0.05 --epochs 10
        """)

    @OptionGroup var arguments: TrainArguments

    func run() throws {
        let options = try arguments.options()
        try withCommunicator { communicator in
            let reporter: any TrainingReporter = communicator.isRoot
                ? ConsoleReporter(metricsPath: arguments.metrics, append: arguments.resume) : SilentReporter()
            try TrainingRun(options, communicator: communicator).run(reporter: reporter)
        }
    }
}
