/// Input images as sparse rows: image m's nonzero pixels (0-based) are
/// `pixels[offsets[m] ..< offsets[m+1]]` with `values` beside them.
public struct ChallengeInputs: Sendable {
    public let neurons: Int
    public let offsets: [Int]
    public let pixels: [Int32]
    public let values: [Float]
    public var count: Int { offsets.count - 1 }
}
