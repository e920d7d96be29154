import ArgumentParser
import Foundation
import Sprig
import SprigArguments
import StopSignals

/// `sprig train`: trains a sparse MLP (Nerva's flag vocabulary).
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a sparse MLP with CSR weights.",
        discussion: """
        Sparse layers hold only their nonzeros (CSR); a layer of density 1 is dense (BLAS). \
        Per-layer densities come from --densities, or from --overall-density with the Erdős–Rényi allocation.
        Example: sprig train --layer-sizes 784,1024,512,10 --overall-density 0.05 --epochs 10
        """)

    @OptionGroup var arguments: TrainArguments

    func run() throws {
        let options = try arguments.options()
        // SIGTERM (scancel, a time limit, a requeue, mpirun passing on a kill) or SIGUSR1 stops
        // the run after the current step, on every rank, with a final checkpoint.
        sprig_catch_stop_signals()
        try withCommunicator { communicator in
            let reporter: any TrainingReporter = communicator.isRoot
                ? ConsoleReporter(metricsPath: arguments.metrics) : SilentReporter()
            do {
                try TrainingRun(options, communicator: communicator).run(reporter: reporter)
            } catch let stop as TrainingInterrupted {
                // The ranks stop together at the first step after any of them was signalled:
                // this one may not have been (yet).
                let signal = sprig_stop_signal()
                if communicator.isRoot { reporter.note(Self.stopMessage(stop, signal: signal)) }
                // No rank exits before rank 0 has written the checkpoint and said so: mpirun ends
                // the whole job as soon as one rank exits with a non-zero status.
                try? communicator.barrier()
                throw ExitCode(128 + (signal != 0 ? signal : SIGTERM))   // as a shell reports a process ended by the signal
            }
        }
    }

    /// "stopped by SIGTERM after step 40 of epoch 2: checkpoint written to …; continue with --resume".
    static func stopMessage(_ stop: TrainingInterrupted, signal: Int32) -> String {
        let name = signal == SIGTERM ? "SIGTERM" : signal == SIGUSR1 ? "SIGUSR1"
            : signal == 0 ? "a signal to another rank" : "signal \(signal)"
        let saved = stop.checkpoint.map { "checkpoint written to \($0); continue with --resume (a requeued Slurm job does so by itself)" }
            ?? "no checkpoint written (give --checkpoint-dir and --checkpoint-every to keep the work of a stopped run)"
        return "stopped by \(name) after step \(stop.step) of epoch \(stop.epoch): \(saved)"
    }
}
