import Foundation

/// A saved model applied to a data set (`sprig evaluate`, `sprig predict`), on one process or
/// as one rank of many: the model file alone gives the network, its normalisation and the
/// encoding of its inputs (`ModelDescription`); the data set's split is cut into contiguous
/// shares, one per rank, and the results are summed (evaluation) or gathered on rank 0
/// (predictions).
///
/// A file written before models described themselves has no normalisation: the one `train`
/// would have fitted (the training split's mean and deviation, `trainSize` examples of it)
/// is fitted again, and `notes` says so.
public final class ModelRun {
    public struct Options: Sendable {
        public var modelPath: String
        public var dataset: DatasetKind
        public var dataDirectory: String?
        /// Which split is evaluated or predicted.
        public var split: Split = .test
        /// Use only the first N examples of the split (nil: all).
        public var size: Int?
        /// The training examples a file without a normalisation was trained on (nil: all).
        public var trainSize: Int?
        public var threads: Int
        /// The loss evaluated (nil: the one the model was trained with, else softmax cross-entropy).
        public var loss: LossKind?

        public enum Split: String, Sendable, CaseIterable { case train, test }

        public init(modelPath: String, dataset: DatasetKind, threads: Int) {
            self.modelPath = modelPath
            self.dataset = dataset
            self.threads = threads
        }
    }

    public struct Evaluation: Sendable {
        public var examples: Int
        /// The mean loss.
        public var loss: Double
        public var accuracy: Double
        /// confusion[label][predicted]: how many examples of each class went to each.
        public var confusion: [[Int]]
    }

    public let options: Options
    public let communicator: any Communicator
    /// What the run noticed and the user should know (rank 0 prints them).
    public private(set) var notes: [String] = []
    /// The model, its description (nil for an older file) and the data, once `prepare` ran.
    public private(set) var network: Network?
    public private(set) var description: ModelDescription?
    private var data: Dataset?
    /// Its threads, with the numeric settings of training (OpenBLAS single-threaded within them,
    /// subnormals flushed): a model evaluates here bitwise as its training run evaluated it.
    private var context: RunContext?

    public init(_ options: Options, communicator: any Communicator = SingleProcessCommunicator()) {
        self.options = options
        self.communicator = communicator
    }

    /// The data set's name and split, for messages ("fashion-mnist test").
    public var dataName: String { "\(options.dataset.rawValue) \(options.split.rawValue)" }

    /// Reads the model and the data, checks that they fit each other and normalises the data
    /// as the model was trained; every failure names the file or the flag.
    public func prepare() throws {
        context = try RunContext(threads: options.threads, communicator: communicator)   // checks --threads
        if let n = options.size, n < 1 { throw SprigError.invalidArgument("--size \(n) is not positive") }
        if let n = options.trainSize, n < 1 { throw SprigError.invalidArgument("--train-size \(n) is not positive") }
        let file = try WeightsFile.read(path: options.modelPath)
        guard let description = file.description else {
            return try prepareOlder(file)
        }
        let configuration = description.network
        var budget = MemoryBudget("the network \(configuration.layerSizes.map(String.init).joined(separator: ","))")
        try configuration.addMemory(to: &budget, optimizerStates: 0)
        try budget.check()
        let network = try WeightsFile.network(file, configuration: configuration)
        var data = try load(sizes: configuration.layerSizes, seed: configuration.seed).data
        try check(data, against: network)
        let input = InputEncoding(data)
        if let trained = description.input, trained != input {
            throw SprigError.invalidArgument("the model in \(file.path) was trained on \(trained.words) but \(dataName) holds \(input.words)")
        }
        description.normalization?.apply(to: &data)
        self.network = network
        self.description = description
        self.data = data
    }

    /// A file without a description: the sizes from its arrays, the layers as `train` makes
    /// them by default (ReLU, then the identity), the normalisation fitted again.
    private func prepareOlder(_ file: WeightsFile.Contents) throws {
        let sizes = file.layerSizes
        let configuration = NetworkConfiguration(layerSizes: sizes, densities: [Double](repeating: 1, count: sizes.count - 1))
        let network = try WeightsFile.network(file, configuration: configuration)
        var (data, train) = try load(sizes: sizes, seed: configuration.seed)
        try check(data, against: network)
        if options.dataset != .synthetic {
            let normalization = Normalization.fit(train)
            normalization.apply(to: &data)
            notes.append("warning: \(file.path) does not describe its model (written by an older sprig or another tool): its layers "
                         + "are taken as ReLU then the identity, and its normalisation is fitted again on \(options.dataset.rawValue)'s "
                         + "training split (\(train.count) examples), as train would have fitted it")
        }
        self.network = network
        self.data = data
    }

    /// The split to use and the training split (synthetic data: made as `train` made it, from
    /// the sizes, the seed and `trainSize`).
    private func load(sizes: [Int], seed: UInt64) throws -> (data: Dataset, train: Dataset) {
        let (train, test) = try options.dataset.load(directory: options.dataDirectory, trainSize: options.trainSize,
                                                     testSize: nil, layerSizes: sizes, seed: seed)
        let split = options.split == .train ? train : test
        return (split.subset(options.size ?? split.count), train)
    }

    private func check(_ data: Dataset, against network: Network) throws {
        guard data.featureCount == network.inputSize else {
            throw SprigError.invalidArgument("the model takes \(network.inputSize) features per example but \(dataName) has \(data.featureCount)")
        }
        guard data.classCount == network.outputSize else {
            throw SprigError.invalidArgument("the model has \(network.outputSize) outputs but \(dataName) has \(data.classCount) classes")
        }
        guard data.count > 0 else { throw SprigError.invalidArgument("\(dataName) has no examples") }
    }

    /// This rank's contiguous share of the examples.
    private var share: Range<Int> { Shard.range(of: data?.count ?? 0, rank: communicator.rank, ranks: communicator.size) }

    /// The loss, accuracy and confusion matrix over the split (every rank gets the totals).
    public func evaluate() throws -> Evaluation {
        guard let network, let data, let pool = context?.pool else { preconditionFailure("prepare() first") }
        let classes = network.outputSize
        let loss = options.loss ?? description?.training?.loss ?? .softmaxCrossEntropy
        let mine = try network.evaluation(of: data, examples: share, loss: loss, pool: pool)
        var totals = [mine.loss] + mine.confusion.map(Double.init)   // Σ loss, then the confusion matrix
        try totals.withUnsafeMutableBufferPointer { try communicator.allreduceSum($0) }
        guard totals[0].isFinite else {
            throw SprigError.failed("the loss on \(dataName) is not finite (\(totals[0])): the network's outputs overflow on it")
        }
        let confusion = (0..<classes).map { r in (0..<classes).map { c in Int(totals[1 + r * classes + c]) } }
        let correct = (0..<classes).reduce(0) { $0 + confusion[$1][$1] }
        return Evaluation(examples: data.count, loss: totals[0] / Double(data.count),
                          accuracy: Double(correct) / Double(data.count), confusion: confusion)
    }

    /// The network's outputs for every example of the split, example-major (n×K), on rank 0
    /// (gathered from every rank's share; the other ranks get an empty array), with the labels.
    public func predict() throws -> (outputs: [Float], labels: [Int32], classes: Int) {
        guard let network, let data, let pool = context?.pool else { preconditionFailure("prepare() first") }
        let k = network.outputSize
        let outputs = try network.outputs(for: data, examples: share, pool: pool)
        guard communicator.size > 1 else { return (outputs, data.labels, k) }
        var all: [Float] = []
        for r in 0..<communicator.size {
            let bytes = try communicator.broadcastBytes(r == communicator.rank ? outputs.withUnsafeBytes { Array($0) } : [], root: r)
            if communicator.isRoot { all += bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) } }
        }
        return communicator.isRoot ? (all, data.labels, k) : ([], [], k)
    }
}
