import CPUControl

/// Copies examples (stored example-major, as floats or bytes) into the feature-major batch
/// matrix X (D×B): X[f, j] = value of feature f of example index_j, for the features f in
/// `used` (all when nil) — rows of X that the first layer never reads are left as they are.
/// Features are split across threads; each thread reads a contiguous run of every example.
public struct BatchAssembler: Sendable {
    /// The features to copy, ascending; nil copies all.
    public let used: [Int32]?

    /// The assembler for a network: only the columns of the first layer that hold a nonzero
    /// when that layer is a sparse linear one (a dropout or any other first layer reads all).
    public init(for network: Network) {
        if let first = network.layers.first as? any LinearLayer, let pattern = first.sparsity {
            var seen = [Bool](repeating: false, count: first.inputSize)
            for c in pattern.columnIndices { seen[Int(c)] = true }
            let list = seen.indices.filter { seen[$0] }.map { Int32($0) }
            used = list.count == first.inputSize ? nil : list
        } else {
            used = nil
        }
    }

    public func gather(_ data: Dataset, indices: ArraySlice<Int>, into x: UnsafeMutablePointer<Float>,
                       labels: UnsafeMutablePointer<Int32>, pool: ThreadPool) {
        indices.withUnsafeBufferPointer { idx in
            for j in 0..<idx.count { labels[j] = data.labels[idx[j]] }
            // The two loops are written out on purpose: one generic loop with a value closure
            // was not inlined and made batch assembly 1.5× slower (measured).
            switch data.storage {
            case .floats(let features):
                features.withUnsafeBufferPointer { source in
                    forEachRun(features: data.featureCount, pool: pool) { f0, f1 in
                        for j in 0..<idx.count {
                            let row = source.baseAddress! + idx[j] * data.featureCount
                            if j + prefetchDistance < idx.count {
                                prefetch(source.baseAddress! + idx[j + prefetchDistance] * data.featureCount, f0, f1, MemoryLayout<Float>.stride)
                            }
                            forEachFeature(f0, f1) { f in x[f * idx.count + j] = row[f] }
                        }
                    }
                }
            case .bytes(let bytes, let values):
                bytes.withUnsafeBufferPointer { source in
                    values.withUnsafeBufferPointer { table in
                        forEachRun(features: data.featureCount, pool: pool) { f0, f1 in
                            for j in 0..<idx.count {
                                let row = source.baseAddress! + idx[j] * data.featureCount
                                if j + prefetchDistance < idx.count {
                                    prefetch(source.baseAddress! + idx[j + prefetchDistance] * data.featureCount, f0, f1, MemoryLayout<UInt8>.stride)
                                }
                                forEachFeature(f0, f1) { f in x[f * idx.count + j] = table[Int(row[f])] }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Splits the features to copy across threads in runs of at most 512; `body(k0, k1)` gets
    /// positions k0..<k1 (into `used` when set, else features).
    @inline(__always)
    private func forEachRun(features d: Int, pool: ThreadPool, _ body: (Int, Int) -> Void) {
        let total = used?.count ?? d
        pool.forEachRange(total, minimumPerThread: 256) { range in
            var k0 = range.lowerBound
            while k0 < range.upperBound {
                let k1 = min(k0 + 512, range.upperBound)
                body(k0, k1)
                k0 = k1
            }
        }
    }

    /// Examples are randomly placed in memory, too many short streams for the hardware
    /// prefetcher: each example's run is prefetched this many examples ahead.
    private let prefetchDistance = 10

    /// Prefetches the cache lines holding features f0..<f1 (positions, as in `forEachFeature`) of `row`.
    @inline(__always)
    private func prefetch<Element>(_ row: UnsafePointer<Element>, _ k0: Int, _ k1: Int, _ stride: Int) {
        let first: Int, last: Int
        if let used { first = Int(used[k0]); last = Int(used[k1 - 1]) } else { first = k0; last = k1 - 1 }
        let raw = UnsafeRawPointer(row)
        var offset = first * stride & ~63
        while offset <= last * stride {
            sprig_prefetch(raw + offset)
            offset += 64
        }
    }

    /// Calls `body(f)` for the features at positions k0..<k1.
    @inline(__always)
    private func forEachFeature(_ k0: Int, _ k1: Int, _ body: (Int) -> Void) {
        if let used {
            used.withUnsafeBufferPointer { list in for k in k0..<k1 { body(Int(list[k])) } }
        } else {
            for f in k0..<k1 { body(f) }
        }
    }
}
