/// Mini-batch training, on one process or as one rank of a data-parallel job.
///
/// Every rank draws the same shuffled order; each global batch of B examples is cut into
/// contiguous shards (`Shard`), one per rank. A rank assembles its shard (feature-major),
/// runs forward, the loss normalised by the global B, and backward into the store's
/// gradients; the ranks SUM-allreduce the gradients (`GradientSynchronizer`); every rank applies
/// the same update (and, with a group lasso, the same proximal step: `GroupLasso`). So P ranks
/// follow the trajectory of one rank with batch B, up to float summation order.
public final class Trainer {
    /// Replaced by a compact one when structured sparsity removes neurons (`replaceNetwork`).
    public private(set) var network: Network
    public let configuration: TrainingConfiguration
    public private(set) var optimizer: Optimizer
    public let pool: ThreadPool
    /// Where the layers, the loss and the optimizer compute (the CPU on `pool` by default).
    public let backend: any ComputeBackend
    public let communicator: any Communicator
    public let synchronizer: GradientSynchronizer
    private let loss: LossKind
    /// The training batch's activations; after a step they hold its X and DZ per layer (what
    /// gradient regrowth needs).
    public private(set) var workspace: Workspace
    /// Gathers only the input features the first layer reads: rebuilt when the topology changes.
    private var assembler: BatchAssembler
    private var assemblerTopology: Int
    private var evaluationWorkspace: Workspace?
    /// Whether `step` applies the group lasso's proximal step (set per epoch by `trainEpoch`
    /// from `StructuredSparsity.until`).
    private var groupLassoActive = true
    /// Examples in this rank's share of the last step's batch (0 when it had none).
    public private(set) var lastShardSize = 0
    /// Seconds this rank has spent in gradient allreduces (including waiting for other ranks).
    public var communicationSeconds: Double { synchronizer.communicationSeconds }
    /// Bytes this rank contributes to the gradient allreduces per step: 4 × the store's size.
    public var bytesPerStep: Int { 4 * network.parameters.count }

    /// `trainingExamples` bounds the workspace: a batch never holds more than the training set.
    /// `backend`: the CPU on `pool` when nil.
    public init(network: Network, configuration: TrainingConfiguration, pool: ThreadPool,
                communicator: any Communicator = SingleProcessCommunicator(), exchange: GradientExchange = .fused,
                trainingExamples: Int = .max, backend: (any ComputeBackend)? = nil) throws {
        try configuration.validate()
        let backend = backend ?? CPUBackend(pool: pool)
        self.network = network
        self.configuration = configuration
        self.pool = pool
        self.backend = backend
        self.communicator = communicator
        synchronizer = GradientSynchronizer(communicator: communicator, exchange: exchange)
        try configuration.checkOptimizers(layerCount: network.linearLayers.count)
        optimizer = Trainer.optimizer(for: network, configuration: configuration)
        loss = configuration.loss
        try network.parameters.place(on: backend)
        workspace = try Workspace(network: network,
                                  capacity: Trainer.workspaceCapacity(batchSize: configuration.batchSize, trainingExamples: trainingExamples,
                                                                      ranks: communicator.size),
                                  backend: backend)
        assembler = BatchAssembler(for: network)
        assemblerTopology = network.topologyVersion
    }

    /// The configured optimizer on `network`'s store: one kind, or one per linear layer (a
    /// layer after it, batch norm's γ and β, follows it). The store's existing state buffers
    /// (a network shrunk or resumed) are kept.
    private static func optimizer(for network: Network, configuration: TrainingConfiguration) -> Optimizer {
        let optimizer: Optimizer
        if let layerOptimizers = configuration.layerOptimizers {
            var current = layerOptimizers[0], linear = 0
            let perLayer = network.layers.map { layer -> OptimizerKind in
                if layer is any LinearLayer {
                    current = layerOptimizers[linear]
                    linear += 1
                }
                return current
            }
            optimizer = Optimizer(layerKinds: perLayer, weightDecay: configuration.weightDecay, parameters: network.parameters)
        } else {
            optimizer = Optimizer(kind: configuration.optimizer, weightDecay: configuration.weightDecay, parameters: network.parameters)
        }
        // Linear layers of fan-in beyond `learningRateFanIn` learn at a smaller rate (the layers
        // after one, batch norm's γ and β, at the full rate).
        let scales = network.layers.map { layer -> Float in
            guard let linear = layer as? any LinearLayer else { return 1 }
            return configuration.learningRateScale(nonzeros: linear.weightCount, rows: linear.outputSize)
        }
        if scales.contains(where: { $0 != 1 }) { optimizer.learningRateScales = scales }
        return optimizer
    }

    /// Trains `compact` from now on (structured sparsity removed neurons): the optimizer moves
    /// to its store (whose state buffers came with the values) and the workspaces are rebuilt
    /// for its sizes.
    public func replaceNetwork(_ compact: Network) throws {
        precondition(compact.layers.count == network.layers.count, "the same layer list")
        for (old, new) in zip(network.linearLayers, compact.linearLayers) {   // each layer keeps its kernel
            if let old = old as? SparseLinear, let new = new as? SparseLinear { new.kernel = old.kernel }
        }
        try compact.parameters.place(on: backend)
        let newWorkspace = try Workspace(network: compact, capacity: workspace.capacity, backend: backend)
        network = compact
        optimizer = Trainer.optimizer(for: compact, configuration: configuration)
        workspace = newWorkspace
        evaluationWorkspace = nil
        assembler = BatchAssembler(for: compact)
        assemblerTopology = compact.topologyVersion
    }

    /// The largest shard a rank trains on at once: ⌈min(B, examples)/P⌉ (at least 1).
    public static func workspaceCapacity(batchSize: Int, trainingExamples: Int, ranks: Int) -> Int {
        let batch = min(batchSize, trainingExamples)
        return max(batch / ranks + (batch % ranks == 0 ? 0 : 1), 1)
    }

    /// The examples of epoch `epoch` in training order: a shuffle seeded by (seed, epoch).
    public func order(epoch: Int, count: Int) -> [Int] {
        var order = Array(0..<count)
        var g = RandomGenerator(seed: configuration.seed, stream: 1_000_000 + UInt64(epoch))
        g.shuffle(&order)
        return order
    }

    /// Number of steps in an epoch of `count` examples (the last batch may be partial).
    public func stepsPerEpoch(count: Int) -> Int {
        count / configuration.batchSize + (count % configuration.batchSize == 0 ? 0 : 1)   // ⌈count/B⌉ without overflow
    }

    public func learningRate(epoch: Int) -> Double {
        configuration.schedule.learningRate(initial: configuration.learningRate, epoch: epoch, totalEpochs: configuration.epochs)
    }

    /// One step on the global batch `indices`, update `t` of the run (1-based, counted from the
    /// start of training: Adam's bias corrections, dropout's masks); returns this rank's
    /// (Σ loss, number right) over its shard. A rank whose shard is empty (more ranks than
    /// examples) runs the layers on no examples: it contributes zero gradients and still takes
    /// part in every collective (synchronised batch norm).
    /// `stop`: this rank was asked to stop; after the step `stopAgreed` says whether any rank was.
    @discardableResult
    public func step(_ data: Dataset, indices: ArraySlice<Int>, learningRate: Float, update t: Int, stop: Bool = false)
        throws -> (loss: Double, correct: Int) {
        let shard = Shard.range(of: indices.count, rank: communicator.rank, ranks: communicator.size)
        let local = indices[(indices.startIndex + shard.lowerBound)..<(indices.startIndex + shard.upperBound)]
        lastShardSize = local.count
        let context = LayerContext(mode: .training, examples: local, globalBatch: indices.count, step: t, seed: configuration.seed,
                                   communicator: communicator, backend: backend, parameters: network.parameters)
        let result = try forwardAndLoss(data, context: context, workspace: workspace)
        try synchronizer.startLoss(result.loss, stop: stop)
        let synchronizer = synchronizer, network = network
        try network.backward(workspace, context: context) { i in try synchronizer.startLayer(i, of: network) }
        try synchronizer.finish(network)
        try optimizer.step(learningRate: learningRate, update: t, backend: backend)
        if let structure = configuration.structuredSparsity, structure.hasProximalStep, groupLassoActive {
            GroupLasso.proximalStep(network, threshold: Double(learningRate) * structure.groupLasso,
                                    inputThreshold: Double(learningRate) * structure.inputGroupLasso)
        }
        return result
    }

    /// Whether any rank was asked to stop at the last step (the same on every rank).
    public var stopAgreed: Bool { synchronizer.stopRequested }

    /// Trains the given steps of epoch `epoch` (all by default); `afterStep(step)` runs after
    /// each (progress, checkpoints, a stop the ranks agreed on); `stopRequested` is asked before
    /// each step whether this rank has been asked to stop. Returns the mean loss and accuracy
    /// over all ranks' examples, the number of examples and the slowest rank's seconds. Throws `SprigError.failed` on
    /// every rank together as soon as a step's loss (summed over the ranks) is not finite.
    public func trainEpoch(_ epoch: Int, data: Dataset, steps: Range<Int>? = nil, stopRequested: () -> Bool = { false },
                           afterStep: ((Int) throws -> Void)? = nil)
        throws -> (loss: Double, accuracy: Double, examples: Int, seconds: Double) {
        let clock = Stopwatch()
        let order = order(epoch: epoch, count: data.count)
        let eta = Float(learningRate(epoch: epoch))
        groupLassoActive = configuration.structuredSparsity?.isActive(epoch: epoch, epochs: configuration.epochs) ?? false
        defer { groupLassoActive = true }
        var totals = [0.0, 0.0, 0.0]   // Σ loss, number right, examples (this rank)
        let stepsPerEpoch = stepsPerEpoch(count: order.count)
        for s in steps ?? 0..<stepsPerEpoch {
            let start = s * configuration.batchSize, end = start + min(configuration.batchSize, order.count - start)
            // t = e·stepsPerEpoch + s + 1: a resumed run continues the count exactly.
            let result = try step(data, indices: order[start..<end], learningRate: eta, update: epoch * stepsPerEpoch + s + 1,
                                  stop: stopRequested())
            try checkFinite(epoch: epoch, step: s)
            totals[0] += result.loss
            totals[1] += Double(result.correct)
            totals[2] += Double(Shard.range(of: end - start, rank: communicator.rank, ranks: communicator.size).count)
            try afterStep?(s)
        }
        var seconds = [clock.seconds]
        try totals.withUnsafeMutableBufferPointer { try communicator.allreduceSum($0) }
        try seconds.withUnsafeMutableBufferPointer { try communicator.allreduceMax($0) }
        let n = max(totals[2], 1)
        return (totals[0] / n, totals[1] / n, Int(totals[2]), seconds[0])
    }

    /// Throws when the last step's loss, summed over the ranks, is not finite: every rank sees
    /// the same sum, so every rank stops at the same step and none is left waiting.
    private func checkFinite(epoch: Int, step: Int) throws {
        guard !synchronizer.lossSum.isFinite else { return }
        throw SprigError.failed("loss became non-finite at epoch \(epoch + 1), step \(step + 1) "
                                + "(learning rate \(learningRate(epoch: epoch))); no weights or checkpoint were written from it: "
                                + "try a smaller --learning-rate")
    }

    /// Mean loss and accuracy over `data` (forward only, in batches of up to 1000 as
    /// `Workspace.evaluationColumns` allows; each rank evaluates a contiguous share and the sums
    /// are allreduced).
    public func evaluate(_ data: Dataset) throws -> (loss: Double, accuracy: Double) {
        guard data.count > 0 else { return (0, 0) }
        let share = Shard.range(of: data.count, rank: communicator.rank, ranks: communicator.size)
        let capacity = Workspace.evaluationColumns(network.configuration, examples: share.count,
                                                   atLeast: Trainer.workspaceCapacity(batchSize: configuration.batchSize, trainingExamples: data.count,
                                                                                      ranks: communicator.size))
        if evaluationWorkspace?.capacity != capacity {
            evaluationWorkspace = try Workspace(network: network, capacity: capacity, backend: backend)
        }
        let ws = evaluationWorkspace!
        var totals = [0.0, 0.0]
        let all = Array(share)
        var start = 0
        while start < all.count {
            let end = min(start + capacity, all.count)
            let context = LayerContext(mode: .evaluation, examples: all[start..<end], globalBatch: end - start, step: 0,
                                       seed: configuration.seed, communicator: communicator, backend: backend, parameters: network.parameters)
            let r = try forwardAndLoss(data, context: context, workspace: ws)
            totals[0] += r.loss
            totals[1] += Double(r.correct)
            start = end
        }
        try totals.withUnsafeMutableBufferPointer { try communicator.allreduceSum($0) }
        return (totals[0] / Double(data.count), totals[1] / Double(data.count))
    }

    /// Gathers the context's examples, runs forward, writes DY_L; returns (Σ loss, number right).
    private func forwardAndLoss(_ data: Dataset, context: LayerContext, workspace ws: Workspace) throws -> (loss: Double, correct: Int) {
        let indices = context.examples, b = indices.count, globalBatch = context.globalBatch
        if assemblerTopology != network.topologyVersion {
            assembler = BatchAssembler(for: network)
            assemblerTopology = network.topologyVersion
        }
        ws.labels.withUnsafeMutableBufferPointer { labels in
            assembler.gather(data, indices: indices, into: ws.hostInput, labels: labels.baseAddress!, pool: pool)
        }
        try ws.commitInput(count: network.inputSize * b)
        try network.forward(ws, context: context)
        let classes = network.outputSize, y = UnsafePointer(ws.output.pointer)
        return try ws.labels.withUnsafeBufferPointer { labels in
            let total = try backend.loss(loss, output: y, labels: labels.baseAddress!, classes: classes, batch: b,
                                         globalBatch: globalBatch, gradient: ws.outputGradient.pointer)
            return (total, try backend.correctCount(output: y, labels: labels.baseAddress!, classes: classes, batch: b))
        }
    }
}
