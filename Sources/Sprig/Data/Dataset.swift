/// A labelled classification data set held in memory, example-major: example `i`'s features
/// are entries `i·featureCount ..< (i+1)·featureCount` of the storage, `labels[i]` its class in
/// `0 ..< classCount`. The initializers do not check this; the loaders that read files do.
///
/// Image data stays in bytes (`Storage.bytes`): a feature's value is `values[byte]`, a 256-entry
/// table that normalisation rewrites. So a data set takes a quarter of the memory, and a batch a
/// quarter of the memory traffic, of the same data in floats — with exactly the same values.
public struct Dataset: Sendable {
    public enum Storage: Sendable {
        case floats([Float])
        /// Feature value of byte b is `values[b]` (256 entries).
        case bytes(ByteStorage, values: [Float])
    }

    public var name: String
    public let featureCount: Int
    public let classCount: Int
    public var storage: Storage
    public var labels: [Int32]
    /// The number of examples.
    public var count: Int { labels.count }

    public init(name: String, featureCount: Int, classCount: Int, features: [Float], labels: [Int32]) {
        self.name = name
        self.featureCount = featureCount
        self.classCount = classCount
        self.storage = .floats(features)
        self.labels = labels
    }

    public init(name: String, featureCount: Int, classCount: Int, bytes: [UInt8], values: [Float], labels: [Int32]) {
        precondition(values.count == 256, "a byte value table has 256 entries")
        self.name = name
        self.featureCount = featureCount
        self.classCount = classCount
        self.storage = .bytes(ByteStorage(bytes), values: values)
        self.labels = labels
    }

    /// A byte data set over the caller's memory (no copy): `bytes` must stay valid and
    /// unchanged while the data set is used (the Python package's arrays, during `fit`).
    public init(name: String, featureCount: Int, classCount: Int, borrowing bytes: UnsafeBufferPointer<UInt8>, values: [Float],
                labels: [Int32]) {
        precondition(values.count == 256, "a byte value table has 256 entries")
        self.name = name
        self.featureCount = featureCount
        self.classCount = classCount
        self.storage = .bytes(ByteStorage(borrowing: bytes), values: values)
        self.labels = labels
    }

    /// Every feature value as a float, example-major. Builds a new array on each call (for
    /// tests and small sets; the trainer reads `storage` directly).
    public func allFeatures() -> [Float] {
        switch storage {
        case .floats(let values): return values
        case .bytes(let bytes, let values): return bytes.withUnsafeBufferPointer { $0.map { values[Int($0)] } }
        }
    }

    /// The first `n` examples (`n` clamped to `0 ... count`).
    public func subset(_ n: Int) -> Dataset {
        let kept = Swift.min(Swift.max(n, 0), count)
        if kept == count { return self }
        var copy = self
        copy.labels = Array(labels[0 ..< kept])
        switch storage {
        case .floats(let values): copy.storage = .floats(Array(values[0 ..< kept * featureCount]))
        case .bytes(let bytes, let values): copy.storage = .bytes(bytes.prefix(kept * featureCount), values: values)
        }
        return copy
    }
}

extension Dataset {
    /// A hash of the name, the shape, every label and every feature value (bytes and their
    /// value table, or floats), so ranks can check they hold the same data without sending it.
    /// The data is hashed a 64-bit word at a time (`StableHasher.combine(words:)`).
    public var fingerprint: UInt64 {
        var hasher = StableHasher()
        hasher.combine(name)
        hasher.combine(featureCount)
        hasher.combine(classCount)
        hasher.combine(count)
        labels.withUnsafeBytes { hasher.combine(bytes: $0) }
        switch storage {
        case .floats(let values):
            values.withUnsafeBytes { hasher.combine(words: $0) }
        case .bytes(let bytes, let values):
            bytes.withUnsafeBytes { hasher.combine(words: $0) }
            values.withUnsafeBytes { hasher.combine(words: $0) }
        }
        return hasher.value
    }
}
