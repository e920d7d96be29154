/// Examples and labels in memory, example-major: example i's features at i·featureCount.
public struct Dataset: Sendable {
    public var name: String
    public let featureCount: Int
    public let classCount: Int
    public var features: [Float]
    public var labels: [Int32]
    public var count: Int { labels.count }

    public init(name: String, featureCount: Int, classCount: Int, features: [Float], labels: [Int32]) {
        self.name = name
        self.featureCount = featureCount
        self.classCount = classCount
        self.features = features
        self.labels = labels
    }

    public func subset(_ n: Int) -> Dataset {
        let n = max(0, min(n, count))
        return Dataset(name: name, featureCount: featureCount, classCount: classCount,
                       features: Array(features[0..<(n * featureCount)]), labels: Array(labels[0..<n]))
    }
}
