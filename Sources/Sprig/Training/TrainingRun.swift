import CBLAS
import CPUControl
import Foundation

/// A whole training job, on one process or as one rank of a data-parallel job: load data,
/// build, load or resume the network, check that all ranks agree, train for the configured
/// epochs with evaluation after each, write checkpoints and weights. Rank 0 alone reports
/// and writes files.
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
        public var exchange: GradientExchange = .perLayer
        public var checkpointDirectory: String?
        /// Write a checkpoint after every this many epochs (nil: never by epoch).
        public var checkpointEveryEpochs: Int?
        /// Write a checkpoint after every this many steps, counted from the start of training (nil: never by step).
        public var checkpointEverySteps: Int?
        /// Continue from the newest valid checkpoint in `checkpointDirectory`.
        public var resume = false
        /// Stop after this many steps in all (nil: run every epoch).
        public var maxSteps: Int?

        public init(network: NetworkConfiguration, training: TrainingConfiguration, dataset: DatasetKind, threads: Int) {
            self.network = network
            self.training = training
            self.dataset = dataset
            self.threads = threads
        }
    }

    public let options: Options
    public let communicator: any Communicator

    public init(_ options: Options, communicator: any Communicator = SingleProcessCommunicator()) {
        self.options = options
        self.communicator = communicator
    }

    public func run(reporter: any TrainingReporter) throws {
        sprig_flush_subnormals_to_zero()
        openblas_set_num_threads(1)   // dense layers split their products across `pool` instead
        let pool = ThreadPool(threads: options.threads)
        let isRoot = communicator.isRoot

        if options.resume || options.checkpointEveryEpochs != nil || options.checkpointEverySteps != nil {
            guard let directory = options.checkpointDirectory else {
                throw SprigError.invalidArgument("--resume and --checkpoint-every need --checkpoint-dir")
            }
            if isRoot && !options.resume {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            }
        }

        // Resume: rank 0 reads the newest valid checkpoint and sends its bytes to every rank.
        var resumed: Checkpoint?
        var networkConfiguration = options.network
        var trainingConfiguration = options.training
        if options.resume, let directory = options.checkpointDirectory {
            var bytes: [UInt8] = []
            var failure = ""
            if isRoot {
                do {
                    let found = try CheckpointFile.newestValid(in: directory)
                    for (path, reason) in found.rejected { reporter.note("warning: skipping \(path): \(reason)") }
                    reporter.note("resuming from \(found.path) (epoch \(found.checkpoint.epoch + 1), step \(found.checkpoint.step))")
                    bytes = try CheckpointFile.encode(found.checkpoint)
                } catch {
                    failure = "\(error)"
                }
            }
            let message = try communicator.broadcastBytes(Array(failure.utf8), root: 0)
            guard message.isEmpty else { throw SprigError.invalidArgument(String(decoding: message, as: UTF8.self)) }
            let checkpoint = try CheckpointFile.decode(try communicator.broadcastBytes(bytes, root: 0), path: directory)
            networkConfiguration = checkpoint.network
            trainingConfiguration = checkpoint.training
            trainingConfiguration.epochs = options.training.epochs   // may extend the run
            resumed = checkpoint
        }

        var (train, test) = try options.dataset.load(directory: options.dataDirectory, trainSize: options.trainSize,
                                                      testSize: options.testSize, layerSizes: networkConfiguration.layerSizes,
                                                      seed: networkConfiguration.seed)
        try checkShapes(train, sizes: networkConfiguration.layerSizes)
        if options.standardize && options.dataset != .synthetic {   // synthetic values are already N(0, 1)
            let normalization = Normalization.fit(train)
            normalization.apply(to: &train)
            normalization.apply(to: &test)
        }

        let network: Network
        if let checkpoint = resumed {
            network = Network(networkConfiguration, patterns: checkpoint.patterns)
            guard checkpoint.values.count == network.arena.count else {
                throw SprigError.format(path: options.checkpointDirectory ?? "", reason: "checkpoint has \(checkpoint.values.count) parameters, the network \(network.arena.count)")
            }
            _ = network.arena.values.buffer.update(fromContentsOf: checkpoint.values)
        } else if let path = options.loadWeights {
            network = try WeightsFile.load(path: path, configuration: networkConfiguration)
        } else {
            network = try Network(networkConfiguration)
        }
        if isRoot, let path = options.saveWeights { try WeightsFile.checkWritable(path: path) }
        let trainer = try Trainer(network: network, configuration: trainingConfiguration, pool: pool,
                                  communicator: communicator, exchange: options.exchange)
        if let checkpoint = resumed {
            guard checkpoint.velocity.count == trainer.optimizer.velocity.count else {
                throw SprigError.format(path: options.checkpointDirectory ?? "", reason: "checkpoint optimizer state has \(checkpoint.velocity.count) values, expected \(trainer.optimizer.velocity.count)")
            }
            _ = trainer.optimizer.velocity.buffer.update(fromContentsOf: checkpoint.velocity)
        }

        try checkAgreement(network: network, training: trainingConfiguration, data: train)
        // Rank 0's values (and optimizer state) are everyone's.
        try communicator.broadcast(UnsafeMutableRawBufferPointer(network.arena.values.buffer), root: 0)
        try communicator.broadcast(UnsafeMutableRawBufferPointer(trainer.optimizer.velocity.buffer), root: 0)

        if isRoot {
            reporter.started(RunSummary(network: network, train: train, test: test, threads: options.threads,
                                        ranks: communicator.size, bytesPerStep: trainer.bytesPerStep))
        }

        let steps = trainer.stepsPerEpoch(count: train.count)
        var position = (epoch: resumed?.epoch ?? 0, step: resumed?.step ?? 0)
        if position.step >= steps { position = (position.epoch + 1, 0) }
        func checkpoint(epoch: Int, step: Int) throws {
            guard isRoot, let directory = options.checkpointDirectory else { return }
            let next = step >= steps ? (epoch + 1, 0) : (epoch, step)
            try CheckpointFile.write(Checkpoint(network: network.configuration, training: trainingConfiguration,
                                                epoch: next.0, step: next.1,
                                                patterns: network.layers.map { ($0 as? SparseLinear)?.pattern },
                                                values: network.arena.values.array, velocity: trainer.optimizer.velocity.array),
                                     directory: directory)
        }

        for epoch in position.epoch..<trainingConfiguration.epochs {
            let firstStep = epoch == position.epoch ? position.step : 0
            if let limit = options.maxSteps, epoch * steps + firstStep >= limit { break }
            let lastStep = options.maxSteps.map { min(steps, $0 - epoch * steps) } ?? steps
            let communicationBefore = trainer.communicationSeconds
            let result = try trainer.trainEpoch(epoch, data: train, steps: firstStep..<lastStep) { step in
                if isRoot { reporter.progress(epoch: epoch, done: step + 1, total: steps) }
                if let every = self.options.checkpointEverySteps, (epoch * steps + step + 1) % every == 0 {
                    try checkpoint(epoch: epoch, step: step + 1)
                }
            }
            var communication = [trainer.communicationSeconds - communicationBefore]
            try communication.withUnsafeMutableBufferPointer { try communicator.allreduceMax($0) }
            let clock = Stopwatch()
            let evaluation = try trainer.evaluate(test)
            if let every = options.checkpointEveryEpochs, (epoch + 1) % every == 0 {
                try checkpoint(epoch: epoch, step: steps)
            }
            if isRoot {
                try reporter.finished(EpochMetrics(epoch: epoch + 1, loss: result.loss, trainAccuracy: result.accuracy,
                                                   testLoss: evaluation.loss, testAccuracy: evaluation.accuracy,
                                                   learningRate: trainer.learningRate(epoch: epoch), seconds: result.seconds,
                                                   examplesPerSecond: Double(min(lastStep * trainingConfiguration.batchSize, train.count)
                                                                             - firstStep * trainingConfiguration.batchSize) / max(result.seconds, 1e-9),
                                                   evaluationSeconds: clock.seconds, communicationSeconds: communication[0],
                                                   ranks: communicator.size))
            }
        }
        if isRoot, let path = options.saveWeights {
            try WeightsFile.save(network, path: path)
            reporter.note("weights written to \(path)")
        }
    }

    /// Every rank must run the same network on the same data with the same settings; a rank
    /// that differs from rank 0 is named.
    private func checkAgreement(network: Network, training: TrainingConfiguration, data: Dataset) throws {
        guard communicator.size > 1 else { return }
        var hasher = StableHasher()
        hasher.combine(network.structureHash)
        hasher.combine(String(describing: training))
        hasher.combine(options.exchange.rawValue)
        hasher.combine(data.fingerprint)
        let all = try communicator.allGather(hasher.value)
        if let different = all.indices.first(where: { all[$0] != all[0] }) {
            throw DistributedError.mismatch("rank \(different) differs from rank 0 in its flags, data or network "
                                            + "(configuration hash \(String(all[different], radix: 16)) vs \(String(all[0], radix: 16))); "
                                            + "every rank must run the same command on the same data")
        }
    }

    /// The first and last layer sizes must match the data's features and classes.
    private func checkShapes(_ train: Dataset, sizes: [Int]) throws {
        guard sizes[0] == train.featureCount else {
            throw SprigError.invalidArgument("--layer-sizes starts with \(sizes[0]) but \(train.name) has \(train.featureCount) features per example")
        }
        guard sizes[sizes.count - 1] == train.classCount else {
            throw SprigError.invalidArgument("--layer-sizes ends with \(sizes[sizes.count - 1]) but \(train.name) has \(train.classCount) classes")
        }
        guard train.count > 0 else { throw SprigError.invalidArgument("\(train.name) has no training examples") }
    }
}
