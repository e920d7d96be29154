/// Receives a run's progress; the command-line tool prints it, tests may record it.
public protocol TrainingReporter {
    /// Called once every check has passed, before the first step; may open files (and throw).
    func started(_ summary: RunSummary) throws
    func progress(epoch: Int, done: Int, total: Int)
    func finished(_ metrics: EpochMetrics) throws
    func note(_ text: String)
}
