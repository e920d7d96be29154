import Foundation

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

    /// Where data sets that no package installs are looked for by default: `$SPRIG_DATA`, else
    /// `$XDG_DATA_HOME/sprig`, else `~/.local/share/sprig` — never the current directory.
    public static var dataHome: String {
        let environment = ProcessInfo.processInfo.environment
        if let given = environment["SPRIG_DATA"], !given.isEmpty { return given }
        if let xdg = environment["XDG_DATA_HOME"], !xdg.isEmpty { return (xdg as NSString).appendingPathComponent("sprig") }
        return (NSHomeDirectory() as NSString).appendingPathComponent(".local/share/sprig")
    }

    public var defaultDirectory: String? {
        switch self {
        case .fashionMNIST: return DatasetKind.fashionMNISTDirectory
        case .mnist: return (DatasetKind.dataHome as NSString).appendingPathComponent("mnist")
        case .cifar10: return (DatasetKind.dataHome as NSString).appendingPathComponent("cifar-10-batches-bin")
        case .synthetic: return nil
        }
    }

    /// How to get the data into `directory`, for the message of a missing directory.
    public func hint(directory: String) -> String {
        switch self {
        case .fashionMNIST:
            return "install the Debian package dataset-fashion-mnist (./launch.sh does), which puts it in \(DatasetKind.fashionMNISTDirectory)"
        case .mnist:
            return "put MNIST's four IDX files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, "
                + "t10k-labels-idx1-ubyte.gz, from https://yann.lecun.com/exdb/mnist/ or a mirror) in \(directory), or give --data-dir"
        case .cifar10:
            let parent = (directory as NSString).deletingLastPathComponent
            return "get CIFAR-10's binary version: mkdir -p \(parent) && curl -L https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz "
                + "| tar xz -C \(parent) (it unpacks cifar-10-batches-bin), or give --data-dir"
        case .synthetic:
            return ""
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
        case .fashionMNIST, .mnist, .cifar10:
            let folder = directory ?? defaultDirectory!
            do {
                data = self == .cifar10 ? try CIFAR10Loader.load(directory: folder) : try MNISTLoader.load(directory: folder, name: rawValue)
            } catch SprigError.io(let path, let reason) where reason == "data directory not found" {
                throw SprigError.io(path: path, reason: "\(rawValue) data directory not found: " + hint(directory: folder))
            }
        }
        if let n = trainSize, self != .synthetic { data.train = data.train.subset(n) }
        if let n = testSize, self != .synthetic { data.test = data.test.subset(n) }
        return data
    }
}
