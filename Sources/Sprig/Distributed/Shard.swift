/// Contiguous shards of a global batch, one per rank, sizes differing by at most one:
/// rank r of P gets positions ⌊r·B/P⌋ ..< ⌊(r+1)·B/P⌋ of a batch of B.
public enum Shard {
    public static func range(of count: Int, rank: Int, ranks: Int) -> Range<Int> {
        (count * rank / ranks)..<(count * (rank + 1) / ranks)
    }
}

/// How the gradient arena is summed across ranks each step.
public enum GradientExchange: String, Sendable, CaseIterable {
    /// One allreduce of the whole arena after backward.
    case fused
    /// One non-blocking allreduce per layer, started as soon as backward finishes that layer.
    case perLayer = "per-layer"
}
