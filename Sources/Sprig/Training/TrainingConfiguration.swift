/// How a network is trained: the optimisation settings of one run.
public struct TrainingConfiguration: Equatable, Sendable, Codable {
    public var epochs: Int
    public var batchSize: Int
    public var learningRate: Double
    public var schedule: LearningRateSchedule
    /// The optimizer of every layer (the first layer's when `layerOptimizers` is given).
    public var optimizer: OptimizerKind
    /// One optimizer per layer, as Nerva's `--optimizers` (nil: `optimizer` for every layer).
    /// Their count is checked against the network's layers where both are known
    /// (`TrainingRun.Options.validate`, `Trainer`, a checkpoint's header).
    public var layerOptimizers: [OptimizerKind]?
    public var weightDecay: Float
    /// A linear layer whose rows hold more nonzeros than this on average (its fan-in n) learns
    /// at learningRate·learningRateFanIn/n. One step moves a row's pre-activation by about
    /// η·n·E[x²] (SGD; Adam's by η·n·E|x|): with the same η, a dense output layer over 10⁶
    /// neurons moved 10⁴ times as far as one over 100 and the network did not learn (loss ≈ 100
    /// from ln 10). nil: every layer at learningRate (also a checkpoint from before this field).
    public var learningRateFanIn: Int?
    public var loss: LossKind
    /// Seeds the per-epoch shuffle (stream 1_000_000 + epoch) and the topology steps' random choices.
    public var seed: UInt64
    /// Prune and regrow during training (nil: the patterns stay as drawn).
    public var dynamicSparsity: DynamicSparsity?
    /// Group lasso and neuron removal (nil: the layers keep their sizes).
    public var structuredSparsity: StructuredSparsity?

    public init(epochs: Int = 1, batchSize: Int = 100, learningRate: Double = 0.01, schedule: LearningRateSchedule = .constant,
                optimizer: OptimizerKind = .nesterov(0.9), weightDecay: Float = 0, loss: LossKind = .softmaxCrossEntropy,
                seed: UInt64 = 1, dynamicSparsity: DynamicSparsity? = nil, layerOptimizers: [OptimizerKind]? = nil,
                structuredSparsity: StructuredSparsity? = nil, learningRateFanIn: Int? = TrainingConfiguration.defaultLearningRateFanIn) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.schedule = schedule
        self.optimizer = optimizer
        self.layerOptimizers = layerOptimizers
        self.weightDecay = weightDecay
        self.learningRateFanIn = learningRateFanIn
        self.loss = loss
        self.seed = seed
        self.dynamicSparsity = dynamicSparsity
        self.structuredSparsity = structuredSparsity
    }

    /// Fan-ins up to 4096 (every layer of the benchmarks' networks) keep the learning rate.
    public static let defaultLearningRateFanIn = 4096

    /// The factor on the learning rate of a linear layer with `nonzeros` weights in `rows` rows.
    public func learningRateScale(nonzeros: Int, rows: Int) -> Float {
        guard let limit = learningRateFanIn, rows > 0 else { return 1 }
        let fanIn = Double(nonzeros) / Double(rows)
        return fanIn > Double(limit) ? Float(Double(limit) / fanIn) : 1
    }

    /// Throws `SprigError.invalidField` naming the first field whose value makes no sense.
    public func validate() throws {
        guard epochs >= 0 else { throw SprigError.invalidField(.epochs, "\(epochs) is negative") }
        guard batchSize >= 1 else { throw SprigError.invalidField(.batchSize, "\(batchSize) is not positive") }
        guard learningRate > 0, learningRate.isFinite else {
            throw SprigError.invalidField(.learningRate, "\(learningRate) is not a positive number")
        }
        guard weightDecay >= 0, weightDecay.isFinite else {
            throw SprigError.invalidField(.weightDecay, "\(weightDecay) is not a non-negative number")
        }
        if let learningRateFanIn, learningRateFanIn < 1 {
            throw SprigError.invalidField(.learningRateFanIn, "\(learningRateFanIn) is not positive")
        }
        for kind in [optimizer] + (layerOptimizers ?? []) {
            if let problem = kind.problem { throw SprigError.invalidField(.optimizer, "'\(kind)': \(problem)") }
        }
        if let layerOptimizers, layerOptimizers.isEmpty { throw SprigError.invalidField(.optimizer, "lists no optimizer") }
        try dynamicSparsity?.validate()
        try structuredSparsity?.validate()
    }

    /// Every layer's optimizer: `layerOptimizers`, or `optimizer` repeated `layerCount` times.
    public func optimizers(layerCount: Int) -> [OptimizerKind] {
        layerOptimizers ?? Array(repeating: optimizer, count: layerCount)
    }

    /// Throws `SprigError.invalidField(.optimizer, …)` unless `layerOptimizers` (when given)
    /// holds one optimizer per layer.
    public func checkOptimizers(layerCount: Int) throws {
        guard let layerOptimizers, layerOptimizers.count != layerCount else { return }
        throw SprigError.invalidField(.optimizer, "'\(optimizerDescription)' lists \(layerOptimizers.count) optimizers "
                                      + "for \(layerCount) layers (give one, or one per layer)")
    }

    /// The optimizer state buffers a store trained with this configuration holds, in order.
    public var optimizerStateNames: [String] { OptimizerKind.stateNames(of: layerOptimizers ?? [optimizer]) }

    /// The optimizers as `--optimizer` takes them: one, or the per-layer list comma-separated.
    public var optimizerDescription: String {
        (layerOptimizers ?? [optimizer]).map(\.description).joined(separator: ",")
    }
}
