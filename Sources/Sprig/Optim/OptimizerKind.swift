import Foundation

/// One optimizer's update rule, applied by `Optimizer` to every parameter it is given. The
/// gradient is g = ∇L + λ·w (λ = the run's `--weight-decay`, applied to weights and biases
/// alike, as PyTorch's SGD and Adam `weight_decay` do), except for AdamW, which decays the
/// weights itself and never adds λ·w. t is the 1-based count of updates since the start of
/// training (the first step is t = 1; a resumed run continues it).
///
/// - `sgd`:            w ← w − η·g
/// - `momentum(μ)`:    v ← μ·v − η·g;  w ← w + v
/// - `nesterov(μ)`:    v ← μ·v − η·g;  w ← w + μ·v − η·g   (Nerva's and Keras' formulation)
/// - `adam(β1, β2, ε)` (torch.optim.Adam):
///       m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;
///       m̂ = m/(1−β1^t);  v̂ = v/(1−β2^t);  w ← w − η·m̂/(√v̂ + ε)
/// - `adamW(β1, β2, ε, wd)` (torch.optim.AdamW): first w ← w·(1 − η·wd) (decoupled decay),
///       then the Adam step above with g = ∇L (no λ·w term).
public enum OptimizerKind: Equatable, Sendable, Codable, CustomStringConvertible {
    case sgd
    case momentum(Float)
    case nesterov(Float)
    case adam(beta1: Float, beta2: Float, epsilon: Float)
    case adamW(beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float)

    /// PyTorch's defaults: torch.optim.Adam(betas=(0.9, 0.999), eps=1e-8).
    public static let defaultAdam = OptimizerKind.adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8)
    /// PyTorch's defaults: torch.optim.AdamW(betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01).
    public static let defaultAdamW = OptimizerKind.adamW(beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01)

    /// Every name `init(parsing:)` accepts (any case, `-` or `_` or nothing between words), with
    /// whether it needs a parameter: what `sprig train --help` and the README must list.
    public static let names: [(name: String, needsParameter: Bool)] = [
        ("sgd", false), ("gradient_descent", false), ("momentum", true), ("nesterov", true), ("adam", false), ("adamw", false)]

    /// Every state buffer any optimizer keeps, in the fixed order a store holds them.
    public static let allStateNames = ["velocity", "m", "v"]

    /// Parses `sgd`, `momentum:MU`, `nesterov:MU`, `adam[:B1,B2,EPS]`, `adamw[:B1,B2,EPS,WD]`,
    /// given with `flag` (named in errors). Names are compared as `NamedSpecification.key`s (any
    /// case, `-`, `_` or nothing between words) and Nerva's `Name(…)` is `name:…`: so
    /// `GradientDescent`, `Momentum(0.9)`, `Nesterov(0.9)`, `Adam(0.9,0.999,1e-8)` are `sgd`,
    /// `momentum:0.9`, `nesterov:0.9`, `adam:0.9,0.999,1e-8`. `names` lists every name.
    public init(parsing text: String, flag: String = "--optimizer") throws {
        let specification = NamedSpecification(text, flag: flag)
        func mu(_ name: String) throws -> Float {
            let usage = "\(name):MU with 0 ≤ MU < 1, e.g. \(name):0.9"
            try specification.expectParameters(1...1, usage: usage)
            let m = try specification.float(0, in: 0...1, usage: usage)
            guard m < 1 else { throw specification.error("expected \(usage)") }
            return m
        }
        switch specification.key {
        case "sgd", "gradientdescent":
            try specification.expectParameters(0...0, usage: "sgd without a parameter")
            self = .sgd
        case "momentum": self = .momentum(try mu("momentum"))
        case "nesterov": self = .nesterov(try mu("nesterov"))
        case "adam":
            let usage = "adam:B1,B2,EPS with 0 ≤ B1, B2 < 1 and EPS > 0, e.g. adam:0.9,0.999,1e-8 (or adam alone for these)"
            guard let numbers = try OptimizerKind.adamNumbers(specification, count: 3, usage: usage) else {
                self = OptimizerKind.defaultAdam
                return
            }
            self = .adam(beta1: numbers[0], beta2: numbers[1], epsilon: numbers[2])
        case "adamw":
            let usage = "adamw:B1,B2,EPS,WD with 0 ≤ B1, B2 < 1, EPS > 0 and WD ≥ 0, e.g. adamw:0.9,0.999,1e-8,0.01 (or adamw alone for these)"
            guard let numbers = try OptimizerKind.adamNumbers(specification, count: 4, usage: usage) else {
                self = OptimizerKind.defaultAdamW
                return
            }
            self = .adamW(beta1: numbers[0], beta2: numbers[1], epsilon: numbers[2], weightDecay: numbers[3])
        default:
            throw specification.error("unknown optimizer (expected sgd, momentum:MU, nesterov:MU, adam:B1,B2,EPS or adamw:B1,B2,EPS,WD)")
        }
        if let problem { throw specification.error("\(problem)") }
    }

    /// The comma-separated numbers of `adam:B1,B2,EPS[,WD]` (nil for the name alone), each a
    /// finite Float; their ranges are checked by `problem`.
    private static func adamNumbers(_ specification: NamedSpecification, count: Int, usage: String) throws -> [Float]? {
        guard !specification.parameters.isEmpty else { return nil }
        try specification.expectParameters(1...1, usage: usage)
        let parts = specification.parameters[0].split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count == count else { throw specification.error("expected \(usage)") }
        let names = ["B1", "B2", "EPS", "WD"]
        return try zip(names, parts).map { name, part in
            let typed = part.trimmingCharacters(in: .whitespaces)
            guard let value = Float(typed) else { throw specification.error("\(name) '\(typed)' is not a number (expected \(usage))") }
            guard value.isFinite else { throw specification.error("\(name) '\(typed)' is not a finite number (expected \(usage))") }
            // Checked as typed: 0.999999999 is below 1 but rounds to 1 in single precision.
            if name == "B1" || name == "B2", value >= 1, let exact = Double(typed), exact < 1 {
                throw specification.error("\(name) \(typed) rounds to 1 in single precision (the optimizer's arithmetic); "
                                          + "give at most \(Float(1).nextDown)")
            }
            return value
        }
    }

    /// What is wrong with this kind's parameters (nil: nothing): a momentum or beta outside
    /// [0, 1), a non-positive epsilon, a negative weight decay, anything not finite.
    public var problem: String? {
        func fraction(_ value: Float, _ name: String) -> String? {
            value >= 0 && value < 1 ? nil : "\(name) \(value) is not in [0, 1)"
        }
        switch self {
        case .sgd: return nil
        case .momentum(let mu), .nesterov(let mu): return fraction(mu, "the momentum")
        case .adam(let beta1, let beta2, let epsilon):
            return fraction(beta1, "B1") ?? fraction(beta2, "B2")
                ?? (epsilon > 0 && epsilon.isFinite ? nil : "EPS \(epsilon) is not a positive number")
        case .adamW(let beta1, let beta2, let epsilon, let weightDecay):
            return OptimizerKind.adam(beta1: beta1, beta2: beta2, epsilon: epsilon).problem
                ?? (weightDecay >= 0 && weightDecay.isFinite ? nil : "WD \(weightDecay) is not a non-negative number")
        }
    }

    public var description: String {
        switch self {
        case .sgd: return "sgd"
        case .momentum(let m): return "momentum:\(m)"
        case .nesterov(let m): return "nesterov:\(m)"
        case .adam(let b1, let b2, let eps): return "adam:\(b1),\(b2),\(eps)"
        case .adamW(let b1, let b2, let eps, let wd): return "adamw:\(b1),\(b2),\(eps),\(wd)"
        }
    }

    /// The state buffers this optimizer keeps per parameter, by name, in the parameter store.
    public var stateNames: [String] {
        switch self {
        case .sgd: return []
        case .momentum, .nesterov: return ["velocity"]
        case .adam, .adamW: return ["m", "v"]
        }
    }

    /// The union of `kinds`' state buffers, in the fixed order of `allStateNames` (so a store
    /// and a checkpoint list them alike whatever the layers' order).
    public static func stateNames(of kinds: [OptimizerKind]) -> [String] {
        let used = Set(kinds.flatMap(\.stateNames))
        return allStateNames.filter(used.contains)
    }

    /// The specifications in a `--optimizer` list: the text split on commas, a new one
    /// starting at each token that begins with a letter and is not a number (numeric tokens,
    /// `inf` and `nan` among them, belong to the one before them, as in `adam:0.9,0.999,1e-8`,
    /// where a wrong one is reported), and never inside parentheses (Nerva's
    /// `Adam(0.9,0.999,1e-8)` is one). So `nesterov:0.9,adam:0.9,0.999,1e-8,sgd` and
    /// `Nesterov(0.9),Adam(0.9,0.999,1e-8),GradientDescent` hold three. Blanks around a
    /// token are allowed.
    public static func specifications(in text: String) -> [String] {
        var specifications: [String] = []
        var open = 0   // unclosed parentheses in the last specification
        for token in text.split(separator: ",", omittingEmptySubsequences: false) {
            let trimmed = token.trimmingCharacters(in: .whitespaces)
            let startsOne = open <= 0 && trimmed.first?.isLetter == true && Float(trimmed) == nil
            if specifications.isEmpty || startsOne {
                specifications.append(String(token))
                open = 0
            } else {
                specifications[specifications.count - 1] += "," + token
            }
            open += token.filter { $0 == "(" }.count - token.filter { $0 == ")" }.count
        }
        return specifications
    }

    /// Parses a `--optimizer` list (`specifications(in:)`): one kind per specification.
    public static func parsingList(_ text: String, flag: String = "--optimizer") throws -> [OptimizerKind] {
        try specifications(in: text).map { try OptimizerKind(parsing: $0, flag: flag) }
    }
}
