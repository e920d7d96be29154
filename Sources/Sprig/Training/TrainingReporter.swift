/// Receives a run's progress; the command-line tool prints it, tests may record it, the
/// Python package forwards it (and asks to stop when the user presses Ctrl-C).
public protocol TrainingReporter {
    /// Called once every check has passed, before the first step; may open files (and throw).
    func started(_ summary: RunSummary) throws
    func progress(epoch: Int, done: Int, total: Int)
    func finished(_ metrics: EpochMetrics) throws
    func note(_ text: String)
    /// Asked before every step, on every rank: true on any rank stops all of them after that
    /// step with `TrainingInterrupted` (after a checkpoint, when the run writes them), the
    /// network keeping what it has trained so far.
    func stopRequested() -> Bool
}

extension TrainingReporter {
    public func stopRequested() -> Bool { false }
}

/// A run stopped because its reporter asked (`TrainingReporter.stopRequested`) after step
/// `step` of epoch `epoch` (1-based); `checkpoint`: the checkpoint written then (rank 0, when
/// the run writes checkpoints).
public struct TrainingInterrupted: Error, CustomStringConvertible {
    public let epoch: Int
    public let step: Int
    public var checkpoint: String?

    public init(epoch: Int, step: Int, checkpoint: String? = nil) {
        self.epoch = epoch
        self.step = step
        self.checkpoint = checkpoint
    }

    public var description: String { "training interrupted after step \(step) of epoch \(epoch)" }
}
