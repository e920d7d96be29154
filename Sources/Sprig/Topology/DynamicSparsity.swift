/// Dynamic sparse training (Nerva's `--prune`/`--grow` vocabulary): at the steps the schedule
/// names, each sparse layer drops the weights `prune` picks and grows as many new ones where
/// `grow` picks, so its nonzero count stays the same; grown weights start at `growWeights`
/// with zero optimizer state. Dense layers are never pruned. Part of `TrainingConfiguration`,
/// so checkpoints and the ranks' agreement check carry it.
///
/// - SET (Mocanu et al. 2018): `prune: .set(0.3), grow: .random`.
/// - RigL (Evci et al. 2020): `prune: .magnitude(0.3), grow: .gradient`, cosine decay.
public struct DynamicSparsity: Equatable, Sendable, Codable, CustomStringConvertible {
    public var prune: PruneRule
    public var grow: GrowRule
    public var growWeights: GrowWeights
    public var schedule: RegrowSchedule

    public init(prune: PruneRule, grow: GrowRule = .random, growWeights: GrowWeights = .zero,
                schedule: RegrowSchedule? = nil) throws {
        self.prune = prune
        self.grow = grow
        self.growWeights = growWeights
        self.schedule = try schedule ?? RegrowSchedule()
        try validate()
    }

    /// Throws `SprigError.invalidField` for a fraction outside (0, 1), a negative or non-finite
    /// threshold, or a schedule out of range.
    public func validate() throws {
        switch prune {
        case .magnitude(let f), .set(let f):
            guard f > 0, f < 1 else { throw SprigError.invalidField(.prune, "'\(prune)': the fraction \(f) is not in (0, 1)") }
        case .threshold(let v):
            guard v >= 0, v.isFinite else { throw SprigError.invalidField(.prune, "'\(prune)': the threshold \(v) is not a finite number ≥ 0") }
        }
        try schedule.validate()
    }

    public var description: String {
        "prune \(prune), grow \(grow.rawValue) (weights \(growWeights.rawValue)), "
            + (schedule.every.map { "every \($0) steps" } ?? "every epoch")
            + ", \(schedule.decay.rawValue)" + (schedule.until < 1 ? " until \(schedule.until) of training" : "")
    }
}
