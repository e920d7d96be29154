/// The topology step of dynamic sparse training (`DynamicSparsity`), run after the optimizer
/// update of each step the schedule names, identically on every rank. For each sparse layer:
///
/// 1. prune: the rule picks the surviving slots from the layer's values, with the fraction the
///    schedule gives for this step (RigL's cosine decay);
/// 2. grow as many positions as were pruned, among the positions no survivor holds:
///    `random` — uniform, from the stream seeded by (seed, step, layer);
///    `gradient` — RigL: the largest |∂L/∂W| of the dense gradient ΔZ·Xᵀ of this step's global
///    batch, computed in row blocks of at most `gradientBlockBytes` (each rank multiplies its
///    shard's ΔZ and X, still in the workspace after the step, and the block is summed over
///    the ranks), so no K×D matrix is ever held whole unless it fits one block. Cost: one
///    dense K·D·B multiply-add per layer and regrow, plus an allreduce of K·D floats;
/// 3. `Network.replacePattern`: survivors keep their values and optimizer state, grown weights
///    start at `growWeights` (fans counted as the network's `fanIn` counts them) with zero state.
///
/// Ranks hold bitwise-identical values (`ReplicaCheck`), so every rank prunes and grows alike;
/// after each step the ranks compare a hash of all patterns (one 8-byte allgather) and a
/// difference stops the job naming the rank.
final class TopologyUpdater {
    let settings: DynamicSparsity
    private let communicator: any Communicator
    /// Where the dense gradient blocks are multiplied (the training's backend).
    private let backend: any ComputeBackend
    private var deviceBlock: BackendBuffer?
    private let seed: UInt64
    /// For tests only: the rank whose random stream is shifted (`SPRIG_TEST_ONLY_PERTURB_TOPOLOGY`).
    private let perturbedRank: Int?
    /// Weights regrown and seconds spent in topology steps since the start of the run.
    private(set) var regrown = 0
    private(set) var seconds = 0.0

    /// The most memory one block of a dense layer gradient may take in gradient regrowth.
    static let gradientBlockBytes = 64 << 20
    /// For tests only: `SPRIG_TEST_ONLY_PERTURB_TOPOLOGY=R` makes rank R draw from another random
    /// stream, so that a test can watch the pattern check stop a real job.
    static let perturbVariable = "SPRIG_TEST_ONLY_PERTURB_TOPOLOGY"

    init(settings: DynamicSparsity, communicator: any Communicator, backend: any ComputeBackend, seed: UInt64,
         perturbedRank: Int? = nil) {
        self.settings = settings
        self.communicator = communicator
        self.backend = backend
        self.seed = seed
        self.perturbedRank = perturbedRank
    }

    func isDue(afterStep done: Int, stepsPerEpoch: Int, totalSteps: Int) -> Bool {
        settings.schedule.isDue(afterStep: done, stepsPerEpoch: stepsPerEpoch, totalSteps: totalSteps)
    }

    /// Prunes and regrows every sparse layer of `network` after step `done` (1-based, counted from the start
    /// of training) of `totalSteps`; `workspace` holds the step's X and ΔZ for `shardSize`
    /// examples of this rank. Returns the weights regrown.
    @discardableResult
    func update(_ network: Network, afterStep done: Int, totalSteps: Int, workspace: Workspace, shardSize: Int) throws -> Int {
        let clock = Stopwatch()
        var grownNow = 0
        let fraction = settings.prune.fraction.map { settings.schedule.fraction($0, afterStep: done, totalSteps: totalSteps) } ?? 0
        for (l, layer) in network.linearLayers.enumerated() {
            guard let pattern = layer.sparsity else { continue }   // dense layers are never pruned
            let survivors = settings.prune.survivors(of: UnsafeBufferPointer(network.values(of: layer.weights)), fraction: fraction)
            let count = survivors.reduce(0) { $0 + ($1 ? 0 : 1) }
            guard count > 0 else { continue }
            var generator = RandomGenerator(seed: seed, stream: streamBase + UInt64(done) << 12 + UInt64(l) * 2
                                            + (perturbedRank == communicator.rank ? 1 << 11 : 0))
            let grown: [(row: Int32, column: Int32)]
            switch settings.grow {
            case .random:
                grown = RandomGrowth.positions(in: pattern, survivors: survivors, count: count, generator: &generator)
            case .gradient:
                let i = network.linearLayerPositions[l]   // the layer's place in the list: its input and ΔZ buffers
                let input = i == 0 ? workspace.input.pointer : workspace.outputs[i - 1].pointer
                grown = try GradientGrowth.positions(
                    in: pattern, survivors: survivors, count: count,
                    blockRows: GradientGrowth.blockRows(columns: pattern.columns, budgetBytes: Self.gradientBlockBytes)) { rows, block in
                    try denseGradient(rows: rows, columns: pattern.columns, outputGradient: workspace.gradients[i].pointer,
                                      input: input, batch: shardSize, into: block)
                }
            }
            let change = TopologyChange.combining(old: pattern, survivors: survivors, grown: grown)
            let initial = initialValues(for: change, fanIn: network.configuration.fanIn, generator: &generator)
            network.replacePattern(ofLinearLayer: l, with: change.pattern, sourceSlot: change.sourceSlot, initialValue: { initial[$0] })
            grownNow += change.grown
        }
        if let different = try communicator.firstRankDiffering(in: network.structureHash) {
            throw SprigError.failed("rank \(different.rank)'s sparsity patterns differ from rank 0's after the topology step at step "
                                    + "\(done) (hash \(different.hash) vs \(different.rootHash)): the ranks no longer hold the same model")
        }
        regrown += grownNow
        seconds += clock.seconds
        return grownNow
    }

    /// Random streams of topology steps: (seed, step, layer) → stream base + step·4096 + 2·layer.
    private let streamBase: UInt64 = 1 << 40

    /// G[rows, :] = Σ_ranks ΔZ[rows, :]·Xᵀ: ΔZ is K×b and X is D×b (this rank's shard, b
    /// examples, feature-major, in the backend's memory), G a rows.count×D row-major host
    /// block (multiplied in the backend's memory and brought back when that is not the
    /// host's; zero when this rank had no examples).
    private func denseGradient(rows: Range<Int>, columns d: Int, outputGradient dz: UnsafeMutablePointer<Float>,
                               input x: UnsafeMutablePointer<Float>, batch b: Int, into block: UnsafeMutablePointer<Float>) throws {
        let count = rows.count * d
        if backend.sharesHostMemory {
            try backend.multiplyTransposed(dz + rows.lowerBound * b, x, into: block, m: rows.count, n: d, k: b)
        } else {
            if (deviceBlock?.count ?? -1) < count { deviceBlock = try backend.allocate(count: count) }
            try backend.multiplyTransposed(dz + rows.lowerBound * b, x, into: deviceBlock!.pointer, m: rows.count, n: d, k: b)
            try backend.download(deviceBlock!.pointer, to: block, count: count)
        }
        if communicator.size > 1 {
            try communicator.allreduceSum(UnsafeMutableBufferPointer(start: block, count: rows.count * d))
        }
    }

    /// The value of each grown slot of `change` (indexed by new slot; survivors' entries unused),
    /// drawn in slot order with fans counted as the network's `fanIn` counts them.
    private func initialValues(for change: TopologyChange, fanIn: Initializer.FanIn, generator: inout RandomGenerator) -> [Float] {
        let pattern = change.pattern
        let k = Double(pattern.rows), d = Double(pattern.columns), nnz = Double(pattern.nonzeroCount)
        var columnCounts: [Int32] = []
        if fanIn == .perRow {
            columnCounts = [Int32](repeating: 0, count: pattern.columns)
            for c in pattern.columnIndices { columnCounts[Int(c)] += 1 }
        }
        var values = [Float](repeating: 0, count: pattern.nonzeroCount)
        for r in 0..<pattern.rows {
            for p in pattern.rowOffsets[r]..<pattern.rowOffsets[r + 1] where change.sourceSlot[p] < 0 {
                let fans: (Double, Double)
                switch fanIn {
                case .dense: fans = (d, k)
                case .sparse: fans = (nnz / k, nnz / d)
                case .perRow: fans = (Double(pattern.count(ofRow: r)), Double(columnCounts[Int(pattern.columnIndices[p])]))
                }
                values[p] = settings.growWeights.value(fanIn: fans.0, fanOut: fans.1, generator: &generator)
            }
        }
        return values
    }
}
