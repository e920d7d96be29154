// TEMPORARY: replaced by the real loaders.
public enum MNISTLoader { public static func load(directory: String, name: String) throws -> (train: Dataset, test: Dataset) { fatalError() } }
public enum CIFAR10Loader { public static func load(directory: String) throws -> (train: Dataset, test: Dataset) { fatalError() } }
public enum SyntheticDataset {
    public static func make(featureCount: Int, classCount: Int, trainCount: Int, testCount: Int, seed: UInt64) -> (train: Dataset, test: Dataset) {
        var g = RandomGenerator(seed: seed)
        func mk(_ n: Int) -> Dataset {
            var f = [Float](repeating: 0, count: n * featureCount); for i in f.indices { f[i] = g.uniform(-1, 1) }
            let l = (0..<n).map { _ in Int32(g.below(classCount)) }
            return Dataset(name: "synthetic", featureCount: featureCount, classCount: classCount, features: f, labels: l)
        }
        return (mk(trainCount), mk(testCount))
    }
}
public struct Normalization: Sendable, Equatable { public var mean: Float; public var standardDeviation: Float
  public static func fit(_ d: Dataset) -> Normalization { Normalization(mean: 0, standardDeviation: 1) }
  public func apply(to d: inout Dataset) {} }
