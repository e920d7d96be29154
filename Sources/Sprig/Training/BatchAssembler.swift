/// Copies examples (stored example-major) into the feature-major batch matrix X (D×B):
/// X[f, j] = features[index_j · D + f], for the features f in `used` (all when nil) — rows of X
/// that the first layer never reads are left as they are. Features are split across threads;
/// each thread reads a contiguous run of every example (prefetch-friendly).
public struct BatchAssembler: Sendable {
    /// The features to copy, ascending; nil copies all.
    public let used: [Int32]?

    public init(used: [Int32]?) { self.used = used }

    /// The assembler for a network: only the columns of the first layer that hold a nonzero.
    public init(for network: Network) {
        if let first = network.layers.first as? SparseLinear {
            var seen = [Bool](repeating: false, count: first.inputSize)
            for c in first.pattern.columnIndices { seen[Int(c)] = true }
            let list = seen.indices.filter { seen[$0] }.map { Int32($0) }
            used = list.count == first.inputSize ? nil : list
        } else {
            used = nil
        }
    }

    public func gather(_ data: Dataset, indices: ArraySlice<Int>, into x: UnsafeMutablePointer<Float>,
                       labels: UnsafeMutablePointer<Int32>, pool: ThreadPool) {
        let d = data.featureCount, b = indices.count
        let block = 512
        data.features.withUnsafeBufferPointer { featureBuffer in
            let features = featureBuffer.baseAddress!
            indices.withUnsafeBufferPointer { idx in
                for j in 0..<b { labels[j] = data.labels[idx[j]] }
                if let used {
                    used.withUnsafeBufferPointer { list in
                        pool.forEachRange(list.count, minimumPerThread: 256) { range in
                            for j in 0..<b {
                                let source = features + idx[j] * d
                                for k in range { let f = Int(list[k]); x[f * b + j] = source[f] }
                            }
                        }
                    }
                } else {
                    pool.forEachRange(d, minimumPerThread: 256) { range in
                        var f0 = range.lowerBound
                        while f0 < range.upperBound {
                            let f1 = min(f0 + block, range.upperBound)
                            for j in 0..<b {
                                let source = features + idx[j] * d
                                for f in f0..<f1 { x[f * b + j] = source[f] }
                            }
                            f0 = f1
                        }
                    }
                }
            }
        }
    }
}
