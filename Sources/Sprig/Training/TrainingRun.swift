import Foundation

/// A whole training job, on one process or as one rank of a data-parallel job: validate the
/// options, load data, build, load or resume the network, check that all ranks agree, then
/// hand over to the `EpochLoop` and write the weights at the end. Rank 0 alone reports and
/// writes files. The parts: `RunContext` (ranks, threads, numeric settings), `Checkpointer`,
/// `Trainer` (steps, with the `GradientSynchronizer`), `EpochLoop`.
public final class TrainingRun {
    public let options: Options
    public let communicator: any Communicator

    /// For tests only: `SPRIG_TEST_ONLY_PERTURB_REPLICA=R:S` makes rank R move its first
    /// parameter value up by one unit in the last place after step S (1-based, counted from
    /// the start of training), so that a test can watch `--check-replicas` stop a real job.
    public static let perturbReplicaVariable = "SPRIG_TEST_ONLY_PERTURB_REPLICA"
    /// For tests only: `SPRIG_TEST_ONLY_SEPARATE_MEMORY_RANKS=1,3` trains those ranks on the CPU
    /// backend with separate memory (`CPUBackend.Memory.separate`), so that a test can run a
    /// real job whose ranks keep their parameters in different memories, as GPU ranks do.
    public static let separateMemoryVariable = "SPRIG_TEST_ONLY_SEPARATE_MEMORY_RANKS"

    /// The trainer of a run under way (and after it ended, also by an error): its network is
    /// the one trained so far (a compact one after a shrink; the last good one after a
    /// non-finite loss with `options.keepsLastGoodState`).
    private var trainer: Trainer?
    /// The network as trained so far, once training has started (nil before).
    public var network: Network? { trainer?.network }
    /// The normalisation applied to this run's data (nil before the data is loaded, or when none is).
    public private(set) var normalization: Normalization?
    private var loop: EpochLoop?
    /// Epochs this run finished (evaluated and reported), counted on every rank.
    public var epochsFinished: Int { loop?.epochsFinished ?? 0 }

    public init(_ options: Options, communicator: any Communicator = SingleProcessCommunicator()) {
        self.options = options
        self.communicator = communicator
    }

    /// Runs the job. `data`: train and test on these in-memory sets instead of loading
    /// `options.dataset` (the Python package's arrays; standardised like loaded images when
    /// `options.standardize`). `network`: train this network on instead of building one (its
    /// configuration must be `options.network`'s; not with `--resume`). Returns the trained
    /// network (a compact one when structured sparsity removed neurons) and the normalisation
    /// applied to the data, which predictions on raw inputs must apply too.
    @discardableResult
    public func run(reporter: any TrainingReporter, data: (train: Dataset, test: Dataset)? = nil, network given: Network? = nil)
        throws -> (network: Network, normalization: Normalization?) {
        try options.validate()
        if given != nil && options.resume {
            throw SprigError.invalidArgument("a run that resumes from a checkpoint builds its network from it: give no network")
        }
        let context = try RunContext(threads: options.threads, communicator: communicator)
        try checkOptionsAgree(context)
        let isRoot = context.isRoot
        let checkpointer = options.usesCheckpoints ? options.checkpointDirectory.map { Checkpointer(directory: $0, context: context) } : nil

        var networkConfiguration = options.network
        var trainingConfiguration = options.training
        let resumes = try options.resume || (options.resumeIfCheckpointed && checkpointer?.hasCheckpoint() == true)
        let resumed = try checkpointer.map { resumes ? try $0.readNewest(reporter: reporter) : nil } ?? nil
        if let checkpoint = resumed {
            try options.checkResume(against: checkpoint)
            networkConfiguration = checkpoint.network
            trainingConfiguration = checkpoint.training
            if options.givenFlags.contains("--epochs") {   // may extend the run
                guard options.training.epochs >= checkpoint.epoch else {
                    throw SprigError.invalidField(.epochs, "\(options.training.epochs) is below the \(checkpoint.epoch) epochs "
                                                  + "the checkpoint has finished; give at least \(checkpoint.epoch)")
                }
                trainingConfiguration.epochs = options.training.epochs
            }
        }
        // A model file (`--load-weights`) defines the network; its description, when it has one,
        // also the normalisation and the input encoding. A network given (Python's) is the model.
        let model = resumed == nil ? try options.loadWeights.map { try WeightsFile.read(path: $0) } : nil
        if let model {
            networkConfiguration = try options.networkConfiguration(of: model)
            try options.validate(network: networkConfiguration)
            // The model's seed goes on seeding its training (shuffling, dropout), unless --seed is given.
            if !options.givenFlags.contains("--seed") { trainingConfiguration.seed = networkConfiguration.seed }
        }
        if let given {
            if let pair = options.conflict(with: given.configuration) {
                throw SprigError.invalidArgument("\(pair.flag) \(pair.given) differs from the model's \(pair.saved): the flags that "
                                                 + "define the network belong to the model, not to a run")
            }
            networkConfiguration = given.configuration
            networkConfiguration.seed = options.network.seed
        }

        var (train, test) = try data.map { ($0.train.subset(options.trainSize ?? $0.train.count),
                                             $0.test.subset(options.testSize ?? $0.test.count)) }
            ?? options.dataset.load(directory: options.dataDirectory, trainSize: options.trainSize,
                                    testSize: options.testSize, layerSizes: networkConfiguration.layerSizes,
                                    seed: networkConfiguration.seed)
        try checkShapes(train, sizes: networkConfiguration.layerSizes)
        try checkMemory(networkConfiguration, training: trainingConfiguration, train: train, test: test)
        let input = InputEncoding(train)
        var normalization: Normalization?
        if let description = model?.description {   // the model's own input transform
            if let trained = description.input, trained != input {
                throw SprigError.invalidArgument("--load-weights: the model in \(model!.path) was trained on \(trained.words) but "
                                                 + "\(train.name) holds \(input.words)")
            }
            if options.givenFlags.contains("--normalize"), options.standardize != (description.normalization != nil) {
                throw SprigError.invalidArgument("--normalize \(options.standardize ? "standard" : "unit") differs from the model file's "
                                                 + "(\(description.normalization == nil ? "none" : "standard")); leave --normalize out")
            }
            normalization = description.normalization
        } else if case .fixed(let fixed) = options.inputNormalization {
            normalization = fixed
        } else if options.standardize && (data != nil || options.dataset != .synthetic) {   // synthetic values are already N(0, 1)
            normalization = Normalization.fit(train)
            if let model, isRoot {
                reporter.note("warning: \(model.path) holds no normalisation (written by an older sprig or another tool): "
                              + "one is fitted on this training data")
            }
        }
        normalization?.apply(to: &train)
        normalization?.apply(to: &test)
        self.normalization = normalization
        if let checkpointer {
            checkpointer.trainingData = Checkpoint.DataIdentity(train)
            if let saved = resumed?.trainingData, saved != checkpointer.trainingData {
                throw SprigError.invalidField(.resume, ": the training data (\(checkpointer.trainingData!)) differ from the data the "
                                              + "checkpoint was trained on (\(saved)); give the same --dataset, --data-dir and "
                                              + "--train-size to continue the run, or start a new one")
            }
        }

        let network: Network
        if let checkpoint = resumed {
            network = Network(networkConfiguration, patterns: checkpoint.patterns)
        } else if let given {
            network = given
        } else if let model {
            network = try WeightsFile.network(model, configuration: networkConfiguration)
        } else {
            network = try Network(networkConfiguration)
        }
        if isRoot, let path = options.saveWeights { try AtomicFile.checkWritable(path) }
        let separate = ProcessInfo.processInfo.environment[Self.separateMemoryVariable]?
            .split(separator: ",").contains { Int($0) == communicator.rank } ?? false
        let trainer = try Trainer(network: network, configuration: trainingConfiguration, pool: context.pool,
                                  communicator: communicator, exchange: options.exchange, trainingExamples: train.count,
                                  backend: CPUBackend(pool: context.pool, memory: separate ? .separate : .host))
        self.trainer = trainer
        if let checkpoint = resumed, let checkpointer { try checkpointer.restore(checkpoint, into: network) }

        try checkAgreement(context, network: network, training: trainingConfiguration, train: train, test: test)
        // Rank 0's values (and optimizer state) are everyone's.
        try communicator.broadcast(UnsafeMutableRawBufferPointer(network.parameters.values.buffer), root: 0)
        for state in network.parameters.states {
            try communicator.broadcast(UnsafeMutableRawBufferPointer(state.buffer.buffer), root: 0)
        }
        for state in network.states {   // batch norms' running statistics
            try communicator.broadcast(UnsafeMutableRawBufferPointer(state.values.buffer), root: 0)
        }

        // Each sparse layer's kernel: as given, as the checkpoint ran it, or timed here.
        let layerCount = network.linearLayers.count
        let kernels = try KernelChooser.choose(
            for: network, fixed: options.fixedKernels(layerCount: layerCount) ?? resumed?.kernels.map { $0 ?? .csr },
            batch: trainer.workspace.capacity, backend: trainer.backend, communicator: communicator,
            fromCheckpoint: resumed != nil && options.layerKernels == nil)

        // Every check has passed: only now are the checkpoint directory and the metrics file made.
        if isRoot {
            let createdDirectory = try checkpointer?.prepare() ?? false
            do {
                var summary = RunSummary(network: network, train: train, test: test, threads: options.threads,
                                         ranks: communicator.size, bytesPerStep: trainer.bytesPerStep, epochs: trainingConfiguration.epochs)
                summary.dynamicSparsity = trainingConfiguration.dynamicSparsity?.description
                summary.structuredSparsity = trainingConfiguration.structuredSparsity?.description
                summary.resumed = resumed != nil
                summary.setKernels(kernels)
                try reporter.started(summary)
            } catch {
                if createdDirectory, let directory = checkpointer?.directory { try? FileManager.default.removeItem(atPath: directory) }
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
        let loop = try EpochLoop(trainer: trainer, context: context, options: options, checkpointer: checkpointer,
                                 reporter: reporter, train: train, test: test) { network, path in
            try WeightsFile.save(network, path: path, normalization: normalization, input: input, training: trainingConfiguration)
        }
        self.loop = loop
        try loop.run(from: position)
        if isRoot, let path = options.saveWeights {
            let trained = trainer.network   // compact when structured sparsity removed neurons
            try trained.checkFinite(writing: "weights")
            try WeightsFile.save(trained, path: path, normalization: normalization, input: input, training: trainingConfiguration)
            reporter.note("weights written to \(path)")
        }
        return (trainer.network, normalization)
    }

    /// The flags that every rank must share, compared before any other collective (a rank with
    /// another --test-size or --max-steps would otherwise wait forever in a collective).
    private func checkOptionsAgree(_ context: RunContext) throws {
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
        hasher.combine(options.resumeIfCheckpointed)
        hasher.combine(options.maxSteps ?? -1)
        hasher.combine(options.checkReplicas ?? -1)   // the check is a collective: all ranks or none
        hasher.combine(options.checkpointDirectory != nil)
        hasher.combine(options.checkpointEveryEpochs ?? -1)
        hasher.combine(options.checkpointEverySteps ?? -1)
        hasher.combine(options.givenFlags.sorted().joined(separator: " "))
        try context.compareAcrossRanks(hasher.value, what: "its flags")
    }

    /// Every rank must run the same network on the same data with the same settings: a hash
    /// of the network's structure, the training settings and all training and test data.
    private func checkAgreement(_ context: RunContext, network: Network, training: TrainingConfiguration, train: Dataset, test: Dataset) throws {
        guard communicator.size > 1 else { return }
        var hasher = StableHasher()
        hasher.combine(network.structureHash)
        for state in network.states { hasher.combine(words: UnsafeRawBufferPointer(state.values.buffer)) }
        hasher.combine(String(describing: training))
        hasher.combine(train.fingerprint)
        hasher.combine(test.fingerprint)
        try context.compareAcrossRanks(hasher.value, what: "its data or network")
    }

    /// Refuses sizes that cannot fit before anything large is allocated: the network (values,
    /// gradients, optimizer state, patterns), the training workspace (bounded by the training
    /// set) and the evaluation workspace, against this machine's memory.
    private func checkMemory(_ network: NetworkConfiguration, training: TrainingConfiguration, train: Dataset, test: Dataset) throws {
        var budget = MemoryBudget("the network \(network.layerSizes.map(String.init).joined(separator: ",")) with --batch-size \(training.batchSize)")
        try network.addMemory(to: &budget, optimizerStates: training.optimizerStateNames.count)
        if options.keepsLastGoodState {   // the copy of the network kept at each epoch's start
            try network.addMemory(to: &budget, optimizerStates: training.optimizerStateNames.count)
        }
        if training.dynamicSparsity?.grow == .gradient {   // one layer at a time: a block of its dense gradient, the candidates
            let largest = (0..<network.layerCount).filter { network.densities[$0] < 1 }.map { l -> Double in
                let columns = network.layerSizes[l], rows = network.layerSizes[l + 1]
                let blockRows = min(rows, GradientGrowth.blockRows(columns: columns, budgetBytes: TopologyUpdater.gradientBlockBytes))
                return 4 * Double(blockRows) * Double(columns) + 16 * Double(network.nonzeroCount(ofLayer: l))
            }.max() ?? 0
            try budget.add(Int(min(largest, 0x1p62)), elementSize: 1)
        }
        let trainingColumns = Trainer.workspaceCapacity(batchSize: training.batchSize, trainingExamples: train.count,
                                                        ranks: communicator.size)
        let evaluationColumns = Workspace.evaluationColumns(network, examples: test.count / communicator.size + 1, atLeast: trainingColumns)
        try network.addWorkspace(columns: trainingColumns, to: &budget)
        try network.addWorkspace(columns: evaluationColumns, to: &budget)
        try budget.check()
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
