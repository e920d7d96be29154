/// How a network is trained: the optimisation settings of one run.
public struct TrainingConfiguration: Equatable, Sendable, Codable {
    public var epochs: Int
    public var batchSize: Int
    public var learningRate: Double
    public var schedule: LearningRateSchedule
    public var optimizer: OptimizerKind
    public var weightDecay: Float
    public var loss: LossKind
    /// Seeds the per-epoch shuffle (stream 1_000_000 + epoch) and the topology steps' random choices.
    public var seed: UInt64
    /// Prune and regrow during training (nil: the patterns stay as drawn).
    public var dynamicSparsity: DynamicSparsity?

    public init(epochs: Int = 1, batchSize: Int = 100, learningRate: Double = 0.01, schedule: LearningRateSchedule = .constant,
                optimizer: OptimizerKind = .nesterov(0.9), weightDecay: Float = 0, loss: LossKind = .softmaxCrossEntropy,
                seed: UInt64 = 1, dynamicSparsity: DynamicSparsity? = nil) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.schedule = schedule
        self.optimizer = optimizer
        self.weightDecay = weightDecay
        self.loss = loss
        self.seed = seed
        self.dynamicSparsity = dynamicSparsity
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
        try dynamicSparsity?.validate()
    }
}
