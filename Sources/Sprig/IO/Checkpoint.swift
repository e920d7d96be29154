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
}
