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
        /// After every this many steps (counted from the start of training), check that all
        /// ranks hold bitwise the same values and velocity (`ReplicaCheck`; nil: never).
        public var checkReplicas: Int?
        /// The flags the user gave ("--learning-rate", …): when resuming, each of these that
        /// defines the network or its training must agree with the checkpoint; `--epochs` may
        /// extend it (left out, the checkpoint's epochs stand).
        public var givenFlags: Set<String> = []

        public init(network: NetworkConfiguration, training: TrainingConfiguration, dataset: DatasetKind, threads: Int) {
            self.network = network
            self.training = training
            self.dataset = dataset
            self.threads = threads
        }
    }

    public let options: Options
    public let communicator: any Communicator

    /// For tests only: `SPRIG_TEST_ONLY_PERTURB_REPLICA=R:S` makes rank R move its first
    /// parameter value up by one unit in the last place after step S (1-based, counted from
    /// the start of training), so that a test can watch `--check-replicas` stop a real job.
    public static let perturbReplicaVariable = "SPRIG_TEST_ONLY_PERTURB_REPLICA"

    public init(_ options: Options, communicator: any Communicator = SingleProcessCommunicator()) {
        self.options = options
        self.communicator = communicator
    }

    public func run(reporter: any TrainingReporter) throws {
        sprig_flush_subnormals_to_zero()
        openblas_set_num_threads(1)   // dense layers split their products across `pool` instead
        try MemoryBudget.checkThreads(options.threads)
        try checkOptionsAgree()
        let replicaCheck = try options.checkReplicas.map { try ReplicaCheck(every: $0) }
        let perturbation = ProcessInfo.processInfo.environment[TrainingRun.perturbReplicaVariable].flatMap { text -> (rank: Int, step: Int)? in
            let parts = text.split(separator: ":").compactMap { Int($0) }
            return parts.count == 2 ? (parts[0], parts[1]) : nil
        }
        let pool = ThreadPool(threads: options.threads)
        let isRoot = communicator.isRoot
        let usesCheckpoints = options.resume || options.checkpointEveryEpochs != nil || options.checkpointEverySteps != nil
        if usesCheckpoints && options.checkpointDirectory == nil {
            throw SprigError.invalidArgument("--resume and --checkpoint-every need --checkpoint-dir")
        }
        let checkpointDirectory = usesCheckpoints ? options.checkpointDirectory : nil

        var networkConfiguration = options.network
        var trainingConfiguration = options.training
        let resumed = try options.resume ? readCheckpoint(reporter: reporter) : nil
        if let checkpoint = resumed {
            networkConfiguration = checkpoint.network
            trainingConfiguration = checkpoint.training
            if options.givenFlags.contains("--epochs") {   // may extend the run
                guard options.training.epochs >= checkpoint.epoch else {
                    throw SprigError.invalidArgument("--epochs \(options.training.epochs) is below the \(checkpoint.epoch) epochs "
                                                     + "the checkpoint has finished; give at least \(checkpoint.epoch)")
                }
                trainingConfiguration.epochs = options.training.epochs
            }
        }

        var (train, test) = try options.dataset.load(directory: options.dataDirectory, trainSize: options.trainSize,
                                                      testSize: options.testSize, layerSizes: networkConfiguration.layerSizes,
                                                      seed: networkConfiguration.seed)
        try checkShapes(train, sizes: networkConfiguration.layerSizes)
        try checkMemory(networkConfiguration, training: trainingConfiguration, train: train, test: test)
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
        if isRoot, let path = options.saveWeights { try AtomicFile.checkWritable(path) }
        let trainer = try Trainer(network: network, configuration: trainingConfiguration, pool: pool,
                                  communicator: communicator, exchange: options.exchange, trainingExamples: train.count)
        if let checkpoint = resumed {
            guard checkpoint.velocity.count == trainer.optimizer.velocity.count else {
                throw SprigError.format(path: options.checkpointDirectory ?? "", reason: "checkpoint optimizer state has \(checkpoint.velocity.count) values, expected \(trainer.optimizer.velocity.count)")
            }
            _ = trainer.optimizer.velocity.buffer.update(fromContentsOf: checkpoint.velocity)
        }

        try checkAgreement(network: network, training: trainingConfiguration, train: train, test: test)
        // Rank 0's values (and optimizer state) are everyone's.
        try communicator.broadcast(UnsafeMutableRawBufferPointer(network.arena.values.buffer), root: 0)
        try communicator.broadcast(UnsafeMutableRawBufferPointer(trainer.optimizer.velocity.buffer), root: 0)

        // Every check has passed: only now are the checkpoint directory and the metrics file made.
        if isRoot {
            var createdDirectory: String?
            if let directory = checkpointDirectory {   // made now; a file, or a directory this process cannot write into, is refused
                var isDirectory: ObjCBool = false
                if !FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
                    do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
                    catch { throw SprigError.fileError(path: directory, action: "create the checkpoint directory", error: error) }
                    createdDirectory = directory
                } else if !isDirectory.boolValue {
                    throw SprigError.fileError(path: directory, action: "use it as the checkpoint directory", errno: ENOTDIR)
                }
                try AtomicFile.checkWritable((directory as NSString).appendingPathComponent("checkpoint-probe.sprig"))
            }
            do {
                try reporter.started(RunSummary(network: network, train: train, test: test, threads: options.threads,
                                                ranks: communicator.size, bytesPerStep: trainer.bytesPerStep,
                                                epochs: trainingConfiguration.epochs))
            } catch {
                if let directory = createdDirectory { try? FileManager.default.removeItem(atPath: directory) }
                throw error
            }
        }

        let steps = trainer.stepsPerEpoch(count: train.count)
        try resumed?.checkPosition(stepsPerEpoch: steps, path: options.checkpointDirectory ?? "")
        var position = (epoch: resumed?.epoch ?? 0, step: resumed?.step ?? 0)
        if position.step >= steps { position = (position.epoch + 1, 0) }
        if resumed != nil && position.epoch >= trainingConfiguration.epochs {
            reporter.note("nothing left to train: the checkpoint has finished all \(trainingConfiguration.epochs) epochs "
                          + "(give a larger --epochs to train on)")
        }
        func checkpoint(epoch: Int, step: Int) throws {
            guard isRoot, let directory = checkpointDirectory else { return }
            try checkFinite(network, writing: "checkpoint")
            let next = step >= steps ? (epoch + 1, 0) : (epoch, step)
            try CheckpointFile.write(Checkpoint(network: network.configuration, training: trainingConfiguration,
                                                epoch: next.0, step: next.1,
                                                patterns: network.layers.map { ($0 as? SparseLinear)?.pattern },
                                                values: network.arena.values.array, velocity: trainer.optimizer.velocity.array),
                                     directory: directory)
        }

        var replicaChecks = 0
        for epoch in position.epoch..<max(trainingConfiguration.epochs, position.epoch) {
            let firstStep = epoch == position.epoch ? position.step : 0
            if let limit = options.maxSteps, epoch * steps + firstStep >= limit { break }
            let lastStep = options.maxSteps.map { min(steps, $0 - epoch * steps) } ?? steps
            let communicationBefore = trainer.communicationSeconds
            let result = try trainer.trainEpoch(epoch, data: train, steps: firstStep..<lastStep) { step in
                if let perturbation, perturbation.rank == self.communicator.rank, perturbation.step == epoch * steps + step + 1 {
                    network.arena.values[0] = network.arena.values[0].nextUp
                }
                if let check = replicaCheck, check.isDue(afterStep: epoch * steps + step) {
                    try ReplicaCheck.verify(values: UnsafeBufferPointer(network.arena.values.buffer),
                                            velocity: UnsafeBufferPointer(trainer.optimizer.velocity.buffer),
                                            step: epoch * steps + step + 1, epoch: epoch + 1, communicator: self.communicator)
                    replicaChecks += 1
                }
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
            guard isRoot else { continue }
            let metrics = EpochMetrics(epoch: epoch + 1, loss: result.loss, trainAccuracy: result.accuracy,
                                       testLoss: test.count > 0 ? evaluation.loss : nil,
                                       testAccuracy: test.count > 0 ? evaluation.accuracy : nil,
                                       learningRate: trainer.learningRate(epoch: epoch), seconds: result.seconds,
                                       examplesPerSecond: Double(result.examples) / max(result.seconds, 1e-9),
                                       evaluationSeconds: clock.seconds, communicationSeconds: communication[0],
                                       ranks: communicator.size)
            do {
                try reporter.finished(metrics)
            } catch {
                // The metrics could not be written (e.g. a full disk): keep the work trained so far.
                if let path = options.saveWeights, (try? checkFinite(network, writing: "weights")) != nil,
                   (try? WeightsFile.save(network, path: path)) != nil {
                    reporter.note("weights trained so far (epoch \(epoch + 1)) written to \(path)")
                }
                throw error
            }
        }
        if isRoot, let check = replicaCheck {
            reporter.note(communicator.size == 1 ? "replicas: one process, nothing to compare (--check-replicas is for mpirun)"
                          : "replicas: all \(communicator.size) ranks held bitwise-identical values and velocity at all "
                            + "\(replicaChecks) checks (every \(check.every) steps)")
        }
        if isRoot, let path = options.saveWeights {
            try checkFinite(network, writing: "weights")
            try WeightsFile.save(network, path: path)
            reporter.note("weights written to \(path)")
        }
    }

    /// Rank 0 reads the newest valid checkpoint and sends its bytes to every rank; a flag the
    /// user gave that defines the run must agree with it.
    private func readCheckpoint(reporter: any TrainingReporter) throws -> Checkpoint {
        let directory = options.checkpointDirectory ?? ""
        var bytes: [UInt8] = []
        var failure = ""
        if communicator.isRoot {
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
        guard message.isEmpty else { throw SprigError.failed(String(decoding: message, as: UTF8.self)) }
        let checkpoint = try CheckpointFile.decode(try communicator.broadcastBytes(bytes, root: 0), path: directory)
        try checkResumeFlags(against: checkpoint)
        return checkpoint
    }

    /// Refuses a flag the user gave whose value differs from the checkpoint's: it would
    /// otherwise be silently replaced (or silently change a run half done).
    private func checkResumeFlags(against checkpoint: Checkpoint) throws {
        let mine = options.network, theirs = checkpoint.network
        let training = options.training, saved = checkpoint.training
        func text<T>(_ values: [T]) -> String { values.map { "\($0)" }.joined(separator: ",") }
        // Σ d_l·D_l·D_{l+1} / Σ D_l·D_{l+1}: the overall density the Erdős–Rényi allocation kept.
        func overall(_ c: NetworkConfiguration) -> String {
            let cells = (0..<c.layerCount).map { Double(c.layerSizes[$0]) * Double(c.layerSizes[$0 + 1]) }
            return String(format: "%g", zip(c.densities, cells).reduce(0) { $0 + $1.0 * $1.1 } / cells.reduce(0, +))
        }
        let pairs: [(flag: String, given: String, saved: String)] = [
            ("--layer-sizes", text(mine.layerSizes), text(theirs.layerSizes)),
            ("--densities", text(mine.densities), text(theirs.densities)),
            ("--overall-density", overall(mine), overall(theirs)),
            ("--activation", mine.hiddenActivation.description, theirs.hiddenActivation.description),
            ("--output-activation", mine.outputActivation.description, theirs.outputActivation.description),
            ("--initializer", mine.initializer.rawValue, theirs.initializer.rawValue),
            ("--fan-in", mine.fanIn.rawValue, theirs.fanIn.rawValue),
            ("--seed", "\(mine.seed)", "\(theirs.seed)"),
            ("--batch-size", "\(training.batchSize)", "\(saved.batchSize)"),
            ("--learning-rate", "\(training.learningRate)", "\(saved.learningRate)"),
            ("--lr-schedule", training.schedule.description, saved.schedule.description),
            ("--optimizer", training.optimizer.description, saved.optimizer.description),
            ("--weight-decay", "\(training.weightDecay)", "\(saved.weightDecay)"),
            ("--loss", "\(training.loss)", "\(saved.loss)"),
        ]
        for pair in pairs where options.givenFlags.contains(pair.flag) && pair.given != pair.saved {
            throw SprigError.invalidArgument("--resume: \(pair.flag) \(pair.given) differs from the checkpoint's \(pair.saved); "
                                             + "leave \(pair.flag) out to continue the run, or start a new one")
        }
    }

    /// The flags that every rank must share, compared before any other collective (a rank with
    /// another --test-size or --max-steps would otherwise wait forever in a collective).
    private func checkOptionsAgree() throws {
        guard communicator.size > 1 else { return }
        var hasher = StableHasher()
        hasher.combine(String(describing: options.network))
        hasher.combine(String(describing: options.training))
        hasher.combine(options.dataset.rawValue)
        hasher.combine(options.trainSize ?? -1)
        hasher.combine(options.testSize ?? -1)
        hasher.combine(options.standardize)
        hasher.combine(options.exchange.rawValue)
        hasher.combine(options.resume)
        hasher.combine(options.maxSteps ?? -1)
        hasher.combine(options.checkReplicas ?? -1)   // the check is a collective: all ranks or none
        hasher.combine(options.checkpointDirectory != nil)
        hasher.combine(options.checkpointEveryEpochs ?? -1)
        hasher.combine(options.checkpointEverySteps ?? -1)
        hasher.combine(options.givenFlags.sorted().joined(separator: " "))
        try compareAcrossRanks(hasher.value, what: "its flags")
    }

    /// Every rank must run the same network on the same data with the same settings: a hash
    /// of the network's structure, the training settings and all training and test data.
    private func checkAgreement(network: Network, training: TrainingConfiguration, train: Dataset, test: Dataset) throws {
        guard communicator.size > 1 else { return }
        var hasher = StableHasher()
        hasher.combine(network.structureHash)
        hasher.combine(String(describing: training))
        hasher.combine(train.fingerprint)
        hasher.combine(test.fingerprint)
        try compareAcrossRanks(hasher.value, what: "its data or network")
    }

    /// Throws `DistributedError.mismatch` on every rank, naming the first rank whose `hash` differs from rank 0's.
    private func compareAcrossRanks(_ hash: UInt64, what: String) throws {
        if let different = try communicator.firstRankDiffering(in: hash) {
            throw DistributedError.mismatch("rank \(different.rank) differs from rank 0 in \(what) "
                                            + "(hash \(different.hash) vs \(different.rootHash)); "
                                            + "every rank must run the same command on the same data")
        }
    }

    /// Refuses sizes that cannot fit before anything large is allocated: the network (values,
    /// gradients, optimizer state, patterns), the training workspace (bounded by the training
    /// set) and the evaluation workspace, against this machine's memory.
    private func checkMemory(_ network: NetworkConfiguration, training: TrainingConfiguration, train: Dataset, test: Dataset) throws {
        var budget = MemoryBudget("the network \(network.layerSizes.map(String.init).joined(separator: ",")) with --batch-size \(training.batchSize)")
        try network.addMemory(to: &budget)
        let trainingColumns = Trainer.workspaceCapacity(batchSize: training.batchSize, trainingExamples: train.count,
                                                        ranks: communicator.size)
        let evaluationColumns = min(1000, max(test.count / communicator.size + 1, 1))
        for columns in [trainingColumns, evaluationColumns] {   // a workspace: X, then Z, Y and DY per layer
            try budget.add(product: [network.layerSizes[0], columns])
            for size in network.layerSizes.dropFirst() { try budget.add(product: [3, size, columns]) }
        }
        try budget.check()
    }

    /// Refuses to write a checkpoint or weights that hold a NaN or an infinity.
    private func checkFinite(_ network: Network, writing what: String) throws {
        guard network.arena.values.buffer.allSatisfy(\.isFinite) else {
            throw SprigError.failed("the parameters became non-finite; no \(what) was written from them (the last good "
                                    + "checkpoint is kept): try a smaller --learning-rate")
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
