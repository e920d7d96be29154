/// What runs the challenge's inference on batches of inputs: the CPU engine, or the GPU one.
public protocol ChallengeEngine: AnyObject {
    /// The edges one input passes through: Σ over layers of nonzeros.
    var edges: Int { get }
    /// The ids of the batch's inputs alive after the last layer, ascending.
    func categories(of batch: ChallengeInputs) throws -> [Int]
}

extension ChallengeEngine {
    /// Every batch of `stream`, at most `batchSize` inputs at a time: the categories (ids,
    /// ascending) and the seconds spent in inference (reading the file not included).
    public func run(_ stream: ChallengeInputStream, batchSize: Int) throws -> (categories: [Int], seconds: Double) {
        var found: [Int] = [], seconds = 0.0
        while let batch = try stream.next(capacity: batchSize) {
            let clock = Stopwatch()
            found += try categories(of: batch)
            seconds += clock.seconds
        }
        return (found, seconds)
    }
}
