import Sprig

/// The communicator of the C caller's training runs, made at the first use: MPI over
/// MPI_COMM_WORLD when the process was started by mpirun or srun (initialised here, or taken
/// as it is when mpi4py already initialised it), one process otherwise. Every rank passes the
/// full training arrays to `fit`; each trains its shard of every batch, as `sprig train` does.
enum JobCommunicator {
    nonisolated(unsafe) private static var communicator: (any Communicator)?
    nonisolated(unsafe) private static var mpi: MPICommunicator?

    static func shared() throws -> any Communicator {
        if let communicator { return communicator }
        if Launcher.launchedByMPI {
            let made = try MPICommunicator()
            mpi = made
            communicator = made
        } else {
            communicator = SingleProcessCommunicator()
        }
        return communicator!
    }

    /// Finalises MPI if it was started here (at most once).
    static func finalize() {
        mpi?.finalize()
        mpi = nil
    }
}
