import Foundation

/// Trains epoch after epoch from a position. After each step: the topology step when dynamic
/// sparse training has one due (`TopologyUpdater`), the replica check, progress, checkpoints
/// by step. After each epoch: evaluation, checkpoints by epoch, the metrics line
/// (rank 0), and a stop agreed at its last step. If the metrics cannot be written (a full
/// disk), the weights trained so far are saved before the error is passed on.
final class EpochLoop {
    private let trainer: Trainer
    private let context: RunContext
    private let options: TrainingRun.Options
    private let checkpointer: Checkpointer?
    private let reporter: any TrainingReporter
    private let train: Dataset
    private let test: Dataset
    private let replicaCheck: ReplicaCheck?
    private let topology: TopologyUpdater?
    private let neuronRemoval: NeuronRemoval?
    private let perturbation: (rank: Int, step: Int)?
    private var replicaChecks = 0
    /// Epochs finished (evaluated and reported) by this loop.
    private(set) var epochsFinished = 0
    /// The topology step due after the current epoch's last step, waiting for its evaluation:
    /// (steps done, epoch, whether a shrink is due there too).
    private var boundary: (done: Int, epoch: Int, shrinks: Bool)?

    /// Writes a network as the run's `--save-weights` file (with its description).
    private let saveWeights: (Network, String) throws -> Void

    init(trainer: Trainer, context: RunContext, options: TrainingRun.Options, checkpointer: Checkpointer?,
         reporter: any TrainingReporter, train: Dataset, test: Dataset,
         saveWeights: @escaping (Network, String) throws -> Void) throws {
        self.saveWeights = saveWeights
        self.trainer = trainer
        self.context = context
        self.options = options
        self.checkpointer = checkpointer
        self.reporter = reporter
        self.train = train
        self.test = test
        replicaCheck = try options.checkReplicas.map { try ReplicaCheck(every: $0) }
        let environment = ProcessInfo.processInfo.environment
        topology = trainer.configuration.dynamicSparsity.map {
            TopologyUpdater(settings: $0, communicator: context.communicator, backend: trainer.backend,
                            seed: trainer.configuration.seed,
                            perturbedRank: environment[TopologyUpdater.perturbVariable].flatMap { Int($0) })
        }
        neuronRemoval = trainer.configuration.structuredSparsity.map { NeuronRemoval(settings: $0, communicator: context.communicator) }
        perturbation = ProcessInfo.processInfo.environment[TrainingRun.perturbReplicaVariable].flatMap { text in
            let parts = text.split(separator: ":").compactMap { Int($0) }
            return parts.count == 2 ? (parts[0], parts[1]) : nil
        }
    }

    /// Runs from step `position.step` of epoch `position.epoch` (0-based) to the configured
    /// epochs, or until `options.maxSteps`.
    ///
    /// An epoch's metrics are those of the network it trained: a topology step due after the
    /// epoch's last step (by default, the one before each epoch after the first) is taken after
    /// the epoch's evaluation, and counted in the next epoch's `regrown`, the epoch it starts;
    /// a shrink due at that boundary follows it, as it does within an epoch. The checkpoint of
    /// the epoch's end is written after both, so a resumed run continues exactly.
    ///
    /// With `options.keepsLastGoodState`, a copy of the network (values, optimizer and layer
    /// state) is kept at the start of each epoch; when the loss or the evaluation becomes
    /// non-finite, the trainer goes back to it before the error is passed on (the Python model
    /// keeps the last good weights).
    func run(from position: (epoch: Int, step: Int)) throws {
        let communicator = context.communicator
        let training = trainer.configuration
        let steps = trainer.stepsPerEpoch(count: train.count)
        var topologyBaseline = (regrown: topology?.regrown ?? 0, seconds: topology?.seconds ?? 0)
        for epoch in position.epoch..<max(training.epochs, position.epoch) {
            let firstStep = epoch == position.epoch ? position.step : 0
            if let limit = options.maxSteps, epoch * steps + firstStep >= limit { break }
            let lastStep = options.maxSteps.map { min(steps, $0 - epoch * steps) } ?? steps
            let communicationBefore = trainer.communicationSeconds
            let removedBefore = neuronRemoval?.removed ?? 0
            let lastGood = options.keepsLastGoodState ? (network: trainer.network.copy(), epoch: epoch) : nil
            boundary = nil
            let result: (loss: Double, accuracy: Double, examples: Int, seconds: Double)
            let evaluation: (loss: Double, accuracy: Double)
            let evaluationSeconds: Double
            do {
                result = try trainer.trainEpoch(epoch, data: train, steps: firstStep..<lastStep,
                                                stopRequested: reporter.stopRequested) { step in
                    try self.afterStep(epoch: epoch, step: step, stepsPerEpoch: steps, endsEpoch: step + 1 == lastStep)
                }
                let clock = Stopwatch()
                evaluation = try trainer.evaluate(test)   // the network this epoch trained
                evaluationSeconds = clock.seconds
                try checkEvaluationFinite(evaluation, epoch: epoch)
            } catch let error as SprigError {
                guard case .failed(let reason) = error, let lastGood else { throw error }
                try trainer.replaceNetwork(lastGood.network)
                throw SprigError.failed(reason + "; the model keeps its last good state, "
                                        + (lastGood.epoch == position.epoch ? "as it was before this run"
                                                                             : "from the end of epoch \(lastGood.epoch)"))
            }
            let stopAgreed = trainer.stopAgreed   // at the epoch's last step, which stops at the epoch's end
            var slowest = [trainer.communicationSeconds - communicationBefore, (topology?.seconds ?? 0) - topologyBaseline.seconds]
            try slowest.withUnsafeMutableBufferPointer { try communicator.allreduceMax($0) }
            let regrown = (topology?.regrown ?? 0) - topologyBaseline.regrown
            topologyBaseline = (topology?.regrown ?? 0, topology?.seconds ?? 0)
            if let boundary { try changeTopology(at: boundary) }   // counted in the next epoch
            let network = trainer.network   // after the epoch's shrink, if any
            var written: String?
            let done = epoch * steps + lastStep
            if options.checkpointEveryEpochs.map({ (epoch + 1) % $0 == 0 }) == true
                || options.checkpointEverySteps.map({ done % $0 == 0 }) == true {
                written = try checkpointer?.write(network, training: training, epoch: epoch, step: lastStep, stepsPerEpoch: steps)
            }
            if context.isRoot {
                var metrics = EpochMetrics(epoch: epoch + 1, loss: result.loss, trainAccuracy: result.accuracy,
                                           testLoss: test.count > 0 ? evaluation.loss : nil,
                                           testAccuracy: test.count > 0 ? evaluation.accuracy : nil,
                                           learningRate: trainer.learningRate(epoch: epoch), seconds: result.seconds,
                                           examplesPerSecond: Double(result.examples) / max(result.seconds, 1e-9),
                                           evaluationSeconds: evaluationSeconds, communicationSeconds: slowest[0],
                                           ranks: communicator.size, regrown: regrown, topologySeconds: slowest[1])
                if let neuronRemoval {
                    metrics.layerSizes = network.configuration.layerSizes
                    metrics.nonzeros = network.linearLayers.map(\.weightCount)
                    metrics.neuronsRemoved = neuronRemoval.removed - removedBefore
                }
                do {
                    try reporter.finished(metrics)
                } catch {
                    // The metrics could not be written (e.g. a full disk): keep the work trained so far.
                    if let path = options.saveWeights, (try? network.checkFinite(writing: "weights")) != nil,
                       (try? saveWeights(network, path)) != nil {
                        reporter.note("weights trained so far (epoch \(epoch + 1)) written to \(path)")
                    }
                    throw error
                }
            }
            epochsFinished += 1
            // A stop the ranks agreed on at the epoch's last step, or one process asked to stop
            // during the evaluation: the epoch's end is a step boundary too, so the run stops here,
            // after the epoch's metrics line, with a checkpoint of the epoch's end. (Stopping at
            // the last step itself left a checkpoint that said the epoch was done while its line
            // was never written, so a resumed run's metrics lacked that epoch.)
            if stopAgreed || (communicator.size == 1 && reporter.stopRequested()) {
                let written = try written
                    ?? checkpointer?.write(network, training: training, epoch: epoch, step: lastStep, stepsPerEpoch: steps)
                throw TrainingInterrupted(epoch: epoch + 1, step: lastStep, checkpoint: written)
            }
        }
        if context.isRoot, neuronRemoval != nil { reporter.note(Self.compactionSummary(trainer.network)) }
        if context.isRoot, let check = replicaCheck {
            reporter.note(communicator.size == 1 ? "replicas: one process, nothing to compare (--check-replicas is for mpirun)"
                          : "replicas: all \(communicator.size) ranks held bitwise-identical values and optimizer state at all "
                            + "\(replicaChecks) checks (every \(check.every) steps)")
        }
    }

    /// A non-finite test loss (every rank sees the same allreduced sum) stops the run as a
    /// non-finite training loss does: a network whose outputs overflow on the test data.
    private func checkEvaluationFinite(_ evaluation: (loss: Double, accuracy: Double), epoch: Int) throws {
        guard test.count > 0, !evaluation.loss.isFinite else { return }
        throw SprigError.failed("the test loss became non-finite (\(evaluation.loss)) after epoch \(epoch + 1): the network's "
                                + "outputs overflow on the test data; no weights or checkpoint were written from it")
    }

    /// The changes due at an epoch's end that wait for its evaluation: the topology step after
    /// step `done`, then the shrink due there, if any.
    private func changeTopology(at boundary: (done: Int, epoch: Int, shrinks: Bool)) throws {
        try topologyStep(afterStep: boundary.done, totalSteps: trainer.configuration.epochs * trainer.stepsPerEpoch(count: train.count))
        if boundary.shrinks { try neuronRemoval?.shrink(trainer, epoch: boundary.epoch) }
    }

    /// "structured sparsity: 784-1024-1024-10 → 784-391-402-10 (1255 of 2048 hidden neurons
    /// removed), 95140 → 41020 weights".
    static func compactionSummary(_ network: Network) -> String {
        let c = network.configuration, original = c.originalLayerSizes
        let hidden = (sizes: original.dropFirst().dropLast().reduce(0, +), now: c.layerSizes.dropFirst().dropLast().reduce(0, +))
        let created = NetworkConfiguration(layerSizes: original, densities: c.originalDensities)
        let weights = (created: (0..<c.layerCount).map(created.nonzeroCount(ofLayer:)).reduce(0, +),
                       now: network.linearLayers.map(\.weightCount).reduce(0, +))
        func text(_ sizes: [Int]) -> String { sizes.map(String.init).joined(separator: "-") }
        return "structured sparsity: \(text(original)) → \(text(c.layerSizes)) (\(hidden.sizes - hidden.now) of \(hidden.sizes) hidden "
            + "neurons removed), \(weights.created) → \(weights.now) weights"
    }

    /// The topology step after step `done` of `totalSteps`, on the step's batch still in the workspace.
    private func topologyStep(afterStep done: Int, totalSteps: Int) throws {
        try topology?.update(trainer.network, afterStep: done, totalSteps: totalSteps, workspace: trainer.workspace,
                             shardSize: trainer.lastShardSize)
    }

    /// After step `step` (0-based) of epoch `epoch`: the topology step, the shrink, the replica
    /// check, progress, checkpoints by step, and a stop the ranks agreed on (a signal, Ctrl-C in
    /// Python): a checkpoint when the run writes them, then `TrainingInterrupted`. After the
    /// epoch's last step (`endsEpoch`) the topology step (and a shrink due with it), the
    /// checkpoint and the stop wait for the epoch's evaluation (`run`).
    private func afterStep(epoch: Int, step: Int, stepsPerEpoch steps: Int, endsEpoch: Bool) throws {
        let communicator = context.communicator
        let done = epoch * steps + step + 1   // steps done since the start of training
        let totalSteps = trainer.configuration.epochs * steps
        let topologyDue = topology?.isDue(afterStep: done, stepsPerEpoch: steps, totalSteps: totalSteps) == true
        let shrinkDue = neuronRemoval?.isDue(epoch: epoch, step: step, stepsPerEpoch: steps, epochs: trainer.configuration.epochs) == true
        if topologyDue && endsEpoch {
            boundary = (done, epoch, shrinkDue)
        } else {
            if topologyDue { try topologyStep(afterStep: done, totalSteps: totalSteps) }
            if shrinkDue, let neuronRemoval { try neuronRemoval.shrink(trainer, epoch: epoch) }
        }
        let network = trainer.network
        if let perturbation, perturbation.rank == communicator.rank, perturbation.step == done {
            network.parameters.values[0] = network.parameters.values[0].nextUp
        }
        if let check = replicaCheck, check.isDue(afterStep: done - 1) {
            try ReplicaCheck.verify(ReplicaCheck.buffers(of: network.parameters), step: done, epoch: epoch + 1,
                                    communicator: communicator)
            replicaChecks += 1
        }
        if context.isRoot { reporter.progress(epoch: epoch, done: step + 1, total: steps) }
        guard !endsEpoch else { return }   // the rest waits for the epoch's end (`run`)
        // Every rank sent its stop request with the step's loss, so all agree on stopping here.
        let stopping = trainer.stopAgreed
        var written: String?
        if stopping || options.checkpointEverySteps.map({ done % $0 == 0 }) == true {
            written = try checkpointer?.write(network, training: trainer.configuration, epoch: epoch, step: step + 1, stepsPerEpoch: steps)
        }
        if stopping { throw TrainingInterrupted(epoch: epoch + 1, step: step + 1, checkpoint: written) }
    }
}
