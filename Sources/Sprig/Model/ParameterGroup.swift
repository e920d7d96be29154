/// A named slice of the parameter store: layer `layer`'s "weights", "bias", … It is a live
/// handle: when a layer's topology changes its size, the store moves the groups after it and
/// every holder of the handle sees the new `offset` and `count`.
public final class ParameterGroup {
    /// The layer (0-based) the values belong to.
    public let layer: Int
    public let name: String
    public internal(set) var offset: Int
    public internal(set) var count: Int

    public init(layer: Int, name: String, count: Int) {
        precondition(count >= 0)
        self.layer = layer
        self.name = name
        self.offset = 0
        self.count = count
    }

    public var range: Range<Int> { offset..<(offset + count) }
}
