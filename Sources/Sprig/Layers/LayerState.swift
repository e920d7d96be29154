/// A layer's non-trainable state (BatchNorm's running mean and variance): not in the
/// parameter store (no gradient, no optimizer), but checkpointed, broadcast from rank 0 at
/// the start, hashed in the ranks' agreement check and saved with the weights. `name` is
/// the array's name in the `.npz` and the checkpoint (`bn1.mean`).
public final class LayerState {
    public let name: String
    public let values: FloatBuffer

    public init(name: String, count: Int, initialValue: Float = 0) {
        self.name = name
        values = FloatBuffer(count: count)
        values.fill(initialValue)
    }
}
