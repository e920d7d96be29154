/// A sparse layer's pattern for the CPU backend: W's CSR, Wᵀ's plan and, for each, rows cut
/// into one part per thread with about equal nonzeros (`RowPartition`).
public final class CPUSparseOperand: SparseOperand {
    public let pattern: SparsityPattern
    public let transpose: TransposePlan
    public let forwardParts: RowPartition
    public let transposeParts: RowPartition
    public var kernel: SparseLayerKernel { .csr }
    /// The threads the parts were cut for.
    public let threads: Int

    init(pattern: SparsityPattern, transpose: TransposePlan, threads: Int) {
        self.pattern = pattern
        self.transpose = transpose
        self.threads = threads
        forwardParts = RowPartition(pattern, parts: threads)
        transposeParts = RowPartition(transpose.pattern, parts: threads)
    }
}
