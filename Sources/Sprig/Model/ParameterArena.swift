/// Every trainable value of a network in one contiguous buffer — each sparse layer's CSR
/// values, each dense weight matrix, each bias — with the gradients in a second buffer of the
/// same layout. Layers hold `ParameterRange`s into it. So zeroing gradients is one fill, the
/// optimizer step one loop, the allreduce one call, and a checkpoint one write.
public final class ParameterArena {
    public let count: Int
    public let values: FloatBuffer
    public let gradients: FloatBuffer

    public init(count: Int) {
        self.count = count
        values = FloatBuffer(count: count)
        gradients = FloatBuffer(count: count)
    }
}

/// A slice `offset ..< offset + count` of the arena.
public struct ParameterRange: Equatable, Sendable {
    public let offset: Int
    public let count: Int
    public var range: Range<Int> { offset..<(offset + count) }
}

/// Hands out consecutive ranges while layers are being laid out.
struct ArenaLayout {
    private(set) var count = 0
    mutating func reserve(_ n: Int) -> ParameterRange {
        defer { count += n }
        return ParameterRange(offset: count, count: n)
    }
}
