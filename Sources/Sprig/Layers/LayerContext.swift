/// What a layer's forward and backward may need beyond its buffers: training or evaluation,
/// the examples of this rank's shard (their global indices, so that dropout masks do not
/// depend on the number of ranks), the global batch (BatchNorm's statistics), the update
/// index, the ranks (synchronised BatchNorm), the backend that computes (and its threads) and
/// the parameter store.
public struct LayerContext {
    public enum Mode: Sendable { case training, evaluation }

    public var mode: Mode
    /// Global indices (into the data set) of this rank's examples, one per batch column.
    public var examples: ArraySlice<Int>
    /// Examples in the global batch, over all ranks.
    public var globalBatch: Int
    /// The update this forward belongs to (1-based, counted from the start of training).
    public var step: Int
    /// The run's seed (dropout's masks are drawn from (seed, step, example, unit)).
    public var seed: UInt64
    public var communicator: any Communicator
    public var backend: any ComputeBackend
    public var parameters: ParameterStore

    public init(mode: Mode, examples: ArraySlice<Int>, globalBatch: Int, step: Int, seed: UInt64,
                communicator: any Communicator, backend: any ComputeBackend, parameters: ParameterStore) {
        self.mode = mode
        self.examples = examples
        self.globalBatch = globalBatch
        self.step = step
        self.seed = seed
        self.communicator = communicator
        self.backend = backend
        self.parameters = parameters
    }

    /// Examples in this rank's shard (the batch columns).
    public var batch: Int { examples.count }
}
