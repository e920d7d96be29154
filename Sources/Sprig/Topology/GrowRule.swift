/// Where a regrow step puts the weights it adds back (`--grow`):
/// - `random`: positions drawn uniformly among the empty ones (SET, `RandomGrowth`);
/// - `gradient`: the empty positions with the largest |∂L/∂W| (RigL, `GradientGrowth`).
public enum GrowRule: String, Sendable, Codable, CaseIterable {
    case random
    case gradient

    /// Parses `random` or `gradient` (also `rigl`), given with `flag` (named in errors).
    public init(parsing text: String, flag: String = "--grow") throws {
        let specification = NamedSpecification(text, flag: flag)
        switch specification.name {
        case "random": self = .random
        case "gradient", "rigl": self = .gradient
        default: throw specification.error("unknown grow rule (expected random or gradient)")
        }
        try specification.expectParameters(0...0, usage: "\(rawValue) without a parameter")
    }
}
