/// A batch of input images as sparse rows: image `ids[k]` (0-based, in the whole file) has the
/// nonzero pixels (0-based) `pixels[offsets[k] ..< offsets[k+1]]` with `values` beside them.
public struct ChallengeInputs: Sendable {
    public let neurons: Int
    public let ids: [Int]
    public let offsets: [Int]
    public let pixels: [Int32]
    public let values: [Float]
    public var count: Int { ids.count }
}
