import TrainingKernels

/// Copies examples (stored example-major, as floats or bytes) into the feature-major batch
/// matrix X (D×B): X[f, j] = value of feature f of example index_j, for the features f in
/// `used` (all when nil, or when `used` holds at least half of them) — rows of X that are not
/// copied are left as they are.
/// Features are split across threads; each thread reads a contiguous run of every example, in
/// blocks of 16 examples transposed by the C kernel (`sprig_gather_floats`, `sprig_gather_bytes`).
public struct BatchAssembler: Sendable {
    /// The features to copy, ascending; nil copies all.
    public let used: [Int32]?

    /// Whether every feature is copied although `used` lists fewer: whole transposed tiles of
    /// all the features are faster than a list of most of them (at least half).
    private let copiesAll: Bool

    /// Copies the features `used` (ascending; nil: all) of examples with `features` values.
    init(used: [Int32]?, features: Int) {
        self.used = used
        copiesAll = used.map { 2 * $0.count >= features } ?? true
    }

    /// The assembler for a network: `used` lists the columns of the first layer that hold a
    /// nonzero when that layer is a sparse linear one (a dropout or any other first layer reads
    /// all); they alone are copied when they are fewer than half the inputs.
    public init(for network: Network) {
        if let first = network.layers.first as? any LinearLayer, let pattern = first.sparsity {
            var seen = [Bool](repeating: false, count: first.inputSize)
            for c in pattern.columnIndices { seen[Int(c)] = true }
            let list = seen.indices.filter { seen[$0] }.map { Int32($0) }
            self.init(used: list.count == first.inputSize ? nil : list, features: first.inputSize)
        } else {
            self.init(used: nil, features: network.inputSize)
        }
    }

    public func gather(_ data: Dataset, indices: ArraySlice<Int>, into x: UnsafeMutablePointer<Float>,
                       labels: UnsafeMutablePointer<Int32>, pool: ThreadPool) {
        let d = data.featureCount, count = indices.count
        indices.withUnsafeBufferPointer { idx in
            for j in 0..<count { labels[j] = data.labels[idx[j]] }
            guard count > 0 else { return }
            let rows = idx.int64Address
            withUsed { used in
                switch data.storage {
                case .floats(let features):
                    features.withUnsafeBufferPointer { source in
                        forEachRun(features: d, pool: pool) { k0, k1 in
                            sprig_gather_floats(source.baseAddress!, Int64(d), rows, Int64(count), used, Int64(k0), Int64(k1), x)
                        }
                    }
                case .bytes(let bytes, let values):
                    bytes.withUnsafeBufferPointer { source in
                        values.withUnsafeBufferPointer { table in
                            forEachRun(features: d, pool: pool) { k0, k1 in
                                sprig_gather_bytes(source.baseAddress!, table.baseAddress!, Int64(d), rows, Int64(count), used,
                                                   Int64(k0), Int64(k1), x)
                            }
                        }
                    }
                }
            }
        }
    }

    /// The features to copy as the C kernels take them (nil: every feature).
    private func withUsed<R>(_ body: (UnsafePointer<Int32>?) -> R) -> R {
        guard let used, !copiesAll else { return body(nil) }
        return used.withUnsafeBufferPointer { body($0.baseAddress) }
    }

    /// Splits the features to copy across threads in runs of at most 512; `body(k0, k1)` gets
    /// positions k0..<k1 (into `used` when set, else features).
    @inline(__always)
    private func forEachRun(features d: Int, pool: ThreadPool, _ body: (Int, Int) -> Void) {
        let total = copiesAll ? d : used!.count
        pool.forEachRange(total, minimumPerThread: 256) { range in
            var k0 = range.lowerBound
            while k0 < range.upperBound {
                let k1 = min(k0 + 512, range.upperBound)
                body(k0, k1)
                k0 = k1
            }
        }
    }
}
