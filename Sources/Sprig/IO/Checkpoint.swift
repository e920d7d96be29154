/// Everything needed to continue a run exactly: configuration, position, patterns, values,
/// optimizer state. Independent of the number of ranks.
public struct Checkpoint: Equatable {
    public var network: NetworkConfiguration
    public var training: TrainingConfiguration
    /// The next step to run: step `step` of epoch `epoch` (both 0-based).
    public var epoch: Int
    public var step: Int
    /// One per layer: the pattern of a sparse layer, nil for a dense one.
    public var patterns: [SparsityPattern?]
    /// The whole parameter arena.
    public var values: [Float]
    /// The optimizer's velocity (empty for plain SGD).
    public var velocity: [Float]

    /// Throws `SprigError.format` naming `path` unless `step` lies inside an epoch of
    /// `stepsPerEpoch` steps (known only once the data is loaded; a checkpoint written at the
    /// end of an epoch holds step 0 of the next).
    public func checkPosition(stepsPerEpoch: Int, path: String) throws {
        guard step == 0 || step < stepsPerEpoch else {
            throw SprigError.format(path: path, reason: "not a valid checkpoint: step \(step) is beyond the "
                                    + "\(stepsPerEpoch) steps of an epoch of this data and batch size")
        }
    }
}
