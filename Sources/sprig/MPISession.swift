import ArgumentParser
import Foundation
import Sprig

/// Runs `body` with the job's communicator: MPI when launched by mpirun or srun, one rank
/// otherwise. MPI is finalised on success; an error on one rank is printed with its rank and
/// ends the whole job (MPI_Abort), so no rank is left waiting. A disagreement between ranks,
/// which every rank detects together, is printed once (by rank 0) and all ranks exit.
func withCommunicator(_ body: (any Communicator) throws -> Void) throws {
    guard MPICommunicator.launchedByMPI else {
        try body(SingleProcessCommunicator())
        return
    }
    let mpi = try MPICommunicator()
    do {
        try body(mpi)
        mpi.finalize()
    } catch let code as ExitCode {   // a result (e.g. FAIL), already reported: not an error
        mpi.finalize()
        throw code
    } catch DistributedError.mismatch(let text) {
        if mpi.isRoot { printError(text) }
        mpi.finalize()
        exit(1)
    } catch {
        guard mpi.size > 1 else { mpi.finalize(); throw error }
        printError("rank \(mpi.rank) of \(mpi.size): \(errorMessage(for: error))")
        mpi.abort(code: 1)
    }
}

func errorMessage(for error: Error) -> String {
    if let sprigError = error as? SprigError { return sprigError.description }
    if let distributed = error as? DistributedError { return distributed.description }
    return "\(error)"
}

func printError(_ text: String) {
    let oneLine = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? text
    FileHandle.standardError.write(Data("error: \(oneLine)\n".utf8))
}

/// Reports nothing: the reporter of every rank but 0.
struct SilentReporter: TrainingReporter {
    func started(_ summary: RunSummary) {}
    func progress(epoch: Int, done: Int, total: Int) {}
    func finished(_ metrics: EpochMetrics) throws {}
    func note(_ text: String) {}
}
