/// A slice `offset ..< offset + count` of the arena.
public struct ParameterRange: Equatable, Sendable {
    public let offset: Int
    public let count: Int
}
