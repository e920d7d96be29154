import Foundation

extension TrainingRun {
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
        /// Each linear layer's kernel as given: nil entries (and nil for all) are chosen by
        /// `KernelChooser`; one entry stands for every layer.
        public var layerKernels: [SparseLayerKernel?]?
        public var checkpointDirectory: String?
        /// Write a checkpoint after every this many epochs (nil: never by epoch).
        public var checkpointEveryEpochs: Int?
        /// Write a checkpoint after every this many steps, counted from the start of training (nil: never by step).
        public var checkpointEverySteps: Int?
        /// Continue from the newest valid checkpoint in `checkpointDirectory`.
        public var resume = false
        /// Continue from the newest valid checkpoint in `checkpointDirectory` when it holds any,
        /// else start afresh (a requeued Slurm job, which may have been stopped before its first).
        public var resumeIfCheckpointed = false
        /// Stop after this many steps in all (nil: run every epoch).
        public var maxSteps: Int?
        /// After every this many steps (counted from the start of training), check that all
        /// ranks hold bitwise the same values and optimizer state (`ReplicaCheck`; nil: never).
        public var checkReplicas: Int?
        /// The flags the user gave ("--learning-rate", …): when resuming, each of these that
        /// defines the network or its training must agree with the checkpoint; `--epochs` may
        /// extend it (left out, the checkpoint's epochs stand).
        public var givenFlags: Set<String> = []
        /// Keep a copy of the network at the start of each epoch and go back to it when the
        /// loss becomes non-finite (the Python model; the command line keeps its checkpoints).
        public var keepsLastGoodState = false
        /// How the inputs are normalised: fitted on the training data (`standardize`), or
        /// fixed (a model trained before keeps its normalisation, or its absence).
        public var inputNormalization: InputNormalization = .fit

        public enum InputNormalization: Sendable {
            case fit
            case fixed(Normalization?)
        }

        public init(network: NetworkConfiguration, training: TrainingConfiguration, dataset: DatasetKind, threads: Int) {
            self.network = network
            self.training = training
            self.dataset = dataset
            self.threads = threads
        }
    }
}

extension TrainingRun.Options {
    /// Checks every field once, before anything is loaded or allocated; throws
    /// `SprigError.invalidField` naming the first field whose value makes no sense.
    public func validate() throws {
        try training.validate()
        // A model file defines the network (`networkConfiguration(of:)`): its checks wait for it
        // (`validate(network:)`), unless the flags give the sizes.
        if loadWeights == nil || resume || givenFlags.contains("--layer-sizes") { try validate(network: network) }
        guard threads >= 1, threads <= MemoryBudget.maximumThreads else {
            throw SprigError.invalidField(.threads, "\(threads) is not in 1…\(MemoryBudget.maximumThreads) "
                                          + "(this machine has \(ProcessInfo.processInfo.activeProcessorCount) cores)")
        }
        if let n = trainSize, n < 1 { throw SprigError.invalidField(.trainSize, "\(n) is not positive") }
        if let n = testSize, n < 0 { throw SprigError.invalidField(.testSize, "\(n) is negative") }
        if let n = maxSteps, n < 0 { throw SprigError.invalidField(.maxSteps, "\(n) is negative") }
        if let n = checkpointEveryEpochs, n < 1 { throw SprigError.invalidField(.checkpointEveryEpochs, "\(n) is not positive") }
        if let n = checkpointEverySteps, n < 1 { throw SprigError.invalidField(.checkpointEverySteps, "\(n) is not positive") }
        if let n = checkReplicas, n < 1 { throw SprigError.invalidField(.checkReplicas, "\(n) is not positive") }
        if usesCheckpoints && checkpointDirectory == nil {
            throw SprigError.invalidField(.checkpointDirectory, "is needed to resume or to write checkpoints")
        }
    }

    /// The checks that depend on the network the run trains: its own rules, one optimizer per
    /// linear layer when several are given, a loss that fits its last layer, something to prune.
    public func validate(network: NetworkConfiguration) throws {
        try network.validate()
        try training.checkOptimizers(layerCount: network.layerCount)
        if loadWeights == nil && !resume { try network.checkEveryLayerHasWeights() }
        let last = network.layerList.last
        if training.loss.expectsProbabilities && last != .softmax {
            throw SprigError.invalidField(.loss, "\(training.loss.rawValue) takes probabilities: end the layers with Softmax (--layers \"…;Softmax\")")
        }
        if training.loss.expectsLogProbabilities && last != .logSoftmax {
            throw SprigError.invalidField(.loss, "\(training.loss.rawValue) takes log-probabilities: end the layers with LogSoftmax (--layers \"…;LogSoftmax\")")
        }
        if let kernels = layerKernels {
            guard kernels.count == 1 || kernels.count == network.layerCount else {
                throw SprigError.invalidField(.layerKernels, "has \(kernels.count) entries but there are \(network.layerCount) linear "
                                              + "layers: give one for all or one per layer")
            }
            if kernels.count > 1, let l = network.densities.indices.first(where: { network.densities[$0] >= 1 && kernels[$0] == .csr }) {
                throw SprigError.invalidField(.layerKernels, ": layer \(l + 1) has density 1 (a dense layer): give dense or auto for it")
            }
        }
        if let dynamic = training.dynamicSparsity, network.densities.allSatisfy({ $0 >= 1 }) {
            throw SprigError.invalidField(.prune, "'\(dynamic.prune)': every layer is dense, so there is nothing to prune (give densities below 1)")
        }
    }

    /// `layerKernels` with one entry per linear layer of a network of `layerCount` (nil: all auto).
    func fixedKernels(layerCount: Int) -> [SparseLayerKernel?]? {
        guard let kernels = layerKernels else { return nil }
        return kernels.count == 1 ? Array(repeating: kernels[0], count: layerCount) : kernels
    }

    /// Whether the run reads or writes checkpoints.
    public var usesCheckpoints: Bool { resume || resumeIfCheckpointed || checkpointEveryEpochs != nil || checkpointEverySteps != nil }

    /// The flags that define a network, each with its value in `mine` (the flags given) and in
    /// `theirs` (a checkpoint's or a model file's), compared as text. A shrunk network is
    /// compared by the sizes and densities it was created with.
    static func networkPairs(mine: NetworkConfiguration, theirs: NetworkConfiguration) -> [(flag: String, given: String, saved: String)] {
        func text<T>(_ values: [T]) -> String { values.map { "\($0)" }.joined(separator: ",") }
        // Σ d_l·D_l·D_{l+1} / Σ D_l·D_{l+1}: the overall density the Erdős–Rényi allocation kept.
        func overall(_ c: NetworkConfiguration) -> String {
            let sizes = c.originalLayerSizes
            let cells = (0..<c.layerCount).map { Double(sizes[$0]) * Double(sizes[$0 + 1]) }
            return String(format: "%g", zip(c.originalDensities, cells).reduce(0) { $0 + $1.0 * $1.1 } / cells.reduce(0, +))
        }
        func layers(_ c: NetworkConfiguration) -> String { c.layerList.map(\.description).joined(separator: ";") }
        return [
            ("--layer-sizes", text(mine.layerSizes), text(theirs.originalLayerSizes)),
            ("--densities", text(mine.densities), text(theirs.originalDensities)),
            ("--overall-density", overall(mine), overall(theirs)),
            ("--activation", mine.hiddenActivation.description, theirs.hiddenActivation.description),
            ("--layers", layers(mine), layers(theirs)),
            ("--dropouts", layers(mine), layers(theirs)),
            ("--output-activation", mine.outputActivation.description, theirs.outputActivation.description),
            ("--initializer", mine.initializer.rawValue, theirs.initializer.rawValue),
            ("--fan-in", mine.fanIn.rawValue, theirs.fanIn.rawValue),
            ("--seed", "\(mine.seed)", "\(theirs.seed)"),
        ]
    }

    /// The network of the model file given with `--load-weights`. A file with a description
    /// (`ModelDescription`) defines the whole network: a flag given beside it that defines the
    /// network too (sizes — the current or the original ones —, densities, activations, the
    /// layer list, dropouts) must agree with the file's, or the run is refused naming both;
    /// `--seed`, `--initializer` and `--fan-in`, which only shape training from here (shuffling,
    /// dropout masks, regrown weights), are applied. An older or foreign file (no description):
    /// the sizes come from its arrays unless `--layer-sizes` is given, its patterns are the
    /// densities (`--densities`, `--overall-density` refused), the flags give the layers.
    public func networkConfiguration(of model: WeightsFile.Contents) throws -> NetworkConfiguration {
        guard let described = model.description?.network else {
            if let flag = ["--densities", "--overall-density"].first(where: givenFlags.contains) {
                throw SprigError.invalidArgument("--load-weights: the patterns in \(model.path) define the densities; leave \(flag) out")
            }
            var c = network
            if !givenFlags.contains("--layer-sizes") { c.layerSizes = model.layerSizes }
            c.densities = [Double](repeating: 1, count: c.layerCount)   // replaced by the patterns' when loading
            return c
        }
        if let pair = conflict(with: described) {
            throw SprigError.invalidArgument("--load-weights: \(pair.flag) \(pair.given) differs from the model file's \(pair.saved) "
                                             + "(\(model.path)); leave \(pair.flag) out to use the file's")
        }
        var c = described
        if givenFlags.contains("--seed") { c.seed = network.seed }
        if givenFlags.contains("--initializer") { c.initializer = network.initializer }
        if givenFlags.contains("--fan-in") { c.fanIn = network.fanIn }
        return c
    }

    /// The first flag given that defines a network and whose value differs from `theirs`'s (a
    /// model file's or a model's own). `--seed`, `--initializer` and `--fan-in`, which only
    /// shape training from there, never differ; `--layer-sizes` may give the compact sizes of
    /// a shrunk network or the ones it was made with.
    func conflict(with theirs: NetworkConfiguration) -> (flag: String, given: String, saved: String)? {
        Self.networkPairs(mine: network, theirs: theirs).first { pair in
            givenFlags.contains(pair.flag) && pair.given != pair.saved && !["--seed", "--initializer", "--fan-in"].contains(pair.flag)
                && !(pair.flag == "--layer-sizes" && network.layerSizes == theirs.layerSizes)
        }
    }

    /// Refuses a flag the user gave whose value differs from the checkpoint's: it would
    /// otherwise be silently replaced (or silently change a run half done).
    public func checkResume(against checkpoint: Checkpoint) throws {
        let saved = checkpoint.training
        let pairs: [(flag: String, given: String, saved: String)] = Self.networkPairs(mine: network, theirs: checkpoint.network) + [
            ("--batch-size", "\(training.batchSize)", "\(saved.batchSize)"),
            ("--learning-rate", "\(training.learningRate)", "\(saved.learningRate)"),
            ("--lr-schedule", training.schedule.description, saved.schedule.description),
            ("--optimizer", training.optimizerDescription, saved.optimizerDescription),
            ("--weight-decay", "\(training.weightDecay)", "\(saved.weightDecay)"),
            ("--learning-rate-fan-in", "\(training.learningRateFanIn ?? 0)", "\(saved.learningRateFanIn ?? 0)"),
            ("--loss", "\(training.loss)", "\(saved.loss)"),
            ("--prune", training.dynamicSparsity.map { "\($0.prune)" } ?? "none", saved.dynamicSparsity.map { "\($0.prune)" } ?? "none"),
            ("--grow", training.dynamicSparsity?.grow.rawValue ?? "none", saved.dynamicSparsity?.grow.rawValue ?? "none"),
            ("--grow-weights", training.dynamicSparsity?.growWeights.rawValue ?? "none", saved.dynamicSparsity?.growWeights.rawValue ?? "none"),
            ("--regrow-every", training.dynamicSparsity?.schedule.every.map(String.init) ?? "epoch",
             saved.dynamicSparsity?.schedule.every.map(String.init) ?? "epoch"),
            ("--regrow-schedule", training.dynamicSparsity?.schedule.decay.rawValue ?? "none",
             saved.dynamicSparsity?.schedule.decay.rawValue ?? "none"),
            ("--group-lasso", "\(training.structuredSparsity?.groupLasso ?? 0)", "\(saved.structuredSparsity?.groupLasso ?? 0)"),
            ("--group-lasso-inputs", "\(training.structuredSparsity?.inputGroupLasso ?? 0)", "\(saved.structuredSparsity?.inputGroupLasso ?? 0)"),
            ("--prune-neurons", training.structuredSparsity?.pruneNeurons.map { "\($0)" } ?? "none",
             saved.structuredSparsity?.pruneNeurons.map { "\($0)" } ?? "none"),
            ("--shrink-every", "\(training.structuredSparsity?.shrinkEvery ?? 1)", "\(saved.structuredSparsity?.shrinkEvery ?? 1)"),
            ("--shrink-threshold", "\(training.structuredSparsity?.shrinkThreshold ?? 0)", "\(saved.structuredSparsity?.shrinkThreshold ?? 0)"),
            ("--shrink-until", "\(training.structuredSparsity?.until ?? 1)", "\(saved.structuredSparsity?.until ?? 1)"),
            ("--regrow-until", "\(training.dynamicSparsity?.schedule.until ?? 1)", "\(saved.dynamicSparsity?.schedule.until ?? 1)"),
        ]
        for pair in pairs where givenFlags.contains(pair.flag) && pair.given != pair.saved {
            throw SprigError.invalidField(.resume, ": \(pair.flag) \(pair.given) differs from the checkpoint's \(pair.saved); "
                                          + "leave \(pair.flag) out to continue the run, or start a new one")
        }
    }
}
