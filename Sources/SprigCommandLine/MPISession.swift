import ArgumentParser
import Foundation
import Sprig
import SprigArguments
import StopSignals

/// Runs `body` with the job's communicator: MPI when launched by mpirun or srun, one rank
/// otherwise (refused when srun started several tasks without an MPI interface). MPI is
/// finalised on success; an error that every rank meets at once is printed once (rank 0); an
/// error on one rank is printed with its rank and ends the whole job (MPI_Abort with the
/// error's exit status), so no rank is left waiting. A
/// disagreement between ranks or a run that cannot go on (`SprigError.failed`), which every
/// rank detects together, is printed once (by rank 0) and all ranks exit.
func withCommunicator(_ body: (any Communicator) throws -> Void) throws {
    guard Launcher.launchedByMPI else {
        if let tasks = SlurmJob.stepTaskCount, tasks > 1 {
            // srun started several copies, but no process manager interface joins them into one
            // job: each would train alone and write the same files.
            if Launcher.rank == 0 {
                printError("srun started \(tasks) tasks but none of them is an MPI rank (no PMIx or PMI reached this process): "
                           + "launch with srun --mpi=pmix (srun --mpi=list shows what this Slurm offers), or with mpirun inside the allocation")
            }
            exit(64)
        }
        try body(SingleProcessCommunicator())
        return
    }
    let mpi = try MPICommunicator(failureChannel: true)
    do {
        try body(mpi)
        mpi.finalize()
    } catch let code as ExitCode {   // a result (e.g. FAIL), already reported: not an error
        mpi.finalize()
        throw code
    } catch let error where isDetectedTogether(error) {
        if mpi.isRoot { printError(errorMessage(for: error)) }
        mpi.finalize()
        exit(exitStatus(for: error))
    } catch {
        guard mpi.size > 1 else { mpi.finalize(); throw error }
        // Every rank failed at once (a bad flag value, a missing file on every node): said once,
        // by rank 0, and every rank exits. Otherwise this rank's error ends the whole job.
        if mpi.allRanksFailed(within: 5) {
            if mpi.isRoot { printError(errorMessage(for: error)) }
            mpi.finalize()
            exit(exitStatus(for: error))
        }
        printError("rank \(mpi.rank) of \(mpi.size): \(errorMessage(for: error))")
        mpi.abort(code: exitStatus(for: error))
    }
}

/// Errors that every rank meets at the same point with the same message.
private func isDetectedTogether(_ error: Error) -> Bool {
    switch error {
    case DistributedError.mismatch, SprigError.failed: return true
    default: return false
    }
}

/// The exit status for an error (README, "Exit status"): 64 for a bad flag, a bad flag value,
/// conflicting flags or ranks given different commands; 1 for a bad input file or a failure
/// while running; an `ExitCode` (e.g. 2 for a challenge FAIL) is its own.
func exitStatus(for error: Error) -> Int32 {
    switch error {
    case let code as ExitCode: return code.rawValue
    case SprigError.invalidArgument, SprigError.invalidField: return 64
    case DistributedError.mismatch: return 64
    case is SprigError, is DistributedError: return 1
    default: return SprigCommand.exitCode(for: error) == .validationFailure ? 64 : 1
    }
}

func printError(_ text: String) {
    let oneLine = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? text
    FileHandle.standardError.write(Data("error: \(oneLine)\n".utf8))
}

/// Reports nothing: the reporter of every rank but 0.
struct SilentReporter: TrainingReporter {
    func started(_ summary: RunSummary) throws {}
    func progress(epoch: Int, done: Int, total: Int) {}
    func finished(_ metrics: EpochMetrics) throws {}
    func note(_ text: String) {}
    func stopRequested() -> Bool { sprig_stop_signal() != 0 }
}
