/// A labelled classification data set held in memory.
///
/// `features` is example-major: example `i` occupies `features[i * featureCount ..< (i + 1) * featureCount]`.
/// `labels[i]` is the class of example `i`, in `0 ..< classCount`. The initializer does not
/// check these invariants; the loaders that build data sets from files do.
public struct Dataset: Sendable {
    public var name: String
    public let featureCount: Int
    public let classCount: Int
    public var features: [Float]
    public var labels: [Int32]

    /// The number of examples.
    public var count: Int { labels.count }

    public init(name: String, featureCount: Int, classCount: Int, features: [Float], labels: [Int32]) {
        self.name = name
        self.featureCount = featureCount
        self.classCount = classCount
        self.features = features
        self.labels = labels
    }

    /// The first `n` examples (`n` clamped to `0 ... count`).
    public func subset(_ n: Int) -> Dataset {
        let kept = Swift.min(Swift.max(n, 0), count)
        if kept == count { return self }
        return Dataset(name: name, featureCount: featureCount, classCount: classCount,
                       features: Array(features[0 ..< kept * featureCount]),
                       labels: Array(labels[0 ..< kept]))
    }
}
