import CBLAS
import CPUControl

/// A whole training job on one process: load data, build (or load) the network, train for the
/// configured epochs with evaluation after each, save weights. Reports through a `TrainingReporter`.
public final class TrainingRun {
    public struct Options: Sendable {
        public var network: NetworkConfiguration
        public var training: TrainingConfiguration
        public var dataset: DatasetKind
        public var dataDirectory: String?
        public var trainSize: Int?
        public var testSize: Int?
        public var standardize = true
        public var threads: Int
        public var saveWeights: String?
        public var loadWeights: String?

        public init(network: NetworkConfiguration, training: TrainingConfiguration, dataset: DatasetKind, threads: Int) {
            self.network = network
            self.training = training
            self.dataset = dataset
            self.threads = threads
        }
    }

    public let options: Options

    public init(_ options: Options) { self.options = options }

    public func run(reporter: any TrainingReporter) throws {
        sprig_flush_subnormals_to_zero()
        openblas_set_num_threads(1)   // dense layers split their products across `pool` instead
        let pool = ThreadPool(threads: options.threads)

        var (train, test) = try options.dataset.load(directory: options.dataDirectory, trainSize: options.trainSize,
                                                      testSize: options.testSize, layerSizes: options.network.layerSizes,
                                                      seed: options.network.seed)
        try checkShapes(train)
        if options.standardize && options.dataset != .synthetic {   // synthetic values are already N(0, 1)
            let normalization = Normalization.fit(train)
            normalization.apply(to: &train)
            normalization.apply(to: &test)
        }
        let network: Network
        if let path = options.loadWeights {
            network = try WeightsFile.load(path: path, configuration: options.network)
        } else {
            network = try Network(options.network)
        }
        if let path = options.saveWeights { try WeightsFile.checkWritable(path: path) }
        let trainer = try Trainer(network: network, configuration: options.training, pool: pool)
        reporter.started(RunSummary(network: network, train: train, test: test, threads: options.threads))

        for epoch in 0..<options.training.epochs {
            let result = trainer.trainEpoch(epoch, data: train) { done, total in
                reporter.progress(epoch: epoch, done: done, total: total)
            }
            let clock = Stopwatch()
            let evaluation = trainer.evaluate(test)
            let metrics = EpochMetrics(epoch: epoch + 1, loss: result.loss, trainAccuracy: result.accuracy,
                                       testLoss: evaluation.loss, testAccuracy: evaluation.accuracy,
                                       learningRate: trainer.learningRate(epoch: epoch), seconds: result.seconds,
                                       examplesPerSecond: Double(train.count) / max(result.seconds, 1e-9),
                                       evaluationSeconds: clock.seconds)
            try reporter.finished(metrics)
        }
        if let path = options.saveWeights {
            try WeightsFile.save(network, path: path)
            reporter.note("weights written to \(path)")
        }
    }

    /// The first and last layer sizes must match the data's features and classes.
    private func checkShapes(_ train: Dataset) throws {
        let sizes = options.network.layerSizes
        guard sizes[0] == train.featureCount else {
            throw SprigError.invalidArgument("--layer-sizes starts with \(sizes[0]) but \(train.name) has \(train.featureCount) features per example")
        }
        guard sizes[sizes.count - 1] == train.classCount else {
            throw SprigError.invalidArgument("--layer-sizes ends with \(sizes[sizes.count - 1]) but \(train.name) has \(train.classCount) classes")
        }
        guard train.count > 0 else { throw SprigError.invalidArgument("\(train.name) has no training examples") }
    }
}

/// What the run prints before the first epoch.
public struct RunSummary: Sendable {
    public struct LayerLine: Sendable {
        public var inputs: Int, outputs: Int, density: Double, weights: Int, kind: String, activation: String
    }
    public var layers: [LayerLine]
    public var parameters: Int
    public var trainCount: Int
    public var testCount: Int
    public var dataset: String
    public var threads: Int

    init(network: Network, train: Dataset, test: Dataset, threads: Int) {
        layers = network.layers.map { layer in
            LayerLine(inputs: layer.inputSize, outputs: layer.outputSize,
                      density: Double(layer.weightCount) / Double(layer.inputSize * layer.outputSize),
                      weights: layer.weightCount, kind: layer is SparseLinear ? "sparse" : "dense",
                      activation: layer.activation.description)
        }
        parameters = network.arena.count
        trainCount = train.count
        testCount = test.count
        dataset = train.name
        self.threads = threads
    }
}

/// Receives a run's progress; the command-line tool prints it, tests may record it.
public protocol TrainingReporter {
    func started(_ summary: RunSummary)
    func progress(epoch: Int, done: Int, total: Int)
    func finished(_ metrics: EpochMetrics) throws
    func note(_ text: String)
}
