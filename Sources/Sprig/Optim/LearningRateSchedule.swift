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

    public init(parsing text: String) throws {
        let parts = text.lowercased().split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        func bad(_ expected: String) -> SprigError {
            SprigError.invalidArgument("learning-rate schedule '\(text)': expected \(expected)")
        }
        func number(_ s: String) -> Double? { Double(s).flatMap { $0.isFinite && $0 >= 0 ? $0 : nil } }
        switch parts[0] {
        case "constant":
            guard parts.count == 1 else { throw bad("constant") }
            self = .constant
        case "step":
            guard parts.count == 3, let s = Int(parts[1]), s > 0, let g = number(parts[2]) else { throw bad("step:SIZE:GAMMA, e.g. step:30:0.1") }
            self = .step(size: s, gamma: g)
        case "multistep":
            let milestones = parts.count == 3 ? parts[1].split(separator: ",").map { Int($0) } : []
            guard parts.count == 3, !milestones.isEmpty, milestones.allSatisfy({ ($0 ?? -1) >= 0 }),
                  let g = number(parts[2]) else { throw bad("multistep:M1,M2,...:GAMMA, e.g. multistep:50,75:0.1") }
            let m = milestones.map { $0! }
            guard m == m.sorted() else { throw bad("milestones in increasing order") }
            self = .multistep(milestones: m, gamma: g)
        case "exponential":
            guard parts.count == 2, let g = number(parts[1]) else { throw bad("exponential:GAMMA, e.g. exponential:0.95") }
            self = .exponential(gamma: g)
        case "cosine":
            guard parts.count <= 2 else { throw bad("cosine or cosine:MIN_LR") }
            guard let m = parts.count == 2 ? number(parts[1]) : 0 else { throw bad("cosine or cosine:MIN_LR") }
            self = .cosine(minimum: m)
        default:
            throw SprigError.invalidArgument("unknown learning-rate schedule '\(text)' (expected constant, step, multistep, exponential or cosine)")
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
