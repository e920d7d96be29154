/// What one epoch measured; one JSON object per epoch in the metrics file.
public struct EpochMetrics: Codable, Equatable, Sendable {
    public var epoch: Int
    /// Mean training loss over the epoch's examples (as they were trained on).
    public var loss: Double
    /// Fraction of the epoch's training examples classified right as they were trained on.
    public var trainAccuracy: Double
    /// Mean loss and accuracy on the test set; nil (JSON null) when there is no test set.
    public var testLoss: Double?
    public var testAccuracy: Double?
    public var learningRate: Double
    /// Training time of the epoch (forward, backward, update, batch assembly), evaluation excluded.
    public var seconds: Double
    public var examplesPerSecond: Double
    public var evaluationSeconds: Double
    /// Seconds the slowest rank spent in gradient allreduces during the epoch (0 for one rank).
    public var communicationSeconds: Double = 0
    public var ranks: Int = 1
    /// Weights regrown by the epoch's topology steps (dynamic sparse training; 0 otherwise).
    public var regrown: Int = 0
    /// Seconds of the epoch spent in topology steps (slowest rank; included in `seconds`).
    public var topologySeconds: Double = 0
    /// With structured sparsity: D₀, D₁, …, D_L and each linear layer's stored weights after
    /// the epoch (its shrink included), and the neurons the epoch removed (nil otherwise).
    public var layerSizes: [Int]?
    public var nonzeros: [Int]?
    public var neuronsRemoved: Int?

    enum CodingKeys: String, CodingKey {
        case epoch, loss, seconds
        case trainAccuracy = "train_accuracy"
        case testLoss = "test_loss"
        case testAccuracy = "test_accuracy"
        case learningRate = "learning_rate"
        case examplesPerSecond = "examples_per_second"
        case evaluationSeconds = "evaluation_seconds"
        case communicationSeconds = "communication_seconds"
        case ranks, regrown
        case topologySeconds = "topology_seconds"
        case layerSizes = "layer_sizes"
        case nonzeros
        case neuronsRemoved = "neurons_removed"
    }

    public init(epoch: Int, loss: Double, trainAccuracy: Double, testLoss: Double?, testAccuracy: Double?, learningRate: Double,
                seconds: Double, examplesPerSecond: Double, evaluationSeconds: Double, communicationSeconds: Double = 0,
                ranks: Int = 1, regrown: Int = 0, topologySeconds: Double = 0) {
        self.epoch = epoch
        self.loss = loss
        self.trainAccuracy = trainAccuracy
        self.testLoss = testLoss
        self.testAccuracy = testAccuracy
        self.learningRate = learningRate
        self.seconds = seconds
        self.examplesPerSecond = examplesPerSecond
        self.evaluationSeconds = evaluationSeconds
        self.communicationSeconds = communicationSeconds
        self.ranks = ranks
        self.regrown = regrown
        self.topologySeconds = topologySeconds
    }

    /// As the synthesised decoding; the topology fields default to 0 (the structure fields to nil)
    /// in lines written before them.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        epoch = try c.decode(Int.self, forKey: .epoch)
        loss = try c.decode(Double.self, forKey: .loss)
        trainAccuracy = try c.decode(Double.self, forKey: .trainAccuracy)
        testLoss = try c.decodeIfPresent(Double.self, forKey: .testLoss)
        testAccuracy = try c.decodeIfPresent(Double.self, forKey: .testAccuracy)
        learningRate = try c.decode(Double.self, forKey: .learningRate)
        seconds = try c.decode(Double.self, forKey: .seconds)
        examplesPerSecond = try c.decode(Double.self, forKey: .examplesPerSecond)
        evaluationSeconds = try c.decode(Double.self, forKey: .evaluationSeconds)
        communicationSeconds = try c.decodeIfPresent(Double.self, forKey: .communicationSeconds) ?? 0
        ranks = try c.decodeIfPresent(Int.self, forKey: .ranks) ?? 1
        regrown = try c.decodeIfPresent(Int.self, forKey: .regrown) ?? 0
        topologySeconds = try c.decodeIfPresent(Double.self, forKey: .topologySeconds) ?? 0
        layerSizes = try c.decodeIfPresent([Int].self, forKey: .layerSizes)
        nonzeros = try c.decodeIfPresent([Int].self, forKey: .nonzeros)
        neuronsRemoved = try c.decodeIfPresent(Int.self, forKey: .neuronsRemoved)
    }

    /// As the synthesised encoding, but a missing test result is written as null, not left out.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(epoch, forKey: .epoch)
        try c.encode(loss, forKey: .loss)
        try c.encode(trainAccuracy, forKey: .trainAccuracy)
        try c.encode(testLoss, forKey: .testLoss)
        try c.encode(testAccuracy, forKey: .testAccuracy)
        try c.encode(learningRate, forKey: .learningRate)
        try c.encode(seconds, forKey: .seconds)
        try c.encode(examplesPerSecond, forKey: .examplesPerSecond)
        try c.encode(evaluationSeconds, forKey: .evaluationSeconds)
        try c.encode(communicationSeconds, forKey: .communicationSeconds)
        try c.encode(ranks, forKey: .ranks)
        try c.encode(regrown, forKey: .regrown)
        try c.encode(topologySeconds, forKey: .topologySeconds)
        try c.encodeIfPresent(layerSizes, forKey: .layerSizes)
        try c.encodeIfPresent(nonzeros, forKey: .nonzeros)
        try c.encodeIfPresent(neuronsRemoved, forKey: .neuronsRemoved)
    }
}
