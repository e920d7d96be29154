/// RadiX-Net networks of the Graph Challenge. With M = N/16 nodes and S = log₂M radix-2 stages,
/// layer k (1-based) uses stage s = (k − 1) mod S: A(a, b) ≠ 0 iff (a − b) mod M ∈ {0, 2^s}
/// (two connections per node), Kronecker'd with a 16×16 block of ones — W(i, j) ≠ 0 iff
/// A(i mod M, j mod M) ≠ 0, so 32 nonzeros in every row and column — weight 1/16. From layer
/// S + 1 on, rows and columns are permuted by random permutations drawn per layer from the seed
/// (the layout the challenge's 1024-neuron network shows).
public enum RadixNet {
    public static func stages(neurons: Int) -> Int { (neurons / 16).trailingZeroBitCount }

    /// True for N = 16·2^S with S ≥ 1 (1024, 4096, 16384, 65536, …).
    public static func isValid(neurons: Int) -> Bool {
        neurons >= 32 && neurons % 16 == 0 && (neurons / 16) & (neurons / 16 - 1) == 0
    }

    /// Layer k's entries (i, j), 0-based: W(i, j) = 1/16, as Wᵀ in CSR.
    public static func layer(neurons n: Int, layer k: Int, seed: UInt64) -> ChallengeLayer {
        precondition(isValid(neurons: n) && k >= 1)
        let m = n / 16, s = stages(neurons: n)
        let offset = 1 << ((k - 1) % s)
        var rowOf = Array(0..<n), columnOf = Array(0..<n)
        if k > s {
            var g = RandomGenerator(seed: seed, stream: 50_000 + UInt64(k))
            g.shuffle(&rowOf)
            g.shuffle(&columnOf)
        }
        // Wᵀ row j (output) lists inputs i: before permuting, j ≡ i or j ≡ i − offset (mod M).
        var builder = CSRBuilder(columns: n, capacity: 32 * n)
        for i in 0..<n {
            for j0 in [i % m, (i - offset % m + m) % m] {
                for block in 0..<16 { builder.append(row: Int32(columnOf[block * m + j0]), column: Int32(rowOf[i])) }
            }
        }
        let pattern = builder.buildDistinct(rows: n).pattern
        return ChallengeLayer(transposed: pattern, values: [Float](repeating: 1.0 / 16, count: pattern.nonzeroCount))
    }

    /// The layer in the challenge's format: `row col value` (1-based), sorted by column.
    public static func tsv(_ layer: ChallengeLayer) -> String {
        var text = ""
        text.reserveCapacity(layer.values.count * 20)
        let p = layer.transposed
        for j in 0..<p.rows {
            for q in p.rowOffsets[j]..<p.rowOffsets[j + 1] {
                text += "\(p.columnIndices[q] + 1)\t\(j + 1)\t6.250000e-02\n"
            }
        }
        return text
    }
}
