/// Receives a run's progress; the command-line tool prints it, tests may record it.
public protocol TrainingReporter {
    func started(_ summary: RunSummary)
    func progress(epoch: Int, done: Int, total: Int)
    func finished(_ metrics: EpochMetrics) throws
    func note(_ text: String)
}
