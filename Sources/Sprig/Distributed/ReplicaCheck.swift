/// The run-time proof that every rank holds bitwise the same parameters: each rank hashes its
/// store's values and optimizer state (`StableHasher.combine(words:)`, every bit), the hashes are
/// gathered to all ranks, and a rank whose hash differs from rank 0's stops the job on every
/// rank together (`SprigError.failed`: exit status 1, a run that went wrong, not a user's mistake).
///
/// Data parallelism relies on it (DESIGN.md, "Topology that changes during training"): every
/// rank applies the same update to the same values only if the summed gradients are the same
/// bits on every rank. Open MPI 4.1's allreduce algorithms give every rank the same bits for a
/// commutative SUM (README, "Distributed training"); this check measures it instead of
/// trusting it. Cost: one pass over 8 bytes per parameter (about 2 ms per million parameters)
/// and one 8-byte allgather.
public struct ReplicaCheck: Sendable {
    /// Check after every this many steps (counted from the start of training).
    public let every: Int

    public init(every: Int) throws {
        guard every >= 1 else { throw SprigError.invalidArgument("--check-replicas \(every) is not positive") }
        self.every = every
    }

    /// Whether to check after `globalStep` (0-based, counted from the start of training).
    public func isDue(afterStep globalStep: Int) -> Bool { (globalStep + 1) % every == 0 }

    /// The hash of a rank's parameters: every bit of each buffer (values, then each optimizer
    /// state), each with its count.
    public static func hash(_ buffers: [UnsafeBufferPointer<Float>]) -> UInt64 {
        var hasher = StableHasher()
        for buffer in buffers {
            hasher.combine(buffer.count)
            hasher.combine(words: UnsafeRawBufferPointer(buffer))
        }
        return hasher.value
    }

    /// The store's values, then each optimizer-state buffer.
    public static func buffers(of parameters: ParameterStore) -> [UnsafeBufferPointer<Float>] {
        [UnsafeBufferPointer(parameters.values.buffer)] + parameters.states.map { UnsafeBufferPointer($0.buffer.buffer) }
    }

    /// Compares this rank's parameters (`buffers`) with every other rank's; throws on every rank,
    /// naming the first rank that differs from rank 0, the step (1-based, counted from the start
    /// of training), the epoch (1-based) and both hashes. Every rank must call it at the same step.
    public static func verify(_ buffers: [UnsafeBufferPointer<Float>], step: Int, epoch: Int, communicator: any Communicator) throws {
        guard communicator.size > 1 else { return }
        guard let different = try communicator.firstRankDiffering(in: hash(buffers)) else { return }
        throw SprigError.failed(
            "rank \(different.rank)'s parameters differ from rank 0's after step \(step) (epoch \(epoch); "
            + "hash of values and optimizer state \(different.hash) vs \(different.rootHash)): "
            + "the ranks no longer hold the same model")
    }
}
