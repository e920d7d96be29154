/// Everything needed to continue a run exactly: configuration, position, the current patterns
/// (after any topology changes), values, optimizer state. Independent of the number of ranks.
public struct Checkpoint: Equatable {
    public var network: NetworkConfiguration
    public var training: TrainingConfiguration
    /// The next step to run: step `step` of epoch `epoch` (both 0-based).
    public var epoch: Int
    public var step: Int
    /// One per layer: the pattern of a sparse layer, nil for a dense one.
    public var patterns: [SparsityPattern?]
    /// The whole parameter store's values.
    public var values: [Float]
    /// The optimizer's state buffers, in the order the optimizer declares them (none for plain SGD).
    public var optimizerState: [State]
    /// The layers' non-trainable state (batch norms' running statistics), in layer order.
    public var layerState: [State]
    /// The training data the run trained on (nil in checkpoints written before it was kept):
    /// a resumed run must train on the same data.
    public var trainingData: DataIdentity?
    /// One per linear layer: the kernel a sparse layer ran with (`KernelChooser`), so that a
    /// resumed run computes as the first did; nil for a dense layer and in older checkpoints.
    public var kernels: [SparseLayerKernel?]

    /// One optimizer-state buffer of the store ("velocity"), laid out like `values`.
    public struct State: Equatable, Sendable {
        public var name: String
        public var values: [Float]
        public init(name: String, values: [Float]) {
            self.name = name
            self.values = values
        }
    }

    /// A training set as a checkpoint names it: its number of examples and the hex of its
    /// `Dataset.fingerprint` (every label and feature value, after normalisation).
    public struct DataIdentity: Codable, Equatable, Sendable, CustomStringConvertible {
        public var examples: Int
        public var fingerprint: String
        public init(examples: Int, fingerprint: String) {
            self.examples = examples
            self.fingerprint = fingerprint
        }
        public init(_ data: Dataset) { self.init(examples: data.count, fingerprint: String(data.fingerprint, radix: 16)) }
        public var description: String { "\(examples) examples, fingerprint \(fingerprint)" }
    }

    public init(network: NetworkConfiguration, training: TrainingConfiguration, epoch: Int, step: Int,
                patterns: [SparsityPattern?], values: [Float], optimizerState: [State], layerState: [State] = [],
                trainingData: DataIdentity? = nil, kernels: [SparseLayerKernel?]? = nil) {
        self.network = network
        self.training = training
        self.epoch = epoch
        self.step = step
        self.patterns = patterns
        self.values = values
        self.optimizerState = optimizerState
        self.layerState = layerState
        self.trainingData = trainingData
        self.kernels = kernels ?? patterns.map { _ in nil }
    }

    /// The checkpoint of `network` with its store's values and optimizer state, at the given position.
    public init(network: Network, training: TrainingConfiguration, epoch: Int, step: Int, trainingData: DataIdentity? = nil) {
        self.init(network: network.configuration, training: training, epoch: epoch, step: step,
                  patterns: network.linearLayers.map(\.sparsity),
                  values: network.parameters.values.array,
                  optimizerState: network.parameters.states.map { State(name: $0.name, values: $0.buffer.array) },
                  layerState: network.states.map { State(name: $0.name, values: $0.values.array) },
                  trainingData: trainingData, kernels: network.linearLayers.map { ($0 as? SparseLinear)?.kernel })
    }

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
