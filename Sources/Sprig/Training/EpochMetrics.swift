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

    enum CodingKeys: String, CodingKey {
        case epoch, loss, seconds
        case trainAccuracy = "train_accuracy"
        case testLoss = "test_loss"
        case testAccuracy = "test_accuracy"
        case learningRate = "learning_rate"
        case examplesPerSecond = "examples_per_second"
        case evaluationSeconds = "evaluation_seconds"
        case communicationSeconds = "communication_seconds"
        case ranks
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
    }
}
