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
