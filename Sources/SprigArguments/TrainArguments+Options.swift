import Foundation
import Sprig

extension TrainArguments {
    /// The library's run options: each flag's text parsed (a bad text names the flag), then the
    /// options validated by the library (`Options.validate`, whose errors name fields;
    /// `errorMessage(for:)` names their flags).
    public func options() throws -> TrainingRun.Options {
        try TrainingRun.Options(parsing: self)
    }
}

extension TrainingRun.Options {
    init(parsing c: TrainArguments) throws {
        let sizes = try parseList(c.layerSizes ?? "784,1024,512,10", flag: "--layer-sizes") { Int($0) }
        var network = NetworkConfiguration(layerSizes: sizes, densities: [])
        if let text = c.densities {
            network.densities = try parseList(text, flag: "--densities") { Double($0) }
        } else {
            let overall = c.overallDensity ?? 0.05
            guard sizes.count >= 2 else { throw SprigError.invalidArgument("--layer-sizes needs at least two sizes") }
            guard overall > 0, overall <= 1 else { throw SprigError.invalidArgument("--overall-density \(overall) is not in (0, 1]") }
            network.densities = try ErdosRenyi.densities(layerSizes: sizes, overall: overall)
        }
        network.hiddenActivation = try Activation(parsing: c.activation ?? "relu")
        network.outputActivation = try Activation(parsing: c.outputActivation ?? "identity", flag: "--output-activation")
        network.initializer = try Initializer(parsing: c.initializer ?? "pytorch")
        if let text = c.fanIn {
            guard let fanIn = Initializer.FanIn(rawValue: text) else {
                throw SprigError.invalidArgument("--fan-in must be per-row, sparse or dense, not '\(text)'")
            }
            network.fanIn = fanIn
        }
        network.seed = c.seed ?? 1
        let dropouts = try c.dropouts.map { text -> [Double] in
            let rates = try parseList(text, flag: "--dropouts") { Double($0) }
            guard rates.count == sizes.count - 1 else {
                throw SprigError.invalidArgument("--dropouts has \(rates.count) rates but --layer-sizes makes \(sizes.count - 1) linear layers")
            }
            if let bad = rates.first(where: { !($0 >= 0 && $0 < 1) }) {
                throw SprigError.invalidArgument("--dropouts: rate \(bad) is not in [0, 1)")
            }
            return rates
        }
        if c.layers != nil || dropouts != nil {
            let list = try c.layers.map { try LayerSpecification.parse($0) } ?? network.layerList
            network.layers = dropouts.map { LayerSpecification.inserting(dropouts: $0, into: list) } ?? list
        }
        // One optimizer for every layer, or several (comma-separated), one per layer.
        let optimizers = try OptimizerKind.parsingList(c.optimizer ?? "nesterov:0.9")
        var training = TrainingConfiguration(
            epochs: c.epochs ?? 10, batchSize: c.batchSize ?? 100, learningRate: c.learningRate ?? 0.01,
            schedule: try LearningRateSchedule(parsing: c.lrSchedule ?? "constant"),
            optimizer: optimizers[0],
            weightDecay: c.weightDecay ?? 0, loss: try LossKind(parsing: c.loss ?? "softmax-cross-entropy"), seed: c.seed ?? 1)
        training.layerOptimizers = optimizers.count > 1 ? optimizers : nil
        if let limit = c.learningRateFanIn {
            guard limit >= 0 else { throw SprigError.invalidArgument("--learning-rate-fan-in \(limit) is negative (0 turns it off)") }
            training.learningRateFanIn = limit == 0 ? nil : limit
        }
        training.dynamicSparsity = try parseDynamicSparsity(c)
        training.structuredSparsity = try parseStructuredSparsity(c)
        self.init(network: network, training: training, dataset: try DatasetKind(parsing: c.dataset ?? "fashion-mnist"),
                  threads: c.threads ?? Launcher.defaultThreads)
        dataDirectory = c.dataDir
        trainSize = c.trainSize
        testSize = c.testSize
        standardize = (c.normalize ?? "standard") == "standard"
        saveWeights = c.saveWeights
        loadWeights = c.loadWeights
        let allreduce = c.allreduce ?? GradientExchange.perLayer.rawValue
        guard let exchange = GradientExchange(rawValue: allreduce) else {
            throw SprigError.invalidArgument("--allreduce must be per-layer or fused, not '\(allreduce)'")
        }
        self.exchange = exchange
        if let text = c.layerKernels {
            let kernels = try text.split(separator: ",", omittingEmptySubsequences: false).map { item -> SparseLayerKernel? in
                let word = item.trimmingCharacters(in: .whitespaces)
                if word == "auto" { return nil }
                guard let kernel = SparseLayerKernel(rawValue: word) else {
                    throw SprigError.invalidArgument("--layer-kernels: '\(word)' is not csr, dense or auto")
                }
                return kernel
            }
            layerKernels = kernels.allSatisfy { $0 == nil } && kernels.count == 1 ? nil : kernels
        }
        checkpointDirectory = c.checkpointDir
        checkpointEveryEpochs = c.checkpointEvery
        checkpointEverySteps = c.checkpointEverySteps
        resume = c.resume
        // In a Slurm job: checkpoints go to a directory of the job's own unless one is given,
        // and a requeued job continues from its newest checkpoint.
        if let job = SlurmJob.id {
            if checkpointDirectory == nil && (checkpointEveryEpochs != nil || checkpointEverySteps != nil) {
                checkpointDirectory = SlurmJob.checkpointDirectory(job: job)
            }
            resumeIfCheckpointed = !resume && checkpointDirectory != nil && SlurmJob.restartCount > 0
        }
        maxSteps = c.maxSteps
        checkReplicas = c.checkReplicas
        let given: [(String, Bool)] = [
            ("--layer-sizes", c.layerSizes != nil), ("--densities", c.densities != nil), ("--overall-density", c.overallDensity != nil),
            ("--activation", c.activation != nil), ("--output-activation", c.outputActivation != nil), ("--loss", c.loss != nil),
            ("--layers", c.layers != nil), ("--dropouts", c.dropouts != nil),
            ("--optimizer", c.optimizer != nil), ("--learning-rate", c.learningRate != nil), ("--lr-schedule", c.lrSchedule != nil),
            ("--weight-decay", c.weightDecay != nil), ("--learning-rate-fan-in", c.learningRateFanIn != nil), ("--initializer", c.initializer != nil), ("--fan-in", c.fanIn != nil),
            ("--batch-size", c.batchSize != nil), ("--epochs", c.epochs != nil), ("--seed", c.seed != nil),
            ("--prune", c.prune != nil), ("--grow", c.grow != nil), ("--grow-weights", c.growWeights != nil),
            ("--regrow-every", c.regrowEvery != nil), ("--regrow-schedule", c.regrowSchedule != nil), ("--regrow-until", c.regrowUntil != nil),
            ("--group-lasso", c.groupLasso != nil), ("--group-lasso-inputs", c.groupLassoInputs != nil),
            ("--prune-neurons", c.pruneNeurons != nil), ("--shrink-every", c.shrinkEvery != nil),
            ("--shrink-threshold", c.shrinkThreshold != nil), ("--shrink-until", c.shrinkUntil != nil)]
        givenFlags = Set(given.filter(\.1).map(\.0))
        try validate()
    }
}

/// `--prune` and the flags that refine it; those without `--prune` are refused (they would do nothing).
private func parseDynamicSparsity(_ c: TrainArguments) throws -> DynamicSparsity? {
    guard let prune = c.prune else {
        let refining = [("--grow", c.grow != nil), ("--grow-weights", c.growWeights != nil), ("--regrow-every", c.regrowEvery != nil),
                        ("--regrow-schedule", c.regrowSchedule != nil), ("--regrow-until", c.regrowUntil != nil)]
        if let flag = refining.first(where: \.1)?.0 {
            throw SprigError.invalidArgument("\(flag) needs --prune (e.g. --prune set:0.3 --grow random)")
        }
        return nil
    }
    return try DynamicSparsity(
        prune: try PruneRule(parsing: prune), grow: try GrowRule(parsing: c.grow ?? "random"),
        growWeights: try GrowWeights(parsing: c.growWeights ?? "zero"),
        schedule: try RegrowSchedule(every: c.regrowEvery, decay: try RegrowSchedule.Decay(parsing: c.regrowSchedule ?? "constant"),
                                     until: c.regrowUntil ?? 1))
}

/// `--group-lasso`, `--group-lasso-inputs`, `--prune-neurons` and the shrink flags that refine
/// them; `--shrink-every` or `--shrink-until` alone is refused (it would do nothing).
private func parseStructuredSparsity(_ c: TrainArguments) throws -> StructuredSparsity? {
    guard c.groupLasso != nil || c.groupLassoInputs != nil || c.pruneNeurons != nil || c.shrinkThreshold != nil else {
        if let flag = [("--shrink-every", c.shrinkEvery != nil), ("--shrink-until", c.shrinkUntil != nil)].first(where: \.1)?.0 {
            throw SprigError.invalidArgument("\(flag) needs --group-lasso, --group-lasso-inputs, --prune-neurons or --shrink-threshold")
        }
        return nil
    }
    return try StructuredSparsity(groupLasso: c.groupLasso ?? 0, inputGroupLasso: c.groupLassoInputs ?? 0,
                                  shrinkEvery: c.shrinkEvery ?? 1, shrinkThreshold: c.shrinkThreshold ?? 0,
                                  pruneNeurons: try c.pruneNeurons.map(NeuronPruning.init(parsing:)), until: c.shrinkUntil ?? 1)
}

/// "a,b,c" (or Nerva's "a;b;c") → [T], naming the flag and the bad item on failure.
public func parseList<T>(_ text: String, flag: String, _ parse: (String) -> T?) throws -> [T] {
    try text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "," || $0 == ";" }).map {
        let item = $0.trimmingCharacters(in: .whitespaces)
        guard let value = parse(item) else { throw SprigError.invalidArgument("\(flag): '\(item)' is not a number") }
        return value
    }
}
