import Foundation

/// The learning rate of epoch e (0-based) from the initial rate η₀:
/// - `constant`: η₀
/// - `step:S:γ`: η₀·γ^⌊e/S⌋
/// - `multistep:m1,m2,…:γ`: η₀·γ^(number of milestones ≤ e)
/// - `exponential:γ`: η₀·γ^e
/// - `cosine[:η_min]`: η_min + ½(η₀ − η_min)(1 + cos(π·e/E)) over the run's E epochs
public enum LearningRateSchedule: Equatable, Sendable, Codable, CustomStringConvertible {
    case constant
    case step(size: Int, gamma: Double)
    case multistep(milestones: [Int], gamma: Double)
    case exponential(gamma: Double)
    case cosine(minimum: Double)

    /// Parses `constant`, `step:S:G`, `multistep:M1,M2,…:G`, `exponential:G`, `cosine[:MIN]`,
    /// given with `flag` (named in errors); rates and factors are finite and ≥ 0.
    public init(parsing text: String, flag: String = "--lr-schedule") throws {
        let specification = NamedSpecification(text, flag: flag)
        let nonNegative = 0 ... Double.greatestFiniteMagnitude
        switch specification.key {
        case "constant":
            try specification.expectParameters(0...0, usage: "constant without a parameter")
            self = .constant
        case "step":
            let usage = "step:SIZE:GAMMA, e.g. step:30:0.1"
            try specification.expectParameters(2...2, usage: usage)
            self = .step(size: try specification.integer(0, in: 1...Int.max, usage: usage),
                         gamma: try specification.number(1, in: nonNegative, usage: usage))
        case "multistep":
            let usage = "multistep:M1,M2,...:GAMMA, e.g. multistep:50,75:0.1"
            try specification.expectParameters(2...2, usage: usage)
            let milestones = try specification.integers(0, in: 0...Int.max, usage: usage)
            guard milestones == milestones.sorted() else { throw specification.error("expected milestones in increasing order") }
            self = .multistep(milestones: milestones, gamma: try specification.number(1, in: nonNegative, usage: usage))
        case "exponential":
            let usage = "exponential:GAMMA, e.g. exponential:0.95"
            try specification.expectParameters(1...1, usage: usage)
            self = .exponential(gamma: try specification.number(0, in: nonNegative, usage: usage))
        case "cosine":
            let usage = "cosine or cosine:MIN_LR"
            try specification.expectParameters(0...1, usage: usage)
            self = .cosine(minimum: specification.parameters.isEmpty ? 0 : try specification.number(0, in: nonNegative, usage: usage))
        default:
            throw specification.error("unknown learning-rate schedule (expected constant, step, multistep, exponential or cosine)")
        }
    }

    public var description: String {
        switch self {
        case .constant: return "constant"
        case .step(let s, let g): return "step:\(s):\(g)"
        case .multistep(let m, let g): return "multistep:\(m.map(String.init).joined(separator: ",")):\(g)"
        case .exponential(let g): return "exponential:\(g)"
        case .cosine(let m): return "cosine:\(m)"
        }
    }

    public func learningRate(initial eta: Double, epoch e: Int, totalEpochs: Int) -> Double {
        switch self {
        case .constant: return eta
        case .step(let s, let g): return eta * pow(g, Double(e / s))
        case .multistep(let m, let g): return eta * pow(g, Double(m.filter { $0 <= e }.count))
        case .exponential(let g): return eta * pow(g, Double(e))
        case .cosine(let minimum):
            let t = Double(min(e, totalEpochs)) / Double(max(totalEpochs, 1))
            return minimum + 0.5 * (eta - minimum) * (1 + cos(Double.pi * t))
        }
    }
}
