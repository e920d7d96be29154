/// The data sets `sprig train` can read, and where each is found by default.
public enum DatasetKind: String, Sendable, CaseIterable {
    case fashionMNIST = "fashion-mnist"
    case mnist
    case cifar10
    case synthetic

    public init(parsing text: String) throws {
        switch text.lowercased().replacingOccurrences(of: "_", with: "-") {
        case "fashion-mnist", "fashionmnist", "fmnist": self = .fashionMNIST
        case "mnist": self = .mnist
        case "cifar10", "cifar-10": self = .cifar10
        case "synthetic": self = .synthetic
        default: throw SprigError.invalidArgument("unknown dataset '\(text)' (expected fashion-mnist, mnist, cifar10 or synthetic)")
        }
    }

    /// The Debian package `dataset-fashion-mnist` installs here.
    public static let fashionMNISTDirectory = "/usr/share/datasets/fashion-mnist"

    public var defaultDirectory: String? {
        switch self {
        case .fashionMNIST: return DatasetKind.fashionMNISTDirectory
        case .mnist: return "/usr/share/datasets/mnist"
        case .cifar10: return "data/cifar-10-batches-bin"
        case .synthetic: return nil
        }
    }

    /// Loads (train, test). Synthetic data takes its shape from the layer sizes; the others
    /// are cut to `trainSize`/`testSize` when those are given.
    public func load(directory: String?, trainSize: Int?, testSize: Int?, layerSizes: [Int], seed: UInt64) throws -> (train: Dataset, test: Dataset) {
        var data: (train: Dataset, test: Dataset)
        switch self {
        case .synthetic:
            var budget = MemoryBudget("the synthetic data (--train-size, --test-size and the first layer size)")
            try budget.add(product: [trainSize ?? 10000, layerSizes[0]], elementSize: 1)
            try budget.add(product: [testSize ?? 1000, layerSizes[0]], elementSize: 1)
            try budget.check()
            data = SyntheticDataset.make(featureCount: layerSizes[0], classCount: layerSizes[layerSizes.count - 1],
                                         trainCount: trainSize ?? 10000, testCount: testSize ?? 1000, seed: seed)
        case .fashionMNIST, .mnist:
            data = try MNISTLoader.load(directory: directory ?? defaultDirectory!, name: rawValue)
        case .cifar10:
            data = try CIFAR10Loader.load(directory: directory ?? defaultDirectory!)
        }
        if let n = trainSize, self != .synthetic { data.train = data.train.subset(n) }
        if let n = testSize, self != .synthetic { data.test = data.test.subset(n) }
        return data
    }
}
