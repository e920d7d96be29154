/// Mini-batch training of a network on one process: per step, assemble the batch (feature-major),
/// forward, loss and its gradient, backward into the arena's gradients, one optimizer update.
public final class Trainer {
    public let network: Network
    public let configuration: TrainingConfiguration
    public let optimizer: Optimizer
    public let pool: ThreadPool
    private let loss: any Loss
    private let workspace: Workspace
    private let assembler: BatchAssembler
    private var evaluationWorkspace: Workspace?

    public init(network: Network, configuration: TrainingConfiguration, pool: ThreadPool) throws {
        try configuration.validate()
        self.network = network
        self.configuration = configuration
        self.pool = pool
        optimizer = Optimizer(kind: configuration.optimizer, weightDecay: configuration.weightDecay,
                              parameterCount: network.arena.count)
        loss = configuration.loss.loss
        workspace = Workspace(layerSizes: network.configuration.layerSizes, capacity: configuration.batchSize)
        assembler = BatchAssembler(for: network)
    }

    /// The examples of epoch `epoch` in training order: a shuffle seeded by (seed, epoch).
    public func order(epoch: Int, count: Int) -> [Int] {
        var order = Array(0..<count)
        var g = RandomGenerator(seed: configuration.seed, stream: 1_000_000 + UInt64(epoch))
        g.shuffle(&order)
        return order
    }

    public func learningRate(epoch: Int) -> Double {
        configuration.schedule.learningRate(initial: configuration.learningRate, epoch: epoch, totalEpochs: configuration.epochs)
    }

    /// One step on the examples `indices`: returns (Σ loss, number classified right).
    @discardableResult
    public func step(_ data: Dataset, indices: ArraySlice<Int>, learningRate: Float) -> (loss: Double, correct: Int) {
        let b = indices.count
        let (total, correct) = forwardAndLoss(data, indices: indices, workspace: workspace, globalBatch: b)
        network.backward(workspace, batch: b, pool: pool)
        optimizer.step(arena: network.arena, learningRate: learningRate, pool: pool)
        return (total, correct)
    }

    /// Trains one epoch; `progress(done, total)` after each step.
    public func trainEpoch(_ epoch: Int, data: Dataset, progress: ((Int, Int) -> Void)? = nil) -> (loss: Double, accuracy: Double, seconds: Double) {
        let clock = Stopwatch()
        let order = order(epoch: epoch, count: data.count)
        let eta = Float(learningRate(epoch: epoch))
        var total = 0.0, correct = 0
        var start = 0
        while start < order.count {
            let end = min(start + configuration.batchSize, order.count)
            let result = step(data, indices: order[start..<end], learningRate: eta)
            total += result.loss
            correct += result.correct
            start = end
            progress?(end, order.count)
        }
        let n = Double(max(order.count, 1))
        return (total / n, Double(correct) / n, clock.seconds)
    }

    /// Mean loss and accuracy over `data` (forward only, in batches of up to 1000).
    public func evaluate(_ data: Dataset) -> (loss: Double, accuracy: Double) {
        guard data.count > 0 else { return (0, 0) }
        let capacity = min(1000, data.count)
        if evaluationWorkspace?.capacity != capacity {
            evaluationWorkspace = Workspace(layerSizes: network.configuration.layerSizes, capacity: capacity)
        }
        let ws = evaluationWorkspace!
        var total = 0.0, correct = 0
        var start = 0
        let all = Array(0..<data.count)
        while start < data.count {
            let end = min(start + capacity, data.count)
            let r = forwardAndLoss(data, indices: all[start..<end], workspace: ws, globalBatch: end - start)
            total += r.loss
            correct += r.correct
            start = end
        }
        return (total / Double(data.count), Double(correct) / Double(data.count))
    }

    /// Gathers the batch, runs forward, writes DY_L; returns (Σ loss, number right).
    private func forwardAndLoss(_ data: Dataset, indices: ArraySlice<Int>, workspace ws: Workspace,
                                globalBatch: Int) -> (loss: Double, correct: Int) {
        let b = indices.count
        ws.labels.withUnsafeMutableBufferPointer { labels in
            assembler.gather(data, indices: indices, into: ws.input.pointer, labels: labels.baseAddress!, pool: pool)
        }
        network.forward(ws, batch: b, pool: pool)
        let classes = network.outputSize
        let y = UnsafePointer(ws.output.pointer)
        let total = ws.labels.withUnsafeBufferPointer { labels in
            loss.evaluate(output: y, labels: labels.baseAddress!, classes: classes, batch: b,
                          globalBatch: globalBatch, gradient: ws.outputGradient.pointer)
        }
        var correct = 0
        for j in 0..<b {
            var best = 0
            for c in 1..<classes where y[c * b + j] > y[best * b + j] { best = c }
            if best == Int(ws.labels[j]) { correct += 1 }
        }
        return (total, correct)
    }
}
