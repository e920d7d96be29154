/// Hands out consecutive ranges while layers are being laid out.
struct ArenaLayout {
    private(set) var count = 0
    mutating func reserve(_ n: Int) -> ParameterRange {
        defer { count += n }
        return ParameterRange(offset: count, count: n)
    }
}
