/// The shrink step of structured sparsity (`StructuredSparsity`), at the end of every
/// `shrinkEvery`-th epoch, identically on every rank. In each hidden layer it removes:
///
/// 1. the neurons whose outgoing weights are all zero (the group lasso's zeroed groups among
///    them): they contribute nothing, so the outputs do not change;
/// 2. with a `shrinkThreshold` T, the neurons whose incoming and outgoing weights all have |w| < T;
/// 3. with `pruneNeurons` importance:F, ⌊F·K⌋ of the K neurons (those left after 1 and 2 count
///    towards it) with the smallest Σ|incoming| + Σ|outgoing| (ties: the lower index goes first);
///
/// always keeping at least one neuron (the most important). With an input group lasso, the
/// input features whose column of a sparse W_1 is all zero lose their weights, so batch
/// assembly stops reading them. `NetworkShrinker` then builds the compact network and the
/// trainer moves to it. Decisions come from rank-identical values (`ReplicaCheck`); after
/// each shrink the ranks compare a hash of the structure and a difference stops the job.
final class NeuronRemoval {
    let settings: StructuredSparsity
    private let communicator: any Communicator
    /// Neurons removed and seconds spent in shrink steps since the start of the run.
    private(set) var removed = 0
    private(set) var seconds = 0.0

    init(settings: StructuredSparsity, communicator: any Communicator) {
        self.settings = settings
        self.communicator = communicator
    }

    /// Whether a shrink follows step `step` (0-based) of epoch `epoch` (0-based) of `epochs`:
    /// the last step of every `shrinkEvery`-th epoch while structured sparsity is active.
    func isDue(epoch: Int, step: Int, stepsPerEpoch: Int, epochs: Int) -> Bool {
        step + 1 == stepsPerEpoch && (epoch + 1) % settings.shrinkEvery == 0 && settings.isActive(epoch: epoch, epochs: epochs)
    }

    /// Removes what the rules name from the trainer's network; returns the neurons removed.
    @discardableResult
    func shrink(_ trainer: Trainer, epoch: Int) throws -> Int {
        let clock = Stopwatch()
        defer { seconds += clock.seconds }
        let network = trainer.network
        let groups = NeuronGroups(of: network)
        let kept = groups.importance.indices.map { keptNeurons(groups, layer: $0) }
        let dropped = droppedInputs(network, groups)
        let removedNow = zip(kept, groups.importance).reduce(0) { $0 + $1.1.count - $1.0.count }
        guard removedNow > 0 || dropped != nil else { return 0 }
        try trainer.replaceNetwork(NetworkShrinker.shrink(network, keeping: kept, droppedInputs: dropped))
        if let different = try communicator.firstRankDiffering(in: trainer.network.structureHash) {
            throw SprigError.failed("rank \(different.rank)'s network differs from rank 0's after the shrink at the end of epoch "
                                    + "\(epoch + 1) (hash \(different.hash) vs \(different.rootHash)): the ranks no longer hold the same model")
        }
        removed += removedNow
        return removedNow
    }

    /// The neurons of hidden layer h that stay, ascending.
    private func keptNeurons(_ groups: NeuronGroups, layer h: Int) -> [Int] {
        let size = groups.importance[h].count
        let threshold = Float(settings.shrinkThreshold)
        var keep = (0..<size).map { i in groups.hasOutgoing[h][i] && !(threshold > 0 && groups.largest[h][i] < threshold) }
        if case .importance(let fraction)? = settings.pruneNeurons {
            let target = Int((fraction * Double(size)).rounded(.down))
            var toRemove = target - keep.filter { !$0 }.count
            let byImportance = (0..<size).filter { keep[$0] }.sorted {
                (groups.importance[h][$0], $0) < (groups.importance[h][$1], $1)
            }
            for i in byImportance where toRemove > 0 {
                keep[i] = false
                toRemove -= 1
            }
        }
        if !keep.contains(true) {   // never an empty layer: keep the most important neuron
            let best = (0..<size).max { (groups.importance[h][$0], -$0) < (groups.importance[h][$1], -$1) }!
            keep[best] = true
        }
        return (0..<size).filter { keep[$0] }
    }

    /// With an input group lasso and a sparse first layer: the features whose column holds
    /// weights that are all zero (nil when there is none).
    private func droppedInputs(_ network: Network, _ groups: NeuronGroups) -> [Bool]? {
        guard settings.inputGroupLasso > 0, let pattern = network.linearLayers[0].sparsity else { return nil }
        var dropped = [Bool](repeating: false, count: pattern.columns)
        for c in pattern.columnIndices where !groups.inputHasWeight[Int(c)] { dropped[Int(c)] = true }
        return dropped.contains(true) ? dropped : nil
    }
}
