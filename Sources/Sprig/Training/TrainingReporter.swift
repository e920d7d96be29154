/// Receives a run's progress; the command-line tool prints it, tests may record it, the
/// Python package forwards it (and asks to stop when the user presses Ctrl-C).
public protocol TrainingReporter {
    /// Called once every check has passed, before the first step; may open files (and throw).
    func started(_ summary: RunSummary) throws
    func progress(epoch: Int, done: Int, total: Int)
    func finished(_ metrics: EpochMetrics) throws
    func note(_ text: String)
    /// Asked after every step (on one process): true stops the run with `TrainingInterrupted`,
    /// the network keeping what it has trained so far.
    func stopRequested() -> Bool
}

extension TrainingReporter {
    public func stopRequested() -> Bool { false }
}

/// A run stopped because its reporter asked (`TrainingReporter.stopRequested`) after step
/// `step` of epoch `epoch` (1-based).
public struct TrainingInterrupted: Error, CustomStringConvertible {
    public let epoch: Int
    public let step: Int
    public var description: String { "training interrupted after step \(step) of epoch \(epoch)" }
}
