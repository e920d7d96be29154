import CBLAS
import CPUControl

/// What a training job runs in: its ranks (the communicator), this process's threads, and the
/// process-wide numeric settings every kernel assumes — subnormals flushed to zero, OpenBLAS
/// single-threaded (dense layers split their products across `pool` instead).
public final class RunContext {
    public let communicator: any Communicator
    public let pool: ThreadPool

    public init(threads: Int, communicator: any Communicator) throws {
        try MemoryBudget.checkThreads(threads)
        sprig_flush_subnormals_to_zero()
        openblas_set_num_threads(1)
        self.communicator = communicator
        pool = ThreadPool(threads: threads)
    }

    public var isRoot: Bool { communicator.isRoot }

    /// Throws `DistributedError.mismatch` on every rank, naming the first rank whose `hash`
    /// differs from rank 0's and `what` it differs in.
    public func compareAcrossRanks(_ hash: UInt64, what: String) throws {
        if let different = try communicator.firstRankDiffering(in: hash) {
            throw DistributedError.mismatch("rank \(different.rank) differs from rank 0 in \(what) "
                                            + "(hash \(different.hash) vs \(different.rootHash)); "
                                            + "every rank must run the same command on the same data")
        }
    }
}
