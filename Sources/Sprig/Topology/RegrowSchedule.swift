import Foundation

/// When a dynamic sparse run prunes and regrows, and how much. After step t (1-based count of
/// steps done, of T in all), with interval N = `every` ?? steps per epoch:
/// - due iff t mod N = 0, t < T and t ≤ until·T (with the defaults: before each epoch after
///   the first, as Nerva does, and never after the last step);
/// - the fraction in effect, from the rule's F: `constant`: F; `cosine` (RigL):
///   F/2·(1 + cos(π·t/(until·T))), t/(until·T) clamped to [0, 1].
public struct RegrowSchedule: Equatable, Sendable, Codable {
    /// How the fraction decays over the run (`--regrow-schedule`).
    public enum Decay: String, Sendable, Codable, CaseIterable {
        case constant
        case cosine

        /// Parses `constant` or `cosine`, given with `flag` (named in errors).
        public init(parsing text: String, flag: String = "--regrow-schedule") throws {
            let specification = NamedSpecification(text, flag: flag)
            guard let decay = Decay(rawValue: specification.name) else {
                throw specification.error("unknown regrow schedule (expected constant or cosine)")
            }
            try specification.expectParameters(0...0, usage: "\(decay.rawValue) without a parameter")
            self = decay
        }
    }

    /// Steps between regrows (`--regrow-every`); nil: once per epoch.
    public var every: Int?
    /// How the fraction decays (`--regrow-schedule`).
    public var decay: Decay
    /// The fraction of training after which no regrow happens (`--regrow-until`), in (0, 1].
    public var until: Double

    /// Throws when `every` < 1 or `until` is not a finite number in (0, 1].
    public init(every: Int? = nil, decay: Decay = .constant, until: Double = 1) throws {
        self.every = every
        self.decay = decay
        self.until = until
        try validate()
    }

    /// The checks of `init`, for a value decoded or changed after it was made.
    public func validate() throws {
        if let every, every < 1 {
            throw SprigError.invalidField(.regrowEvery, "\(every) is not a number of steps ≥ 1")
        }
        guard until.isFinite, until > 0, until <= 1 else {
            throw SprigError.invalidField(.regrowUntil, "\(until) is not a fraction of training in (0, 1]")
        }
    }

    /// Whether a regrow follows step `t` (1-based count of steps done).
    public func isDue(afterStep t: Int, stepsPerEpoch: Int, totalSteps: Int) -> Bool {
        let interval = every ?? stepsPerEpoch
        precondition(interval >= 1, "regrow interval must be at least one step")
        return t >= 1 && t % interval == 0 && t < totalSteps && Double(t) <= until * Double(totalSteps)
    }

    /// The prune fraction in effect after step `t`, from the rule's fraction `f`.
    public func fraction(_ f: Double, afterStep t: Int, totalSteps: Int) -> Double {
        switch decay {
        case .constant:
            return f
        case .cosine:
            let horizon = until * Double(totalSteps)
            let progress = horizon > 0 ? min(1, max(0, Double(t) / horizon)) : 1
            return f / 2 * (1 + cos(Double.pi * progress))
        }
    }
}
