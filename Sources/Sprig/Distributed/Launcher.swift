import Foundation

/// What the job launcher (mpirun of Open MPI or MPICH/Hydra, PMIx, Slurm's srun) tells this
/// process through its environment: whether it was launched as a rank, its rank, and its
/// place among the ranks on its node. The one place that knows the variables' names.
public enum Launcher {
    /// Variables whose presence means an MPI launcher started this process.
    static let launchVariables = ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "PMI_RANK"]
    /// This rank's index in the job.
    static let rankVariables = ["OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"]
    /// This rank's index among the ranks on its node.
    static let localRankVariables = ["OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"]
    /// The number of ranks on this node.
    static let localSizeVariables = ["OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE"]

    /// True when this process was started by an MPI launcher (mpirun, srun).
    public static var launchedByMPI: Bool {
        let environment = ProcessInfo.processInfo.environment
        return launchVariables.contains { environment[$0] != nil }
    }

    /// This process's rank in the job before MPI is initialised (0 outside a launcher).
    public static var rank: Int { integer(rankVariables) ?? 0 }

    /// This rank's index among the ranks on its node (0 outside a launcher).
    public static var localRank: Int { integer(localRankVariables) ?? 0 }

    /// The number of ranks the launcher started on this node (1 outside a launcher).
    public static var localSize: Int { max(integer(localSizeVariables) ?? 1, 1) }

    /// The CPUs Slurm gave each task (`--cpus-per-task`), else all cores shared among the ranks
    /// the launcher started on this node.
    public static var defaultThreads: Int {
        SlurmJob.cpusPerTask ?? max(1, ProcessInfo.processInfo.activeProcessorCount / localSize)
    }

    /// The first of `names` that is set to an integer (also `SlurmJob`'s variables).
    static func integer(_ names: [String]) -> Int? {
        let environment = ProcessInfo.processInfo.environment
        return names.lazy.compactMap { environment[$0].flatMap { Int($0) } }.first
    }
}
