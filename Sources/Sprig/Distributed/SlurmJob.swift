import Foundation

/// What Slurm tells the processes of a job through their environment (sbatch, salloc, srun):
/// the job's id, how often it has been requeued, the CPUs each task was given, and how many
/// tasks srun started in this step. The one place that knows these variables' names (the
/// ranks' own, SLURM_PROCID and SLURM_LOCALID, are `Launcher`'s).
public enum SlurmJob {
    /// The job's id (SLURM_JOB_ID), or nil outside a Slurm job.
    public static var id: String? { ProcessInfo.processInfo.environment["SLURM_JOB_ID"].flatMap { $0.isEmpty ? nil : $0 } }

    /// How often the job has been requeued (SLURM_RESTART_COUNT; 0 for its first run).
    public static var restartCount: Int { Launcher.integer(["SLURM_RESTART_COUNT"]) ?? 0 }

    /// The CPUs given to each task (SLURM_CPUS_PER_TASK, set with `--cpus-per-task`).
    public static var cpusPerTask: Int? { Launcher.integer(["SLURM_CPUS_PER_TASK"]).flatMap { $0 > 0 ? $0 : nil } }

    /// The tasks srun started in this job step (SLURM_STEP_NUM_TASKS; nil outside srun).
    public static var stepTaskCount: Int? { Launcher.integer(["SLURM_STEP_NUM_TASKS"]) }

    /// The directory for a job's checkpoints when none is given: one per job, so that jobs
    /// never mix their checkpoints and a requeued job (same id) finds its own.
    public static func checkpointDirectory(job id: String) -> String { "checkpoints/job-\(id)" }
}
