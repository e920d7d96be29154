/// Contiguous shards of a global batch, one per rank, sizes differing by at most one:
/// rank r of P gets positions ⌊r·B/P⌋ ..< ⌊(r+1)·B/P⌋ of a batch of B.
public enum Shard {
    public static func range(of count: Int, rank: Int, ranks: Int) -> Range<Int> {
        (count * rank / ranks)..<(count * (rank + 1) / ranks)
    }
}
